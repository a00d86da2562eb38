"""The store-backed FunctionCatalog: resolves names, ARNs and qualifiers, with a cache.

The data plane asks this on every invoke, so answers are cached per function and built once
per revision: a warm invoke touches no database and parses no JSON. Every control-plane
write goes through `changed()`, which drops the function's cache entries and tells the
listeners. (One process owns the cache; frontends sharing a PostgreSQL store would need a
revision check or a notification channel here.)
"""

from __future__ import annotations

import concurrent.futures
import functools
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

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


def _call_now(fn: Callable[[], None]) -> None:
    fn()


class _Pending(Protocol):
    def pending(self, account: str, name: str) -> concurrent.futures.Future[None] | None: ...


def not_found(
    region: str, account: str, name: str, qualifier: str | None = None
) -> ResourceNotFound:
    return ResourceNotFound(
        f"Function not found: {arns.function_arn(region, account, name, qualifier)}"
    )


class StoreCatalog:
    def __init__(self, store: Store, settings: Settings, clock: Clock) -> None:
        self.repo = FunctionRepository(store)
        self._settings = settings
        self._clock = clock
        self._listeners: list[FunctionListener] = []
        self._lock = threading.RLock()
        self._cache: dict[tuple[str, str], dict[tuple[str, ...], Any]] = {}
        # Bumped on every invalidation, so a load that raced a write is not cached.
        self._generation = 0
        self._reserved_totals: dict[str, tuple[int, int]] = {}
        self._provisioned_all: list[Doc] | None = None
        self._provisioner: _Pending | None = None
        self._post: Callable[[Callable[[], None]], None] = _call_now

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def clock(self) -> Clock:
        return self._clock

    # cache ---------------------------------------------------------------------------
    def _cached(self, account: str, name: str, key: tuple[str, ...], load: Callable[[], T]) -> T:
        with self._lock:
            entry = self._cache.get((account, name))
            if entry is not None:
                hit = entry.get(key, _MISSING)
                if hit is not _MISSING:
                    return hit  # type: ignore[no-any-return]
            generation = self._generation
        value = load()
        with self._lock:
            if generation == self._generation:
                self._cache.setdefault((account, name), {})[key] = value
        return value

    def invalidate(self, account: str, name: str) -> None:
        with self._lock:
            self._generation += 1
            self._cache.pop((account, name), None)
            self._provisioned_all = None

    def set_notifier(self, post: Callable[[Callable[[], None]], None]) -> None:
        """How listener calls are delivered, e.g. `loop.call_soon_threadsafe`: code
        extraction settles on worker threads, and listeners live on the event loop."""
        self._post = post

    def changed(self, account: str, name: str, version: str | None) -> None:
        """After a write: forget cached answers; `version` set means tell the data plane."""
        self.invalidate(account, name)
        if version is not None:
            for listener in list(self._listeners):
                self._post(functools.partial(listener.function_changed, account, name, version))

    def published(self, account: str, name: str, version: str) -> None:
        self.invalidate(account, name)
        for listener in list(self._listeners):
            self._post(functools.partial(listener.version_published, account, name, version))

    def subscribe(self, listener: FunctionListener) -> None:
        self._listeners.append(listener)

    def attach_provisioner(self, provisioner: _Pending) -> None:
        self._provisioner = provisioner

    def pending(self, account: str, name: str) -> concurrent.futures.Future[None] | None:
        """The code extraction a Pending/InProgress function waits for (None if settled).

        The data plane can `asyncio.wrap_future` it to hold an invoke until Active."""
        return None if self._provisioner is None else self._provisioner.pending(account, name)

    def notify(self, account_id: str, function_name: str, version: str) -> None:
        self.changed(account_id, function_name, version)

    # reads for the control plane -----------------------------------------------------
    def function_doc(self, account: str, name: str) -> Doc | None:
        return self._cached(account, name, ("fn",), lambda: self.repo.function(account, name))

    def home_region(self, account: str, name: str) -> str | None:
        fn = self.function_doc(account, name)
        return None if fn is None else str(fn["region"])

    # resolve -------------------------------------------------------------------------
    def resolve(
        self,
        account_id: str,
        function: str,
        qualifier: str | None,
        *,
        region: str | None = None,
    ) -> Resolved:
        ref = arns.parse_function(function, qualifier)
        where = ref.region or region or self._settings.region
        fn = self.function_doc(account_id, ref.name)
        scoped = ref.region is not None or region is not None
        if (
            fn is None
            or (ref.account is not None and ref.account != account_id)
            or (scoped and fn["region"] != where)
        ):
            raise not_found(where, ref.account or account_id, ref.name, ref.qualifier)
        q = ref.qualifier or LATEST
        return self._cached(
            account_id, ref.name, ("resolve", q), lambda: self._resolve(account_id, ref.name, q)
        )

    def _resolve(self, account: str, name: str, qualifier: str) -> Resolved:
        if qualifier == LATEST or qualifier.isdigit():
            return Resolved(self.version(account, name, qualifier))
        alias = self.repo.child(ALIAS, account, name, qualifier)
        fn = self.function_doc(account, name)
        if alias is None or fn is None:
            region = str(fn["region"]) if fn else self._settings.region
            raise not_found(region, account, name, qualifier)
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        return Resolved(
            version=self.version(account, name, str(alias["FunctionVersion"])),
            alias=qualifier,
            additional_weights={str(k): float(v) for k, v in weights.items()},
            alias_arn=str(alias["AliasArn"]),
        )

    def version(self, account_id: str, function_name: str, version: str) -> FunctionVersion:
        return self._cached(
            account_id,
            function_name,
            ("version", version),
            lambda: self._build(account_id, function_name, version),
        )

    def _build(self, account: str, name: str, version: str) -> FunctionVersion:
        fn = self.function_doc(account, name)
        doc = self.repo.version(account, name, version) if fn is not None else None
        if fn is None or doc is None:
            region = str(fn["region"]) if fn else self._settings.region
            raise not_found(region, account, name, version)
        return build_version(account, name, fn, doc)

    # reads for the data plane --------------------------------------------------------
    def reserved_concurrency(self, account: str, name: str) -> int | None:
        fn = self.function_doc(account, name)
        if fn is None or fn.get("reserved") is None:
            return None
        return int(fn["reserved"])

    def reserved_total(self, account: str) -> int:
        """Sum of reserved concurrency in the account (admission's unreserved pool).

        Cached against the catalog's write generation: any function write may change it."""
        with self._lock:
            cached = self._reserved_totals.get(account)
            generation = self._generation
        if cached is not None and cached[0] == generation:
            return cached[1]
        total = sum(
            int(row.doc["reserved"])
            for row in self.repo.functions(account)
            if row.doc.get("reserved") is not None
        )
        with self._lock:
            self._reserved_totals[account] = (generation, total)
        return total

    def event_invoke_config(self, account: str, name: str, qualifier: str | None) -> Doc | None:
        q = qualifier or LATEST
        return self._cached(
            account, name, ("eic", q), lambda: self.repo.child(EVENT_INVOKE, account, name, q)
        )

    def provisioned_concurrency(self, account: str, name: str, qualifier: str | None) -> Doc | None:
        if not qualifier:
            return None
        return self._cached(
            account,
            name,
            ("pc", qualifier),
            lambda: self.repo.child(PROVISIONED, account, name, qualifier),
        )

    def provisioned_configs(self) -> list[Doc]:
        """Every provisioned concurrency config of every account (for start-up)."""
        with self._lock:
            if self._provisioned_all is not None:
                return list(self._provisioned_all)
        found = [row.doc for _, row in self.repo.scan(PROVISIONED)]
        with self._lock:
            self._provisioned_all = found
        return list(found)

    # writes the data plane reports -----------------------------------------------------
    def set_version_state(
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

        lifecycle.report_state(self, account, name, version, state, reason, reason_code)

    def set_provisioned_status(
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

        concurrency.set_status(self, account, name, qualifier, status, reason, available, allocated)


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
    )


def public_config(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration without Lambent's bookkeeping keys."""
    return {k: v for k, v in cfg.items() if not k.startswith("_")}
