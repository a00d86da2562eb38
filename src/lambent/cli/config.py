"""Where the client commands connect, as whom, and in which region.

The endpoint: the flag, the environment, then the one `lambent serve` wrote into its data
dir (client_files.py), so the CLI finds a server on any port. The credentials' order
mirrors botocore's credential chain so nothing surprises an aws CLI user, with one
addition in the middle: the `credentials` file `lambent serve` writes into its data dir, so
`lambent serve` in one shell and `lambent deploy` in another work with no set-up at all.
An explicit `--profile` skips the environment keys, as botocore does.
"""

from __future__ import annotations

import configparser
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lambent.cli.errors import CliError
from lambent.client_files import read_endpoint

DEFAULT_ENDPOINT = "http://127.0.0.1:9000"
DEFAULT_REGION = "us-east-1"
DEFAULT_DATA_DIR = Path(".lambent")


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret: str
    session_token: str | None
    source: str  # where they came from, for error messages


@dataclass(frozen=True)
class ConnectionOptions:
    """The command-line flags that decide the connection; None means 'not given'."""

    endpoint_url: str | None = None
    profile: str | None = None
    region: str | None = None
    data_dir: Path = DEFAULT_DATA_DIR


@dataclass(frozen=True)
class ClientConfig:
    endpoint: str
    region: str
    credentials: Credentials


def resolve(opts: ConnectionOptions, env: Mapping[str, str], home: Path) -> ClientConfig:
    profile = opts.profile or env.get("AWS_PROFILE") or "default"
    return ClientConfig(
        endpoint=resolve_endpoint(opts, env),
        region=resolve_region(opts, env, profile),
        credentials=resolve_credentials(opts, env, home, profile),
    )


def resolve_endpoint(opts: ConnectionOptions, env: Mapping[str, str]) -> str:
    """--endpoint-url, $LAMBENT_ENDPOINT, $AWS_ENDPOINT_URL (as the AWS SDKs read it), the
    endpoint the server wrote into the data dir at its start, then 127.0.0.1:9000."""
    endpoint = (
        opts.endpoint_url
        or env.get("LAMBENT_ENDPOINT")
        or env.get("AWS_ENDPOINT_URL")
        or read_endpoint(opts.data_dir)
        or DEFAULT_ENDPOINT
    )
    return endpoint.rstrip("/")


def credential_files(opts: ConnectionOptions, env: Mapping[str, str], home: Path) -> list[Path]:
    files: list[Path] = []
    shared = env.get("AWS_SHARED_CREDENTIALS_FILE")
    if shared:
        files.append(Path(shared).expanduser())
    files.append(opts.data_dir / "credentials")
    files.append(home / ".aws" / "credentials")
    return files


def resolve_credentials(
    opts: ConnectionOptions, env: Mapping[str, str], home: Path, profile: str
) -> Credentials:
    if opts.profile is None:
        key, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
        if key and secret:
            return Credentials(key, secret, env.get("AWS_SESSION_TOKEN") or None, "environment")
    files = credential_files(opts, env, home)
    for path in files:
        found = _from_file(path, profile)
        if found is not None:
            return found
    searched = ", ".join(str(p) for p in files)
    if opts.profile is not None:
        raise CliError(f"profile {profile!r} not found in {searched}")
    raise CliError(
        "no credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, pass --profile, "
        f"or point --data-dir at the directory `lambent serve` uses (searched {searched})"
    )


def _from_file(path: Path, profile: str) -> Credentials | None:
    section = _read_section(path, profile)
    if section is None:
        return None
    key = section.get("aws_access_key_id")
    secret = section.get("aws_secret_access_key")
    if not key or not secret:
        return None
    token = section.get("aws_session_token") or None
    return Credentials(key, secret, token, f"{path} [{profile}]")


def resolve_region(opts: ConnectionOptions, env: Mapping[str, str], profile: str) -> str:
    if opts.region:
        return opts.region
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if env.get(var):
            return env[var]
    name = "default" if profile == "default" else f"profile {profile}"
    section = _read_section(opts.data_dir / "config", name)
    if section is not None and section.get("region"):
        return section["region"]
    return DEFAULT_REGION


def _read_section(path: Path, name: str) -> dict[str, str] | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with path.open(encoding="utf-8") as fh:
            parser.read_file(fh)
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        raise CliError(f"cannot read {path}: {exc}") from exc
    if not parser.has_section(name):
        return None
    return {k: v.strip() for k, v in parser.items(name)}
