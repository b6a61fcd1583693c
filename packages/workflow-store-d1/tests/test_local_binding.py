"""The local binding enforces D1's rules, so a store's tests catch what D1 would reject."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tanstack_workflow.store_d1 import D1Error, LocalD1Database, local_d1_database


@pytest.mark.parametrize(
    "sql",
    [
        "BEGIN",
        "begin immediate",
        "BEGIN TRANSACTION",
        "COMMIT",
        "END",
        "ROLLBACK",
        "SAVEPOINT sp",
        "RELEASE sp",
        "  -- a comment first\n  BEGIN",
        "/* block */ commit",
        "ATTACH DATABASE 'other.db' AS other",
        "DETACH other",
    ],
)
async def test_transaction_statements_are_rejected(local_db: LocalD1Database, sql: str) -> None:
    with pytest.raises(D1Error, match=r"not allowed in D1; use batch\(\)"):
        await local_db.prepare(sql).run()
    with pytest.raises(D1Error, match="not allowed in D1"):
        await local_db.batch([local_db.prepare("SELECT 1"), local_db.prepare(sql)])


async def test_identifiers_that_merely_start_like_keywords_pass(local_db: LocalD1Database) -> None:
    await local_db.prepare("CREATE TABLE beginnings (endings TEXT)").run()
    await local_db.prepare("INSERT INTO beginnings (endings) VALUES (?)").bind("x").run()
    assert await local_db.prepare("SELECT endings FROM beginnings").first() == {"endings": "x"}


async def test_at_most_100_bound_parameters(local_db: LocalD1Database) -> None:
    sql_100 = "SELECT " + ", ".join(f"? AS c{i}" for i in range(100))
    row = await local_db.prepare(sql_100).bind(*range(100)).first()
    assert row is not None
    assert len(row) == 100
    sql_101 = "SELECT " + ", ".join(f"? AS c{i}" for i in range(101))
    with pytest.raises(D1Error, match="too many SQL variables: 101"):
        await local_db.prepare(sql_101).bind(*range(101)).all()


async def test_one_statement_per_prepare(local_db: LocalD1Database) -> None:
    with pytest.raises(D1Error, match="one statement at a time"):
        await local_db.prepare("SELECT 1; SELECT 2").all()


async def test_integers_bind_as_real_like_javascript_numbers(local_db: LocalD1Database) -> None:
    row = await local_db.prepare("SELECT typeof(?) AS t, ? AS v").bind(5, 5).first()
    assert row == {"t": "real", "v": 5}  # integral REALs read back as int, as from JS
    row = await local_db.prepare("SELECT typeof(CAST(? AS INTEGER)) AS t").bind(5).first()
    assert row == {"t": "integer"}
    row = await local_db.prepare("SELECT ? AS f").bind(2.5).first()
    assert row == {"f": 2.5}


async def test_integers_beyond_2_pow_53_are_rejected(local_db: LocalD1Database) -> None:
    assert await local_db.prepare("SELECT ? AS v").bind(2**53 - 1).first() == {"v": 2**53 - 1}
    with pytest.raises(D1Error, match="beyond 2\\^53"):
        local_db.prepare("SELECT ?").bind(2**53 + 1)
    with pytest.raises(D1Error, match="beyond 2\\^53"):
        await local_db.prepare("SELECT 9007199254740993 AS v").all()


async def test_unsupported_parameter_types_are_rejected(local_db: LocalD1Database) -> None:
    with pytest.raises(D1Error, match="D1_TYPE_ERROR: type 'dict'"):
        local_db.prepare("SELECT ?").bind({"a": 1})
    row = (
        await local_db.prepare("SELECT ? AS b, ? AS n, ? AS blob")
        .bind(True, None, b"\x01\x02")
        .first()
    )
    assert row == {"b": 1, "n": None, "blob": [1, 2]}


async def test_results_and_meta(local_db: LocalD1Database) -> None:
    await local_db.prepare("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)").run()
    result = await local_db.prepare("INSERT INTO t (v) VALUES (?), (?)").bind("a", "b").run()
    assert result.changes == 2
    assert result.meta["changed_db"] is True
    result = await local_db.prepare("SELECT id, v FROM t ORDER BY id").all()
    assert result.results == [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}]
    assert await local_db.prepare("SELECT v FROM t WHERE id = 99").first() is None


async def test_batch_is_atomic(local_db: LocalD1Database) -> None:
    await local_db.prepare("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)").run()
    with pytest.raises(D1Error, match="statement 1 of batch"):
        await local_db.batch(
            [
                local_db.prepare("INSERT INTO t (v) VALUES (?)").bind("kept?"),
                local_db.prepare("INSERT INTO t (v) VALUES (NULL)"),
            ]
        )
    assert (await local_db.prepare("SELECT COUNT(*) AS n FROM t").first()) == {"n": 0}
    results = await local_db.batch(
        [
            local_db.prepare("INSERT INTO t (v) VALUES (?) RETURNING id").bind("a"),
            local_db.prepare("SELECT v FROM t"),
        ]
    )
    assert [r.results for r in results] == [[{"id": 1}], [{"v": "a"}]]
    assert await local_db.batch([]) == []


async def test_batch_takes_only_its_own_statements(
    local_db: LocalD1Database, tmp_path: Path
) -> None:
    other = local_d1_database(tmp_path / "other.sqlite")
    try:
        with pytest.raises(TypeError, match="prepared by this database"):
            await local_db.batch([other.prepare("SELECT 1")])
    finally:
        await other.close()


async def test_two_connections_share_one_file_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    a, b = local_d1_database(path), local_d1_database(path)
    try:
        assert (await a.prepare("PRAGMA journal_mode").first()) == {"journal_mode": "wal"}
        await a.prepare("CREATE TABLE t (v INTEGER)").run()
        await asyncio.gather(
            *(
                db.prepare("INSERT INTO t (v) VALUES (?)").bind(i).run()
                for i in range(20)
                for db in (a, b)
            )
        )
        assert (await b.prepare("SELECT COUNT(*) AS n FROM t").first()) == {"n": 40}
    finally:
        await a.close()
        await b.close()


async def test_closed_database_refuses_statements(tmp_path: Path) -> None:
    db = local_d1_database(tmp_path / "closed.sqlite")
    await db.close()
    await db.close()  # idempotent
    with pytest.raises(D1Error, match="closed"):
        await db.prepare("SELECT 1").all()


def test_an_unopenable_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(D1Error, match="cannot open local D1 file"):
        local_d1_database(tmp_path / "missing-dir" / "d1.sqlite")
