"""Every SQL statement the store runs: one statement per store method, rendered once.

Round trips are the cost of a store, so each method is a single statement (data-modifying
CTEs) run in autocommit mode. Templates name tables as ``{runs}``, ``{events}``,
``{schedules}`` and ``{buckets}``; rendering substitutes identifiers quoted by
``psycopg.sql.Identifier`` after validation, never raw text. Parameters are psycopg
``%(name)s`` placeholders; a name used twice maps to one server-side parameter.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._tables import PostgresWorkflowStoreTables, quote

RUN_COLUMNS = (
    "run_id",
    "workflow_id",
    "workflow_version",
    "status",
    "input",
    "output",
    "error",
    "error_code",
    "awaiting",
    "waiting_for",
    "pending_approval",
    "wake_at",
    "wake_kind",
    "wake_step_id",
    "lease_owner",
    "lease_expires_at",
    "next_index",
    "created_at",
    "updated_at",
)


def _cols(alias: str) -> str:
    return ", ".join(f"{alias}.{column}" for column in RUN_COLUMNS)


R = _cols("r")
TERMINAL = "('finished', 'errored', 'aborted')"
# A lease is live while it has an owner and has not expired (WorkflowExecution.lease_is_live).
LEASE_FREE = "(r.lease_owner IS NULL OR coalesce(r.lease_expires_at, 0) <= %(now)s::bigint)"
# A run's log (or its tail) as the JSON text of a list of StoredWorkflowEvent: one value
# that pydantic validates in a single call, instead of one row (and one parse) per event.
# ``json`` keeps each event's text exactly as written.
EVENT_LIST = """json_agg(json_build_object('runId', e.run_id, 'eventIndex', e.event_index,
        'eventType', e.event_type, 'stepId', e.step_id, 'event', e.event,
        'createdAt', e.created_at) ORDER BY e.event_index)::text"""
EVENTS_OF_R = f"""(
    SELECT {EVENT_LIST}
    FROM {{events}} e WHERE e.run_id = r.run_id AND e.event_index >= %(from_index)s::bigint
)"""

# SET clause applying a RunTransition (see _codec.transition_params for the flags).
TRANSITION_SET = """
    status = %(t_status)s::text,
    awaiting = %(t_awaiting)s::json,
    waiting_for = %(t_waiting_for)s::json,
    pending_approval = %(t_pending_approval)s::json,
    wake_at = %(t_wake_at)s::bigint,
    wake_kind = %(t_wake_kind)s::text,
    wake_step_id = %(t_wake_step_id)s::text,
    output = CASE WHEN %(t_set_output)s::boolean THEN %(t_output)s::json ELSE r.output END,
    error = CASE WHEN %(t_set_error)s::boolean THEN %(t_error)s::json ELSE r.error END,
    error_code = CASE WHEN %(t_set_error)s::boolean THEN %(t_error_code)s::text ELSE r.error_code END,
    lease_owner = CASE WHEN %(t_release)s::boolean THEN NULL ELSE r.lease_owner END,
    lease_expires_at = CASE WHEN %(t_release)s::boolean THEN NULL ELSE r.lease_expires_at END,
    updated_at = %(now)s::bigint"""

# A resumed run: running, no waits, no timer, no lease (deliveries).
RESUME_SET = """
    status = 'running', awaiting = NULL, waiting_for = NULL, pending_approval = NULL,
    wake_at = NULL, wake_kind = NULL, wake_step_id = NULL,
    lease_owner = NULL, lease_expires_at = NULL,
    next_index = r.next_index + 1, updated_at = %(now)s::bigint"""

CREATE_RUN = f"""
WITH ins AS (
    INSERT INTO {{runs}} AS r (run_id, workflow_id, workflow_version, status, input,
        lease_owner, lease_expires_at, next_index, created_at, updated_at)
    VALUES (%(run_id)s::text, %(workflow_id)s::text, %(workflow_version)s::text, 'running',
        %(input)s::json, %(lease_owner)s::text, %(lease_expires_at)s::bigint, 0,
        %(now)s::bigint, %(now)s::bigint)
    ON CONFLICT (run_id) DO NOTHING
    RETURNING {R}
)
SELECT true AS created, {_cols("ins")} FROM ins
UNION ALL
SELECT false, {R} FROM {{runs}} r
WHERE r.run_id = %(run_id)s::text AND NOT EXISTS (SELECT FROM ins)"""

LOAD_RUN = f"SELECT {R} FROM {{runs}} r WHERE r.run_id = %(run_id)s::text"

LOAD_EXECUTION = f"""
SELECT {R}, {EVENTS_OF_R} AS events
FROM {{runs}} r WHERE r.run_id = %(run_id)s::text"""

READ_EVENTS = f"""
SELECT {EVENT_LIST} AS events
FROM {{events}} e WHERE e.run_id = %(run_id)s::text AND e.event_index >= %(from_index)s::bigint"""

APPLY_TRANSITION = f"""
UPDATE {{runs}} AS r SET {TRANSITION_SET}
WHERE r.run_id = %(run_id)s::text RETURNING r.run_id"""

# The CAS append: the UPDATE matches only at the expected index (and takes the run's row
# lock, so concurrent appends serialize and the loser re-checks and matches nothing); the
# events are inserted only from the UPDATE's result.
_APPEND = """
WITH r AS (
    UPDATE {{runs}} AS r SET next_index = r.next_index + %(count)s::integer, {set}
    WHERE r.run_id = %(run_id)s::text AND r.next_index = %(expected)s::bigint
    RETURNING r.run_id, r.next_index
), ins AS (
    INSERT INTO {{events}} (run_id, event_index, event_type, step_id, event, created_at)
    SELECT r.run_id, %(expected)s::bigint + t.ord - 1, t.e ->> 'type', t.e ->> 'stepId', t.e,
        %(now)s::bigint
    FROM r, json_array_elements(%(events)s::json) WITH ORDINALITY AS t(e, ord)
)
SELECT r.next_index FROM r"""
APPEND_EVENTS = _APPEND.format(set="updated_at = %(now)s::bigint")
APPEND_EVENTS_WITH_TRANSITION = _APPEND.format(set=TRANSITION_SET)

# The same for exactly one event, the common case (a step's result): its type and stepId
# come as parameters, so the server splits no JSON array. Used by every W1 step.
_APPEND_ONE = """
WITH r AS (
    UPDATE {{runs}} AS r SET next_index = r.next_index + 1, {set}
    WHERE r.run_id = %(run_id)s::text AND r.next_index = %(expected)s::bigint
    RETURNING r.run_id, r.next_index
), ins AS (
    INSERT INTO {{events}} (run_id, event_index, event_type, step_id, event, created_at)
    SELECT r.run_id, %(expected)s::bigint, %(event_type)s::text, %(step_id)s::text,
        %(event)s::json, %(now)s::bigint
    FROM r
)
SELECT r.next_index FROM r"""
APPEND_EVENT = _APPEND_ONE.format(set="updated_at = %(now)s::bigint")
APPEND_EVENT_WITH_TRANSITION = _APPEND_ONE.format(set=TRANSITION_SET)

NEXT_INDEX = "SELECT r.next_index FROM {runs} r WHERE r.run_id = %(run_id)s::text"

# Blocking (not SKIP LOCKED): the caller names one run and wants the true answer, and every
# other writer holds the row for one autocommit statement only.
CLAIM_RUN = f"""
WITH c AS (
    UPDATE {{runs}} AS r SET lease_owner = %(lease_owner)s::text,
        lease_expires_at = %(lease_expires_at)s::bigint
    WHERE r.run_id = %(run_id)s::text AND r.status NOT IN {TERMINAL}
        AND ({LEASE_FREE} OR r.lease_owner = %(lease_owner)s::text)
    RETURNING {R}
)
SELECT 'claimed' AS kind, {R},
    CASE WHEN %(with_events)s::boolean THEN {EVENTS_OF_R} END AS events
