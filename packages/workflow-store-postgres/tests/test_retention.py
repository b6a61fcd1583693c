"""delete_terminal_runs: bounded cleanup of ended runs and their logs."""

from __future__ import annotations

import psycopg
import pytest

from tanstack_workflow.core import StepFinished, WorkflowValidationError
from tanstack_workflow.store_postgres import PostgresWorkflowExecutionStore


async def test_deletes_only_old_terminal_runs_in_batches(
    store: PostgresWorkflowExecutionStore, database_url: str
) -> None:
    for i in range(7):
        run_id = f"r{i}"
        await store.create_run(
            run_id=run_id, workflow_id="w", workflow_version=None, input=None, now=i
        )
        await store.append_events(
            run_id=run_id, expected_next_index=0, events=[StepFinished(ts=i, step_id="s")], now=i
        )
        if i < 5:
            await store.mark_run_finished(run_id=run_id, output=i, now=100 + i)
    # r0..r4 ended at 100..104; r5, r6 still running
    assert await store.delete_terminal_runs(older_than_ms=10, now=112, limit=2) == 2
    assert await store.delete_terminal_runs(older_than_ms=10, now=112, limit=2) == 1
    assert await store.delete_terminal_runs(older_than_ms=10, now=112, limit=2) == 0
    remaining = sorted(r.run_id for r in (await store.list_runs()).runs)
    assert remaining == ["r3", "r4", "r5", "r6"]
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute(
            f'SELECT DISTINCT run_id FROM "{store.schema}".workflow_events ORDER BY 1'
        )
        assert [r[0] for r in await cur.fetchall()] == remaining


async def test_bad_arguments(store: PostgresWorkflowExecutionStore) -> None:
    with pytest.raises(WorkflowValidationError):
        await store.delete_terminal_runs(older_than_ms=-1, now=1)
    with pytest.raises(WorkflowValidationError):
        await store.delete_terminal_runs(older_than_ms=1, now=1, limit=0)
