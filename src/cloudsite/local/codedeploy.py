"""A CodeDeploy stand-in: runs a deploy bundle's appspec hooks the way the agent does.

In-place deployment with traffic control (the template's configuration), one instance at a
time (CodeDeployDefault.OneAtATime). For each instance, in CodeDeploy's order:

    BlockTraffic  ApplicationStop  DownloadBundle  BeforeInstall  Install  AfterInstall
    ApplicationStart  ValidateService  AllowTraffic

- ApplicationStop runs from the instance's last successful revision (skipped when there is none).
- Every hook gets CodeDeploy's variables (LIFECYCLE_EVENT, DEPLOYMENT_ID, APPLICATION_NAME,
  DEPLOYMENT_GROUP_NAME, DEPLOYMENT_GROUP_ID), runs with the appspec's timeout, and its output
  goes to the instance's agent log under its deployment root, as the agent's does.
- A failed hook fails the deployment; the instances after it are not touched. With automatic
  rollback, a new deployment (new id) then redeploys the last successful revision to every
  instance, one at a time.

An "instance" is a directory (its deployment root, agent log and env file) plus a port and a
container name, so several share one engine. A deployment's instances are fixed when it
starts; `join` models an instance the Auto Scaling group launches (it receives the last
successful revision through the same hooks before it takes traffic), and `leave` one it
terminates on scale-in (drained from the load balancer first). As the template's
OutdatedInstancesStrategy (UPDATE) asks, an instance that joined while a deployment ran, and
so received the revision before it, is brought up to date by a follow-on deployment right
after. An observer sees every event, so a test can act mid-rollout (join an instance, stop a
container, ...).
"""

import secrets
import shlex
import shutil
import string
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from cloudsite.local.edge import Edge

SCRIPT_EVENTS = (
    "ApplicationStop",
    "BeforeInstall",
    "AfterInstall",
    "ApplicationStart",
    "ValidateService",
)
LIFECYCLE = (
    "BlockTraffic",
    "ApplicationStop",
    "DownloadBundle",
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "ApplicationStart",
    "ValidateService",
    "AllowTraffic",
)


@dataclass
class Instance:
    name: str
    root: Path
    port: int
    env_file: Path
    last_good: Path | None = None  # the archive of the last successful deployment here
    revision: Path | None = None  # the bundle of the last successful deployment here
    in_service: bool = False  # registered with the load balancer and taking traffic

    @property
    def agent_log(self) -> Path:
        logs = self.root / "deployment-root" / "deployment-logs"
        return logs / "codedeploy-agent-deployments.log"


class HookFailed(Exception):
    def __init__(self, instance: Instance, event: str, detail: str) -> None:
        super().__init__(f"{instance.name}: {event} failed: {detail}")
        self.instance, self.event, self.detail = instance, event, detail


@dataclass
class Deployment:
    id: str
    revision: Path
    status: str = "InProgress"  # Succeeded | Failed
    failure: HookFailed | None = None
    events: list[tuple[str, str, float]] = field(default_factory=list)  # instance, event, s
    rollback: "Deployment | None" = None
    follow_on: "Deployment | None" = None  # updated the instances that joined meanwhile


Observer = Callable[[Deployment, Instance, str], None]


