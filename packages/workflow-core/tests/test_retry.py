"""Step retry policies."""

from __future__ import annotations

from typing import Any

import pytest
from workflow_core_helpers import collect, first

from tanstack_workflow.core import (
    InMemoryRunStore,
    RetryPolicy,
    StepContext,
    StepFailedError,
    WorkflowContext,
    WorkflowDefinitionError,
    create_workflow,
    run_workflow,
)
from tanstack_workflow.core._retry import coerce_retry

Ctx = WorkflowContext[object, object]


class Flaky:
    """A step function failing its first ``failures`` calls."""

    def __init__(self, failures: int, result: Any = 42) -> None:
        self.failures = failures
        self.result = result
        self.attempts: list[int] = []

    def __call__(self, step: StepContext) -> Any:
        self.attempts.append(step.attempt)
        if len(self.attempts) <= self.failures:
            raise RuntimeError(f"flake-{len(self.attempts)}")
        return self.result


async def test_retries_until_success_and_records_attempts(store: InMemoryRunStore) -> None:
    flaky = Flaky(failures=2)

    @create_workflow("retry-succeeds").handler
    async def wf(ctx: Ctx) -> Any:
        return await ctx.step(
            "flaky", flaky, retry=RetryPolicy(max_attempts=3, backoff="fixed", base_ms=1)
        )

    events, outcome = await collect(run_workflow(workflow=wf, run_store=store))
    assert outcome.output == 42
    assert flaky.attempts == [1, 2, 3]
    finished = first(events, "STEP_FINISHED")
    assert len(finished.attempts) == 3
    assert [a.error.message if a.error else None for a in finished.attempts] == [
        "flake-1",
        "flake-2",
        None,
    ]
    for attempt in finished.attempts:
        assert attempt.finished_at >= attempt.started_at
    wire = finished.to_wire()
    assert set(wire["attempts"][0]) == {"startedAt", "finishedAt", "error"}


async def test_single_attempt_records_no_attempt_list(store: InMemoryRunStore) -> None:
    @create_workflow("one-shot").handler
    async def wf(ctx: Ctx) -> Any:
        return await ctx.step("once", lambda: 1, retry=3)

    events, _ = await collect(run_workflow(workflow=wf, run_store=store))
    assert first(events, "STEP_FINISHED").attempts is None


async def test_exhausted_retries_record_step_failed_and_replay_reraises(
    store: InMemoryRunStore,
) -> None:
    flaky = Flaky(failures=10)
    caught: list[StepFailedError] = []

    @create_workflow("retry-exhausts").handler
    async def wf(ctx: Ctx) -> bool:
        try:
            await ctx.step(
                "always-fails", flaky, retry={"max_attempts": 2, "backoff": "fixed", "base_ms": 1}
            )
        except StepFailedError as err:
            caught.append(err)
        await ctx.wait_for_event("go")
        return True

    events, _ = await collect(run_workflow(workflow=wf, run_store=store, run_id="r"))
    assert flaky.attempts == [1, 2]
    failed = first(events, "STEP_FAILED")
    assert failed.error.message == "flake-2"  # the last attempt's error
    assert len(failed.attempts) == 2

    from tanstack_workflow.core import SignalDelivery

    outcome = await run_workflow(
        workflow=wf, run_store=store, run_id="r", signal_delivery=SignalDelivery("s", "go")
    ).result()
    assert outcome.output is True
    assert flaky.attempts == [1, 2]  # no new attempts on replay
    assert [err.error_message for err in caught] == ["flake-2", "flake-2"]


async def test_should_retry_can_veto(store: InMemoryRunStore) -> None:
    flaky = Flaky(failures=10)
    vetoed: list[tuple[str, int]] = []

    def should_retry(err: BaseException, attempt: int) -> bool:
        vetoed.append((str(err), attempt))
        return str(err) != "flake-2"

    @create_workflow("should-retry").handler
    async def wf(ctx: Ctx) -> None:
        await ctx.step(
            "maybe",
            flaky,
            retry=RetryPolicy(
                max_attempts=5, backoff="fixed", base_ms=1, should_retry=should_retry
            ),
        )

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert outcome.kind == "errored"
    assert flaky.attempts == [1, 2]
    assert vetoed == [("flake-1", 1), ("flake-2", 2)]


