from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cloudsite_deployments", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="ScheduledRun",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=64)),
                (
                    "scheduled_at",
                    models.CharField(help_text="EventBridge's scheduled time", max_length=40),
                ),
                ("instance", models.CharField(blank=True, max_length=128)),
                ("command", models.JSONField(default=list, help_text="the words it ran")),
                ("status", models.CharField(default="running", max_length=16)),
                ("exit_code", models.IntegerField(null=True)),
                ("started_at", models.DateTimeField(auto_now_add=True)),
                ("finished_at", models.DateTimeField(null=True)),
            ],
            options={
                "db_table": "cloudsite_scheduled_run",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("name", "scheduled_at"), name="cloudsite_run_once"
                    )
                ],
            },
        ),
    ]
