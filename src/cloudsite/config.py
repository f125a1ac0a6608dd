"""One frozen Config (its keys are in cloudsite.schema), read in layers: defaults <
cloudsite.toml < CLOUDSITE_* env < flags.

Unknown keys in the file or in `--set` are errors. Every value is checked here (by
cloudsite.validate) before the CLI makes its first AWS call; an error names the key, the bad
value and where it came from.
"""

import tomllib
from collections.abc import Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Any, Final

from cloudsite.errors import ConfigError
from cloudsite.schema import Config as Config  # re-exported: modules import it from here
from cloudsite.schema import Process, Scheduled

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
        # background work (docs/background.md): the instance's, and manage.sh's for a schedule
        "CLOUDSITE_QUEUE_URL",
        "CLOUDSITE_REDIS_ADDRESS",
        "CLOUDSITE_REDIS_SECRET_ARN",
        "CLOUDSITE_TASK_TIMEOUT",
        "CLOUDSITE_PROCESS_SETTLE",
        "CLOUDSITE_SCHEDULE_NAME",
        "CLOUDSITE_SCHEDULE_AT",
    }
)


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
        if key in TABLES:
            data[key] = TABLES[key](value, source=path.name)
        else:
            data[key] = _check_type(key, value, want=types[key], source=path.name)
    return data


def _table(key: str, value: Any, *, source: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(
            key,
            f"{value!r} is not a table (in {source})",
            hint=f"write it as a [{key}] table at the end of {CONFIG_FILE}; see "
            "cloudsite.example.toml",
        )
    return value


def _entry(key: str, name: str, value: Any, *, fields: dict[str, type], source: str) -> Any:
    """One entry of a table: a string (its command) or an inline table of `fields`."""
    if isinstance(value, str):
        return {"command": value}
    where = f"{key}.{name}"
    if not isinstance(value, dict):
        raise ConfigError(
            where,
            f"{value!r} is neither a command nor a table (in {source})",
            hint=f'e.g. {name} = {{ command = "..." }}',
        )
    for field_name, field_value in value.items():
        if field_name not in fields:
            raise ConfigError(
                where,
                f"'{field_name}' is not one of its fields (in {source})",
                hint="its fields are " + ", ".join(fields),
            )
        want = fields[field_name]
        if not isinstance(field_value, want) or isinstance(field_value, bool):
            names = {str: "a string", int: "an integer"}
            raise ConfigError(
                where,
                f"{field_name} = {field_value!r} is not {names[want]} (in {source})",
                hint="see cloudsite.example.toml",
            )
    if "command" not in value:
        raise ConfigError(
            where, f"has no command (in {source})", hint=f'e.g. {name} = {{ command = "..." }}'
        )
    return value


def _processes(value: Any, *, source: str) -> tuple[Process, ...]:
    fields = {"command": str, "count": int}
    return tuple(
        Process(name=name, **_entry("processes", name, entry, fields=fields, source=source))
        for name, entry in _table("processes", value, source=source).items()
    )


def _schedule(value: Any, *, source: str) -> tuple[Scheduled, ...]:
    fields = {"command": str, "cron": str, "rate": str, "timeout_minutes": int}
    return tuple(
        Scheduled(name=name, **_entry("schedule", name, entry, fields=fields, source=source))
        for name, entry in _table("schedule", value, source=source).items()
    )


# The keys that are TOML tables, and what reads each.
TABLES: Final = {"processes": _processes, "schedule": _schedule}


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
    if key in TABLES:
        raise ConfigError(
            key,
            f"is a table, which {source} cannot set",
            hint=f"write it as a [{key}] table in {CONFIG_FILE}",
        )
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
