-- tanstack-workflow Postgres execution store, migration 0000: the initial schema.
--
-- Released migrations never change (see migrations/README.md at the repository root).
-- Apply with:
--   psql "$DATABASE_URL" -f "$(python -m tanstack_workflow.store_postgres migration-path)"
-- or
--   python -m tanstack_workflow.store_postgres migrate --database-url "$DATABASE_URL"
--
-- Every statement is idempotent, so applying this file twice is harmless. Table and index
-- names below are the defaults; `get_postgres_workflow_store_migration_sql(schema=...,
-- tables=...)` renders the same file for another schema or other table names.
--
-- Times are epoch milliseconds (bigint). JSON columns are `json`, not `jsonb`: the store
-- hands values back exactly as written (jsonb would turn 1e+16 into an integer and
-- reorder object keys), and nothing queries inside them except the event lookups below.
-- Ids use the "C" collation so ordering matches Python string ordering.

BEGIN;

CREATE TABLE IF NOT EXISTS public.workflow_schema_migrations (
  id text COLLATE "C" PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now()
);

-- One row per run. fillfactor leaves room on each page so that appends, which only touch
-- next_index and updated_at (no indexed column), are HOT updates.
CREATE TABLE IF NOT EXISTS public.workflow_runs (
  run_id text COLLATE "C" PRIMARY KEY,
  workflow_id text COLLATE "C" NOT NULL,
  workflow_version text,
  status text COLLATE "C" NOT NULL
    CHECK (status IN ('running', 'paused', 'finished', 'errored', 'aborted')),
  input json,
  output json,
  error json,
  error_code text,
  awaiting json,
  waiting_for json,
  pending_approval json,
  wake_at bigint,
  wake_kind text CHECK (wake_kind IN ('timer', 'deadline')),
  wake_step_id text,
  lease_owner text,
  lease_expires_at bigint,
  next_index integer NOT NULL DEFAULT 0 CHECK (next_index >= 0),
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL
) WITH (fillfactor = 80);

-- claim_due_timers: paused runs by wake time.
CREATE INDEX IF NOT EXISTS workflow_runs_due_timers_idx
  ON public.workflow_runs (wake_at, run_id)
  WHERE status = 'paused' AND wake_at IS NOT NULL;

-- claim_stale_runs: the (few) running runs. Keyed on run_id, which never changes, so
-- claims and heartbeats stay HOT updates.
CREATE INDEX IF NOT EXISTS workflow_runs_running_idx
  ON public.workflow_runs (run_id)
  WHERE status = 'running';

-- list_runs keyset pagination, unfiltered and by workflow or status.
CREATE INDEX IF NOT EXISTS workflow_runs_created_idx
  ON public.workflow_runs (created_at DESC, run_id DESC);
CREATE INDEX IF NOT EXISTS workflow_runs_workflow_created_idx
  ON public.workflow_runs (workflow_id, created_at DESC, run_id DESC);
CREATE INDEX IF NOT EXISTS workflow_runs_status_created_idx
  ON public.workflow_runs (status, created_at DESC, run_id DESC);

-- The append-only log. (run_id, event_index) is gapless: appends are a compare-and-swap
-- on workflow_runs.next_index in the same statement.
CREATE TABLE IF NOT EXISTS public.workflow_events (
  run_id text COLLATE "C" NOT NULL,
  event_index integer NOT NULL CHECK (event_index >= 0),
  event_type text NOT NULL,
  step_id text,
  event json NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (run_id, event_index)
);

-- Idempotent deliveries: has this run already resolved this signal / approval?
CREATE INDEX IF NOT EXISTS workflow_events_signal_idx
  ON public.workflow_events (run_id, (event ->> 'signalId'))
  WHERE event_type = 'SIGNAL_RESOLVED';
CREATE INDEX IF NOT EXISTS workflow_events_approval_idx
  ON public.workflow_events (run_id, (event ->> 'approvalId'))
  WHERE event_type = 'APPROVAL_RESOLVED';

CREATE TABLE IF NOT EXISTS public.workflow_schedules (
  schedule_id text COLLATE "C" PRIMARY KEY,
  workflow_id text NOT NULL,
  workflow_version text,
  spec json NOT NULL,
  overlap_policy text NOT NULL,
  input json,
  next_fire_at bigint,
  next_bucket_id text,
  enabled boolean NOT NULL,
  last_run_id text,
  updated_at bigint NOT NULL
);

-- claim_due_schedule_buckets: enabled schedules by next firing.
CREATE INDEX IF NOT EXISTS workflow_schedules_due_idx
  ON public.workflow_schedules (next_fire_at, schedule_id)
  WHERE enabled AND next_fire_at IS NOT NULL AND next_bucket_id IS NOT NULL;

-- One row per firing of a schedule; a started bucket is never handed out again.
CREATE TABLE IF NOT EXISTS public.workflow_schedule_buckets (
  schedule_id text COLLATE "C" NOT NULL,
  bucket_id text COLLATE "C" NOT NULL,
  status text NOT NULL CHECK (status IN ('claimed', 'started')),
  run_id text,
  lease_owner text,
  lease_expires_at bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (schedule_id, bucket_id)
);

INSERT INTO public.workflow_schema_migrations (id) VALUES ('0000_workflow_store')
  ON CONFLICT (id) DO NOTHING;

COMMIT;
