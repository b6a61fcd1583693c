"""The store's SQL migrations: package data, rendered for a schema and table names.

Migration files live in ``migrations/NNNN_name.sql`` next to this module and are written
for the default layout (``public.workflow_runs``, ...) so ``psql -f`` applies them as is.
Rendering for another schema or table names rewrites exactly two token shapes, never free
text: ``public.<default table>`` (a table reference) and ``<default table>_<suffix>``
(an index name). Each file records its own id in the migrations table, so ``psql -f``,
``python -m tanstack_workflow.store_postgres migrate`` and ``ensure_schema()`` agree on
what is applied.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from ._tables import (
    PostgresWorkflowStoreTables,
    check_schema,
    default_postgres_workflow_store_tables,
    quote,
    resolve_tables,
)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_FILE_NAME = re.compile(r"(\d{4})_[a-z0-9_]+\.sql\Z")
_DEFAULTS = default_postgres_workflow_store_tables.names()
_BY_DEFAULT_NAME = {name: key for key, name in _DEFAULTS.items()}
# Longest default names first, so workflow_schedule_buckets never parses as workflow_schedules.
_TOKEN = re.compile(
    r"\b(?P<schema>public\.)?(?P<table>"
    + "|".join(sorted(map(re.escape, _DEFAULTS.values()), key=len, reverse=True))
    + r")(?P<suffix>(?:_[a-z0-9]+)*)\b"
)


@dataclass(frozen=True)
class PostgresMigration:
    """One migration: its id (the file name without ``.sql``) and its rendered SQL."""

    id: str
    path: Path
    sql: str


def migration_paths() -> list[Path]:
    """The packaged migration files, in order (numbered 0000, 0001, ... without gaps)."""
    paths = sorted(p for p in MIGRATIONS_DIR.iterdir() if p.suffix == ".sql")
    for expected, path in enumerate(paths):
        match = _FILE_NAME.match(path.name)
        if match is None or int(match.group(1)) != expected:
            raise RuntimeError(f"migration files must be numbered 0000, 0001, ...: {path.name}")
    return paths


def render_migration(text: str, schema: str, tables: PostgresWorkflowStoreTables) -> str:
    """``text`` with the default schema and table names replaced (comments left as is)."""
    names = tables.names()

    def replace(match: re.Match[str]) -> str:
        table = names[_BY_DEFAULT_NAME[match.group("table")]]
        qualified, suffix = match.group("schema"), match.group("suffix")
        if qualified and not suffix:
            return quote(schema, table)
        if suffix and not qualified:
            return quote(table + suffix)
        raise RuntimeError(f"migration SQL names a table ambiguously: {match.group(0)!r}")

    lines = []
    for line in text.splitlines(keepends=True):
        code, dashes, comment = line.partition("--")
        lines.append(_TOKEN.sub(replace, code) + dashes + comment)
    return "".join(lines)


def get_postgres_workflow_store_migrations(
    schema: str = "public",
    tables: PostgresWorkflowStoreTables | Mapping[str, str] | None = None,
) -> list[PostgresMigration]:
    """Every migration of this store, in order, rendered for ``schema`` and ``tables``."""
    schema = check_schema(schema)
    resolved = resolve_tables(tables)
    return [
        PostgresMigration(
            id=path.stem, path=path, sql=render_migration(path.read_text(), schema, resolved)
        )
        for path in migration_paths()
    ]


def get_postgres_workflow_store_migration_sql(
    schema: str = "public",
    tables: PostgresWorkflowStoreTables | Mapping[str, str] | None = None,
) -> str:
    """All migrations as one SQL script (for your own migration tool)."""
    return "\n".join(m.sql for m in get_postgres_workflow_store_migrations(schema, tables))


def _lock_key(schema: str, tables: PostgresWorkflowStoreTables) -> int:
    digest = hashlib.sha256(f"tanstack-workflow:{schema}.{tables.migrations}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def apply_migrations(
    conn: psycopg.AsyncConnection[Any], schema: str, tables: PostgresWorkflowStoreTables
) -> list[str]:
    """Apply missing migrations under an advisory lock; return the ids applied now.

    Creates ``schema`` if needed. Each migration file runs as its own transaction, so
    the connection must be in autocommit mode (it is switched temporarily if not).
    """
    restore_autocommit = not conn.autocommit
    if restore_autocommit:
        await conn.commit()
        await conn.set_autocommit(True)
    key = _lock_key(schema, tables)
    try:
        await conn.execute("SELECT pg_advisory_lock(%s)", [key])
        try:
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")
            cur = await conn.execute(
                "SELECT to_regclass(%s) IS NOT NULL", [quote(schema, tables.migrations)]
            )
            row = await cur.fetchone()
            applied: set[str] = set()
            if row is not None and row[0]:
                cur = await conn.execute(f"SELECT id FROM {quote(schema, tables.migrations)}")
                applied = {r[0] for r in await cur.fetchall()}
            done = []
            for migration in get_postgres_workflow_store_migrations(schema, tables):
                if migration.id not in applied:
                    # No parameters and prepare=False: the simple protocol runs the whole file.
                    await conn.execute(migration.sql, prepare=False)
                    done.append(migration.id)
            return done
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", [key])
    finally:
        if restore_autocommit and not conn.closed:
            await conn.set_autocommit(False)