async def test_workflow_default_retry_applies_to_steps_without_a_policy(
    store: InMemoryRunStore,
) -> None:
    flaky = Flaky(failures=1)

    @create_workflow("default-retry", default_retry={"max_attempts": 3, "base_ms": 1}).handler
    async def wf(ctx: Ctx) -> Any:
        return await ctx.step("flake", flaky)

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert outcome.output == 42
    assert flaky.attempts == [1, 2]


async def test_step_policy_overrides_the_default(store: InMemoryRunStore) -> None:
    flaky = Flaky(failures=1)

    @create_workflow("override", default_retry=5).handler
    async def wf(ctx: Ctx) -> Any:
        return await ctx.step("flake", flaky, retry=1)

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert outcome.kind == "errored"
    assert flaky.attempts == [1]


async def test_callable_backoff_receives_the_failed_attempt(store: InMemoryRunStore) -> None:
    flaky = Flaky(failures=3)
    asked: list[int] = []

    def backoff(attempt: int) -> float:
        asked.append(attempt)
        return 0

    @create_workflow("callable-backoff").handler
    async def wf(ctx: Ctx) -> Any:
        return await ctx.step("flake", flaky, retry=RetryPolicy(max_attempts=4, backoff=backoff))

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert outcome.output == 42
    assert asked == [1, 2, 3]


async def test_exponential_backoff_waits_between_attempts(store: InMemoryRunStore) -> None:
    flaky = Flaky(failures=2)
    now = [0]

    @create_workflow("exp").handler
    async def wf(ctx: Ctx) -> Any:
        return await ctx.step("flake", flaky, retry=RetryPolicy(max_attempts=3, base_ms=5))

    import time

    started = time.monotonic()
    outcome = await run_workflow(workflow=wf, run_store=store, clock=lambda: now[0]).result()
    elapsed_ms = (time.monotonic() - started) * 1000
    assert outcome.output == 42
    assert elapsed_ms >= 5 + 10 - 2  # 5 ms, then 10 ms (timer granularity tolerated)


@pytest.mark.parametrize(
    ("policy", "delays"),
    [
        (RetryPolicy(max_attempts=4, base_ms=100), [100, 200, 400]),
        (RetryPolicy(max_attempts=4, backoff="fixed", base_ms=100), [100, 100, 100]),
        (RetryPolicy(max_attempts=4, backoff=lambda n: n * 7), [7, 14, 21]),
        (RetryPolicy(max_attempts=4, backoff=lambda n: -5), [0, 0, 0]),
        (RetryPolicy(), [500]),
    ],
)
def test_delay_ms(policy: RetryPolicy, delays: list[float]) -> None:
    assert [policy.delay_ms(n) for n in range(1, len(delays) + 1)] == delays


def test_allows_retry_counts_the_first_try() -> None:
    policy = RetryPolicy(max_attempts=3)
    err = RuntimeError()
    assert [policy.allows_retry(err, n) for n in (1, 2, 3)] == [True, True, False]
    assert not RetryPolicy().allows_retry(err, 1)


@pytest.mark.parametrize(
    ("retry", "expected"),
    [
        (None, None),
        (3, RetryPolicy(max_attempts=3)),
        ({"max_attempts": 2, "backoff": "fixed"}, RetryPolicy(max_attempts=2, backoff="fixed")),
        (RetryPolicy(max_attempts=9), RetryPolicy(max_attempts=9)),
    ],
)
def test_coerce_retry(retry: Any, expected: RetryPolicy | None) -> None:
    assert coerce_retry(retry) == expected


@pytest.mark.parametrize(
    "make",
    [
        lambda: RetryPolicy(max_attempts=0),
        lambda: RetryPolicy(base_ms=-1),
        lambda: RetryPolicy(backoff="linear"),  # type: ignore[arg-type]
        lambda: coerce_retry(True),
        lambda: coerce_retry({"attempts": 3}),
        lambda: create_workflow("bad", default_retry=0),
    ],
)
def test_invalid_retry_policies_are_definition_errors(make: Any) -> None:
    with pytest.raises(WorkflowDefinitionError):
        make()
