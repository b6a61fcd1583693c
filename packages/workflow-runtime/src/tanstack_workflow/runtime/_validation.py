"""Input checks shared by every store, so bad input fails the same way everywhere."""

from __future__ import annotations

import json
import math
from typing import Any

from tanstack_workflow.core import WorkflowValidationError

MAX_ID_LENGTH = 255
MAX_VALUE_BYTES = 1_048_576  # 1 MiB of JSON per stored value: D1's row limit is 2 MB


def check_run_id(value: Any, what: str = "run id") -> str:
    """A non-empty printable id of at most 255 characters."""
    if not isinstance(value, str) or not value:
        raise WorkflowValidationError(what, f"{value!r} is not a non-empty string")
    if len(value) > MAX_ID_LENGTH:
        raise WorkflowValidationError(what, f"longer than {MAX_ID_LENGTH} characters")
    if any(ord(ch) < 32 for ch in value):
        raise WorkflowValidationError(what, "contains control characters")
    return value


def check_limit(value: Any, what: str, *, minimum: int = 0) -> int:
    """A non-negative (or ``>= minimum``) integer."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise WorkflowValidationError(what, f"{value!r} is not an integer >= {minimum}")
    return value


def _scan(value: Any, what: str) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise WorkflowValidationError(what, "strings must not contain NUL (\\u0000) characters")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise WorkflowValidationError(what, f"{value!r} is not representable in JSON")
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise WorkflowValidationError(what, f"object key {key!r} is not a string")
            _scan(key, what)
            _scan(item, what)
    elif isinstance(value, list | tuple):
        for item in value:
            _scan(item, what)
    elif value is not None and not isinstance(value, bool | int):
        raise WorkflowValidationError(what, f"{type(value).__name__} is not a JSON value")


def check_storable(value: Any, what: str, *, max_bytes: int = MAX_VALUE_BYTES) -> str:
    """Validate plain JSON data for storage and return its compact JSON text."""
    _scan(value, what)
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if len(text.encode()) > max_bytes:
        raise WorkflowValidationError(what, f"is larger than {max_bytes} bytes of JSON")
    return text
