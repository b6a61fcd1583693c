"""The shipped store contract suite, run against every first-party store.

One ``test_<store>.py`` per store: a ``StoreFixtures`` subclass that builds the store,
combined with ``AllContracts``. A first-party store runs the whole contract; what a
store cannot do is declared with a capability switch, never by leaving a mixin out.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tanstack_workflow.runtime.contract import AllContracts, StoreFixtures

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        cls = getattr(item, "cls", None)
        if cls is None or not issubclass(cls, StoreFixtures):
            continue
        if item.path.resolve().parent == HERE and not issubclass(cls, AllContracts):
            raise pytest.UsageError(
                f"{cls.__qualname__} in {item.path.name} runs only part of the contract: "
                "first-party stores subclass AllContracts (use a capability switch instead)"
            )
