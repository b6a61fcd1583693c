"""A store pointed at an unmigrated database says how to migrate."""

from __future__ import annotations

import re

import pytest

from tanstack_workflow.runtime import StoreSchemaError
from tanstack_workflow.store_postgres import (
    PostgresWorkflowExecutionStore,
    create_postgres_workflow_store,
)
from tanstack_workflow.store_postgres.testing import drop_schema, random_schema_name


async def test_unmigrated_schema_raises_store_schema_error(database_url: str) -> None:
    store = create_postgres_workflow_store(database_url, schema=random_schema_name())
    try:
        with pytest.raises(
            StoreSchemaError, match=re.escape("python -m tanstack_workflow.store_postgres migrate")
        ):
            await store.load_run("r")
        with pytest.raises(StoreSchemaError, match="does not exist"):
            await store.create_run(
                run_id="r", workflow_id="w", workflow_version=None, input=None, now=1
            )
        with pytest.raises(StoreSchemaError):
            await store.claim_due_timers(now=1, limit=10, lease_owner="w", lease_ms=10)
    finally:
        await store.close()


async def test_wrong_table_name_raises_store_schema_error(
    database_url: str, store: PostgresWorkflowExecutionStore
) -> None:
    schema = store.schema
    wrong = create_postgres_workflow_store(database_url, schema=schema, tables={"events": "nope"})
    try:
        await wrong.create_run(
            run_id="r", workflow_id="w", workflow_version=None, input=None, now=1
        )
        with pytest.raises(StoreSchemaError, match="nope"):
            await wrong.read_events("r")
    finally:
        await wrong.close()


async def test_a_store_works_once_migrated(database_url: str) -> None:
    schema = random_schema_name()
    store = create_postgres_workflow_store(database_url, schema=schema)
    try:
        with pytest.raises(StoreSchemaError):
            await store.load_run("r")
        await store.ensure_schema()
        assert await store.load_run("r") is None
    finally:
        await store.close()
        await drop_schema(database_url, schema)
