from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations commands for deployments (migrate_once); no pages, no admin."""

    name = "ops"
    verbose_name = "Operations"
