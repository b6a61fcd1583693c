"""The shipped contract suite: its public names, and the walkthrough that documents it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tanstack_workflow.runtime import contract
from tanstack_workflow.runtime.contract import StoreFixtures

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "runtime" / "writing-a-store.md"
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def test_code_blocks_compile_and_import_real_names() -> None:
    blocks = PYTHON_BLOCK.findall(DOC.read_text())
    assert blocks
    for block in blocks:
        tree = ast.parse(block)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == contract.__name__:
                for alias in node.names:
                    assert alias.name in contract.__all__, alias.name


def test_every_mixin_and_switch_is_documented() -> None:
    text = DOC.read_text()
    mixins = [name for name in contract.__all__ if name.endswith(("Contract", "Contracts"))]
    assert len(mixins) == 12
    for name in mixins:
        assert f"`{name}`" in text, name
    switches = [
        name
        for name, value in vars(StoreFixtures).items()
        if not name.startswith("_") and isinstance(value, bool | int)
    ]
    assert switches
    for name in switches:
        assert f"`{name}` | `{getattr(StoreFixtures, name)}`" in text, name


def test_public_names_are_pinned() -> None:
    assert contract.__all__ == [
        "LEASE_MS",
        "T0",
        "AllContracts",
        "DeliveryContract",
        "EventLogContract",
        "LeaseContract",
        "QueryContract",
        "RunContract",
        "RunStoreSurfaceContract",
        "RuntimeContract",
        "ScheduleContract",
        "StateMachineContract",
        "StoreFixtures",
        "TimerContract",
        "ValidationContract",
    ]
