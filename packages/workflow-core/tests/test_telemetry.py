"""OpenTelemetry spans: identifiers only, never inputs, outputs or payloads."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace as otel_trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from tanstack_workflow.core import (
    InMemoryRunStore,
    RetryPolicy,
    SignalDelivery,
    WorkflowContext,
    create_workflow,
    run_workflow,
)

SECRET = "s3cr3t-value"
Ctx = WorkflowContext[Any, Any]


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    yield exporter
    exporter.clear()


@pytest.fixture
def tracer(exporter: InMemorySpanExporter) -> Any:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("test")


def spans_named(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [span for span in exporter.get_finished_spans() if span.name == name]


def all_recorded_values(exporter: InMemorySpanExporter) -> list[str]:
    values: list[str] = []
    for span in exporter.get_finished_spans():
        values += [f"{k}={v}" for k, v in (span.attributes or {}).items()]
        for event in span.events:
            values.append(event.name)
            values += [f"{k}={v}" for k, v in (event.attributes or {}).items()]
        values.append(str(span.status.description))
    return values


def secret_workflow() -> Any:
    @create_workflow("otel-core", version="v1").handler
    async def wf(ctx: Ctx) -> Any:
        value = await ctx.step("safe-step", lambda: {"secret": SECRET}, meta={"note": SECRET})
        payload = await ctx.wait_for_event("go")
        with contextlib.suppress(Exception):
            await ctx.step("failing", fail_with_secret)
        return {"value": value, "payload": payload, "input": ctx.input}

    return wf


def fail_with_secret() -> None:
    raise ValueError(f"leaked {SECRET}")


async def test_spans_carry_ids_but_never_values(
    store: InMemoryRunStore, exporter: InMemorySpanExporter, tracer: Any
) -> None:
    wf = secret_workflow()
    await run_workflow(
        workflow=wf, run_store=store, run_id="r", input={"secret": SECRET}, telemetry=tracer
    ).result()
    outcome = await run_workflow(
        workflow=wf,
        run_store=store,
        run_id="r",
        signal_delivery=SignalDelivery("s", "go", {"secret": SECRET}),
        telemetry=tracer,
    ).result()
    assert outcome.kind == "finished"

    runs = spans_named(exporter, "workflow.run")
    assert len(runs) == 2
    for span in runs:
        assert span.attributes is not None
        assert span.attributes["tanstack.workflow.workflow_id"] == "otel-core"
        assert span.attributes["tanstack.workflow.workflow_version"] == "v1"
        assert span.attributes["tanstack.workflow.run_id"] == "r"
    assert [s.attributes["tanstack.workflow.outcome"] for s in runs] == ["paused", "finished"]  # type: ignore[index]

    steps = spans_named(exporter, "workflow.step")
    # one span per fresh execution: the replayed step gets none
    assert [s.attributes["tanstack.workflow.step_id"] for s in steps] == ["safe-step", "failing"]  # type: ignore[index]
    safe, failing = steps
    assert safe.parent is not None
    assert safe.parent.span_id == runs[0].context.span_id
    assert safe.attributes["tanstack.workflow.outcome"] == "finished"  # type: ignore[index]
    assert failing.attributes["tanstack.workflow.outcome"] == "failed"  # type: ignore[index]
    assert failing.attributes["error.type"] == "ValueError"  # type: ignore[index]
    assert failing.status.status_code == StatusCode.ERROR

    recorded = all_recorded_values(exporter)
    assert recorded
    assert not [value for value in recorded if SECRET in value]


async def test_retries_are_span_events(
    store: InMemoryRunStore, exporter: InMemorySpanExporter, tracer: Any
) -> None:
    @create_workflow("otel-retry").handler
    async def wf(ctx: Ctx) -> dict[str, bool]:
        try:
            await ctx.step(
                "flaky",
                fail_with_secret,
                retry=RetryPolicy(max_attempts=2, backoff="fixed", base_ms=1),
            )
        except Exception:
            return {"recovered": True}
        return {"recovered": False}

    await run_workflow(workflow=wf, run_store=store, telemetry=tracer).result()
    (step,) = spans_named(exporter, "workflow.step")
    assert [e.name for e in step.events] == ["workflow.step.attempt.failed"] * 2
    assert [e.attributes["attempt"] for e in step.events] == [1, 2]  # type: ignore[index]
    assert step.attributes["tanstack.workflow.step.attempts"] == 2  # type: ignore[index]
    assert step.status.status_code == StatusCode.ERROR
    assert not step.events[0].attributes or "exception.message" not in step.events[0].attributes


async def test_errored_run_span_records_only_the_error_type(
    store: InMemoryRunStore, exporter: InMemorySpanExporter, tracer: Any
) -> None:
    @create_workflow("otel-error").handler
    async def wf(ctx: Ctx) -> None:
        fail_with_secret()

    await run_workflow(workflow=wf, run_store=store, telemetry=tracer).result()
    (run,) = spans_named(exporter, "workflow.run")
    assert run.attributes["tanstack.workflow.outcome"] == "errored"  # type: ignore[index]
    assert run.attributes["error.type"] == "ValueError"  # type: ignore[index]
    assert run.status.status_code == StatusCode.ERROR
    assert not [value for value in all_recorded_values(exporter) if SECRET in value]


async def test_telemetry_false_records_nothing(
    store: InMemoryRunStore,
    exporter: InMemorySpanExporter,
    tracer: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Route the "global" tracer to our exporter for this test only, so the default
    # (telemetry=None) demonstrably records while telemetry=False does not.
    monkeypatch.setattr(otel_trace, "get_tracer", lambda *args, **kwargs: tracer)

    @create_workflow("otel-off").handler
    async def wf(ctx: Ctx) -> int:
        return await ctx.step("s", lambda: 1)

    await run_workflow(workflow=wf, run_store=store, telemetry=False).result()
    assert exporter.get_finished_spans() == ()
    await run_workflow(workflow=wf, run_store=store).result()
    assert {s.name for s in exporter.get_finished_spans()} == {"workflow.run", "workflow.step"}
