"""Teach moto's Secrets Manager what AWS does when a rotation moves the AWSCURRENT label
(UpdateSecretVersionStage): the version it moves to is the one GetSecretValue returns from
then on. moto moves the label but keeps returning the version that was current before.

Import this module before the server answers (tests/integration/conftest.py does).
"""

from typing import Any

from moto.secretsmanager.models import SecretsManagerBackend


def _update_secret_version_stage(
    self: Any,
    secret_id: str,
    version_stage: str,
    remove_from_version_id: str,
    move_to_version_id: str,
) -> tuple[str, str]:
    answer = _original(self, secret_id, version_stage, remove_from_version_id, move_to_version_id)
    if version_stage == "AWSCURRENT" and move_to_version_id:
        secret = self.secrets[secret_id]
        secret.default_version_id = move_to_version_id
    return answer


_original = SecretsManagerBackend.update_secret_version_stage
SecretsManagerBackend.update_secret_version_stage = _update_secret_version_stage  # type: ignore[method-assign]
