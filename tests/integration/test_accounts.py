"""Accounts are tenants: nothing of one is visible to, or shared with, another."""

from __future__ import annotations

import configparser
import json
import stat
import subprocess
import sys
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.fixtures.functions import python_zip
from tests.support import LAMBDA_TRUST, REPO, ServerProcess

APP = "def handler(event, context):\n    return {'stream': context.log_stream_name}\n"


def new_account(server: ServerProcess) -> tuple[str, tuple[str, str]]:
    """`lambent accounts create`, as an operator runs it next to a running server."""
    done = subprocess.run(
        [
            *(sys.executable, "-m", "lambent", "accounts", "create"),
            *("--data-dir", str(server.data_dir), *server.store_args()),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=str(REPO),
    )
    account = done.stdout.split()[2].rstrip(";")
    path = server.data_dir / f"credentials-{account}"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    cp = configparser.ConfigParser()
    cp.read(path)
    return account, (cp["default"]["aws_access_key_id"], cp["default"]["aws_secret_access_key"])


def deploy(server: ServerProcess, keys: tuple[str, str] | None) -> Any:
    kw = {"keys": keys} if keys else {}
    iam, lam = server.client("iam", **kw), server.client("lambda", **kw)
    role = iam.create_role(RoleName="tenant", AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"]
    lam.create_function(
        FunctionName="same-name",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": python_zip(APP)},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName="same-name")
    return lam


def test_two_accounts_same_function_name(server: ServerProcess) -> None:
    first = deploy(server, None)
    account_b, keys_b = new_account(server)
    second = deploy(server, keys_b)
    arn_a = first.get_function(FunctionName="same-name")["Configuration"]["FunctionArn"]
    arn_b = second.get_function(FunctionName="same-name")["Configuration"]["FunctionArn"]
    assert arn_a != arn_b and f":{account_b}:" in arn_b

    # Each sees only its own.
    assert [f["FunctionArn"] for f in second.list_functions()["Functions"]] == [arn_b]
    with pytest.raises(ClientError) as err:
        second.get_function(FunctionName=arn_a)
    assert err.value.response["Error"]["Code"] in (
        "ResourceNotFoundException",
        "AccessDeniedException",
    )
    with pytest.raises(ClientError):
        second.invoke(FunctionName=arn_a, Payload=b"{}")

    # Same name, separate environments: never shared across accounts.
    stream_a = json.loads(first.invoke(FunctionName="same-name")["Payload"].read())["stream"]
    stream_b = json.loads(second.invoke(FunctionName="same-name")["Payload"].read())["stream"]
    assert stream_a != stream_b
    sts = server.client("sts", keys=keys_b)
    assert sts.get_caller_identity()["Account"] == account_b


def accounts_cli(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *(sys.executable, "-m", "lambent", "accounts", *args),
            *("--data-dir", str(server.data_dir), *server.store_args()),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=str(REPO),
        timeout=120,
    )


def listed(server: ServerProcess) -> dict[str, str]:
    done = accounts_cli(server, "list")
    assert done.returncode == 0, done.stderr
    return {line.split()[0]: line for line in done.stdout.splitlines()}


def refused_within(sts: Any, bound_s: float) -> bool:
    """True once the keys are refused; the server re-reads a cached key after 5 s."""
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline:
        try:
            sts.get_caller_identity()
        except ClientError as err:
            return err.response["Error"]["Code"] == "InvalidClientTokenId"
        time.sleep(0.2)
    return False


def test_accounts_list_and_delete(server: ServerProcess) -> None:
    """`lambent accounts list` shows every account, the default one marked; `delete` needs
    --yes, never deletes the default account, refuses while the account holds functions,
    then removes the account and its keys, which the running server stops accepting."""
    default = server.client("sts").get_caller_identity()["Account"]
    account, keys = new_account(server)
    accounts = listed(server)
    assert "(default)" in accounts[default] and "(default)" not in accounts[account]

    unconfirmed = accounts_cli(server, "delete", account)
    assert unconfirmed.returncode != 0 and "--yes" in unconfirmed.stderr
    refused = accounts_cli(server, "delete", default, "--yes")
    assert refused.returncode == 1 and "default account" in refused.stderr

    lam = server.client("lambda", keys=keys)
    role = server.client("iam", keys=keys).create_role(
        RoleName="doomed", AssumeRolePolicyDocument=LAMBDA_TRUST
    )["Role"]["Arn"]
    lam.create_function(
        FunctionName="kept",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": python_zip(APP)},
    )
    busy = accounts_cli(server, "delete", account, "--yes")
    assert busy.returncode == 1 and "1 function(s)" in busy.stderr, busy.stderr
    assert "1 function(s)" in listed(server)[account]
    lam.delete_function(FunctionName="kept")

    sts = server.client("sts", keys=keys)
    assert sts.get_caller_identity()["Account"] == account  # cached by the server now
    deleted = accounts_cli(server, "delete", account, "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert account not in listed(server)
    assert not (server.data_dir / f"credentials-{account}").exists()
    assert refused_within(sts, 60.0)
    # Its identity went with it: a new account with the same id starts empty.
    again = accounts_cli(server, "create", "--account-id", account)
    assert again.returncode == 0, again.stderr
    cp = configparser.ConfigParser()
    cp.read(server.data_dir / f"credentials-{account}")
    fresh = (cp["default"]["aws_access_key_id"], cp["default"]["aws_secret_access_key"])
    assert server.client("iam", keys=fresh).list_roles()["Roles"] == []
