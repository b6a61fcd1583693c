"""tanstack-workflow Postgres execution store (psycopg 3, async).

::

    store = create_postgres_workflow_store(os.environ["DATABASE_URL"])
    runtime = define_workflow_runtime(workflows=[...], store=store)

Apply the package's migrations before the first use
(``python -m tanstack_workflow.store_postgres migrate``); a store pointed at an
unmigrated database raises ``StoreSchemaError``.
"""

from .__about__ import __version__
from ._migrations import (
    PostgresMigration,
    get_postgres_workflow_store_migration_sql,
    get_postgres_workflow_store_migrations,
)
from ._store import PostgresWorkflowExecutionStore, create_postgres_workflow_store
from ._tables import PostgresWorkflowStoreTables, default_postgres_workflow_store_tables

__all__ = [
    "PostgresMigration",
    "PostgresWorkflowExecutionStore",
    "PostgresWorkflowStoreTables",
    "__version__",
    "create_postgres_workflow_store",
    "default_postgres_workflow_store_tables",
    "get_postgres_workflow_store_migration_sql",
    "get_postgres_workflow_store_migrations",
]
