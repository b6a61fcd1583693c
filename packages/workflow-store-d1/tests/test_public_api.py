"""The public names of ``tanstack_workflow.store_d1`` change only on purpose."""

from __future__ import annotations

import tanstack_workflow.store_d1 as store_d1

EXPECTED = [
    "MAX_BOUND_PARAMETERS",
    "CloudflareD1WorkflowStore",
    "D1Database",
    "D1Error",
    "D1HttpDatabase",
    "D1PreparedStatement",
    "D1Result",
    "D1StoreTables",
    "LocalD1Database",
    "WorkersD1Database",
    "__version__",
    "create_cloudflare_d1_workflow_store",
    "get_cloudflare_d1_workflow_store_migration_sql",
    "get_cloudflare_d1_workflow_store_migrations",
    "local_d1_database",
]


def test_exported_names_are_pinned() -> None:
    assert store_d1.__all__ == EXPECTED
    for name in EXPECTED:
        assert hasattr(store_d1, name), name


def test_public_callables_have_docstrings() -> None:
    for name in EXPECTED:
        value = getattr(store_d1, name)
        if callable(value):
            assert value.__doc__, f"{name} has no docstring"


async def test_every_binding_satisfies_the_protocol() -> None:
    local = store_d1.local_d1_database(":memory:")
    http = store_d1.D1HttpDatabase(account_id="a", database_id="d", api_token="t")
    workers = store_d1.WorkersD1Database(object())
    try:
        for binding in (local, http, workers):
            assert isinstance(binding, store_d1.D1Database)
    finally:
        for binding in (local, http, workers):
            await binding.close()
