"""OpenTelemetry spans for runs and fresh step executions.

Only identifiers are recorded (workflow id and version, run id, step id, attempt
counts, outcome); never inputs, outputs, payloads or step results. Without the
``opentelemetry-api`` package, or with ``telemetry=False``, every call is a no-op.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

try:  # optional dependency: the [otel] extra
    from opentelemetry import context as _otel_context
    from opentelemetry import trace as _otel_trace
except ImportError:  # pragma: no cover - exercised when the extra is absent
    _otel_trace = None  # type: ignore[assignment]
    _otel_context = None  # type: ignore[assignment]

TelemetryOption = bool | Any | None
"""``None``/``True``: the global tracer provider; ``False``: off; or a ``Tracer``."""

INSTRUMENTATION_NAME = "tanstack_workflow.core"


class Telemetry:
    """Creates spans through an OpenTelemetry tracer, or does nothing."""

    def __init__(self, option: TelemetryOption = None) -> None:
        self._tracer: Any = None
        if option is False or _otel_trace is None:
            return
        if option is None or option is True:
            self._tracer = _otel_trace.get_tracer(INSTRUMENTATION_NAME)
        else:
            self._tracer = option

    @property
    def enabled(self) -> bool:
        """True when spans are recorded."""
        return self._tracer is not None

    def current_context(self) -> Any:
        """The active tracing context (``None`` when disabled), for ``adopt`` elsewhere."""
        if self._tracer is None or _otel_context is None:
            return None
        return _otel_context.get_current()

    @staticmethod
    def adopt(context: Any) -> None:
        """Make ``context`` current in this task: a handler parked at a wait continues
        under the span of the invocation that resumed it."""
        if context is not None and _otel_context is not None:
            _otel_context.attach(context)

    @contextlib.contextmanager
    def span(self, name: str, attributes: dict[str, Any]) -> Iterator[Any]:
        """A span (or ``None`` when disabled) carrying only the given id attributes."""
        if self._tracer is None:
            yield None
            return
        clean = {k: v for k, v in attributes.items() if v is not None}
        with self._tracer.start_as_current_span(
            name, attributes=clean, record_exception=False, set_status_on_exception=False
        ) as span:
            yield span

    @staticmethod
    def set_outcome(span: Any, outcome: str, *, error_name: str | None = None) -> None:
        """Mark ``span`` with the outcome (and error class name, never its message)."""
        if span is None:
            return
        span.set_attribute("tanstack.workflow.outcome", outcome)
        if error_name is not None and _otel_trace is not None:
            span.set_attribute("error.type", error_name)
            span.set_status(_otel_trace.Status(_otel_trace.StatusCode.ERROR))

    @staticmethod
    def add_event(span: Any, name: str, attributes: dict[str, Any] | None = None) -> None:
        """Add a span event (no-op without a span)."""
        if span is not None:
            span.add_event(name, attributes or {})


def run_attributes(workflow_id: str, version: str | None, run_id: str) -> dict[str, Any]:
    """Identifier attributes shared by run and step spans."""
    return {
        "tanstack.workflow.workflow_id": workflow_id,
        "tanstack.workflow.workflow_version": version,
        "tanstack.workflow.run_id": run_id,
    }
