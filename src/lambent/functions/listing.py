"""ListFunctions, one page at a time from the store.

A page reads only the functions it shows (plus one, to know whether there are more), so
its cost does not grow with the account's number of functions (issue 8 §1.15: 10,000
functions list as fast as 10). Items follow the store's order of function names, each
function's $LATEST then its versions by number, and the marker is the last item's key
(name, version), a strict total order: a walk sees every function once, in order, and ends
(the names `cp-1`, `cp-1-p0` included).
"""

from __future__ import annotations

from collections.abc import Callable

from lambent.functions.pagination import DEFAULT_PAGE, decode_marker, encode_marker, page_size
from lambent.functions.repository import FunctionRepository
from lambent.paging import Key
from lambent.store.interface import Doc

Render = Callable[[Doc, bool], Doc]


def item_key(name: str, version: str | None) -> Key:
    """(name, version number), $LATEST as 0: the store's order of names, then each
    function's $LATEST before its versions by number."""
    return (name, 0 if version is None else int(version))


async def list_functions(
    repo: FunctionRepository,
    account: str,
    region: str,
    *,
    every: bool,
    marker: str | None,
    max_items: int | None,
    render: Render,
) -> tuple[list[Doc], str | None]:
    """One page of FunctionConfigurations (`every`: versions too) and the next marker.
    At most 50 a page whatever MaxItems says, as AWS."""
    size = page_size(max_items, cap=DEFAULT_PAGE)
    after = decode_marker(marker, shape=(str, int)) if marker else None
    name_after = str(after[0]) if after is not None else None
    items: list[tuple[Key, Doc]] = []
    if every and name_after:  # the marker's function may have versions still to show
        fn = await repo.function(account, name_after)
        if fn is not None and fn["region"] == region:
            entries = await _entries(repo, account, name_after, fn, every, render)
            items.extend(e for e in entries if after is not None and e[0] > after)
    cursor = name_after
    while len(items) <= size:
        rows = await repo.functions(account, after=cursor, limit=size + 1)
        for row in rows:
            if row.doc["region"] == region:
                items.extend(await _entries(repo, account, row.key, row.doc, every, render))
            if len(items) > size:
                break
        if len(rows) <= size:
            break
        cursor = rows[-1].key
    chunk = items[:size]
    next_marker = encode_marker(chunk[-1][0]) if len(items) > size and chunk else None
    return [doc for _, doc in chunk], next_marker


async def _entries(
    repo: FunctionRepository, account: str, name: str, fn: Doc, every: bool, render: Render
) -> list[tuple[Key, Doc]]:
    out = [(item_key(name, None), render(fn["latest"]["config"], every))]
    if every:
        for doc in await repo.versions(account, name):
            version = str(doc["config"]["Version"])
            out.append((item_key(name, version), render(doc["config"], True)))
    out.sort(key=lambda item: item[0])
    return out
