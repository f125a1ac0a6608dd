"""Apply migrations once per deployment, however many instances run this at the same moment.

Every instance's AfterInstall hook runs it (docs/deploy.md), through `bin/start migrate`. On
PostgreSQL the instances queue on one advisory lock; the first migrates and records the
deployment, the others find the record and skip. On SQLite each container has its own
database, so there is nothing to coordinate and it simply migrates.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def log(message: str, **fields: object) -> None:
    """A JSON line on stdout whatever the project's LOGGING says (the hook's log shows it)."""
    from cloudsite.runtime.front import log_event

    log_event(message, logger="cloudsite.deployments", fields=fields)


# Any fixed 64-bit number works, as long as nothing else in the database uses it.
MIGRATION_LOCK = 0x636C6F7564736974  # "cloudsit"
# A deployment waits this long for another instance's migrations before it gives up.
LOCK_TIMEOUT_SECONDS = 600


class Command(BaseCommand):
    help = "Apply migrations once for this deployment (PostgreSQL advisory lock)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--deployment-id",
            default=os.environ.get("CLOUDSITE_DEPLOYMENT_ID", ""),
            help="the deployment whose migrations run once (default: $CLOUDSITE_DEPLOYMENT_ID)",
        )

    def handle(self, *args: Any, deployment_id: str, **options: Any) -> None:
        with migration_lock():
            if deployment_id and already_migrated(deployment_id=deployment_id):
                log(
                    "migrations skipped: this deployment already ran them",
                    deployment_id=deployment_id,
                    outcome="skipped",
                )
                return
            applied = pending_migrations()
            call_command("migrate", interactive=False, verbosity=0)
            if deployment_id:
                from cloudsite.runtime.deployments.models import DeploymentMigration

                DeploymentMigration._default_manager.create(
                    deployment_id=deployment_id, applied=applied
                )
        log("migrations applied", deployment_id=deployment_id, outcome="migrated", applied=applied)


@contextmanager
def migration_lock() -> Iterator[None]:
    """Hold PostgreSQL's session-level advisory lock for the block (a no-op elsewhere)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SET lock_timeout = '{LOCK_TIMEOUT_SECONDS}s'")
        cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK])


def already_migrated(*, deployment_id: str) -> bool:
    from cloudsite.runtime.deployments.models import DeploymentMigration

    if DeploymentMigration._meta.db_table not in connection.introspection.table_names():
        return False
    return DeploymentMigration._default_manager.filter(deployment_id=deployment_id).exists()


def pending_migrations() -> list[str]:
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]