@dataclass
class DeploymentGroup:
    application: str
    name: str
    env: dict[str, str]  # what the agent's environment holds besides CodeDeploy's variables
    load_balancer: Edge | None = None  # HAProxy or nginx (cloudsite.local.edge)
    instances: list[Instance] = field(default_factory=list)
    last_good: Path | None = None  # the group's last successful revision (a bundle)
    observer: Observer | None = None
    id: str = field(default_factory=lambda: f"cstest-{secrets.token_hex(8)}")
    outdated_instances: str = "UPDATE"  # the template's OutdatedInstancesStrategy

    def add(self, instance: Instance) -> None:
        """Register an instance (out of service until a deployment reaches AllowTraffic)."""
        self.instances.append(instance)
        if self.load_balancer:
            self.load_balancer.register(instance.name, port=instance.port)

    def join(self, instance: Instance) -> Deployment:
        """An instance the Auto Scaling group launches: CodeDeploy's launch hook deploys the
        last successful revision to it alone, and it takes traffic only after AllowTraffic.
        Callable from an observer, so an instance can join while a rollout runs."""
        self.add(instance)
        if self.last_good is None:
            raise RuntimeError("no successful revision yet: nothing to deploy to a new instance")
        return self._deploy_to(self.last_good, [instance])

    def deploy(self, revision: Path, *, auto_rollback: bool = True) -> Deployment:
        """Deploy a bundle to every instance, one at a time; roll back on failure."""
        deployment = Deployment(id=new_deployment_id(), revision=revision)
        try:
            for instance in list(self.instances):  # a deployment's targets are fixed at its start
                self.deploy_instance(deployment, instance)
        except HookFailed as failure:
            deployment.status, deployment.failure = "Failed", failure
            if auto_rollback and self.last_good is not None:
                deployment.rollback = self.deploy(self.last_good, auto_rollback=False)
            return deployment
        deployment.status = "Succeeded"
        self.last_good = revision
        deployment.follow_on = self._update_outdated(revision)
        return deployment

    def _update_outdated(self, revision: Path) -> Deployment | None:
        """CodeDeploy's follow-on deployment: the instances that joined while a deployment
        ran got the revision before it; this one brings them to `revision`, one at a time."""
        outdated = [i for i in self.instances if i.revision != revision]
        if self.outdated_instances != "UPDATE" or not outdated:
            return None
        return self._deploy_to(revision, outdated)

    def _deploy_to(self, revision: Path, instances: list[Instance]) -> Deployment:
        """A deployment of `revision` to `instances`, one at a time, that stops at the first
        failed hook; no rollback and no follow-on (those are deploy's)."""
        deployment = Deployment(id=new_deployment_id(), revision=revision)
        try:
            for instance in instances:
                self.deploy_instance(deployment, instance)
        except HookFailed as failure:
            deployment.status, deployment.failure = "Failed", failure
            return deployment
        deployment.status = "Succeeded"
        return deployment

    def leave(self, instance: Instance) -> float:
        """Scale-in: the group deregisters the instance and waits out the deregistration delay
        (requests in flight finish) before it terminates it; returns the seconds it drained."""
        drained = 0.0
        if self.load_balancer:
            drained = self.load_balancer.block(instance.name)
            self.load_balancer.deregister(instance.name)
        instance.in_service = False
        self.instances.remove(instance)
        return drained

    def deploy_instance(self, deployment: Deployment, instance: Instance) -> None:
        for event in LIFECYCLE:
            self.run_event(deployment, instance, event)
        instance.last_good = self._archive_path(instance, deployment)
        instance.revision = deployment.revision

    def run_event(self, deployment: Deployment, instance: Instance, event: str) -> None:
        """One lifecycle event on one instance (deploy_instance runs them all, in order)."""
        started = time.monotonic()
        if self.observer:
            self.observer(deployment, instance, event)
        try:
            self._event(deployment, instance, event, self._archive_path(instance, deployment))
        finally:
            deployment.events.append((instance.name, event, time.monotonic() - started))

    def _event(self, deployment: Deployment, instance: Instance, event: str, archive: Path) -> None:
        lb = self.load_balancer
        if event == "BlockTraffic":
            if lb and instance.in_service:
                lb.block(instance.name)
                instance.in_service = False
        elif event == "AllowTraffic":
            if lb:
                try:
                    lb.allow(instance.name)
                except TimeoutError as exc:
                    raise HookFailed(instance, event, str(exc)) from None
                instance.in_service = True
        elif event == "DownloadBundle":
            shutil.copytree(deployment.revision, archive)
        elif event == "ApplicationStop":
            if instance.last_good is not None:  # from the last successful revision
                self._run_hooks(deployment, instance, event, instance.last_good)
        elif event in SCRIPT_EVENTS:
            self._run_hooks(deployment, instance, event, archive)

    def _archive_path(self, instance: Instance, deployment: Deployment) -> Path:
        return instance.root / "deployment-root" / self.id / deployment.id / "deployment-archive"

    def _run_hooks(
        self, deployment: Deployment, instance: Instance, event: str, archive: Path
    ) -> None:
        for hook in appspec_hooks(archive).get(event, []):
            script = archive / hook.location
            if not script.is_file():
                raise HookFailed(instance, event, f"Script does not exist at {hook.location}")
            env = dict(self.env)
            env.update(
                LIFECYCLE_EVENT=event,
                DEPLOYMENT_ID=deployment.id,
                APPLICATION_NAME=self.application,
                DEPLOYMENT_GROUP_NAME=self.name,
                DEPLOYMENT_GROUP_ID=self.id,
                CLOUDSITE_ENV_FILE=str(instance.env_file),
            )
            _run_script(instance, event, script, env=env, timeout=hook.timeout)


def _run_script(
    instance: Instance, event: str, script: Path, *, env: dict[str, str], timeout: float
) -> None:
    instance.agent_log.parent.mkdir(parents=True, exist_ok=True)
    with open(instance.agent_log, "a") as log:
        log.write(f"[{time.strftime('%H:%M:%S')}] {event}: {script.name}\n")
        log.flush()
        try:
            result = subprocess.run(  # noqa: S603 (the bundle's own hook, as the agent runs it)
                [str(script)],
                cwd=instance.root,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            detail = f"Script at {script.name} timed out after {timeout:.0f} s"
            raise HookFailed(instance, event, detail) from None
    if result.returncode != 0:
        tail = instance.agent_log.read_text(errors="replace")[-3000:]
        raise HookFailed(instance, event, f"{script.name} exited {result.returncode}\n{tail}")


@dataclass(frozen=True)
class Hook:
    location: str
    timeout: int
    runas: str


def appspec_hooks(archive: Path) -> dict[str, list[Hook]]:
    """The appspec's hooks, checked the way CodeDeploy checks them."""
    spec = yaml.safe_load((archive / "appspec.yml").read_text())
    if str(spec.get("version")) != "0.0" or spec.get("os") != "linux":
        raise ValueError("appspec.yml: version must be 0.0 and os linux for EC2")
    hooks: dict[str, list[Hook]] = {}
    for event, entries in (spec.get("hooks") or {}).items():
        if event not in SCRIPT_EVENTS:
            raise ValueError(f"appspec.yml: {event} is not a hook this deployment runs")
        for entry in entries:
            hook = Hook(
                str(entry["location"]), int(entry.get("timeout", 3600)), entry.get("runas", "root")
            )
            if not 0 < hook.timeout <= 3600:
                raise ValueError(f"appspec.yml: {event}: a timeout is 1 to 3600 seconds")
            hooks.setdefault(event, []).append(hook)
    return hooks


def new_deployment_id() -> str:
    """CodeDeploy's form: d- and nine upper-case letters and digits."""
    alphabet = string.ascii_uppercase + string.digits
    return "d-" + "".join(secrets.choice(alphabet) for _ in range(9))


def write_env_file(path: Path, values: dict[str, str]) -> Path:
    """The instance's /etc/cloudsite/env, as user data writes it (mode 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{name}={shlex.quote(value)}\n" for name, value in values.items()))
    path.chmod(0o600)
    return path
