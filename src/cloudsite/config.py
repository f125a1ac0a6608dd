"""One frozen Config, read in layers: defaults < cloudsite.toml < CLOUDSITE_* env < flags.

Unknown keys in the file or in `--set` are errors. Every value is checked here (by
cloudsite.validate) before the CLI makes its first AWS call; an error names the key, the bad
value and where it came from.
"""

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Final

from cloudsite.errors import ConfigError

CONFIG_FILE: Final = "cloudsite.toml"
ENV_PREFIX: Final = "CLOUDSITE_"
# CLOUDSITE_* variables that are not configuration keys (the instances' own environment, see
# docs/interfaces.md, and the test suites'): the CLI leaves them alone instead of warning.
ENV_NOT_KEYS: Final = frozenset(
    {
        "CLOUDSITE_CONFIG",
        "CLOUDSITE_STACK",
        "CLOUDSITE_APP_LOG_GROUP",
        "CLOUDSITE_PARAMETER_PATH",
        "CLOUDSITE_SECRET_KEY_ARN",
        "CLOUDSITE_DATABASE_SECRET_ARN",
        "CLOUDSITE_EXPECT_DATABASE",
        "CLOUDSITE_MY_IP_URL",
        "CLOUDSITE_POLL_SECONDS",
    }
)


def _key(default: Any, doc: str) -> Any:
    """A configuration key: its default and the one-line description the docs show."""
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class Config:
    """The whole configuration. Field order is the order of the docs and the example file."""

    # -- the site
    name: str = _key("", "site name = stack name; default: the project folder's name")
    source_dir: str = _key(".", "folder to package and ship, relative to cloudsite.toml")
    # -- the Django project (detected: set one only to settle what detection cannot)
    manage_py: str = _key("", "manage.py, relative to source_dir; default: detected")
    settings_module: str = _key("", "the production settings module; default: detected")
    application: str = _key(
        "", "the WSGI (or ASGI) application, module:attribute; default: detected"
    )
    requirements: str = _key(
        "", "the dependency manifest, relative to source_dir; default: detected"
    )
    python_version: str = _key("", "the Python the image runs; default: the project's own pin")
    environment: tuple[str, ...] = _key(
        (), "NAME=value settings the site reads (not secrets: they are baked into the image)"
    )
    content_security_policy: str = _key("", "the Content-Security-Policy header; default: none")
    build_command: str = _key("", "a command the build runs in the image, e.g. your tests")
    system_packages: tuple[str, ...] = _key((), "Debian packages the site loads at run time")
    build_packages: tuple[str, ...] = _key((), "Debian packages only the build needs (compilers)")
    include_files: tuple[str, ...] = _key(
        (), "secret-looking files (.env, keys) to ship on purpose, by path in source_dir"
    )
    dockerfile: str = _key(
        "", "your own Dockerfile (relative to source_dir) instead of cloudsite's"
    )
    # -- AWS
    region: str = _key("", "AWS region; default: the standard chain (AWS_REGION, profile)")
    profile: str = _key("", "AWS profile; default: the standard chain (AWS_PROFILE)")
    # -- TLS and the domain
    certificate_arn: str = _key("", "an ACM certificate in the stack's region to use as is")
    domain: str = _key("", "the site's domain; with a hosted zone, cloudsite gets a certificate")
    hosted_zone_id: str = _key("", "the Route 53 zone of `domain`; default: looked up")
    tls_policy: str = _key("ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09", "HTTPS listener policy")
    # -- who may connect
    allowed_cidrs: tuple[str, ...] = _key(
        ("0.0.0.0/0",), "client networks allowed to reach the site"
    )
    ssh_cidrs: tuple[str, ...] = _key((), "networks allowed to SSH to instances ('my-ip' = yours)")
    # -- compute
    instance_type: str = _key("t3.small", "EC2 instance type of the web servers")
    min_size: int = _key(2, "fewest instances")
    max_size: int = _key(4, "most instances")
    desired_capacity: int = _key(2, "instances to start with")
    scaling_cpu_percent: int = _key(50, "average CPU the fleet is scaled to keep (10-90)")
    scaling_requests_per_instance: int = _key(
        3000, "requests per instance per minute the fleet is scaled to keep"
    )
    app_port: int = _key(8000, "port the container publishes on each instance")
    # -- network
    vpc_id: str = _key("", "an existing VPC; default: the stack creates its own")
    public_subnet_ids: tuple[str, ...] = _key((), "public subnets of vpc_id (two AZs)")
    private_subnet_ids: tuple[str, ...] = _key((), "private subnets of vpc_id (two AZs)")
    private_subnets: bool = _key(False, "put instances in private subnets behind a NAT gateway")
    # -- data and operations
    database: bool = _key(False, "create an RDS PostgreSQL database (init turns it on)")
    media: str = _key(
        "auto", "uploads: 'auto' (an S3 bucket if the project stores files), 's3', 'none'"
    )
    database_instance_class: str = _key("db.t4g.micro", "RDS instance class")
    deletion_protection: bool = _key(True, "protect the load balancer (and database)")
    alarm_email: str = _key("", "email address that receives alarm notifications")
    log_retention_days: int = _key(365, "days CloudWatch keeps logs")
    # -- source
    source_mode: str = _key("upload", "'upload' (this folder) or 'github' (a connection)")
    github_connection_arn: str = _key("", "CodeConnections connection ARN (github mode)")
    github_repository: str = _key("", "owner/name of the repository (github mode)")
    github_branch: str = _key("main", "branch the pipeline follows (github mode)")
    # -- bounded waits
    stack_timeout_minutes: int = _key(45, "longest wait for a stack operation")
    pipeline_timeout_minutes: int = _key(30, "longest wait for the pipeline")
    certificate_timeout_minutes: int = _key(20, "longest wait for DNS validation")
    # -- not keys: where the configuration was read from
    project_dir: Path = field(default=Path("."), metadata={"key": False}, compare=False)
    sources: Mapping[str, str] = field(
        default_factory=dict, metadata={"key": False}, compare=False, repr=False
    )

    @property
    def source_path(self) -> Path:
        return (self.project_dir / self.source_dir).resolve()


