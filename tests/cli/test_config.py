"""Configuration: the layers and their order, types, unknown keys, and the example file."""

import re
import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from cloudsite import config
from cloudsite.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def load(tmp_path: Path, text: str = "", env: dict[str, str] | None = None, **flags: str):
    path = tmp_path / "cloudsite.toml"
    path.write_text(text)
    return config.load(path=path, env=env or {}, overrides=flags)


def test_defaults_apply_when_nothing_is_set(tmp_path: Path) -> None:
    cfg = load(tmp_path, 'name = "site"\n')
    assert cfg.instance_type == "t3.small"
    assert cfg.allowed_cidrs == ("0.0.0.0/0",)
    assert cfg.ssh_cidrs == ()
    assert cfg.deletion_protection is True


def test_file_overrides_defaults_env_overrides_file_flags_override_env(tmp_path: Path) -> None:
    text = 'name = "site"\ninstance_type = "t3.medium"\nmin_size = 1\nmax_size = 5\n'
    assert load(tmp_path, text).instance_type == "t3.medium"
    env = {"CLOUDSITE_INSTANCE_TYPE": "t3.large", "CLOUDSITE_MAX_SIZE": "6"}
    from_env = load(tmp_path, text, env)
    assert (from_env.instance_type, from_env.max_size, from_env.min_size) == ("t3.large", 6, 1)
    from_flag = load(tmp_path, text, env, instance_type="m7i.large")
    assert (from_flag.instance_type, from_flag.max_size) == ("m7i.large", 6)
    assert from_flag.sources["instance_type"] == "--set instance_type"
    assert from_flag.sources["max_size"] == "CLOUDSITE_MAX_SIZE"
    assert from_flag.sources["min_size"] == "cloudsite.toml"


def test_env_and_flags_parse_lists_and_booleans(tmp_path: Path) -> None:
    env = {"CLOUDSITE_ALLOWED_CIDRS": "10.0.0.0/8, 192.168.0.0/16", "CLOUDSITE_DATABASE": "yes"}
    cfg = load(tmp_path, 'name = "site"\n', env, deletion_protection="false")
    assert cfg.allowed_cidrs == ("10.0.0.0/8", "192.168.0.0/16")
    assert cfg.database is True
    assert cfg.deletion_protection is False


def test_unknown_key_in_the_file_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load(tmp_path, 'name = "site"\ninstnce_type = "t3.small"\n')
    assert err.value.what == "instnce_type"
    assert "unknown key" in err.value.why
    assert "instance_type" in err.value.hint


def test_unknown_key_in_a_flag_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown key"):
        load(tmp_path, 'name = "site"\n', frobnicate="1")


def test_unknown_environment_variable_warns_and_is_ignored(tmp_path: Path) -> None:
    warnings: list[str] = []
    path = tmp_path / "cloudsite.toml"
    path.write_text('name = "site"\n')
    env = {"CLOUDSITE_INSTANCE_TPYE": "x", "CLOUDSITE_STACK": "not a key, an instance variable"}
    cfg = config.load(path=path, env=env, overrides={}, warn=warnings.append)
    assert cfg.instance_type == "t3.small"
    assert warnings == ["CLOUDSITE_INSTANCE_TPYE is not a configuration key; ignored"]


@pytest.mark.parametrize(
    ("text", "key", "why"),
    [
        ('min_size = "2"', "min_size", "is not an integer"),
        ('allowed_cidrs = "0.0.0.0/0"', "allowed_cidrs", "is not a list"),
        ("database = 1", "database", "is not true or false"),
        ("name = 3", "name", "is not a string"),
    ],
)
def test_a_value_of_the_wrong_type_names_the_key(
    tmp_path: Path, text: str, key: str, why: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load(tmp_path, text + "\n")
    assert err.value.what == key
    assert why in err.value.why


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(tmp_path, "name = \n")


def test_a_named_config_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        config.load(path=tmp_path / "missing.toml", env={}, overrides={})


def test_name_defaults_to_the_project_folder(tmp_path: Path) -> None:
    folder = tmp_path / "My_Travel.Site"
    folder.mkdir()
    (folder / "cloudsite.toml").write_text("")
    cfg = config.load(path=folder / "cloudsite.toml", env={}, overrides={})
    assert cfg.name == "my-travel-site"


def test_the_example_file_sets_every_key_to_its_default() -> None:
    data = tomllib.loads((ROOT / "cloudsite.example.toml").read_text())
    assert sorted(data) == sorted(config.key_names())
    defaults = config.Config()
    for key, value in data.items():
        expected = getattr(defaults, key)
        if key in config.TABLES:  # an empty table: no entries
            value = config.TABLES[key](value, source="example")
        assert (tuple(value) if isinstance(value, list) else value) == expected, key


def test_every_key_has_a_comment_in_the_example_and_a_row_in_the_docs() -> None:
    example = (ROOT / "cloudsite.example.toml").read_text().splitlines()
    docs = (ROOT / "docs" / "operations.md").read_text()
    for key in config.key_names():
        start = f"[{key}]" if key in config.TABLES else f"{key} ="
        line = next(i for i, text in enumerate(example) if text.startswith(start))
        above = example[:line]
        # the nearest line above the key (or its group of keys) is a comment
        previous = next(t for t in reversed(above) if not re.match(r"^[a-z_]+ =", t))
        assert previous.startswith("#"), key
        assert f"| `{key}` |" in docs, f"{key} is missing from docs/operations.md"


def test_config_fields_that_are_not_keys_stay_out_of_the_key_list() -> None:
    assert "project_dir" not in config.key_names()
    assert len(config.key_names()) == len([f for f in fields(config.Config)]) - 2
