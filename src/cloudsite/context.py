"""What every command works with: the validated configuration, the output channels, the clock,
and (once connected) the AWS session. Also the checks that must pass before the first AWS call.
"""

import ipaddress
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Final

from cloudsite import aws as aws_mod
from cloudsite import names, template
from cloudsite.aws.stack import Follow
from cloudsite.aws.waits import Clock
from cloudsite.config import Config
from cloudsite.errors import ConfigError
from cloudsite.ui import Ui
from cloudsite.validate import MY_IP

MY_IP_URL: Final = "https://checkip.amazonaws.com"
# A well-formed ARN that is nobody's certificate: the pre-flight check and `plan` use it
# where the real one is only known once `up` has made it.
PLACEHOLDER_CERTIFICATE: Final = (
    "arn:aws:acm:{region}:000000000000:certificate/00000000-0000-0000-0000-000000000000"
)


@dataclass
class Context:
    cfg: Config
    ui: Ui
    clock: Clock
    env: dict[str, str] = field(default_factory=dict)
    aws: aws_mod.Aws | None = None
    ssh_cidrs: tuple[str, ...] = ()
    phase: str = ""  # what an interruption would leave running (see cli.interrupted)
    _project: Any = None

    def project(self) -> Any:
        """The Django project in source_dir (detected once; a ProjectError when it cannot be
        built as is). No AWS call."""
        if self._project is None:
            from cloudsite.project import checks

            self._project = checks.project_checked(self.cfg)
        return self._project

    def package(self) -> Any:
        """The source zip: the project's tree, the runtime layer and project.json."""
        from cloudsite.project.shipment import extra_entries
        from cloudsite.project.source import package_build

        project = self.project()
        return package_build(
            project.root, extra=extra_entries(project, self.cfg), include=self.cfg.include_files
        )

    def media_on(self) -> bool:
        """The stack keeps the site's uploads in a bucket: the project's media resolves to s3
        (project.checks.media); in github mode, as the committed project.json says."""
        if self.cfg.media == "none":
            return False
        if self.cfg.source_mode == "upload":
            from cloudsite.project.checks import media

            return media(self.project(), self.cfg)[0] == "s3"
        import json

        from cloudsite.project.shipment import FOLDER

        document = self.cfg.source_path / FOLDER / "project.json"
        return bool(document.is_file() and json.loads(document.read_text()).get("media") == "s3")

    def background(self) -> Any:
        """The broker and the Valkey server the stack gives the site (a project.background
        Choice, from project.checks.background); in github mode, as the committed
        project.json says."""
        from cloudsite.project.background import Choice

        cfg = self.cfg
        if cfg.redis == "off" and (cfg.broker == "none" or not cfg.processes):
            return Choice(broker="none", redis=False, why="redis = off, and no broker")
        if self.cfg.source_mode == "upload":
            from cloudsite.project.checks import background

            return background(self.project(), self.cfg)
        import json

        from cloudsite.project.shipment import FOLDER

        document = self.cfg.source_path / FOLDER / "project.json"
        found = json.loads(document.read_text()) if document.is_file() else {}
        return Choice(
            broker=found.get("broker", "none"),
            redis=bool(found.get("redis")),
            why="the committed .cloudsite/project.json",
        )

    @property
    def stack(self) -> str:
        return names.stack_name(self.cfg.name)

    def preflight(self) -> list[dict[str, str]]:
        """Everything that can be checked without AWS: the Django project (detection), resolve
        'my-ip', and check the values the template will receive against the template's own
        constraints. Returns those values (with the placeholder certificate when none is
        configured)."""
        if self.cfg.source_mode == "upload":
            self.project()
        else:
            from cloudsite.project import checks

            checks.repository_has_runtime(self.cfg)
        self.ssh_cidrs = resolve_ssh_cidrs(
            self.cfg, url=self.env.get("CLOUDSITE_MY_IP_URL", MY_IP_URL)
        )
        region = self.cfg.region or "us-east-1"
        params = template.stack_parameters(
            self.cfg,
            certificate_arn=self.cfg.certificate_arn
            or PLACEHOLDER_CERTIFICATE.format(region=region),
            hosted_zone_id=self.cfg.hosted_zone_id,
            ssh_cidrs=self.ssh_cidrs,
            media=self.media_on(),
            background=self.background(),
        )
        template.parameters_check(params, template.template_parse(template.template_text()))
        return params

    def open(self) -> aws_mod.Aws:
        """Open the session: profile, region and credentials, checked locally (no request)."""
        if self.aws is None:
            self.aws = aws_mod.session_open(self.cfg)
        return self.aws

    def connect(self) -> aws_mod.Aws:
        """Open the session, then ask STS who we are: the first AWS call."""
        self.open()
        assert self.aws is not None
        if not self.aws.account:
            who = aws_mod.identity(self.aws)
            self.ui.info(f"account {who['account']} ({who['arn']}), region {who['region']}")
        return self.aws

    def follow(self, client: Any = None) -> Follow:
        assert self.aws is not None
        return Follow(
            cfn=client or self.aws.client("cloudformation"),
            ui=self.ui,
            clock=self.clock,
            timeout=self.cfg.stack_timeout_minutes * 60,
        )

    def token(self, verb: str) -> str:
        return names.request_token(verb, self.stack, now=self.clock.wall())


def resolve_ssh_cidrs(cfg: Config, *, url: str) -> tuple[str, ...]:
    """ssh_cidrs with 'my-ip' replaced by this machine's public address (/32)."""
    if MY_IP not in cfg.ssh_cidrs:
        return cfg.ssh_cidrs
    address = my_ip(url)
    return tuple(dict.fromkeys(f"{address}/32" if c == MY_IP else c for c in cfg.ssh_cidrs))


def my_ip(url: str) -> str:
    """This machine's public IPv4 address, as a web service sees it."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - fixed URL
            text = response.read(100).decode().strip()
        return str(ipaddress.IPv4Address(text))
    except (OSError, ValueError) as err:
        raise ConfigError(
            "ssh_cidrs",
            f"cannot find your public address for 'my-ip' ({url}: {err})",
            hint="write your address instead, e.g. 203.0.113.7/32",
        ) from None
