-- tanstack-workflow D1 execution store, schema version 1.
-- Released migrations never change; later changes go in new numbered files.
-- JSON values are TEXT, timestamps are INTEGER epoch milliseconds, booleans 0/1.

CREATE TABLE IF NOT EXISTS "workflow_runs" (
  "run_id" TEXT PRIMARY KEY NOT NULL,
  "workflow_id" TEXT NOT NULL,
  "workflow_version" TEXT,
  "status" TEXT NOT NULL,
  "input" TEXT,
  "output" TEXT,
  "error" TEXT,
  "error_code" TEXT,
  "awaiting" TEXT,
  "waiting_for" TEXT,
  "pending_approval" TEXT,
  "wake_at" INTEGER,
  "wake_kind" TEXT,
  "wake_step_id" TEXT,
  "lease_owner" TEXT,
  "lease_expires_at" INTEGER,
  "next_index" INTEGER NOT NULL DEFAULT 0,
  "created_at" INTEGER NOT NULL,
  "updated_at" INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS "workflow_runs__due_timers"
  ON "workflow_runs" ("wake_at", "run_id") WHERE "status" = 'paused' AND "wake_at" IS NOT NULL;

CREATE INDEX IF NOT EXISTS "workflow_runs__stale"
  ON "workflow_runs" ("updated_at", "run_id") WHERE "status" = 'running';

CREATE INDEX IF NOT EXISTS "workflow_runs__created"
  ON "workflow_runs" ("created_at", "run_id");

CREATE INDEX IF NOT EXISTS "workflow_runs__workflow_created"
  ON "workflow_runs" ("workflow_id", "created_at", "run_id");

CREATE INDEX IF NOT EXISTS "workflow_runs__status_created"
  ON "workflow_runs" ("status", "created_at", "run_id");

CREATE TABLE IF NOT EXISTS "workflow_events" (
  "run_id" TEXT NOT NULL,
  "event_index" INTEGER NOT NULL,
  "event_type" TEXT NOT NULL,
  "step_id" TEXT,
  "event" TEXT NOT NULL,
  "created_at" INTEGER NOT NULL,
  PRIMARY KEY ("run_id", "event_index")
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS "workflow_schedules" (
  "schedule_id" TEXT PRIMARY KEY NOT NULL,
  "workflow_id" TEXT NOT NULL,
  "workflow_version" TEXT,
  "spec" TEXT NOT NULL,
  "overlap_policy" TEXT NOT NULL,
  "input" TEXT,
  "next_fire_at" INTEGER,
  "next_bucket_id" TEXT,
  "enabled" INTEGER NOT NULL,
  "last_run_id" TEXT,
  "updated_at" INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS "workflow_schedules__due"
  ON "workflow_schedules" ("next_fire_at", "schedule_id") WHERE "enabled" = 1;

-- One row per claimed or started firing; the claim snapshots what it hands out.
CREATE TABLE IF NOT EXISTS "workflow_schedule_buckets" (
  "schedule_id" TEXT NOT NULL,
  "bucket_id" TEXT NOT NULL,
  "status" TEXT NOT NULL,
  "run_id" TEXT,
  "workflow_id" TEXT,
  "workflow_version" TEXT,
  "fire_at" INTEGER,
  "input" TEXT,
  "overlap_policy" TEXT,
  "previous_run_id" TEXT,
  "lease_owner" TEXT,
  "lease_expires_at" INTEGER,
  PRIMARY KEY ("schedule_id", "bucket_id")
) WITHOUT ROWID;
