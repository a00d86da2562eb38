"""Where function URL configurations live in the store.

- lambda_url, account "", key URL_ID: the whole configuration (UrlConfig.to_doc()). The
  endpoint knows only the url-id, so this is the one read a URL request costs.
- lambda_url_ref, key "NAME:QUALIFIER", parent NAME: {"url_id"}. One URL per qualifier
  (insert fails if taken) and ListFunctionUrlConfigs by function.
"""

from __future__ import annotations

from lambent.function_urls.model import UrlConfig
from lambent.store.interface import Store

URL = "lambda_url"
URL_REF = "lambda_url_ref"


def ref_key(function: str, qualifier: str) -> str:
    return f"{function}:{qualifier}"


class UrlRepository:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def by_id(self, url_id: str) -> UrlConfig | None:
        doc = await self.store.get(URL, "", url_id)
        return None if doc is None else UrlConfig.from_doc(doc)

    async def by_qualifier(self, account: str, function: str, qualifier: str) -> UrlConfig | None:
        ref = await self.store.get(URL_REF, account, ref_key(function, qualifier))
        return None if ref is None else await self.by_id(str(ref["url_id"]))

    async def of_function(self, account: str, function: str) -> list[UrlConfig]:
        found = []
        for row in await self.store.list(URL_REF, account, parent=function):
            config = await self.by_id(str(row.doc["url_id"]))
            if config is not None:
                found.append(config)
        return found

    async def insert(self, config: UrlConfig) -> bool:
        """Both documents, or neither: False when the qualifier already has a URL."""
        async with self.store.transaction():
            key = ref_key(config.function, config.qualifier)
            ref = {"url_id": config.url_id}
            if not await self.store.insert(
                URL_REF, config.account, key, ref, parent=config.function
            ):
                return False
            if not await self.store.insert(URL, "", config.url_id, config.to_doc()):
                raise UrlIdTaken(config.url_id)
            return True

    async def put(self, config: UrlConfig) -> None:
        await self.store.put(URL, "", config.url_id, config.to_doc())

    async def delete(self, config: UrlConfig) -> None:
        key = ref_key(config.function, config.qualifier)
        async with self.store.transaction():
            await self.store.delete(URL, "", config.url_id)
            ref = await self.store.get(URL_REF, config.account, key)
            if ref is not None and ref.get("url_id") == config.url_id:
                await self.store.delete(URL_REF, config.account, key)


class UrlIdTaken(Exception):
    """A freshly drawn url-id collided (1 in 36^32): the caller draws again."""
