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


class ScheduledRun(models.Model):
    """One row per [schedule] entry per scheduled time: every instance is sent the run, and
    the one whose insert succeeds runs it (`manage.py cloudsite_scheduled`)."""

    name = models.CharField(max_length=64)
    scheduled_at = models.CharField(max_length=40, help_text="EventBridge's scheduled time")
    instance = models.CharField(max_length=128, blank=True)
    command = models.JSONField(default=list, help_text="the words it ran")
    status = models.CharField(max_length=16, default="running")  # running ok failed skipped
    exit_code = models.IntegerField(null=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True)

    class Meta:
        db_table = "cloudsite_scheduled_run"
        constraints = (
            models.UniqueConstraint(fields=["name", "scheduled_at"], name="cloudsite_run_once"),
        )

    def __str__(self) -> str:
        return f"{self.name} at {self.scheduled_at}: {self.status}"