FROM c r
UNION ALL
SELECT 'not-claimable', {R}, NULL FROM {{runs}} r
WHERE r.run_id = %(run_id)s::text AND NOT EXISTS (SELECT FROM c)"""

HEARTBEAT = f"""
UPDATE {{runs}} AS r SET lease_expires_at = %(lease_expires_at)s::bigint
WHERE r.run_id = %(run_id)s::text AND r.lease_owner = %(lease_owner)s::text
    AND r.status NOT IN {TERMINAL}
RETURNING r.run_id"""

RELEASE = """
UPDATE {runs} AS r SET lease_owner = NULL, lease_expires_at = NULL
WHERE r.run_id = %(run_id)s::text AND r.lease_owner = %(lease_owner)s::text"""

_CLAIM_BATCH = """
WITH c AS (
    SELECT r.run_id FROM {{runs}} r
    WHERE {where} AND {lease_free}
    ORDER BY {order}
    LIMIT %(limit)s::bigint
    FOR UPDATE SKIP LOCKED
)
UPDATE {{runs}} AS r SET lease_owner = %(lease_owner)s::text,
    lease_expires_at = %(lease_expires_at)s::bigint
FROM c WHERE r.run_id = c.run_id
RETURNING {columns}"""

CLAIM_STALE_RUNS = _CLAIM_BATCH.format(
    where="r.status = 'running'", lease_free=LEASE_FREE, order="r.updated_at, r.run_id", columns=R
)

CLAIM_DUE_TIMERS = _CLAIM_BATCH.format(
    where="r.status = 'paused' AND r.wake_at IS NOT NULL AND r.wake_at <= %(now)s::bigint",
    lease_free=LEASE_FREE,
    order="r.wake_at, r.run_id",
    columns="r.run_id, r.workflow_id, r.workflow_version, r.wake_at, r.wake_kind, r.wake_step_id",
)

CLAIM_DUE_TIMERS_WITH_EVENTS = _CLAIM_BATCH.format(
    where="r.status = 'paused' AND r.wake_at IS NOT NULL AND r.wake_at <= %(now)s::bigint",
    lease_free=LEASE_FREE,
    order="r.wake_at, r.run_id",
    columns=f"{R}, {EVENTS_OF_R} AS events",
)

SCHEDULE_TIMER = """
UPDATE {runs} AS r SET wake_at = %(wake_at)s::bigint, wake_kind = %(wake_kind)s::text,
    wake_step_id = %(wake_step_id)s::text, updated_at = %(now)s::bigint
