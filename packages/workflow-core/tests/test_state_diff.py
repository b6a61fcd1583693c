"""diff_state / apply_patch: JSON-patch deltas of ctx.state."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tanstack_workflow.core import apply_patch, diff_state


@pytest.mark.parametrize(
    ("before", "after", "patch"),
    [
        ({"a": 1}, {"a": 1}, []),
        (
            {"value": "before"},
            {"value": None},
            [{"op": "replace", "path": "/value", "value": None}],
        ),
        ({}, {"value": None}, [{"op": "add", "path": "/value", "value": None}]),
        ({"gone": 1}, {}, [{"op": "remove", "path": "/gone"}]),
        (
            {},
            {"wrapper": {"inner": None}},
            [{"op": "add", "path": "/wrapper", "value": {"inner": None}}],
        ),
        (
            {"items": []},
            {"items": ["a", None]},
            [{"op": "replace", "path": "/items", "value": ["a", None]}],
        ),
        ({"items": [1, 2]}, {"items": [1, 3]}, [{"op": "replace", "path": "/items/1", "value": 3}]),
        (
            {"n": {"deep": 1}},
            {"n": {"deep": 2}},
            [{"op": "replace", "path": "/n/deep", "value": 2}],
        ),
        (
            {"a/b": 1, "c~d": 1},
            {"a/b": 2, "c~d": 2},
            [
                {"op": "replace", "path": "/a~1b", "value": 2},
                {"op": "replace", "path": "/c~0d", "value": 2},
            ],
        ),
        ({"flag": 1}, {"flag": True}, [{"op": "replace", "path": "/flag", "value": True}]),
        ({"x": 1}, {"x": 1.0}, [{"op": "replace", "path": "/x", "value": 1.0}]),
        (1, 2, [{"op": "replace", "path": "", "value": 2}]),
        ({"a": 1}, [1], [{"op": "replace", "path": "", "value": [1]}]),
    ],
)
def test_diff_state(before: Any, after: Any, patch: list[dict[str, Any]]) -> None:
    assert diff_state(before, after) == patch
    assert apply_patch(before, patch) == after


def test_ops_survive_a_json_round_trip_with_their_value() -> None:
    ops = diff_state({}, {"value": None})
    assert json.loads(json.dumps(ops)) == [{"op": "add", "path": "/value", "value": None}]


def test_apply_patch_does_not_mutate_its_input() -> None:
    before = {"a": {"b": [1, 2]}}
    patch = diff_state(before, {"a": {"b": [1, 5]}, "c": 1})
    apply_patch(before, patch)
    assert before == {"a": {"b": [1, 2]}}


def test_patch_values_are_copies() -> None:
    after = {"a": {"b": 1}}
    patched = apply_patch({}, diff_state({}, after))
    patched["a"]["b"] = 2
    assert after == {"a": {"b": 1}}
