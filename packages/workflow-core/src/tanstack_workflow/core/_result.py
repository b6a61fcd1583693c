"""Tiny helpers for step and handler results shaped as ``{ok: ...}``."""

from __future__ import annotations

from typing import Any


def succeed(value: dict[str, Any] | None = None, /, **fields: Any) -> dict[str, Any]:
    """``{"ok": True, **value}``."""
    return {"ok": True, **(value or {}), **fields}


def fail(reason: str) -> dict[str, Any]:
    """``{"ok": False, "reason": reason}``."""
    return {"ok": False, "reason": reason}
