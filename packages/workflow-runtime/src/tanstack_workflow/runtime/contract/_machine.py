"""The state machine's plumbing: its event loop, the read-back checks and checked claims.

``MachineBase`` owns an ``asyncio.Runner`` (the store is async, hypothesis's machines
are not), compares store records with ``ReferenceModel`` and, after every step, reads
every run back. The claim helpers check a store's pick against the model's candidates.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, ClassVar, TypeVar

from hypothesis.stateful import RuleBasedStateMachine, invariant

from .._memory import bucket_run_id, timer_signal_id
from .._models import StoredWorkflowEvent, WorkflowExecution
from .._store import WorkflowExecutionStore
from ._fixtures import T0, StoreFixtures, close_store, open_store
from ._reference import ReferenceModel, RunModel

T = TypeVar("T")

RUN_IDS = ("r0", "r1", "r2", "r3")


class MachineBase(RuleBasedStateMachine):
    """Loop, model and checks; the rules live in ``state_machine.StoreMachine``."""

    fixtures: ClassVar[type[StoreFixtures]]

    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        try:
            self.store: WorkflowExecutionStore = self.runner.run(open_store(self.fixtures))
        except BaseException:
            self.runner.close()
            raise
        self.model = ReferenceModel()
        self.now = T0
        self.counter = 0
        self.reads = 0
        self.buckets_seen: list[tuple[str, str]] = []

    def teardown(self) -> None:
        try:
            self.call(close_store(self.store))
        finally:
            self.runner.close()

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.runner.run(coro)

    def next_n(self) -> int:
        self.counter += 1
        return self.counter

    # -- checks ------------------------------------------------------------------------

    def check_run(self, run: WorkflowExecution | None, run_id: str) -> None:
        m = self.model.runs[run_id]
        assert run is not None, f"{run_id!r} missing from the store"
        assert (run.run_id, run.workflow_id, run.created_at) == (
            run_id,
            m.workflow_id,
            m.created_at,
        )
        assert (run.status, run.input) == (m.status, m.input)
        owner, expires = m.lease or (None, None)
        assert (run.lease_owner, run.lease_expires_at) == (owner, expires), f"lease of {run_id!r}"
        assert run.wake_at == m.wake_at, f"wake_at of {run_id!r}"
        if m.wake_at is not None:
            assert (run.wake_kind, run.wake_step_id) == (m.wake_kind, m.wake_step_id)
        assert run.next_index == len(m.log), f"next_index of {run_id!r}"
        if m.wait is None:
            assert not run.awaiting
            assert (run.waiting_for, run.pending_approval) == (None, None)
        elif m.wait[0] == "signal":
            assert run.waiting_for is not None
            assert run.pending_approval is None
            assert (run.waiting_for.signal_name, run.waiting_for.step_id) == m.wait[1:]
        else:
            assert run.pending_approval is not None
            assert run.waiting_for is None
            assert (run.pending_approval.approval_id, run.pending_approval.step_id) == m.wait[1:]
        if m.status == "finished":
            assert run.output == m.output
        if m.status in ("errored", "aborted"):
            assert run.error_code == m.error_code

    def check_log(self, events: Sequence[StoredWorkflowEvent], run_id: str, start: int = 0) -> None:
        log = self.model.runs[run_id].log
        assert [s.event_index for s in events] == list(range(start, len(log))), "log not gapless"
        for stored, expected in zip(events, log[start:], strict=True):
            assert stored.run_id == run_id
            if isinstance(expected, dict):
                assert (stored.event_type, stored.step_id) == (
                    expected["type"],
                    expected["step_id"],
                )
                for key, value in expected.items():
                    if key not in ("type", "step_id"):
                        assert getattr(stored.event, key) == value, (key, stored)
            else:
                assert stored.event == expected
                assert (stored.event_type, stored.step_id) == (
                    expected.type,
                    getattr(expected, "step_id", None),
                )

    @invariant()
    def store_matches_model(self) -> None:
        """Read every run back, rotating through the store's read methods."""
        self.reads += 1
        for run_id in RUN_IDS:
            if run_id not in self.model.runs:
                assert self.call(self.store.load_execution(run_id)) is None, run_id
                assert self.call(self.store.get_run_timeline(run_id)) is None, run_id
                continue
            start = len(self.model.runs[run_id].log) // 2
            if self.reads % 3 == 0:
                loaded = self.call(self.store.load_execution(run_id))
                assert loaded is not None, f"{run_id!r} is missing"
                self.check_run(loaded.run, run_id)
                self.check_log(loaded.events, run_id)
                tail = self.call(self.store.load_execution(run_id, from_index=start))
                assert tail is not None
                self.check_log(tail.events, run_id, start)
            elif self.reads % 3 == 1:
                self.check_run(self.call(self.store.load_run(run_id)), run_id)
                self.check_log(self.call(self.store.read_events(run_id)), run_id)
                self.check_log(
                    self.call(self.store.read_events(run_id, from_index=start)), run_id, start
                )
            else:
                timeline = self.call(self.store.get_run_timeline(run_id))
                assert timeline is not None, f"{run_id!r} is missing"
                self.check_run(timeline.run, run_id)
                self.check_log(timeline.events, run_id)
        schedules = self.call(self.store.list_schedules())
        assert [s.schedule_id for s in schedules] == sorted(self.model.schedules)
        for record in schedules:
            m = self.model.schedules[record.schedule_id]
            assert (record.workflow_id, record.input) == (m.workflow_id, m.input)
            assert (record.next_fire_at, record.next_bucket_id) == (
                m.next_fire_at,
                m.next_bucket_id,
            )
            assert (record.enabled, record.last_run_id) == (m.enabled, m.last_run_id)

    # -- checked claims (a sweep's three phases) ---------------------------------------------

    def claim_stale_runs(self, owner: str, lease_ms: int, limit: int) -> None:
        candidates = self.model.stale_candidates(self.now)
        claims = self.call(
            self.store.claim_stale_runs(
                now=self.now, limit=limit, lease_owner=owner, lease_ms=lease_ms
            )
        )
        ids = [c.run.run_id for c in claims]
        assert len(set(ids)) == len(ids) == min(limit, len(candidates)), (ids, candidates)
        assert set(ids) <= candidates, (ids, candidates)
        for claim in claims:
            assert (claim.lease_owner, claim.lease_expires_at) == (owner, self.now + lease_ms)
            self.model.lease(claim.run.run_id, owner, self.now + lease_ms, self.now)
            self.check_run(claim.run, claim.run.run_id)

    def claim_due_timers(self, owner: str, lease_ms: int, limit: int) -> None:
        candidates = self.model.timer_candidates(self.now)
        wakeups = self.call(
            self.store.claim_due_timers(
                now=self.now, limit=limit, lease_owner=owner, lease_ms=lease_ms
            )
        )
        ids = [w.run_id for w in wakeups]
        assert len(set(ids)) == len(ids) == min(limit, len(candidates)), (ids, candidates)
        assert set(ids) <= set(candidates), f"timer handed out twice in a lease window: {ids}"
        wake_ats = [w.wake_at for w in wakeups]
        assert wake_ats == sorted(wake_ats), "timers must come earliest first"
        passed_over = [at for run_id, at in candidates.items() if run_id not in ids]
        assert not wake_ats or not passed_over or max(wake_ats) <= min(passed_over)
        for w in wakeups:
            m = self.model.runs[w.run_id]
            assert (w.workflow_id, w.wake_at, w.wake_kind, w.step_id) == (
                m.workflow_id,
                m.wake_at,
                m.wake_kind,
                m.wake_step_id,
            )
            assert w.signal_id == timer_signal_id(w.run_id, m.wake_step_id, w.wake_at)
            assert (w.lease_owner, w.lease_expires_at) == (owner, self.now + lease_ms)
            self.model.lease(w.run_id, owner, self.now + lease_ms, self.now)

    def claim_due_schedule_buckets(self, owner: str, lease_ms: int, limit: int) -> None:
        candidates = self.model.bucket_candidates(owner, self.now)
        buckets = self.call(
            self.store.claim_due_schedule_buckets(
                now=self.now, limit=limit, lease_owner=owner, lease_ms=lease_ms
            )
        )
        ids = [b.schedule_id for b in buckets]
        assert len(set(ids)) == len(ids) == min(limit, len(candidates)), (ids, candidates)
        for b in buckets:
            assert candidates.get(b.schedule_id) == (b.bucket_id, b.fire_at), f"{b} not claimable"
            s = self.model.schedules[b.schedule_id]
            assert b.run_id == bucket_run_id(s.workflow_id, b.schedule_id, b.bucket_id)
            assert (b.workflow_id, b.input, b.previous_run_id) == (
                s.workflow_id,
                s.input,
                s.last_run_id,
            )
            assert (b.lease_owner, b.lease_expires_at) == (owner, self.now + lease_ms)
            self.model.lease_bucket(
                b.schedule_id, b.bucket_id, owner, self.now + lease_ms, self.now
            )

    def _check_result_run(self, run: WorkflowExecution | None, run_id: str, kind: str) -> None:
        if kind == "not-found":
            assert run is None
        else:
            self.check_run(run, run_id)

    def aim(self, run_id: str, wants: str) -> str:
        """Retarget at a run in the state ``wants``, so deliveries and heartbeats often land."""
        fits: dict[str, Callable[[RunModel], bool]] = {
            "leased": lambda m: m.lease is not None,
            "signal": lambda m: (
                m.status == "paused" and m.wait is not None and m.wait[0] == "signal"
            ),
            "approval": lambda m: (
                m.status == "paused" and m.wait is not None and m.wait[0] == "approval"
            ),
            "delivered": lambda m: bool(m.delivered_signals),
            "decided": lambda m: bool(m.decided),
        }
        fitting = sorted(r for r, m in self.model.runs.items() if fits[wants](m))
        return fitting[RUN_IDS.index(run_id) % len(fitting)] if fitting else run_id