WHERE r.run_id = %(run_id)s::text RETURNING r.run_id"""

# Deliveries. ``seen`` reads the run as of the statement's snapshot; ``locked`` waits for the
# row lock and sees the latest version. When their next_index differ another writer committed
# in between, and the duplicate check (which reads the log through the snapshot) may have
# missed that writer's events: the statement then delivers nothing and reports "stale", and
# the caller runs it again with a fresh snapshot (see _store._deliver). The event's stepId
# comes from the pending wait, so it is spliced in front of the event's JSON text.
_DELIVER = f"""
WITH seen AS (
    SELECT r.next_index FROM {{{{runs}}}} r WHERE r.run_id = %(run_id)s::text
), locked AS (
    SELECT {R}, {{prior}} AS prior
    FROM {{{{runs}}}} r WHERE r.run_id = %(run_id)s::text FOR UPDATE
), upd AS (
    UPDATE {{{{runs}}}} AS r SET {RESUME_SET}
    FROM locked l
    WHERE r.run_id = l.run_id AND l.next_index = (SELECT next_index FROM seen)
        AND {{deliverable}}
    RETURNING {R}, {{step_id}} AS event_step_id
), ins AS (
    INSERT INTO {{{{events}}}} (run_id, event_index, event_type, step_id, event, created_at)
    SELECT u.run_id, u.next_index - 1, %(event_type)s::text, u.event_step_id,
        (left(json_build_object('stepId', u.event_step_id)::text, -1) || ','
            || substr(%(event)s::text, 2))::json,
        %(now)s::bigint
    FROM upd u
)
SELECT 'delivered' AS kind, false AS stale, {_cols("u")} FROM upd u
UNION ALL
SELECT {{outcome}}, l.next_index IS DISTINCT FROM (SELECT next_index FROM seen), {_cols("l")}
FROM locked l WHERE NOT EXISTS (SELECT FROM upd)"""

DELIVER_SIGNAL = _DELIVER.format(
    prior="""EXISTS (
        SELECT FROM {events} e WHERE e.run_id = r.run_id AND e.event_type = 'SIGNAL_RESOLVED'
            AND (e.event ->> 'signalId') IS NOT DISTINCT FROM %(signal_id)s::text
            AND e.event ->> 'name' = %(name)s::text)""",
    deliverable="""NOT l.prior AND l.status = 'paused' AND l.waiting_for IS NOT NULL
        AND l.waiting_for ->> 'signalName' = %(name)s::text
        AND (%(step_id)s::text IS NULL OR l.waiting_for ->> 'stepId' = %(step_id)s::text)""",
    step_id="coalesce(l.waiting_for ->> 'stepId', '__resolve-' || %(name)s::text)",
    outcome="CASE WHEN l.prior THEN 'duplicate' ELSE 'not-waiting' END",
)

# The first recorded decision for this approval id: the same decision again is a duplicate,
# a different one loses.
DELIVER_APPROVAL = _DELIVER.format(
    prior="""(
        SELECT e.event FROM {events} e WHERE e.run_id = r.run_id
            AND e.event_type = 'APPROVAL_RESOLVED'
            AND e.event ->> 'approvalId' = %(approval_id)s::text
        ORDER BY e.event_index LIMIT 1)""",
    deliverable="""l.prior IS NULL AND l.status = 'paused' AND l.pending_approval IS NOT NULL
        AND l.pending_approval ->> 'approvalId' = %(approval_id)s::text""",
    step_id="coalesce(l.pending_approval ->> 'stepId', '__resolve-approval')",
    outcome="""CASE WHEN l.prior IS NOT NULL
            AND (l.prior ->> 'approved')::boolean = %(approved)s::boolean
            AND (l.prior ->> 'feedback') IS NOT DISTINCT FROM %(feedback)s::text
        THEN 'duplicate' ELSE 'not-waiting' END""",
)

CANCEL_RUN = f"""
WITH upd AS (
    UPDATE {{runs}} AS r SET status = 'aborted', awaiting = NULL, waiting_for = NULL,
        pending_approval = NULL, wake_at = NULL, wake_kind = NULL, wake_step_id = NULL,
        error = %(error)s::json, error_code = %(code)s::text,
        lease_owner = NULL, lease_expires_at = NULL,
        next_index = r.next_index + 1, updated_at = %(now)s::bigint
    WHERE r.run_id = %(run_id)s::text AND r.status NOT IN {TERMINAL}
    RETURNING {R}
), ins AS (
    INSERT INTO {{events}} (run_id, event_index, event_type, step_id, event, created_at)
    SELECT u.run_id, u.next_index - 1, 'RUN_ERRORED', NULL, %(event)s::json, %(now)s::bigint
    FROM upd u
)
SELECT 'cancelled' AS kind, {_cols("u")} FROM upd u
UNION ALL
SELECT 'already-terminal', {R} FROM {{runs}} r
WHERE r.run_id = %(run_id)s::text AND NOT EXISTS (SELECT FROM upd)"""

SCHEDULE_COLUMNS = (
    "schedule_id, workflow_id, workflow_version, spec, overlap_policy, input, next_fire_at, "
    "next_bucket_id, enabled, last_run_id, updated_at"
)

UPSERT_SCHEDULE = """
INSERT INTO {schedules} AS s (schedule_id, workflow_id, workflow_version, spec, overlap_policy,
    input, next_fire_at, next_bucket_id, enabled, last_run_id, updated_at)
