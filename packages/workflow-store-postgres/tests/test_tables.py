"""Schema and table names: validated, quoted, never interpolated."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from tanstack_workflow.core import WorkflowValidationError
from tanstack_workflow.store_postgres import (
    PostgresWorkflowStoreTables,
    create_postgres_workflow_store,
    default_postgres_workflow_store_tables,
)

MALICIOUS = [
    'runs"; DROP TABLE workflow_runs; --',
    "runs; DROP TABLE x",
    "a b",
    "1runs",
    "runs-1",
    "public.runs",
    '"quoted"',
    "",
    "ünïcode",
    None,
    42,
]


def test_defaults() -> None:
    assert default_postgres_workflow_store_tables.names() == {
        "runs": "workflow_runs",
        "events": "workflow_events",
        "schedules": "workflow_schedules",
        "schedule_buckets": "workflow_schedule_buckets",
        "migrations": "workflow_schema_migrations",
    }


def test_partial_overrides_keep_the_other_defaults() -> None:
    store = create_postgres_workflow_store("postgresql://unused", tables={"runs": "my_runs"})
    assert store.tables.runs == "my_runs"
    assert store.tables.events == "workflow_events"
    full = PostgresWorkflowStoreTables(
        runs="a", events="b", schedules="c", schedule_buckets="d", migrations="e"
    )
    assert create_postgres_workflow_store("postgresql://unused", tables=full).tables == full


@pytest.mark.parametrize("name", [*MALICIOUS, "x" * 41])
def test_malicious_table_names_are_rejected(name: Any) -> None:
    with pytest.raises(WorkflowValidationError, match="table name for 'events'"):
        create_postgres_workflow_store("postgresql://unused", tables={"events": name})


@pytest.mark.parametrize("name", [*MALICIOUS, "y" * 64])
def test_malicious_schema_names_are_rejected(name: Any) -> None:
    with pytest.raises(WorkflowValidationError, match="schema"):
        create_postgres_workflow_store("postgresql://unused", schema=name)


def test_unknown_and_duplicate_table_keys_are_rejected() -> None:
    with pytest.raises(WorkflowValidationError, match="unknown table keys"):
        create_postgres_workflow_store("postgresql://unused", tables={"run": "x"})
    with pytest.raises(WorkflowValidationError, match="distinct"):
        create_postgres_workflow_store("postgresql://unused", tables={"runs": "workflow_events"})
    with pytest.raises(WorkflowValidationError, match="mapping"):
        create_postgres_workflow_store("postgresql://unused", tables=["runs"])  # type: ignore[arg-type]


def test_statements_quote_every_name() -> None:
    store = create_postgres_workflow_store(
        "postgresql://unused", schema="Tenant_1", tables={"runs": "Runs"}
    )
    sql = store._sql.load_run
    assert '"Tenant_1"."Runs"' in sql


def test_sync_connections_and_other_sources_are_refused(database_url: str) -> None:
    with psycopg.connect(database_url) as conn, pytest.raises(TypeError, match="Async"):
        create_postgres_workflow_store(conn)  # type: ignore[arg-type]
    pool = ConnectionPool(database_url, open=False)
    with pytest.raises(TypeError, match="Async"):
        create_postgres_workflow_store(pool)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        create_postgres_workflow_store(42)  # type: ignore[arg-type]
