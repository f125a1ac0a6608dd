"""What each deployment did to the database, written by `manage.py migrate_once`."""

from django.db import models


class DeploymentMigration(models.Model):
    """One row per deployment that ran migrations: the proof that they ran once."""

    deployment_id = models.CharField(max_length=64, unique=True)
    applied = models.JSONField(default=list, help_text="app.migration names applied")
    finished_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "cloudsite_deployment_migration"

    def __str__(self) -> str:
        return f"{self.deployment_id}: {len(self.applied)} migration(s)"
