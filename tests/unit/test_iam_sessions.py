"""SessionIssuer on a real SQLite store with an injected clock: keys SigV4 accepts,
expiry, the execution-credential cache, and the purge cadence."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lambent.auth.authenticator import Authenticator
from lambent.auth.credentials import GLOBAL, KEY_KIND, CredentialStore
from lambent.auth.sealing import Sealer
from lambent.auth.sigv4 import sign_headers
from lambent.clock import ManualClock
from lambent.errors import AccessDenied, ExpiredToken, IamNoSuchEntity, ValidationError
from lambent.http.messages import Request
from lambent.iam.roles import Roles
from lambent.iam.sessions import SessionCredentials, SessionIssuer
from lambent.store.sqlite import SqliteStore
from tests.support import LAMBDA_TRUST


class World:
    def __init__(self, tmp: Path) -> None:
        self.clock = ManualClock()
        self.store = SqliteStore(tmp / "state.db")
        self.credentials = CredentialStore(self.store, self.clock, Sealer.generate())
        self.roles = Roles(self.store, self.clock)
        self.issuer = SessionIssuer(self.roles, self.credentials, self.clock, purge_interval_s=60)
        self.auth = Authenticator("sigv4", self.credentials, self.clock, "000000000000")

    async def start(self) -> None:
        self.account, self.root = await self.credentials.create_account()
        self.role = await self.roles.create(
            self.account, {"RoleName": "fn", "AssumeRolePolicyDocument": LAMBDA_TRUST}
        )

    def signed(self, creds: SessionCredentials) -> Request:
        body = b"Action=GetCallerIdentity&Version=2011-06-15"
        headers = sign_headers(
            method="POST",
            url_path="/",
            query="",
            headers={"host": "x", "content-type": "application/x-www-form-urlencoded"},
            body=body,
            access_key=creds.access_key_id,
            secret=creds.secret_access_key,
            region="us-east-1",
            service="sts",
            session_token=creds.session_token,
            now=dt.datetime.fromtimestamp(self.clock.time(), tz=dt.UTC),
        )
        return Request("POST", "/", "", headers, body)

    async def session_keys(self) -> list[str]:
        return [
            row.key
            for _, row in await self.store.scan(KEY_KIND)
            if row.doc.get("session_token") is not None
        ]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    w = World(tmp_path)
    await w.start()
    yield w
    await w.store.close()


async def test_session_keys_authenticate_until_they_expire(world: World) -> None:
    root_arn = f"arn:aws:iam::{world.account}:root"
    creds = await world.issuer.assume_role(world.account, root_arn, world.role["Arn"], "job", 900)
    assert creds.access_key_id.startswith("ASIA")
    assert creds.expiration == world.clock.time() + 900
    caller = await world.auth.authenticate(world.signed(creds))
    assert caller.principal_arn == f"arn:aws:sts::{world.account}:assumed-role/fn/job"
    assert caller.user_id == f"{world.role['RoleId']}:job"
    world.clock.advance(901)
    with pytest.raises(ExpiredToken):  # AWS: ExpiredTokenException, not an unknown key
        await world.auth.authenticate(world.signed(creds))


async def test_assume_role_rules(world: World) -> None:
    root_arn = f"arn:aws:iam::{world.account}:root"
    with pytest.raises(ValidationError, match="MaxSessionDuration"):
        await world.issuer.assume_role(world.account, root_arn, world.role["Arn"], "s", 3601)
    with pytest.raises(AccessDenied):
        await world.issuer.assume_role(
            "999999999999", "arn:aws:iam::999999999999:root", world.role["Arn"], "s", None
        )
    with pytest.raises(AccessDenied):
        await world.issuer.assume_role(world.account, root_arn, "not an arn", "s", None)
    session = f"arn:aws:sts::{world.account}:assumed-role/fn/s"
    await world.roles.update(world.account, "fn", {"MaxSessionDuration": 7200})
    with pytest.raises(ValidationError, match="role chaining"):
        await world.issuer.assume_role(world.account, session, world.role["Arn"], "s2", 3700)


async def test_every_environment_gets_its_own_execution_credentials(world: World) -> None:
    """As on Lambda: each execution environment its own keys, signing as
    assumed-role/<role>/<function>, valid for the environment's lifetime; they live in
    memory only, never in the store."""
    arn = world.role["Arn"]
    first = await world.issuer.execution_credentials(arn, "my-function", valid_for_s=600)
    second = await world.issuer.execution_credentials(arn, "my-function", valid_for_s=600)
    assert first.principal_arn.endswith(":assumed-role/fn/my-function")
    assert set(first.environment()) == {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    }
    assert len({first.access_key_id, second.access_key_id}) == 2
    assert first.secret_access_key != second.secret_access_key
    for creds in (first, second):
        identity = await world.auth.authenticate(world.signed(creds))
        assert (identity.account_id, identity.principal_arn) == (world.account, first.principal_arn)
    assert await world.session_keys() == []
    world.clock.advance(601)
    with pytest.raises(ExpiredToken):
        await world.auth.authenticate(world.signed(first))


async def test_execution_credentials_need_the_role(world: World) -> None:
    arn = world.role["Arn"]
    await world.issuer.execution_credentials(arn, "f", valid_for_s=60)
    await world.roles.delete(world.account, "fn")
    # A cold start does not read the role again for a minute; after that, it is gone.
    world.clock.advance(61)
    with pytest.raises(IamNoSuchEntity):
        await world.issuer.execution_credentials(arn, "f", valid_for_s=60)
    with pytest.raises(IamNoSuchEntity):
        await world.issuer.execution_credentials(
            f"arn:aws:iam::{world.account}:role/gone", "f", valid_for_s=60
        )


async def test_expired_keys_are_purged_on_the_issue_cadence(world: World) -> None:
    root_arn = f"arn:aws:iam::{world.account}:root"
    arn = world.role["Arn"]
    first = await world.issuer.assume_role(world.account, root_arn, arn, "a1", 900)
    world.clock.advance(1000)  # first has expired; the last sweep was at the first issue
    second = await world.issuer.assume_role(world.account, root_arn, arn, "a2", 900)
    assert set(await world.session_keys()) == {second.access_key_id}
    world.clock.advance(950)  # second expired, but a sweep ran only 950 s ago
    third = await world.issuer.assume_role(world.account, root_arn, arn, "a3", 900)
    world.clock.advance(10)
    await world.issuer.assume_role(world.account, root_arn, arn, "a4", 900)
    assert third.access_key_id in await world.session_keys()
    assert second.access_key_id not in await world.session_keys()
    assert await world.store.get(KEY_KIND, GLOBAL, first.access_key_id) is None
    # The root key never expires and is never purged.
    assert await world.credentials.lookup(world.root.access_key) is not None
