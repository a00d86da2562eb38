"""Secrets at rest (issue 8 §1.11): the data dir is private, and the database holds no
secret in the clear, so a copy of it without the master key yields none."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambent.auth import sealing
from lambent.auth.credentials import GLOBAL, KEY_KIND, CredentialStore
from lambent.clock import SystemClock
from lambent.store.sqlite import SqliteStore
from tests.fixtures.functions import python_zip
from tests.support import REPO, ServerProcess, lambda_role, sqlite_files, start_server

APP = """
import os
def handler(event, context):
    print("invoked")
    mask = os.umask(0)
    os.umask(mask)
    keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    return {"umask": mask, "db": os.environ["DB_PASSWORD"], **{k: os.environ[k] for k in keys}}
"""
# A function's environment variables are sealed at rest too, as Lambda encrypts them.
DB_PASSWORD = "EnvVarSecretValue-7f3a9c1e5b"


def data_files(data: Path) -> Iterator[Path]:
    for root, _, files in os.walk(data):
        for name in files:
            yield Path(root, name)


def issue_secrets(server: ServerProcess) -> list[str]:
    """Every kind of secret the server hands out: an IAM user's access key, an STS role
    session and a session token, and an execution environment's credentials."""
    iam: Any = server.client("iam")
    sts: Any = server.client("sts")
    iam.create_user(UserName="alice")
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    role = lambda_role(server, "at-rest")
    assumed = sts.assume_role(RoleArn=role, RoleSessionName="at-rest")["Credentials"]
    token = sts.get_session_token()["Credentials"]
    lam: Any = server.client("lambda")
    lam.create_function(
        FunctionName="at-rest",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": python_zip(APP)},
        Environment={"Variables": {"DB_PASSWORD": DB_PASSWORD}},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName="at-rest")
    lam.publish_version(FunctionName="at-rest")  # a version's copy is sealed as well
    answer = lam.invoke(FunctionName="at-rest", Qualifier="1", Payload=b"{}")
    env = json.loads(answer["Payload"].read())
    assert env["db"] == DB_PASSWORD
    listed = lam.list_functions()["Functions"][0]["Environment"]["Variables"]
    assert listed == {"DB_PASSWORD": DB_PASSWORD}
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    assert env["umask"] == 0o022  # the function's own, not the server's 077
    root_secret = server.credentials()[1]
    return [
        DB_PASSWORD,
        root_secret,
        key["SecretAccessKey"],
        assumed["SecretAccessKey"],
        assumed["SessionToken"],
        token["SecretAccessKey"],
        token["SessionToken"],
        env["AWS_SECRET_ACCESS_KEY"],
        env["AWS_SESSION_TOKEN"],
    ]


def clear_copies(files: list[Path], secrets: list[str]) -> list[tuple[str, str]]:
    """(file, secret) for each secret found in a file's raw bytes, as text or base64'd."""
    found = []
    for path in files:
        raw = path.read_bytes()
        for secret in secrets:
            forms = {secret.encode(), base64.b64encode(secret.encode())}
            if any(form in raw for form in forms):
                found.append((path.name, secret[:8]))
    return found


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, list[str]]]:
    data = tmp_path_factory.mktemp("at-rest") / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    stale = data / "notes.txt"  # left wide by someone else: fixed at start
    stale.write_text("x")
    os.chmod(stale, 0o644)
    server = start_server(data)
    try:
        yield server, issue_secrets(server)
    finally:
        server.stop()


@sqlite_files
def test_the_data_dir_is_700_and_every_file_in_it_600(
    served: tuple[ServerProcess, list[str]],
) -> None:
    server, _ = served
    data = server.data_dir
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    names = {p.name for p in data_files(data)}
    # The database with its WAL, the logs, the async queue, code blobs, sandbox files.
    assert {"state.db", "state.db-wal", "state.db-shm", "logs.db", "master.key"} <= names
    wide = {
        str(p.relative_to(data)): oct(stat.S_IMODE(p.lstat().st_mode))
        for p in data_files(data)
        if p.relative_to(data).parts[0] != "code"
        and stat.S_ISREG(p.lstat().st_mode)
        and stat.S_IMODE(p.lstat().st_mode) != 0o600
    }
    assert wide == {}
    # The read-only code extractions environments mount are reachable only through it.
    assert stat.S_IMODE((data / "code").stat().st_mode) == 0o700


