"""Checks of the configuration keys about the Django project (cloudsite.toml's project
group), made before detection and before any AWS call; and the keys as detection takes them."""

import re
from typing import Final

from cloudsite.errors import ConfigError
from cloudsite.project.detect import Keys
from cloudsite.schema import Config, source_of

NAME: Final = re.compile(r"[A-Z][A-Z0-9_]*")
# A value that looks like a credential has no place in `environment`: it is baked into the
# image, which every instance pulls and anyone with ECR access can read.
SECRET_LOOKING: Final = re.compile(r"(SECRET|PASSWORD|PASSWD|TOKEN|API_KEY|PRIVATE|CREDENTIAL)")
# What the runtime layer and the hooks set themselves.
RESERVED: Final = frozenset(
    {
        "DJANGO_SECRET_KEY",
        "DJANGO_SECRET_KEY_FALLBACKS",
        "DATABASE_URL",
        "DJANGO_SETTINGS_MODULE",
        "PYTHONPATH",
        "PATH",
        "PORT",
    }
)
DEBIAN_PACKAGE: Final = re.compile(r"[a-z0-9][a-z0-9+.-]+")


def keys(cfg: Config) -> Keys:
    return Keys(
        manage_py=cfg.manage_py,
        settings_module=cfg.settings_module,
        application=cfg.application,
        requirements=cfg.requirements,
        python_version=cfg.python_version,
    )


def environment(cfg: Config) -> dict[str, str]:
    """`environment` as {NAME: value}."""
    return dict(item.split("=", 1) for item in cfg.environment)


def check(cfg: Config) -> None:
    for item in cfg.environment:
        name, sep, _value = item.partition("=")
        if not sep or not NAME.fullmatch(name):
            _fail(
                cfg,
                "environment",
                f"'{item}' is not NAME=value",
                'e.g. environment = ["DJANGO_ADMIN_URL=admin/"]',
            )
        if name in RESERVED or name.startswith(("CLOUDSITE_", "AWS_")):
            _fail(
                cfg,
                "environment",
                f"{name} is set by cloudsite itself",
                "leave it out; see docs/your-project.md",
            )
        if SECRET_LOOKING.search(name):
            _fail(
                cfg,
                "environment",
                f"{name} looks like a secret, and `environment` is baked into the image",
                f"put it in SSM as a SecureString, /cloudsite/<site>/{name}, which the site reads "
                "at run time",
            )
    policy = cfg.content_security_policy
    if policy and (not policy.isprintable() or "\n" in policy or ";;" in policy):
        _fail(
            cfg,
            "content_security_policy",
            "is not one header line",
            "write the directives on one line, separated by '; '",
        )
    for key in ("system_packages", "build_packages"):
        for package in getattr(cfg, key):
            if not DEBIAN_PACKAGE.fullmatch(package):
                _fail(cfg, key, f"'{package}' is not a Debian package name", "e.g. libpq5")
    if "\n" in cfg.build_command:
        _fail(cfg, "build_command", "spans several lines", "chain commands with && on one line")


def _fail(cfg: Config, key: str, why: str, hint: str) -> None:
    raise ConfigError(key, f"{why} (from {source_of(cfg, key)})", hint=hint)
