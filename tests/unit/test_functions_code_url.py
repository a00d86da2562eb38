from __future__ import annotations

from lambent.auth.sealing import Sealer
from lambent.clock import ManualClock
from lambent.functions.code_url import PREFIX, VALID_S, CodeUrlSigner


async def test_sign_verify_and_expire() -> None:
    clock = ManualClock()
    master = Sealer.generate()
    signer = CodeUrlSigner(master.derive("code-url"), clock, "http://h:1/")
    url = await signer.url("ab" * 32, "f.zip")
    assert url.startswith("http://h:1" + PREFIX)
    token = url.split(PREFIX, 1)[1]
    assert await signer.verify(token) == ("ab" * 32, "f.zip")
    # Another signer with the same master key (another frontend, a restart) accepts it.
    other = CodeUrlSigner(master.derive("code-url"), clock, "http://h:1")
    assert await other.verify(token) == ("ab" * 32, "f.zip")
    # A server with another master key does not.
    stranger = CodeUrlSigner(Sealer.generate().derive("code-url"), clock, "http://h:1")
    assert await stranger.verify(token) is None
    clock.advance(VALID_S + 1)
    assert await signer.verify(token) is None


async def test_tampered_tokens_are_refused() -> None:
    signer = CodeUrlSigner(Sealer.generate().derive("code-url"), ManualClock(), "x")
    token = (await signer.url("cd" * 32, "f.zip")).split(PREFIX, 1)[1]
    body, sig = token.split(".")
    assert await signer.verify(body + "." + sig[::-1]) is None
    assert await signer.verify("garbage") is None
    assert await signer.verify("") is None