@sqlite_files
def test_no_file_of_the_data_dir_holds_a_secret_in_the_clear(
    served: tuple[ServerProcess, list[str]],
) -> None:
    server, secrets = served
    data = server.data_dir
    # The aws CLI's credentials files hold the root keys on purpose (mode 600).
    files = [p for p in data_files(data) if not p.name.startswith("credentials")]
    assert data / "state.db-wal" in files
    assert clear_copies(files, secrets) == []


@sqlite_files
def test_a_copied_database_without_the_master_key_yields_no_secret(
    served: tuple[ServerProcess, list[str]], tmp_path: Path
) -> None:
    server, secrets = served
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("state.db", "state.db-wal", "state.db-shm"):
        shutil.copy(server.data_dir / name, copy / name)
    assert clear_copies(list(copy.iterdir()), secrets) == []

    async def read_with_another_key() -> list[str]:
        store = SqliteStore(copy / "state.db")
        creds = CredentialStore(store, SystemClock(), sealing.Sealer.generate())
        refused = []
        try:
            for _, row in await store.scan(KEY_KIND):
                with pytest.raises(sealing.SealError):
                    await creds.lookup(row.key)
                refused.append(row.key)
        finally:
            await store.close()
        return refused

    assert len(asyncio.run(read_with_another_key())) >= 3
    # A server started on the copy (a new master key) refuses to serve it, in one line.
    done = subprocess.run(
        [sys.executable, "-m", "lambent", "serve", "--port", "0", "--data-dir", str(copy)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(REPO),
        check=False,
    )
    assert done.returncode == 1
    assert "master key does not open" in done.stderr and "Traceback" not in done.stderr


def test_keys_still_sign_after_a_restart(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data")
    try:
        iam: Any = server.client("iam")
        iam.create_user(UserName="bob")
        key = iam.create_access_key(UserName="bob")["AccessKey"]
    finally:
        server.stop()
    server = start_server(tmp_path / "data")
    try:
        keys = (key["AccessKeyId"], key["SecretAccessKey"])
        ident = server.client("sts", keys=keys).get_caller_identity()
        assert ident["Arn"].endswith(":user/bob")
        assert server.client("sts").get_caller_identity()["Arn"].endswith(":root")
    finally:
        server.stop()


@sqlite_files
def test_a_data_dir_from_before_sealing_is_sealed_and_narrowed_at_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(data)
    try:
        account = server.client("sts").get_caller_identity()["Account"]
    finally:
        server.stop()
    legacy_secret = "LegacyPlaintextSecretKey0123456789abcdef"

    async def write_as_an_old_version() -> None:
        store = SqliteStore(data / "state.db")
        try:
            doc = {
                "secret": legacy_secret,
                "account_id": account,
                "principal_arn": f"arn:aws:iam::{account}:root",
                "user_id": account,
                "status": "Active",
            }
            await store.put(KEY_KIND, GLOBAL, "AKIALEGACY0000000001", doc, parent=account)
            await store.put("lambda_secret", "", "code-url", {"key": "ab" * 32})
        finally:
            await store.close()

    asyncio.run(write_as_an_old_version())
    os.chmod(data, 0o755)
    for path in data_files(data):
        if path.relative_to(data).parts[0] != "code":
            os.chmod(path, 0o644)
    assert clear_copies([data / "state.db"], [legacy_secret]) != []

    server = start_server(data)
    try:
        keys = ("AKIALEGACY0000000001", legacy_secret)
        assert server.client("sts", keys=keys).get_caller_identity()["Account"] == account
        files = [p for p in data_files(data) if not p.name.startswith("credentials")]
        assert clear_copies(files, [legacy_secret, "ab" * 32]) == []
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        assert stat.S_IMODE((data / "state.db").stat().st_mode) == 0o600
        assert stat.S_IMODE((data / "credentials").stat().st_mode) == 0o600
    finally:
        server.stop()
