"""Packaged migrations: rendering, ensure_schema, the migrations table, the CLI."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tanstack_workflow.store_postgres import (
    create_postgres_workflow_store,
    get_postgres_workflow_store_migration_sql,
    get_postgres_workflow_store_migrations,
)
from tanstack_workflow.store_postgres.__main__ import main
from tanstack_workflow.store_postgres.testing import drop_schema, random_schema_name

OVERRIDES = {
    "runs": "t_runs",
    "events": "t_events",
    "schedules": "t_schedules",
    "schedule_buckets": "t_buckets",
    "migrations": "t_migrations",
}


def _code(sql: str) -> str:
    """The SQL without comments."""
    return "\n".join(line.partition("--")[0] for line in sql.splitlines())


def test_migrations_are_numbered_and_packaged() -> None:
    migrations = get_postgres_workflow_store_migrations()
    assert [m.id for m in migrations] == ["0000_workflow_store"]
    assert all(m.path.is_file() for m in migrations)


def test_default_rendering_only_quotes_names() -> None:
    (migration,) = get_postgres_workflow_store_migrations()
    assert migration.sql.replace('"', "") == migration.path.read_text().replace('"', "")


def test_rendering_replaces_every_schema_and_table_name() -> None:
    sql = _code(get_postgres_workflow_store_migration_sql(schema="tenant_7", tables=OVERRIDES))
    assert not re.search(
        r"workflow_(runs|events|schedules|schedule_buckets|schema_migrations)", sql
    )
    assert "public" not in sql
    assert '"tenant_7"."t_runs"' in sql
    assert '"t_runs_due_timers_idx"' in sql
    assert 'INSERT INTO "tenant_7"."t_migrations"' in sql


async def test_ensure_schema_applies_once_and_records_ids(database_url: str) -> None:
    schema = random_schema_name()
    store = create_postgres_workflow_store(database_url, schema=schema)
    try:
        assert await store.ensure_schema() == ["0000_workflow_store"]
        assert await store.ensure_schema() == []
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            cur = await conn.execute(f'SELECT id FROM "{schema}".workflow_schema_migrations')
            assert await cur.fetchall() == [("0000_workflow_store",)]
    finally:
        await store.close()
        await drop_schema(database_url, schema)


async def test_concurrent_ensure_schema_is_serialized(database_url: str) -> None:
    schema = random_schema_name()
    stores = [create_postgres_workflow_store(database_url, schema=schema) for _ in range(4)]
    try:
        applied = await asyncio.gather(*(s.ensure_schema() for s in stores))
        assert sorted(map(len, applied)) == [0, 0, 0, 1]
    finally:
        for store in stores:
            await store.close()
        await drop_schema(database_url, schema)


async def test_overridden_tables_work_end_to_end(database_url: str) -> None:
    schema = random_schema_name()
    store = create_postgres_workflow_store(database_url, schema=schema, tables=OVERRIDES)
    # A second table set in the same schema does not collide (index names follow tables).
    other = create_postgres_workflow_store(database_url, schema=schema)
    try:
        await store.ensure_schema()
        await other.ensure_schema()
        result = await store.create_run(
            run_id="r", workflow_id="w", workflow_version=None, input=1, now=1
        )
        assert result.kind == "created"
        assert await other.load_run("r") is None
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            cur = await conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", [schema]
            )
            names = [r[0] for r in await cur.fetchall()]
        assert set(OVERRIDES.values()) <= set(names)
    finally:
        await store.close()
        await other.close()
        await drop_schema(database_url, schema)


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tanstack_workflow.store_postgres", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_cli_migration_path_runs_as_a_module() -> None:
    out = _cli("migration-path")
    assert out.returncode == 0, out.stderr
    (path,) = out.stdout.split()
    assert Path(path).name == "0000_workflow_store.sql"
    assert Path(path).read_text() == get_postgres_workflow_store_migrations()[0].path.read_text()


def test_cli_sql(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sql", "--schema", "s", "--table", "runs=r2"]) == 0
    assert '"s"."r2"' in capsys.readouterr().out
    assert main(["sql", "--table", "runs=x;drop"]) == 1
    assert "plain SQL identifier" in capsys.readouterr().err
    assert main(["sql", "--table", "runs"]) == 1
    assert "KEY=NAME" in capsys.readouterr().err


def test_cli_migrate(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    schema = random_schema_name()
    try:
        assert main(["migrate", "--database-url", database_url, "--schema", schema]) == 0
        assert capsys.readouterr().out.strip() == "applied: 0000_workflow_store"
        assert main(["migrate", "--database-url", database_url, "--schema", schema]) == 0
        assert capsys.readouterr().out.strip() == "up to date"
    finally:
        asyncio.run(drop_schema(database_url, schema))


def test_cli_migrate_reports_connection_errors(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"
    assert main(["migrate", "--database-url", url]) == 1
    assert capsys.readouterr().err.startswith("error:")


@pytest.mark.parametrize(
    "statement",
    re.findall(r"CREATE (?:TABLE|INDEX)[^(]*", get_postgres_workflow_store_migration_sql()),
)
def test_every_create_is_idempotent(statement: str) -> None:
    assert "IF NOT EXISTS" in statement
