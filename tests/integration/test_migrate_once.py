"""manage.py migrate_once: what each instance's AfterInstall hook runs (site/ops)."""

import json
import logging

import pytest
from django.core.management import call_command
from ops.models import DeploymentMigration

pytestmark = pytest.mark.django_db(transaction=True)


def _outcomes(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.outcome for r in caplog.records if r.name == "cloudsite.ops"]  # type: ignore[attr-defined]


def test_a_deployment_migrates_once_and_records_it_then_skips(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="cloudsite.ops")
    call_command("migrate_once", deployment_id="d-ONCE00001")
    call_command("migrate_once", deployment_id="d-ONCE00001")
    call_command("migrate_once", deployment_id="d-NEXT00002")
    assert _outcomes(caplog) == ["migrated", "skipped", "migrated"]
    recorded = list(DeploymentMigration.objects.values_list("deployment_id", flat=True))
    assert sorted(recorded) == ["d-NEXT00002", "d-ONCE00001"]


def test_without_a_deployment_id_it_migrates_and_records_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="cloudsite.ops")
    call_command("migrate_once", deployment_id="")
    assert _outcomes(caplog) == ["migrated"]
    assert not DeploymentMigration.objects.exists()
    assert json.dumps(caplog.records[-1].applied) == "[]"  # type: ignore[attr-defined]
