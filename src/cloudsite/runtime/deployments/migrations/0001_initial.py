from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel(
            name="DeploymentMigration",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("deployment_id", models.CharField(max_length=64, unique=True)),
                (
                    "applied",
                    models.JSONField(default=list, help_text="app.migration names applied"),
                ),
                ("finished_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"db_table": "cloudsite_deployment_migration"},
        ),
    ]