VALUES (%(schedule_id)s::text, %(workflow_id)s::text, %(workflow_version)s::text, %(spec)s::json,
    %(overlap_policy)s::text, %(input)s::json, %(next_fire_at)s::bigint,
    %(next_bucket_id)s::text, %(enabled)s::boolean, NULL, %(now)s::bigint)
ON CONFLICT (schedule_id) DO UPDATE SET workflow_id = excluded.workflow_id,
    workflow_version = excluded.workflow_version, spec = excluded.spec,
    overlap_policy = excluded.overlap_policy, input = excluded.input,
    next_fire_at = excluded.next_fire_at, next_bucket_id = excluded.next_bucket_id,
    enabled = excluded.enabled, updated_at = excluded.updated_at"""

LIST_SCHEDULES = f"SELECT {SCHEDULE_COLUMNS} FROM {{schedules}} ORDER BY schedule_id"

# A due schedule is handed out unless its current bucket was started or is leased to someone
# else. The schedule row is locked (SKIP LOCKED), and the bucket upsert re-checks the lease on
# the latest bucket row, so a bucket goes to one claimer per lease window.
_BUCKET_CLAIMABLE = """{b}.status <> 'started' AND ({b}.lease_owner IS NOT DISTINCT FROM
    %(lease_owner)s::text OR {b}.lease_expires_at <= %(now)s::bigint)"""

CLAIM_DUE_SCHEDULE_BUCKETS = f"""
WITH due AS (
    SELECT s.schedule_id, s.next_bucket_id AS bucket_id, s.workflow_id, s.workflow_version,
        s.next_fire_at AS fire_at, s.input, s.overlap_policy, s.last_run_id AS previous_run_id
    FROM {{schedules}} s
    LEFT JOIN {{buckets}} b ON b.schedule_id = s.schedule_id AND b.bucket_id = s.next_bucket_id
    WHERE s.enabled AND s.next_fire_at IS NOT NULL AND s.next_bucket_id IS NOT NULL
        AND s.next_fire_at <= %(now)s::bigint
        AND (b.schedule_id IS NULL OR ({_BUCKET_CLAIMABLE.format(b="b")}))
    ORDER BY s.next_fire_at, s.schedule_id
    LIMIT %(limit)s::bigint
    FOR UPDATE OF s SKIP LOCKED
), up AS (
    INSERT INTO {{buckets}} AS b (schedule_id, bucket_id, status, run_id, lease_owner,
        lease_expires_at)
    SELECT d.schedule_id, d.bucket_id, 'claimed', NULL, %(lease_owner)s::text,
        %(lease_expires_at)s::bigint
    FROM due d
    ON CONFLICT (schedule_id, bucket_id) DO UPDATE SET status = 'claimed',
        lease_owner = excluded.lease_owner, lease_expires_at = excluded.lease_expires_at
    WHERE {_BUCKET_CLAIMABLE.format(b="b")}
    RETURNING b.schedule_id, b.bucket_id
)
SELECT d.* FROM due d JOIN up USING (schedule_id, bucket_id)"""

MARK_SCHEDULE_BUCKET_STARTED = """
WITH b AS (
    INSERT INTO {buckets} AS b (schedule_id, bucket_id, status, run_id, lease_owner,
        lease_expires_at)
    VALUES (%(schedule_id)s::text, %(bucket_id)s::text, 'started', %(run_id)s::text, NULL, 0)
    ON CONFLICT (schedule_id, bucket_id) DO UPDATE SET status = 'started',
        run_id = excluded.run_id, lease_owner = NULL, lease_expires_at = 0
)
UPDATE {schedules} AS s SET last_run_id = %(run_id)s::text, updated_at = %(now)s::bigint
WHERE s.schedule_id = %(schedule_id)s::text"""

SUMMARY_COLUMNS = (
    "r.run_id, r.workflow_id, r.workflow_version, r.status, r.awaiting, r.wake_at, "
    "r.error_code, r.created_at, r.updated_at"
)


def list_runs_statement(*, by_workflow: bool, by_status: bool, after: bool) -> str:
    """One statement text per filter combination, so each gets a plan that uses its index."""
    where = []
    if by_workflow:
        where.append("r.workflow_id = %(workflow_id)s::text")
    if by_status:
        where.append("r.status = %(status)s::text")
    if after:
        where.append(
            "(r.created_at, r.run_id) < (%(after_created_at)s::bigint, %(after_run_id)s::text)"
        )
    condition = f"WHERE {' AND '.join(where)}" if where else ""
    return f"""