def key_names() -> list[str]:
    """Every configuration key, in documentation order."""
    return [f.name for f in _key_fields()]


def _key_fields() -> list[Any]:
    return [f for f in fields(Config) if f.metadata.get("key", True)]


def _types() -> dict[str, type]:
    defaults = Config()
    return {f.name: type(getattr(defaults, f.name)) for f in _key_fields()}


def load(
    *,
    path: Path | None,
    env: Mapping[str, str],
    overrides: Mapping[str, str],
    warn: Any = None,
) -> Config:
    """Read the layers in order (defaults < file < env < flags) and return a validated Config.

    `path` is the configuration file (a missing default file is fine, a missing named one is
    not); `overrides` are flag values as strings, keyed by configuration key.
    """
    from cloudsite import validate

    config_path, explicit = _config_path(path, env)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, value in _read_file(config_path, explicit=explicit).items():
        values[key], sources[key] = value, config_path.name
    for key, (value, var) in _read_env(env, warn=warn).items():
        values[key], sources[key] = value, var
    for key, text in overrides.items():
        values[key], sources[key] = _parse_text(key, text, source="flag"), f"--set {key}"
    config = replace(Config(), project_dir=config_path.parent.resolve(), sources=sources, **values)
    return validate.config(config)


def _config_path(path: Path | None, env: Mapping[str, str]) -> tuple[Path, bool]:
    if path is not None:
        return path, True
    if env.get("CLOUDSITE_CONFIG"):
        return Path(env["CLOUDSITE_CONFIG"]), True
    return Path.cwd() / CONFIG_FILE, False


def _read_file(path: Path, *, explicit: bool) -> dict[str, Any]:
    if not path.exists():
        if explicit:
            raise ConfigError(
                "config", f"{path}: no such file", hint=f"create it from {CONFIG_FILE} example"
            )
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(
            "config", f"{path.name} is not valid TOML: {err}", hint="see cloudsite.example.toml"
        ) from None
    types = _types()
    for key, value in data.items():
        _check_known(key, source=path.name)
        data[key] = _check_type(key, value, want=types[key], source=path.name)
    return data


def _read_env(env: Mapping[str, str], *, warn: Any) -> dict[str, tuple[Any, str]]:
    known = set(key_names())
    found: dict[str, tuple[Any, str]] = {}
    for var in sorted(env):
        if not var.startswith(ENV_PREFIX) or var in ENV_NOT_KEYS:
            continue
        key = var[len(ENV_PREFIX) :].lower()
        if key not in known:
            # Other tools share the prefix, so an unknown variable is a warning, not an error.
            if warn:
                warn(f"{var} is not a configuration key; ignored")
            continue
        found[key] = (_parse_text(key, env[var], source=var), var)
    return found


def _check_known(key: str, *, source: str) -> None:
    if key not in key_names():
        from difflib import get_close_matches

        close = get_close_matches(key, key_names(), n=1)
        hint = f"did you mean '{close[0]}'?" if close else "see cloudsite.example.toml for keys"
        raise ConfigError(key, f"unknown key (in {source})", hint=hint)


def _check_type(key: str, value: Any, *, want: type, source: str) -> Any:
    ok = isinstance(value, want) and not (want is int and isinstance(value, bool))
    if want is tuple:
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        value = tuple(value) if ok else value
    if not ok:
        names = {str: "a string", int: "an integer", bool: "true or false", tuple: "a list"}
        raise ConfigError(
            key,
            f"{value!r} is not {names[want]} (in {source})",
            hint=f"write it as in cloudsite.example.toml: {key} = {_example(want)}",
        )
    return value


def _example(want: type) -> str:
    return {str: '"text"', int: "3", bool: "true", tuple: '["a", "b"]'}[want]


def _parse_text(key: str, text: str, *, source: str) -> Any:
    """A value given as text (an environment variable or a flag), converted to the key's type."""
    _check_known(key, source=source)
    want = _types()[key]
    if want is bool:
        lowered = text.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(
            key, f"{text!r} is not true or false (in {source})", hint="use true/false"
        )
    if want is int:
        try:
            return int(text.strip())
        except ValueError:
            raise ConfigError(
                key, f"{text!r} is not an integer (in {source})", hint="use digits, e.g. 3"
            ) from None
    if want is tuple:
        return tuple(part.strip() for part in text.split(",") if part.strip())
    return text.strip()


def parse_set(items: tuple[str, ...]) -> dict[str, str]:
    """`--set key=value` flags to a dict; a malformed one is a usage error."""
    result: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError("--set", f"{item!r} is not key=value", hint="e.g. --set min_size=3")
        result[key.strip().replace("-", "_")] = value
    return result


def source_of(config: Config, key: str) -> str:
    """Where a key's value came from, for error messages."""
    return config.sources.get(key, "default")
