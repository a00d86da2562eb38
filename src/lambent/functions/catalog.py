"""The store-backed FunctionCatalog: resolves names, ARNs and qualifiers, with a cache.

The data plane asks this on every invoke, so answers are cached per function and built once
per revision: a warm invoke touches no database, parses no JSON and awaits nothing that
suspends (a cache hit returns at once). Every control-plane write is followed by
`changed()` once it has committed: it drops the function's cache entries, refreshes the
in-memory index of reserved concurrency (which admission reads synchronously on every
invoke), loads what the listeners will ask for, and tells them. With a database, a
publisher (cluster/changes.py) then tells every other node, which applies the same change
with `apply_remote()`, and `changed()` returns once they all have (or are dead to the
cluster): that is what makes every frontend's cache fresh when a write answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol, TypeVar

from lambent.auth.sealing import Sealer
from lambent.clock import Clock
from lambent.errors import ResourceNotFound
from lambent.functions import arns, states
from lambent.functions.model import (
    LATEST,
    FunctionListener,
    FunctionVersion,
    LayerRef,
    Resolved,
)
from lambent.functions.repository import (
    ALIAS,
    EVENT_INVOKE,
    PROVISIONED,
    FunctionRepository,
)
from lambent.settings import Settings
from lambent.store.interface import Doc, Store

NETWORK_TAG = "lambent:network"
T = TypeVar("T")
_MISSING = object()


class _Pending(Protocol):
    def pending(self, account: str, name: str) -> asyncio.Future[None] | None: ...


class ChangePublisher(Protocol):
    async def publish(
        self, account: str, name: str, version: str | None, *, published: bool
    ) -> None:
        """Tell the other nodes of a committed write this node has applied; return once
        they have applied it too (or are dead to the cluster)."""


def not_found(
    region: str, account: str, name: str, qualifier: str | None = None
) -> ResourceNotFound:
    return ResourceNotFound(
        f"Function not found: {arns.function_arn(region, account, name, qualifier)}"
    )


_NONE: Mapping[str, int] = {}


def _requested(doc: Doc) -> int:
    return int(doc["RequestedProvisionedConcurrentExecutions"])


class StoreCatalog:
    def __init__(
        self, store: Store, settings: Settings, clock: Clock, sealer: Sealer | None = None
    ) -> None:
        self.repo = FunctionRepository(store, sealer)
        self._settings = settings
        self._clock = clock
        self._listeners: list[FunctionListener] = []
        self._cache: dict[tuple[str, str], dict[tuple[str, ...], Any]] = {}
        # A load that raced a write to its function is not cached: each invalidation bumps
        # the generation and records it for the function.
        self._generation = 0
        self._invalidated: dict[tuple[str, str], int] = {}
        self._invalidated_all = 0
        # Reserved concurrency of every function that has one, account -> name -> value.
        self._reserved: dict[str, dict[str, int]] = {}
        self._reserved_seq: dict[tuple[str, str], int] = {}
        # Provisioned concurrency per qualifier of every function that has some,
        # (account, name) -> qualifier -> requested.
        self._committed: dict[tuple[str, str], dict[str, int]] = {}
        self._provisioned_all: list[Doc] | None = None
        self._provisioner: _Pending | None = None
        self._publisher: ChangePublisher | None = None

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def clock(self) -> Clock:
        return self._clock

    async def start(self) -> None:
        """Load the index of reserved concurrency (before anything is served)."""
        index: dict[str, dict[str, int]] = {}
        for account, row in await self.repo.all_functions():
            if row.doc.get("reserved") is not None:
                index.setdefault(account, {})[row.key] = int(row.doc["reserved"])
        self._reserved = index
        committed: dict[tuple[str, str], dict[str, int]] = {}
        for _, row in await self.repo.scan(PROVISIONED):
            key = (str(row.doc["_account"]), str(row.doc["_function"]))
            committed.setdefault(key, {})[str(row.doc["_qualifier"])] = _requested(row.doc)
        self._committed = committed

    # cache ---------------------------------------------------------------------------
    async def _cached(
        self, account: str, name: str, key: tuple[str, ...], load: Callable[[], Awaitable[T]]
    ) -> T:
        entry = self._cache.get((account, name))
        if entry is not None:
            hit = entry.get(key, _MISSING)
            if hit is not _MISSING:
                return hit  # type: ignore[no-any-return]
        started = self._generation
        value = await load()
        if max(self._invalidated.get((account, name), 0), self._invalidated_all) <= started:
            self._cache.setdefault((account, name), {})[key] = value
        return value

    def cached_version(self, account: str, name: str, version: str) -> FunctionVersion | None:
        """A version from the cache alone (None: not cached). `changed()` loads the versions
        it tells listeners about, so a listener can ask this without awaiting."""
        entry = self._cache.get((account, name))
        hit = None if entry is None else entry.get(("version", version))
        return hit if isinstance(hit, FunctionVersion) else None

    def invalidate(self, account: str, name: str) -> None:
        self._generation += 1
        self._invalidated[(account, name)] = self._generation
        self._cache.pop((account, name), None)
        self._provisioned_all = None

    async def invalidate_all(self) -> None:
        """Forget every cached answer and reload the indexes: this node may have missed
        changes (its change feed reconnected, or it joined the cluster again). The data
        plane is told that each function it had cached may have a new $LATEST."""
        had = list(self._cache)
        self._generation += 1
        self._invalidated_all = self._generation
        self._invalidated.clear()
        self._cache.clear()
        self._provisioned_all = None
        await self.start()
        for account, name in had:
            await self._apply(account, name, LATEST)

    async def changed(self, account: str, name: str, version: str | None) -> None:
        """After a committed write: forget cached answers, refresh the reserved index, and
        with `version` set tell the data plane ("*" = every version); then the other nodes,
        if any (they have applied it when this returns)."""
        await self._apply(account, name, version)
        if self._publisher is not None:
            await self._publisher.publish(account, name, version, published=False)

    async def apply_remote(
        self, account: str, name: str, version: str | None, *, published: bool
    ) -> None:
        """Another node's committed write: what `changed()` does here, told to no one else.
        A publication only refreshes the cache: the one-time work it starts (a SnapStart
        snapshot and its State) belongs to the node that published."""
        if published:
            self.invalidate(account, name)
            await self._load_for_listeners(account, name, str(version))
        else:
            await self._apply(account, name, version)

    async def _apply(self, account: str, name: str, version: str | None) -> None:
        self.invalidate(account, name)
        await self._refresh_reserved(account, name)
        if version is None:
            return
        await self._load_for_listeners(account, name, version)
        for listener in list(self._listeners):
            done = listener.function_changed(account, name, version)
            if done is not None:
                await done

    async def published(self, account: str, name: str, version: str) -> None:
        self.invalidate(account, name)
        await self._load_for_listeners(account, name, version)
        for listener in list(self._listeners):
            listener.version_published(account, name, version)
        if self._publisher is not None:
            await self._publisher.publish(account, name, version, published=True)

    async def _load_for_listeners(self, account: str, name: str, version: str) -> None:
        for number in {LATEST, version} - {"*"}:
            with contextlib.suppress(ResourceNotFound):
                await self.version(account, name, number)

    async def _refresh_reserved(self, account: str, name: str) -> None:
        key = (account, name)
        seq = self._reserved_seq.get(key, 0) + 1
        self._reserved_seq[key] = seq
        fn = await self.function_doc(account, name)
        rows = await self.repo.children(PROVISIONED, account, name) if fn is not None else []
        if self._reserved_seq.get(key) != seq:
            return  # a later refresh of the same function wins
        del self._reserved_seq[key]
        functions = self._reserved.setdefault(account, {})
        if fn is None or fn.get("reserved") is None:
            functions.pop(name, None)
        else:
            functions[name] = int(fn["reserved"])
        if rows:
            self._committed[key] = {row.key: _requested(row.doc) for row in rows}
        else:
            self._committed.pop(key, None)

    def subscribe(self, listener: FunctionListener) -> None:
        self._listeners.append(listener)

    def attach_publisher(self, publisher: ChangePublisher) -> None:
        self._publisher = publisher

    def attach_provisioner(self, provisioner: _Pending) -> None:
        self._provisioner = provisioner

    def pending(self, account: str, name: str) -> asyncio.Future[None] | None:
        """The code extraction a Pending/InProgress function waits for (None if settled)."""
        return None if self._provisioner is None else self._provisioner.pending(account, name)

    async def notify(self, account_id: str, function_name: str, version: str) -> None:
        await self.changed(account_id, function_name, version)

    # reads for the control plane -----------------------------------------------------
    async def function_doc(self, account: str, name: str) -> Doc | None:
        return await self._cached(account, name, ("fn",), lambda: self.repo.function(account, name))

    async def home_region(self, account: str, name: str) -> str | None:
        fn = await self.function_doc(account, name)
        return None if fn is None else str(fn["region"])

    # resolve -------------------------------------------------------------------------
    async def resolve(
        self,
        account_id: str,
        function: str,
        qualifier: str | None,
        *,
        region: str | None = None,
    ) -> Resolved:
        """Invoke's lookup: an ARN of another region is not reachable (checked first), and a
        missing function is reported with the qualifier invoked, `$LATEST` if none."""
        ref = arns.parse_function(function, qualifier, region=region)
        where = ref.region or region or self._settings.region
        fn = await self.function_doc(account_id, ref.name)
        scoped = ref.region is not None or region is not None
        if (
            fn is None
            or (ref.account is not None and ref.account != account_id)
            or (scoped and fn["region"] != where)
        ):
            raise not_found(where, ref.account or account_id, ref.name, ref.qualifier or LATEST)
        q = ref.qualifier or LATEST
        return await self._cached(
            account_id, ref.name, ("resolve", q), lambda: self._resolve(account_id, ref.name, q)
        )

    async def _resolve(self, account: str, name: str, qualifier: str) -> Resolved:
        if qualifier == LATEST or qualifier.isdigit():
            return Resolved(await self.version(account, name, qualifier))
        alias = await self.repo.child(ALIAS, account, name, qualifier)
        fn = await self.function_doc(account, name)
        if alias is None or fn is None:
            region = str(fn["region"]) if fn else self._settings.region
            raise not_found(region, account, name, qualifier)
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        # The versions the weights send traffic to are loaded now, so routing an invoke
        # (InvokeService.route) needs no lookup.
        routes = {str(k): await self.version(account, name, str(k)) for k in weights}
        return Resolved(
            version=await self.version(account, name, str(alias["FunctionVersion"])),
            alias=qualifier,
            additional_weights={str(k): float(v) for k, v in weights.items()},
            alias_arn=str(alias["AliasArn"]),
            additional_versions=routes,
        )

    async def version(self, account_id: str, function_name: str, version: str) -> FunctionVersion:
        return await self._cached(
            account_id,
            function_name,
            ("version", version),
            lambda: self._build(account_id, function_name, version),
        )

    async def _build(self, account: str, name: str, version: str) -> FunctionVersion:
        fn = await self.function_doc(account, name)
        doc = await self.repo.version(account, name, version) if fn is not None else None
        if fn is None or doc is None:
            region = str(fn["region"]) if fn else self._settings.region
            raise not_found(region, account, name, version)
        return build_version(account, name, fn, doc)

    # reads for the data plane --------------------------------------------------------
    def reserved_concurrency(self, account: str, name: str) -> int | None:
        """From the in-memory index (no await: admission asks on every invoke)."""
        functions = self._reserved.get(account)
        return None if functions is None else functions.get(name)

    def provisioned_by_qualifier(self, account: str, name: str) -> Mapping[str, int]:
        """Provisioned concurrency requested per qualifier, from memory (admission asks)."""
        return self._committed.get((account, name)) or _NONE

    def reserved_total(self, account: str) -> int:
        """Sum of reserved concurrency in the account (admission's unreserved pool)."""
        functions = self._reserved.get(account)
        return 0 if not functions else sum(functions.values())

    async def event_invoke_config(
        self, account: str, name: str, qualifier: str | None
    ) -> Doc | None:
        q = qualifier or LATEST
        return await self._cached(
            account, name, ("eic", q), lambda: self.repo.child(EVENT_INVOKE, account, name, q)
        )

    async def provisioned_concurrency(
        self, account: str, name: str, qualifier: str | None
    ) -> Doc | None:
        if not qualifier:
            return None
        return await self._cached(
            account,
            name,
            ("pc", qualifier),
            lambda: self.repo.child(PROVISIONED, account, name, qualifier),
        )

    async def provisioned_configs(self) -> list[Doc]:
        """Every provisioned concurrency config of every account (for start-up)."""
        if self._provisioned_all is not None:
            return list(self._provisioned_all)
        generation = self._generation
        found = [row.doc for _, row in await self.repo.scan(PROVISIONED)]
        if generation == self._generation:
            self._provisioned_all = found
        return list(found)

    # writes the data plane reports -----------------------------------------------------
    async def set_version_state(
        self,
        account: str,
        name: str,
        version: str,
        state: str,
        reason: str | None = None,
        reason_code: str | None = None,
    ) -> None:
        """The data plane's verdict on a version (SnapStart: the snapshot is taken or failed)."""
        from lambent.functions import lifecycle

        await lifecycle.report_state(self, account, name, version, state, reason, reason_code)

    async def set_provisioned_status(
        self,
        account: str,
        name: str,
        qualifier: str,
        status: str,
        reason: str | None = None,
        *,
        available: int | None = None,
        allocated: int | None = None,
    ) -> None:
        from lambent.functions import concurrency

        await concurrency.set_status(
            self, account, name, qualifier, status, reason, available, allocated
        )


def build_version(account: str, name: str, fn: Doc, doc: Doc) -> FunctionVersion:
    cfg: Mapping[str, Any] = doc["config"]
    status = states.from_config(dict(cfg))
    tags = fn.get("tags") or {}
    logging = cfg.get("LoggingConfig") or {}
    return FunctionVersion(
        account_id=account,
        region=str(fn["region"]),
        function_name=name,
        version=str(cfg["Version"]),
        function_arn=arns.function_arn(str(fn["region"]), account, name),
        revision_id=str(cfg["RevisionId"]),
        runtime=str(cfg.get("Runtime") or ""),
        handler=str(cfg.get("Handler") or ""),
        role=str(cfg["Role"]),
        memory_mb=int(cfg["MemorySize"]),
        timeout_s=int(cfg["Timeout"]),
        ephemeral_mb=int(cfg["EphemeralStorage"]["Size"]),
        environment=dict((cfg.get("Environment") or {}).get("Variables") or {}),
        layers=tuple(
            LayerRef(str(ly["arn"]), str(ly["sha256_hex"]), int(ly["size"]))
            for ly in doc.get("layers") or []
        ),
        code_sha256_hex=str(doc["code"]["sha256_hex"]),
        code_size=int(doc["code"]["size"]),
        state=status.state,
        last_update_status=status.update or "Successful",
        snapstart=(cfg.get("SnapStart") or {}).get("ApplyOn") == "PublishedVersions"
        and cfg["Version"] != LATEST,
        network="none" if tags.get(NETWORK_TAG) == "none" else "egress",
        log_group=str(logging.get("LogGroup") or f"/aws/lambda/{name}"),
        log_format=str(logging.get("LogFormat") or "Text"),
        application_log_level=logging.get("ApplicationLogLevel"),
        system_log_level=logging.get("SystemLogLevel"),
        config=public_config(cfg),
        fingerprint=template_fingerprint(cfg, doc, tags),
        recursive_loop=str(fn.get("recursive_loop") or "Terminate"),
    )


# What changes without changing what a version's environments run.
_STATE_KEYS = frozenset(
    {
        "RevisionId",
        "State",
        "StateReason",
        "StateReasonCode",
        "LastUpdateStatus",
        "LastUpdateStatusReason",
        "LastUpdateStatusReasonCode",
    }
)


def template_fingerprint(cfg: Mapping[str, Any], doc: Doc, tags: Mapping[str, Any]) -> str:
    """What a version's environments are made of: its configuration without its RevisionId
    and State fields (LastModified stays: every update gets new environments, as on AWS),
    its code and layers, and the tag Lambent reads (`lambent:network`)."""
    stable = {k: v for k, v in cfg.items() if k not in _STATE_KEYS and not k.startswith("_")}
    material = {
        "config": stable,
        "code": doc.get("code"),
        "layers": doc.get("layers") or [],
        "network": tags.get(NETWORK_TAG),
    }
    raw = json.dumps(material, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def public_config(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration without Lambent's bookkeeping keys."""
    return {k: v for k, v in cfg.items() if not k.startswith("_")}
