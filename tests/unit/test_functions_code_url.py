from __future__ import annotations

from pathlib import Path

from lambent.clock import ManualClock
from lambent.functions.code_url import PREFIX, VALID_S, CodeUrlSigner
from lambent.functions.repository import FunctionRepository
from lambent.store.sqlite import SqliteStore


async def test_sign_verify_and_expire(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    clock = ManualClock()
    signer = CodeUrlSigner(FunctionRepository(store), clock, "http://h:1/")
    url = await signer.url("ab" * 32, "f.zip")
    assert url.startswith("http://h:1" + PREFIX)
    token = url.split(PREFIX, 1)[1]
    assert await signer.verify(token) == ("ab" * 32, "f.zip")
    # Another signer on the same store (another frontend, a restart) accepts it.
    other = CodeUrlSigner(FunctionRepository(store), clock, "http://h:1")
    assert await other.verify(token) == ("ab" * 32, "f.zip")
    clock.advance(VALID_S + 1)
    assert await signer.verify(token) is None
    await store.close()


async def test_tampered_tokens_are_refused(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    signer = CodeUrlSigner(FunctionRepository(store), ManualClock(), "x")
    token = (await signer.url("cd" * 32, "f.zip")).split(PREFIX, 1)[1]
    body, sig = token.split(".")
    assert await signer.verify(body + "." + sig[::-1]) is None
    assert await signer.verify("garbage") is None
    assert await signer.verify("") is None
    await store.close()