SELECT {SUMMARY_COLUMNS} FROM {{runs}} r {condition}
ORDER BY r.created_at DESC, r.run_id DESC
LIMIT %(limit)s::bigint"""


SAVE_RUN_STATE = f"""
INSERT INTO {{runs}} AS r ({", ".join(RUN_COLUMNS)})
VALUES (%(run_id)s::text, %(workflow_id)s::text, %(workflow_version)s::text, %(t_status)s::text,
    %(input)s::json, %(output)s::json, %(error)s::json, %(error_code)s::text,
    %(t_awaiting)s::json, %(t_waiting_for)s::json, %(t_pending_approval)s::json,
    %(t_wake_at)s::bigint, %(t_wake_kind)s::text, %(t_wake_step_id)s::text, NULL, NULL,
    coalesce((SELECT max(e.event_index) + 1 FROM {{events}} e WHERE e.run_id = %(run_id)s::text), 0),
    %(created_at)s::bigint, %(now)s::bigint)
ON CONFLICT (run_id) DO UPDATE SET input = excluded.input, {TRANSITION_SET}"""

DELETE_RUN = """
WITH e AS (DELETE FROM {events} e WHERE e.run_id = %(run_id)s::text)
DELETE FROM {runs} r WHERE r.run_id = %(run_id)s::text"""

# Oldest-created ended runs first, one backward scan of the (status, created_at) index per
# terminal status, so a batch costs O(limit) however large the table; rows are then locked
# (SKIP LOCKED) with their status re-checked, so a log is deleted only with its run.
_ENDED = """(SELECT r.run_id, r.created_at FROM {{runs}} r
        WHERE r.status = '{status}' AND r.updated_at <= %(cutoff)s::bigint
        ORDER BY r.created_at, r.run_id LIMIT %(limit)s::bigint)"""
DELETE_TERMINAL_RUNS = f"""
WITH candidates AS (
    SELECT c.run_id FROM (
        {_ENDED.format(status="finished")}
        UNION ALL {_ENDED.format(status="errored")}
        UNION ALL {_ENDED.format(status="aborted")}
    ) c
    ORDER BY c.created_at, c.run_id
    LIMIT %(limit)s::bigint
), doomed AS (
    SELECT r.run_id FROM {{runs}} r
    WHERE r.run_id IN (SELECT run_id FROM candidates) AND r.status IN {TERMINAL}
    FOR UPDATE SKIP LOCKED
), e AS (
    DELETE FROM {{events}} e USING doomed d WHERE e.run_id = d.run_id
)
DELETE FROM {{runs}} r USING doomed d WHERE r.run_id = d.run_id RETURNING r.run_id"""


@dataclass(frozen=True)
class Statements:
    """The store's statements with its schema and table names filled in."""

    create_run: str
    load_run: str
    load_execution: str
    read_events: str
    apply_transition: str
    append_events: str
    append_events_with_transition: str
    append_event: str
    append_event_with_transition: str
    next_index: str
    claim_run: str
    heartbeat: str
    release: str
    claim_stale_runs: str
    claim_due_timers: str
    claim_due_timers_with_events: str
    schedule_timer: str
    deliver_signal: str
    deliver_approval: str
    cancel_run: str
    upsert_schedule: str
    list_schedules: str
    claim_due_schedule_buckets: str
    mark_schedule_bucket_started: str
    list_runs: dict[tuple[bool, bool, bool], str]
    save_run_state: str
    delete_run: str
    delete_terminal_runs: str

    @classmethod
    def render(cls, schema: str, tables: PostgresWorkflowStoreTables) -> Statements:
        """Fill in quoted, schema-qualified table names."""
        names = {
            "runs": quote(schema, tables.runs),
            "events": quote(schema, tables.events),
            "schedules": quote(schema, tables.schedules),
            "buckets": quote(schema, tables.schedule_buckets),
        }

        def fill(template: str) -> str:
            return template.format(**names).strip()

        flags = [(w, s, a) for w in (False, True) for s in (False, True) for a in (False, True)]
        return cls(
            create_run=fill(CREATE_RUN),
            load_run=fill(LOAD_RUN),
            load_execution=fill(LOAD_EXECUTION),
            read_events=fill(READ_EVENTS),
            apply_transition=fill(APPLY_TRANSITION),
            append_events=fill(APPEND_EVENTS),
            append_events_with_transition=fill(APPEND_EVENTS_WITH_TRANSITION),
            append_event=fill(APPEND_EVENT),
            append_event_with_transition=fill(APPEND_EVENT_WITH_TRANSITION),
            next_index=fill(NEXT_INDEX),
            claim_run=fill(CLAIM_RUN),
            heartbeat=fill(HEARTBEAT),
            release=fill(RELEASE),
            claim_stale_runs=fill(CLAIM_STALE_RUNS),
            claim_due_timers=fill(CLAIM_DUE_TIMERS),
            claim_due_timers_with_events=fill(CLAIM_DUE_TIMERS_WITH_EVENTS),
            schedule_timer=fill(SCHEDULE_TIMER),
            deliver_signal=fill(DELIVER_SIGNAL),
            deliver_approval=fill(DELIVER_APPROVAL),
            cancel_run=fill(CANCEL_RUN),
            upsert_schedule=fill(UPSERT_SCHEDULE),
            list_schedules=fill(LIST_SCHEDULES),
            claim_due_schedule_buckets=fill(CLAIM_DUE_SCHEDULE_BUCKETS),
            mark_schedule_bucket_started=fill(MARK_SCHEDULE_BUCKET_STARTED),
            list_runs={
                (w, s, a): fill(list_runs_statement(by_workflow=w, by_status=s, after=a))
                for w, s, a in flags
            },
            save_run_state=fill(SAVE_RUN_STATE),
            delete_run=fill(DELETE_RUN),
            delete_terminal_runs=fill(DELETE_TERMINAL_RUNS),
        )
