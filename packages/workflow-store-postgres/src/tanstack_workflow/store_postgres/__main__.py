"""Command line: ``python -m tanstack_workflow.store_postgres {migration-path,sql,migrate}``.

* ``migration-path`` prints the path of each packaged migration file, in order (today one
  file), for ``psql "$DATABASE_URL" -f "$(python -m tanstack_workflow.store_postgres migration-path)"``.
* ``sql [--schema S] [--table KEY=NAME ...]`` prints the migrations rendered for another
  schema or table names, for your own migration tool.
* ``migrate [--database-url URL] [--schema S] [--table KEY=NAME ...]`` applies missing
  migrations (``DATABASE_URL`` by default) under an advisory lock.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

import psycopg

from tanstack_workflow.core import WorkflowValidationError

from ._migrations import (
    apply_migrations,
    get_postgres_workflow_store_migration_sql,
    migration_paths,
)
from ._tables import check_schema, resolve_tables


def _table_overrides(pairs: list[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        key, sep, name = pair.partition("=")
        if not sep:
            raise WorkflowValidationError("--table", f"{pair!r} is not KEY=NAME")
        overrides[key] = name
    return overrides


async def _migrate(url: str, schema: str, tables: dict[str, str]) -> list[str]:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        return await apply_migrations(conn, check_schema(schema), resolve_tables(tables))


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m tanstack_workflow.store_postgres", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migration-path", help="print the packaged migration file paths")
    for name, help_ in (
        ("sql", "print the rendered migration SQL"),
        ("migrate", "apply missing migrations"),
    ):
        sub = commands.add_parser(name, help=help_)
        sub.add_argument("--schema", default="public")
        sub.add_argument(
            "--table", action="append", default=[], metavar="KEY=NAME", help="e.g. runs=my_runs"
        )
        if name == "migrate":
            sub.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args(argv)
    if args.command == "migration-path":
        for path in migration_paths():
            print(path)
        return 0
    try:
        tables = _table_overrides(args.table)
        if args.command == "sql":
            print(get_postgres_workflow_store_migration_sql(args.schema, tables))
            return 0
        if not args.database_url:
            parser.error("migrate needs --database-url or DATABASE_URL")
        applied = asyncio.run(_migrate(args.database_url, args.schema, tables))
    except (WorkflowValidationError, psycopg.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"applied: {', '.join(applied)}" if applied else "up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
