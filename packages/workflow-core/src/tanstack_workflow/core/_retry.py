"""Step retry policies."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ._errors import WorkflowDefinitionError

Backoff = Literal["exponential", "fixed"] | Callable[[int], float]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a step is retried.

    ``max_attempts`` counts the first try. ``backoff`` is ``"exponential"``
    (``base_ms * 2 ** (attempt - 1)``), ``"fixed"`` (``base_ms``) or a callable
    mapping the failed attempt number to a delay in ms. ``should_retry(err, attempt)``
    may veto a retry; by default every ``Exception`` is retried.
    """

    max_attempts: int = 1
    backoff: Backoff = "exponential"
    base_ms: int = 500
    should_retry: Callable[[BaseException, int], bool] | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise WorkflowDefinitionError("RetryPolicy.max_attempts must be at least 1")
        if self.base_ms < 0:
            raise WorkflowDefinitionError("RetryPolicy.base_ms must not be negative")
        if not callable(self.backoff) and self.backoff not in ("exponential", "fixed"):
            raise WorkflowDefinitionError(
                "RetryPolicy.backoff must be 'exponential', 'fixed' or a callable"
            )

    def delay_ms(self, attempt: int) -> float:
        """Delay before the attempt after ``attempt`` (1-based) fails."""
        if callable(self.backoff):
            return max(0.0, float(self.backoff(attempt)))
        if self.backoff == "fixed":
            return float(self.base_ms)
        return float(self.base_ms * 2 ** (attempt - 1))

    def allows_retry(self, err: BaseException, attempt: int) -> bool:
        """True when another attempt should follow failed ``attempt``."""
        if attempt >= self.max_attempts:
            return False
        return self.should_retry(err, attempt) if self.should_retry else True


RetryLike = RetryPolicy | Mapping[str, Any] | int


def coerce_retry(retry: RetryLike | None) -> RetryPolicy | None:
    """Accept a ``RetryPolicy``, a dict of its fields, or a bare ``max_attempts`` int."""
    if retry is None or isinstance(retry, RetryPolicy):
        return retry
    if isinstance(retry, bool):
        raise WorkflowDefinitionError("retry must be a RetryPolicy, a dict or an int")
    if isinstance(retry, int):
        return RetryPolicy(max_attempts=retry)
    try:
        return RetryPolicy(**dict(retry))
    except TypeError as exc:
        raise WorkflowDefinitionError(f"invalid retry policy: {exc}") from exc
