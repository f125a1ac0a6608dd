"""The CodeDeploy stand-in is product code now (`cloudsite local` deploys with it): the tests
use cloudsite.local.codedeploy, under its old name here."""

from cloudsite.local.codedeploy import (
    LIFECYCLE,
    SCRIPT_EVENTS,
    Deployment,
    DeploymentGroup,
    Hook,
    HookFailed,
    Instance,
    appspec_hooks,
    new_deployment_id,
    write_env_file,
)

__all__ = [
    "LIFECYCLE", "SCRIPT_EVENTS", "Deployment", "DeploymentGroup", "Hook", "HookFailed",
    "Instance", "appspec_hooks", "new_deployment_id", "write_env_file",
]  # fmt: skip
