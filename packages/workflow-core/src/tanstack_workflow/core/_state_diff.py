"""JSON-patch (RFC 6902) diffs between two JSON snapshots of ``ctx.state``."""

from __future__ import annotations

from typing import Any

JsonPatch = list[dict[str, Any]]


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def diff_state(before: Any, after: Any, path: str = "") -> JsonPatch:
    """Operations that turn ``before`` into ``after`` (both plain JSON data)."""
    if isinstance(before, dict) and isinstance(after, dict):
        ops: JsonPatch = []
        for key in before:
            if key not in after:
                ops.append({"op": "remove", "path": f"{path}/{_escape(key)}"})
        for key, value in after.items():
            child = f"{path}/{_escape(key)}"
            if key not in before:
                ops.append({"op": "add", "path": child, "value": value})
            else:
                ops.extend(diff_state(before[key], value, child))
        return ops
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        ops = []
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            ops.extend(diff_state(old, new, f"{path}/{index}"))
        return ops
    if type(before) is type(after) and before == after:
        return []
    return [{"op": "replace", "path": path, "value": after}]


def apply_patch(document: Any, patch: JsonPatch) -> Any:
    """Apply ``patch`` (as produced by ``diff_state``) to a copy of ``document``."""
    import copy

    doc = copy.deepcopy(document)
    for op in patch:
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in op["path"].split("/")[1:]]
        if not tokens:
            doc = copy.deepcopy(op.get("value"))
            continue
        parent = doc
        for token in tokens[:-1]:
            parent = parent[int(token)] if isinstance(parent, list) else parent[token]
        last = tokens[-1]
        key: Any = int(last) if isinstance(parent, list) else last
        if op["op"] == "remove":
            del parent[key]
        else:
            parent[key] = copy.deepcopy(op["value"])
    return doc
