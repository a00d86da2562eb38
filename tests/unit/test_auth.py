"""SigV4 verification and the authenticator's AWS answers, on a real store, in virtual time."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lambent.api.errors import status_of
from lambent.auth import sigv4
from lambent.auth.authenticator import Authenticator
from lambent.auth.credentials import Credential, CredentialStore
from lambent.auth.sealing import Sealer
from lambent.clock import ManualClock
from lambent.errors import (
    ExpiredToken,
    InvalidSignature,
    MissingAuthentication,
    UnrecognizedClient,
)
from lambent.http.messages import Request
from lambent.store.sqlite import SqliteStore

PATH = "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af"


def signed(clock: ManualClock, key: str, secret: str, token: str | None = None) -> Request:
    body = b'{"x": 1}'
    headers = sigv4.sign_headers(
        method="GET",
        url_path=PATH,
        query="Qualifier=%24LATEST&b=2",
        headers={"host": "127.0.0.1:9000", "content-type": "application/json"},
        body=body,
        access_key=key,
        secret=secret,
        region="us-east-1",
        service="lambda",
        session_token=token,
        now=dt.datetime.fromtimestamp(clock.time(), tz=dt.UTC),
    )
    return Request("GET", PATH, "b=2&Qualifier=%24LATEST", dict(headers), body)


@pytest.fixture
async def world(
    tmp_path: Path,
) -> AsyncIterator[tuple[ManualClock, CredentialStore, Authenticator]]:
    clock = ManualClock()
    store = SqliteStore(tmp_path / "s.db")
    creds = CredentialStore(store, clock, Sealer.generate())
    yield clock, creds, Authenticator("sigv4", creds, clock, "000000000000")
    await store.close()


async def test_a_correctly_signed_request_is_accepted(
    world: tuple[ManualClock, CredentialStore, Authenticator],
) -> None:
    clock, creds, auth = world
    account, root = await creds.create_account("123456789012")
    caller = await auth.authenticate(signed(clock, root.access_key, root.secret))
    assert caller.account_id == account == "123456789012"
    assert caller.principal_arn == "arn:aws:iam::123456789012:root"
    assert caller.service == "lambda" and caller.region == "us-east-1"


async def test_wrong_secret_unknown_key_missing_header(
    world: tuple[ManualClock, CredentialStore, Authenticator],
) -> None:
    clock, creds, auth = world
    _, root = await creds.create_account("123456789012")
    with pytest.raises(InvalidSignature) as bad:
        await auth.authenticate(signed(clock, root.access_key, "not-the-secret"))
    assert status_of(bad.value) == 403
    assert "signature we calculated does not match" in bad.value.message
    with pytest.raises(UnrecognizedClient):
        await auth.authenticate(signed(clock, "AKIANOTAKEY000000000", root.secret))
    with pytest.raises(MissingAuthentication):
        await auth.authenticate(Request("GET", "/", "", {}, b""))


async def test_a_tampered_body_fails(
    world: tuple[ManualClock, CredentialStore, Authenticator],
) -> None:
    clock, creds, auth = world
    _, root = await creds.create_account("123456789012")
    req = signed(clock, root.access_key, root.secret)
    req.body = b'{"x": 2}'
    with pytest.raises(InvalidSignature):
        await auth.authenticate(req)


async def test_stale_request_is_refused_as_expired_signature(
    world: tuple[ManualClock, CredentialStore, Authenticator],
) -> None:
    clock, creds, auth = world
    _, root = await creds.create_account("123456789012")
    req = signed(clock, root.access_key, root.secret)
    clock.advance(16 * 60)
    with pytest.raises(InvalidSignature) as err:
        await auth.authenticate(req)
    assert err.value.message.startswith("Signature expired")


async def test_session_keys_need_their_token_and_expire(
    world: tuple[ManualClock, CredentialStore, Authenticator],
) -> None:
    clock, creds, auth = world
    await creds.create_account("123456789012")
    session = Credential(
        access_key="ASIAEXAMPLE000000000",
        secret="s3cret",
        account_id="123456789012",
        principal_arn="arn:aws:sts::123456789012:assumed-role/r/s",
        user_id="AROAX:s",
        session_token="tok",
        expires_at=clock.time() + 900,
    )
    await creds.save(session)
    assert (
        await auth.authenticate(signed(clock, session.access_key, "s3cret", "tok"))
    ).user_id == "AROAX:s"
    with pytest.raises(UnrecognizedClient):
        await auth.authenticate(signed(clock, session.access_key, "s3cret", "other"))
    clock.advance(901)
    with pytest.raises(ExpiredToken):
        await auth.authenticate(signed(clock, session.access_key, "s3cret", "tok"))
