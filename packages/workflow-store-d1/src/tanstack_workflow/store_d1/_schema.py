"""Table names and the package-owned migrations (``migrations/*.sql``, wrangler's layout)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from importlib import resources

MIGRATIONS_TABLE = "d1_migrations"
"""The table ``wrangler d1 migrations apply`` records applied migrations in."""

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_RESERVED_PREFIXES = ("_cf_", "sqlite_")  # D1 and SQLite reserve these names


@dataclass(frozen=True)
class D1StoreTables:
    """The store's table names; pass overrides as ``tables={"runs": "my_runs", ...}``."""

    runs: str = "workflow_runs"
    events: str = "workflow_events"
    schedules: str = "workflow_schedules"
    schedule_buckets: str = "workflow_schedule_buckets"

    @classmethod
    def resolve(cls, tables: Mapping[str, str] | D1StoreTables | None) -> D1StoreTables:
        """Validate overrides: known keys, plain SQL identifiers, distinct names."""
        if tables is None:
            return cls()
        if isinstance(tables, D1StoreTables):
            resolved = tables
        else:
            known = {f.name for f in fields(cls)}
            unknown = sorted(set(tables) - known)
            if unknown:
                raise ValueError(
                    f"unknown table key(s) {unknown}; expected some of {sorted(known)}"
                )
            resolved = cls(**dict(tables))
        names = [getattr(resolved, f.name) for f in fields(cls)]
        for name in names:
            if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
                raise ValueError(
                    f"invalid table name {name!r}: use letters, digits and underscores "
                    "(at most 63 characters, not starting with a digit)"
                )
            if name.lower().startswith(_RESERVED_PREFIXES) or name.lower() == MIGRATIONS_TABLE:
                raise ValueError(f"invalid table name {name!r}: the name is reserved")
        if len({n.lower() for n in names}) != len(names):
            raise ValueError(f"table names must be distinct, got {names}")
        return resolved

    def quoted(self) -> dict[str, str]:
        """Each logical table as a quoted SQL identifier."""
        return {f.name: quote_identifier(getattr(self, f.name)) for f in fields(self)}


def quote_identifier(name: str) -> str:
    """``name`` as a double-quoted SQL identifier (names are validated beforehand)."""
    return '"' + name.replace('"', '""') + '"'


_DEFAULTS = D1StoreTables()
_DEFAULT_NAME = re.compile(
    '"('
    + "|".join(re.escape(getattr(_DEFAULTS, f.name)) for f in fields(_DEFAULTS))
    + ')((?:__[a-z_]+)?)"'
)


def _render(sql: str, tables: D1StoreTables) -> str:
    if tables == _DEFAULTS:
        return sql
    by_default = {getattr(_DEFAULTS, f.name): getattr(tables, f.name) for f in fields(tables)}
    return _DEFAULT_NAME.sub(lambda m: quote_identifier(by_default[m.group(1)] + m.group(2)), sql)


def migration_files() -> list[tuple[str, str]]:
    """``(file name, SQL)`` of each packaged migration, in order."""
    folder = resources.files("tanstack_workflow.store_d1") / "migrations"
    entries = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".sql")),
        key=lambda entry: entry.name,
    )
    return [(entry.name, entry.read_text(encoding="utf-8")) for entry in entries]


def get_cloudflare_d1_workflow_store_migrations(
    tables: Mapping[str, str] | D1StoreTables | None = None,
) -> list[tuple[str, str]]:
    """``(name, SQL)`` per migration, for ``tables``; write them into wrangler's ``migrations/``."""
    resolved = D1StoreTables.resolve(tables)
    return [(name, _render(sql, resolved)) for name, sql in migration_files()]


def get_cloudflare_d1_workflow_store_migration_sql(
    tables: Mapping[str, str] | D1StoreTables | None = None,
) -> str:
    """Every migration for ``tables`` as one SQL script."""
    return "\n".join(sql for _, sql in get_cloudflare_d1_workflow_store_migrations(tables))


def split_statements(script: str) -> list[str]:
    """Split a SQL script into statements at ``;`` outside quotes and comments."""
    statements: list[str] = []
    current: list[str] = []
    i, n = 0, len(script)
    while i < n:
        ch = script[i]
        if ch in "'\"`[":
            close = "]" if ch == "[" else ch
            end = script.find(close, i + 1)
            end = n - 1 if end < 0 else end
            current.append(script[i : end + 1])
            i = end + 1
        elif script.startswith("--", i):
            end = script.find("\n", i)
            i = n if end < 0 else end + 1
            current.append("\n")
        elif script.startswith("/*", i):
            end = script.find("*/", i + 2)
            i = n if end < 0 else end + 2
            current.append(" ")
        elif ch == ";":
            statements.append("".join(current))
            current = []
            i += 1
        else:
            current.append(ch)
            i += 1
    statements.append("".join(current))
    return [s.strip() for s in statements if s.strip()]
