"""Endpoint, credential and region resolution for the client commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambent.cli.config import ConnectionOptions, resolve
from lambent.cli.errors import CliError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def creds(key: str, profile: str = "default", token: str | None = None) -> str:
    extra = f"aws_session_token = {token}\n" if token else ""
    return f"[{profile}]\naws_access_key_id = {key}\naws_secret_access_key = s-{key}\n{extra}"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


def opts(data: Path, **kw: str) -> ConnectionOptions:
    return ConnectionOptions(data_dir=data, **kw)


ENV_KEYS = {"AWS_ACCESS_KEY_ID": "ENV", "AWS_SECRET_ACCESS_KEY": "s-ENV"}


def test_endpoint_order(home: Path, data: Path) -> None:
    env = {**ENV_KEYS, "LAMBENT_ENDPOINT": "http://env:1/"}
    assert resolve(opts(data, endpoint_url="http://flag:2"), env, home).endpoint == "http://flag:2"
    assert resolve(opts(data), env, home).endpoint == "http://env:1"
    assert resolve(opts(data), ENV_KEYS, home).endpoint == "http://127.0.0.1:9000"


def test_the_endpoint_from_aws_endpoint_url_and_the_data_dir(home: Path, data: Path) -> None:
    write(data / "endpoint", "http://127.0.0.1:41234\n")
    assert resolve(opts(data), ENV_KEYS, home).endpoint == "http://127.0.0.1:41234"
    env = {**ENV_KEYS, "AWS_ENDPOINT_URL": "http://aws-env:3/"}
    assert resolve(opts(data), env, home).endpoint == "http://aws-env:3"
    lambent_env = {**env, "LAMBENT_ENDPOINT": "http://env:1"}
    assert resolve(opts(data), lambent_env, home).endpoint == "http://env:1"
    flag = opts(data, endpoint_url="http://flag:2")
    assert resolve(flag, lambent_env, home).endpoint == "http://flag:2"


def test_credentials_order(home: Path, data: Path, tmp_path: Path) -> None:
    shared = write(tmp_path / "shared", creds("SHARED"))
    write(data / "credentials", creds("DATA"))
    write(home / ".aws" / "credentials", creds("HOME"))
    with_shared = {"AWS_SHARED_CREDENTIALS_FILE": str(shared)}

    def key(env: dict[str, str]) -> str:
        return resolve(opts(data), env, home).credentials.access_key

    assert key({**ENV_KEYS, **with_shared}) == "ENV"
    assert key(with_shared) == "SHARED"
    assert key({}) == "DATA"
    (data / "credentials").unlink()
    assert key({}) == "HOME"
    (home / ".aws" / "credentials").unlink()
    with pytest.raises(CliError, match="no credentials found"):
        key({})


def test_session_token_from_env_and_file(home: Path, data: Path) -> None:
    env = {**ENV_KEYS, "AWS_SESSION_TOKEN": "tok"}
    assert resolve(opts(data), env, home).credentials.session_token == "tok"
    write(data / "credentials", creds("DATA", token="ftok"))
    assert resolve(opts(data), {}, home).credentials.session_token == "ftok"
    assert resolve(opts(data), ENV_KEYS, home).credentials.session_token is None


def test_a_profile_skips_env_keys_and_is_searched_in_every_file(home: Path, data: Path) -> None:
    write(data / "credentials", creds("DATA"))
    write(home / ".aws" / "credentials", creds("HOME") + creds("WORK", profile="work"))
    chosen = resolve(opts(data, profile="work"), ENV_KEYS, home).credentials
    assert (chosen.access_key, chosen.secret) == ("WORK", "s-WORK")
    assert chosen.source.endswith("credentials [work]")
    assert resolve(opts(data), {"AWS_PROFILE": "work"}, home).credentials.access_key == "WORK"
    with pytest.raises(CliError, match="profile 'nope' not found"):
        resolve(opts(data, profile="nope"), ENV_KEYS, home)


def test_incomplete_sections_are_skipped(home: Path, data: Path) -> None:
    write(data / "credentials", "[default]\naws_access_key_id = ONLYKEY\n")
    write(home / ".aws" / "credentials", creds("HOME"))
    assert resolve(opts(data), {}, home).credentials.access_key == "HOME"


def test_an_unreadable_file_is_reported(home: Path, data: Path) -> None:
    write(data / "credentials", "this is not an ini file")
    with pytest.raises(CliError, match="cannot read"):
        resolve(opts(data), {}, home)


def test_region_order(home: Path, data: Path) -> None:
    write(data / "config", "[default]\nregion = eu-north-1\n[profile work]\nregion = ap-south-1\n")
    write(home / ".aws" / "credentials", creds("HOME") + creds("W", profile="work"))

    def region(env: dict[str, str], **kw: str) -> str:
        return resolve(opts(data, **kw), env, home).region

    both = {"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "eu-west-1"}
    assert region(both, region="ca-central-1") == "ca-central-1"
    assert region(both) == "us-west-2"
    assert region({"AWS_DEFAULT_REGION": "eu-west-1"}) == "eu-west-1"
    assert region({}) == "eu-north-1"
    assert region({}, profile="work") == "ap-south-1"
    (data / "config").unlink()
    assert region({}) == "us-east-1"
