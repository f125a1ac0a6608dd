from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    """migrate_once and its record; no pages, no admin."""

    name = "cloudsite.runtime.deployments"
    label = "cloudsite_deployments"
    verbose_name = "cloudsite deployments"
    # Fixed here, so the project's DEFAULT_AUTO_FIELD never asks for a new migration.
    default_auto_field = "django.db.models.BigAutoField"
