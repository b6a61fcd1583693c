"""A hypothesis state machine: random store operations checked against ``ReferenceModel``.

Each example drives a fresh store (from ``StoreFixtures.make_store``) through random
creates, CAS appends at right and wrong indexes, claims by several owners, heartbeats,
releases, stale-run and timer claims, deliveries with repeated ids, cancels, schedule
upserts, bucket claims and pagination, while ``now`` moves forward by random amounts.
After every step the store must agree with the model, and the invariants hold: gapless
logs, one live lease owner per run, each due timer or bucket handed out once per lease
window, idempotent deliveries, pagination visiting each run exactly once.

The store is async and the machine is not: each machine owns an ``asyncio.Runner`` and
runs every store call on it.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, rule, run_state_machine_as_test

from tanstack_workflow.core import (
    ApprovalRequested,
    ApprovalResult,
    LogConflictError,
    SerializedError,
    SignalAwaited,
    SignalDelivery,
    WorkflowEvent,
)

from .._memory import bucket_run_id
from .._models import RunTransition, ScheduleSpec, WakeKind
from .._store import RunNotFoundError
from ._fixtures import StoreFixtures, approval_wait, pause_transition
from ._fixtures import signal_wait as _signal_wait
from ._fixtures import step_event as _step_event
from ._machine import RUN_IDS, MachineBase

RUNS = st.sampled_from(RUN_IDS)
WORKFLOWS = st.sampled_from(["wf-a", "wf-b"])
OWNERS = st.sampled_from(["w1", "w2", "w3"])
LEASE_MS = st.sampled_from([500, 1_000, 2_000])
ADVANCE_MS = st.sampled_from([1, 250, 500, 999, 1_000, 2_500])
WAKE_OFFSETS = st.none() | st.sampled_from([-500, 0, 500, 1_000, 3_000])
SIGNALS = st.sampled_from(["go", "stop"])
LIMITS = st.sampled_from([2, 1, 4, 0])
SCHEDULES = st.sampled_from(["s0", "s1", "s2"])
STATUSES = st.none() | st.sampled_from(["running", "paused", "finished", "errored", "aborted"])
WAKE_KINDS: st.SearchStrategy[WakeKind] = st.sampled_from(["timer", "deadline"])
TARGETS = st.sampled_from(["waiting", "waiting", "again", "anywhere"])
RARELY = st.sampled_from([False, False, False, True])  # hypothesis has no rule weights
TRANSITIONS = st.sampled_from(
    ["signal", "approval", "none", "running", "signal", "approval", "finished", "errored"]
)


class StoreMachine(MachineBase):
    """Random store operations; ``fixtures`` (set per store) says how to build the store."""

    # -- time and runs ---------------------------------------------------------------------

    @initialize(
        workflows=st.lists(WORKFLOWS, min_size=3, max_size=3),
        owners=st.lists(st.none() | OWNERS, min_size=3, max_size=3),
        fires=st.lists(st.none() | st.sampled_from([-1_000, 0, 500]), min_size=2, max_size=2),
    )
    def seed(self, workflows: list[str], owners: list[str | None], fires: list[int | None]) -> None:
        """Start with three runs (r3 missing) and two schedules, so most rules hit something."""
        for run_id, workflow_id, owner in zip(RUN_IDS, workflows, owners, strict=False):
            self.create_or_delete_run(run_id, workflow_id, owner, 1_000, delete=False)
        for schedule_id, fire in zip(("s0", "s1"), fires, strict=True):
            self.upsert_schedule(schedule_id, workflows[0], fire, with_bucket=True, enabled=True)

    @rule(ms=ADVANCE_MS)
    def advance_time(self, ms: int) -> None:
        self.now += ms

    @rule(offset=st.sampled_from([0, -1, 1]))
    def advance_to_next_expiry(self, offset: int) -> None:
        """Jump to the next lease expiry, wake-up or fire time, give or take 1 ms."""
        times = [m.lease[1] for m in self.model.runs.values() if m.lease]
        times += [m.wake_at for m in self.model.runs.values() if m.wake_at is not None]
        times += [b.expires_at for b in self.model.buckets.values() if not b.started]
        times += [s.next_fire_at for s in self.model.schedules.values() if s.next_fire_at]
        future = [t + offset for t in times if t + offset > self.now]
        if future:
            self.now = min(future)

    @rule(
        run_id=RUNS,
        workflow_id=WORKFLOWS,
        owner=st.none() | OWNERS,
        lease_ms=LEASE_MS,
        delete=RARELY,
    )
    def create_or_delete_run(
        self, run_id: str, workflow_id: str, owner: str | None, lease_ms: int, delete: bool
    ) -> None:
        if delete:
            self.call(self.store.delete_run(run_id, "finished"))
            self.model.delete(run_id)
            return
        data = {"run": run_id, "n": self.next_n()}
        lease = (owner, self.now + lease_ms) if owner else None
        expected = self.model.create(run_id, workflow_id, data, self.now, lease)
        result = self.call(
            self.store.create_run(
                run_id=run_id,
                workflow_id=workflow_id,
                workflow_version=None,
                input=data,
                now=self.now,
                lease_owner=owner,
                lease_ms=lease_ms if owner else None,
            )
        )
        assert result.kind == expected
        self.check_run(result.run, run_id)

    @rule(
        run_id=RUNS,
        offset=st.sampled_from([0, 0, 0, 0, -1, 1, 2]),
        count=st.integers(0, 2),
        kind=TRANSITIONS,
        name=SIGNALS,
        wake=WAKE_OFFSETS,
    )
    def append_events(
        self, run_id: str, offset: int, count: int, kind: str, name: str, wake: int | None
    ) -> None:
        m = self.model.runs.get(run_id)
        if m is not None and m.terminal:
            kind = "none"  # leaving a terminal status is not part of the contract
        size = len(m.log) if m is not None else 0
        index = size + offset if size + offset >= 0 else size + 1
        n = self.next_n()
        events: list[WorkflowEvent] = [_step_event(n * 10 + k, ts=self.now) for k in range(count)]
        wake_at = self.now + wake if wake is not None and kind in ("signal", "approval") else None
        transition: RunTransition | None = None
        wait: tuple[str, str, str] | None = None
        if kind == "signal":
            wait = ("signal", name, f"wait-{n}")
            events.append(SignalAwaited(ts=self.now, step_id=wait[2], name=name, deadline=wake_at))
            transition = self._pause(_signal_wait(name, wait[2], wake_at), wake_at)
        elif kind == "approval":
            wait = ("approval", f"ap-{n}", f"approve-{n}")
            events.append(
                ApprovalRequested(ts=self.now, step_id=wait[2], approval_id=wait[1], title="t")
            )
            transition = self._pause(approval_wait(wait[1], wait[2]), wake_at)
        elif kind == "finished":
            transition = RunTransition(status="finished", output={"n": n})
        elif kind == "errored":
            error = SerializedError(name="E", message=f"failure {n}")
            transition = RunTransition(status="errored", error=error, error_code="error")
        elif kind == "running":
            transition = RunTransition(status="running")
        outcome = self.model.append(run_id, 0 if index == size else 1, events)
        call = self.store.append_events(
            run_id=run_id,
            expected_next_index=index,
            events=events,
            now=self.now,
            transition=transition,
        )
        if outcome == "not-found":
            with pytest.raises(RunNotFoundError):
                self.call(call)
        elif outcome == "conflict":
            with pytest.raises(LogConflictError):
                self.call(call)
        else:
            assert self.call(call) == size + len(events)
            if transition is not None:
                self.model.transition(
                    run_id,
                    transition.status,
                    wait=wait,
                    wake_at=wake_at,
                    output=transition.output,
                    error_code=transition.error_code,
                )

    @staticmethod
    def _pause(awaitable: Any, wake_at: int | None) -> RunTransition:
        step = awaitable.step_id if wake_at is not None else None
        return pause_transition(awaitable, wake_at=wake_at, wake_kind="deadline", wake_step_id=step)

    @rule(
        run_id=RUNS,
        how=st.sampled_from(["mark", "arm", "mark+arm"]),
        signal=st.booleans(),
        name=SIGNALS,
        wake=WAKE_OFFSETS,
        rearm=st.sampled_from([-500, 0, 500, 1_000]),
        kind=WAKE_KINDS,
    )
    def pause_or_arm(
        self,
        run_id: str,
        how: str,
        signal: bool,
        name: str,
        wake: int | None,
        rearm: int,
        kind: WakeKind,
    ) -> None:
        """``mark_run_paused`` and/or ``schedule_timer`` (only paused runs get timers)."""
        m = self.model.runs.get(run_id)
        if m is None:
            missing = (
                self.store.schedule_timer(run_id=run_id, wake_at=self.now, now=self.now)
                if how == "arm"
                else self.store.mark_run_paused(run_id=run_id, awaiting=[], now=self.now)
            )
            with pytest.raises(RunNotFoundError):
                self.call(missing)
            return
        if m.terminal:
            return
        if how != "arm":
            n = self.next_n()
            wait = (
                ("signal", name, f"wait-{n}") if signal else ("approval", f"ap-{n}", f"approve-{n}")
            )
            awaitable = _signal_wait(name, wait[2]) if signal else approval_wait(wait[1], wait[2])
            wake_at = self.now + wake if wake is not None else None
            self.call(
                self.store.mark_run_paused(
                    run_id=run_id,
                    awaiting=[awaitable],
                    wake_at=wake_at,
                    wake_kind="deadline" if wake_at is not None else None,
                    wake_step_id=wait[2] if wake_at is not None else None,
                    now=self.now,
                )
            )
            self.model.transition(run_id, "paused", wait=wait, wake_at=wake_at)
        if how != "mark" and m.status == "paused":
            step_id = m.wait[2] if m.wait is not None else None
            wake_at = self.now + rearm
            self.call(
                self.store.schedule_timer(
                    run_id=run_id, wake_at=wake_at, now=self.now, wake_kind=kind, step_id=step_id
                )
            )
            self.model.arm(run_id, wake_at, kind, step_id)

    # -- leases ---------------------------------------------------------------------------

    @rule(run_id=RUNS, owner=OWNERS, lease_ms=LEASE_MS, with_events=st.booleans())
    def claim_run(self, run_id: str, owner: str, lease_ms: int, with_events: bool) -> None:
        expected = self.model.claim(run_id, owner, self.now)
        result = self.call(
            self.store.claim_run(
                run_id=run_id,
                lease_owner=owner,
                lease_ms=lease_ms,
                now=self.now,
                with_events=with_events,
            )
        )
        assert result.kind == expected, (run_id, owner, self.now)
        if expected == "claimed":
            self.model.lease(run_id, owner, self.now + lease_ms, self.now)
            if with_events:
                assert result.events is not None
                self.check_log(result.events, run_id)
        if expected == "not-found":
            assert result.run is None
        else:
            self.check_run(result.run, run_id)

    @rule(run_id=RUNS, aimed=st.booleans(), owner=OWNERS, lease_ms=LEASE_MS, release=st.booleans())
    def heartbeat_or_release(
        self, run_id: str, aimed: bool, owner: str, lease_ms: int, release: bool
    ) -> None:
        """By the holder when ``aimed``, else by whoever."""
        run_id = self.aim(run_id, "leased") if aimed else run_id
        holder = self.model.runs[run_id].owner() if run_id in self.model.runs else None
        owner = holder if aimed and holder else owner
        if release:
            self.call(self.store.release_run_lease(run_id=run_id, lease_owner=owner, now=self.now))
            self.model.release(run_id, owner)
            return
        expected = self.model.heartbeat(run_id, owner)
        result = self.call(
            self.store.heartbeat_run_lease(
                run_id=run_id, lease_owner=owner, lease_ms=lease_ms, now=self.now
            )
        )
        assert result is expected, (run_id, owner, self.now)
        if expected:
            self.model.lease(run_id, owner, self.now + lease_ms, self.now)

    @rule(
        owner=OWNERS,
        lease_ms=LEASE_MS,
        limits=st.tuples(LIMITS, LIMITS, LIMITS),
        wait_ms=st.sampled_from([0, 0, 250, 1_000]),
    )
    def sweep(self, owner: str, lease_ms: int, limits: tuple[int, int, int], wait_ms: int) -> None:
        """What a sweep does: stale runs, then schedule buckets, then due timers."""
        self.now += wait_ms
        self.claim_stale_runs(owner, lease_ms, limits[0])
        self.claim_due_schedule_buckets(owner, lease_ms, limits[1])
        self.claim_due_timers(owner, lease_ms, limits[2])

    # -- deliveries ---------------------------------------------------------------------------

    @rule(
        run_id=RUNS,
        aim_at=TARGETS,
        name=SIGNALS,
        k=st.integers(0, 2),
        step=st.sampled_from(["none", "current", "wrong"]),
        payload=st.integers(0, 3),
    )
    def deliver_signal(
        self, run_id: str, aim_at: str, name: str, k: int, step: str, payload: int
    ) -> None:
        """To a waiting run (its name), a redelivery of a delivered id, or anywhere."""
        signal_id = f"{name}#{k}"  # ids never repeat across names: both readings of "same id" agree
        if aim_at != "anywhere":
            run_id = self.aim(run_id, "signal" if aim_at == "waiting" else "delivered")
        m = self.model.runs.get(run_id)
        if m is not None and aim_at == "waiting" and m.wait is not None and m.wait[0] == "signal":
            name, signal_id = m.wait[1], f"{m.wait[1]}#{k}"
        elif m is not None and aim_at == "again" and m.delivered_signals:
            signal_id = sorted(m.delivered_signals)[k % len(m.delivered_signals)]
            name = signal_id.partition("#")[0]
        step_id = None if step == "none" else "wait-bogus"
        if step == "current" and m is not None and m.wait is not None:
            step_id = m.wait[2]
        expected = self.model.deliver_signal(run_id, signal_id, name, step_id, payload, self.now)
        delivery = SignalDelivery(signal_id=signal_id, name=name, payload=payload, step_id=step_id)
        result = self.call(
            self.store.deliver_signal(run_id=run_id, delivery=delivery, now=self.now)
        )
        assert result.kind == expected, (run_id, delivery)
        self._check_result_run(result.run, run_id, expected)

    @rule(
        run_id=RUNS,
        aim_at=TARGETS,
        k=st.integers(0, 3),
        approved=st.booleans(),
        feedback=st.sampled_from([None, "ok"]),
    )
    def deliver_approval(
        self, run_id: str, aim_at: str, k: int, approved: bool, feedback: str | None
    ) -> None:
        """To a pending approval, a decided one again (same or other decision), or anywhere."""
        approval_id = f"ap-unknown-{k}"
        if aim_at != "anywhere":
            run_id = self.aim(run_id, "approval" if aim_at == "waiting" else "decided")
        m = self.model.runs.get(run_id)
        if m is not None and aim_at == "waiting" and m.wait is not None and m.wait[0] == "approval":
            approval_id = m.wait[1]
        elif m is not None and aim_at == "again" and m.decided:
            approval_id = sorted(m.decided)[k % len(m.decided)]
        expected = self.model.deliver_approval(run_id, approval_id, approved, feedback, self.now)
        approval = ApprovalResult(approved=approved, approval_id=approval_id, feedback=feedback)
        result = self.call(
            self.store.deliver_approval(run_id=run_id, approval=approval, now=self.now)
        )
        assert result.kind == expected, (run_id, approval)
        self._check_result_run(result.run, run_id, expected)

    @rule(run_id=RUNS, code=st.sampled_from(["cancelled", "terminated"]), really=RARELY)
    def cancel_run(self, run_id: str, code: str, really: bool) -> None:
        if not really:  # ending runs too often would starve the other rules
            return
        expected = self.model.cancel(run_id, code)
        result = self.call(
            self.store.cancel_run(run_id=run_id, reason=None, now=self.now, code=code)
        )
        assert result.kind == expected
        self._check_result_run(result.run, run_id, expected)

    # -- schedules ---------------------------------------------------------------------------

    @rule(
        schedule_id=SCHEDULES,
        workflow_id=WORKFLOWS,
        fire=st.none() | st.sampled_from([-1_000, 0, 500, 2_000]),
        with_bucket=st.booleans(),
        enabled=st.booleans(),
    )
    def upsert_schedule(
        self,
        schedule_id: str,
        workflow_id: str,
        fire: int | None,
        *,
        with_bucket: bool,
        enabled: bool,
    ) -> None:
        fire_at = None if fire is None else self.now + fire
        bucket_id = str(fire_at) if with_bucket and fire_at is not None else None
        data = {"schedule": schedule_id, "n": self.next_n()}
        self.call(
            self.store.upsert_schedule(
                schedule_id=schedule_id,
                workflow_id=workflow_id,
                workflow_version=None,
                spec=ScheduleSpec(kind="interval", every_ms=60_000),
                overlap_policy="skip",
                input=data,
                next_fire_at=fire_at,
                next_bucket_id=bucket_id,
                enabled=enabled,
                now=self.now,
            )
        )
        self.model.upsert_schedule(schedule_id, workflow_id, fire_at, bucket_id, enabled, data)
        if bucket_id is not None:
            self.buckets_seen.append((schedule_id, bucket_id))

    @rule(pick=st.integers(0, 20))
    def mark_schedule_bucket_started(self, pick: int) -> None:
        if not self.buckets_seen:
            return
        schedule_id, bucket_id = self.buckets_seen[pick % len(self.buckets_seen)]
        workflow_id = self.model.schedules[schedule_id].workflow_id
        run_id = bucket_run_id(workflow_id, schedule_id, bucket_id)
        self.call(
            self.store.mark_schedule_bucket_started(
                schedule_id=schedule_id, bucket_id=bucket_id, run_id=run_id, now=self.now
            )
        )
        self.model.mark_started(schedule_id, bucket_id, run_id)

    # -- queries ---------------------------------------------------------------------------

    @rule(workflow_id=st.none() | WORKFLOWS, status=STATUSES, limit=st.integers(1, 4))
    def list_runs(self, workflow_id: str | None, status: str | None, limit: int) -> None:
        expected = self.model.listed(workflow_id, status)
        seen: list[str] = []
        created: list[int] = []
        cursor: str | None = None
        for _ in range(len(expected) + 2):
            page = self.call(
                self.store.list_runs(
                    workflow_id=workflow_id, status=status, limit=limit, cursor=cursor
                )
            )
            for summary in page.runs:
                m = self.model.runs[summary.run_id]
                assert (summary.workflow_id, summary.status) == (m.workflow_id, m.status)
                seen.append(summary.run_id)
                created.append(summary.created_at)
            if page.next_cursor is None:
                break
            assert len(page.runs) == limit, "only the last page may be short"
            cursor = page.next_cursor
        else:
            raise AssertionError("list_runs pagination did not end")
        assert len(seen) == len(set(seen)), f"a run was listed twice: {seen}"
        assert set(seen) == expected
        assert created == sorted(created, reverse=True), "runs must come newest first"


class StateMachineContract(StoreFixtures):
    """The store agrees with ``ReferenceModel`` over random operation sequences."""

    def test_state_machine(self) -> None:
        fixtures = type(self)
        machine = type(
            f"StoreMachine[{fixtures.__name__}]", (StoreMachine,), {"fixtures": fixtures}
        )
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=fixtures.state_machine_max_examples,
                stateful_step_count=fixtures.state_machine_step_count,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
                print_blob=True,  # a failure prints the @reproduce_failure line to replay it
            ),
        )
