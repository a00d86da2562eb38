"""A start refuses a master key that does not open the store's sealed check value."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from lambent.auth import key_check
from lambent.auth.sealing import Sealer, SealError
from lambent.store.memory import MemoryStore


def test_the_first_key_is_recorded_and_only_it_opens_the_store() -> None:
    async def main() -> None:
        store = MemoryStore()
        key = Sealer.generate()
        await key_check.verify(store, key, Path("first.key"))  # first start: recorded
        await key_check.verify(store, key, Path("first.key"))  # a restart, another node
        with pytest.raises(SealError, match="every node of a cluster needs the same"):
            await key_check.verify(store, Sealer.generate(), Path("other.key"))
        await key_check.verify(store, key, Path("first.key"))  # the refusal changed nothing

    asyncio.run(main())
