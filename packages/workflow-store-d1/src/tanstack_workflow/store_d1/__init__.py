"""tanstack-workflow on Cloudflare D1: the execution store and its three D1 bindings.

``create_cloudflare_d1_workflow_store(db=...)`` takes any D1 binding:
``WorkersD1Database(env.DB)`` inside a Python Worker, ``D1HttpDatabase(...)`` from
any other host, or ``local_d1_database(path)`` — a SQLite file with D1's rules,
the project's embedded durable default.
"""

from .__about__ import __version__
from ._binding import (
    MAX_BOUND_PARAMETERS,
    D1Database,
    D1Error,
    D1PreparedStatement,
    D1Result,
)
from ._http import D1HttpDatabase
from ._local import LocalD1Database, local_d1_database
from ._schema import (
    D1StoreTables,
    get_cloudflare_d1_workflow_store_migration_sql,
    get_cloudflare_d1_workflow_store_migrations,
)
from ._store import CloudflareD1WorkflowStore, create_cloudflare_d1_workflow_store
from ._workers import WorkersD1Database

__all__ = [
    "MAX_BOUND_PARAMETERS",
    "CloudflareD1WorkflowStore",
    "D1Database",
    "D1Error",
    "D1HttpDatabase",
    "D1PreparedStatement",
    "D1Result",
    "D1StoreTables",
    "LocalD1Database",
    "WorkersD1Database",
    "__version__",
    "create_cloudflare_d1_workflow_store",
    "get_cloudflare_d1_workflow_store_migration_sql",
    "get_cloudflare_d1_workflow_store_migrations",
    "local_d1_database",
]
