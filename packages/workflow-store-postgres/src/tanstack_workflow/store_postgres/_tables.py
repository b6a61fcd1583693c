"""Where the store keeps its data: a schema and five table names, validated once."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from psycopg import sql

from tanstack_workflow.core import WorkflowValidationError

# Plain unquoted-style identifiers only. Table names leave room for the longest index
# suffix ("_workflow_created_idx") within Postgres' 63-byte identifier limit.
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
MAX_SCHEMA_LENGTH = 63
MAX_TABLE_LENGTH = 40


@dataclass(frozen=True)
class PostgresWorkflowStoreTables:
    """The table names of one store. Override some with ``tables={"runs": "my_runs"}``."""

    runs: str = "workflow_runs"
    events: str = "workflow_events"
    schedules: str = "workflow_schedules"
    schedule_buckets: str = "workflow_schedule_buckets"
    migrations: str = "workflow_schema_migrations"

    def names(self) -> dict[str, str]:
        """Logical name -> table name."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


default_postgres_workflow_store_tables = PostgresWorkflowStoreTables()
"""The default table names (in the ``public`` schema unless ``schema=`` says otherwise)."""


def check_identifier(value: object, what: str, max_length: int) -> str:
    """A plain SQL identifier (letters, digits, ``_``); anything else is rejected."""
    if not isinstance(value, str) or not _IDENTIFIER.match(value):
        raise WorkflowValidationError(
            what,
            f"{value!r} is not a plain SQL identifier (letters, digits and _, not first a digit)",
        )
    if len(value) > max_length:
        raise WorkflowValidationError(what, f"{value!r} is longer than {max_length} characters")
    return value


def resolve_tables(
    tables: PostgresWorkflowStoreTables | Mapping[str, str] | None,
) -> PostgresWorkflowStoreTables:
    """Validate table-name overrides (a partial mapping or a full ``PostgresWorkflowStoreTables``)."""
    if tables is None:
        resolved = default_postgres_workflow_store_tables
    elif isinstance(tables, PostgresWorkflowStoreTables):
        resolved = tables
    elif isinstance(tables, Mapping):
        known = default_postgres_workflow_store_tables.names()
        unknown = sorted(str(key) for key in tables if key not in known)
        if unknown:
            raise WorkflowValidationError(
                "tables", f"unknown table keys {unknown}; expected some of {sorted(known)}"
            )
        resolved = replace(default_postgres_workflow_store_tables, **dict(tables))
    else:
        raise WorkflowValidationError(
            "tables",
            f"expected a mapping or PostgresWorkflowStoreTables, got {type(tables).__name__}",
        )
    names = resolved.names()
    for key, name in names.items():
        check_identifier(name, f"table name for {key!r}", MAX_TABLE_LENGTH)
    if len(set(names.values())) != len(names):
        raise WorkflowValidationError("tables", f"table names must be distinct: {names}")
    return resolved


def check_schema(schema: object) -> str:
    """A valid schema name."""
    return check_identifier(schema, "schema", MAX_SCHEMA_LENGTH)


def quote(*names: str) -> str:
    """``"schema"."table"`` as SQL text, quoted by psycopg (names are validated first)."""
    return sql.Identifier(*names).as_string(None)
