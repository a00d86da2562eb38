"""Create, read, change and delete event source mappings, as AWS answers them.

A mapping is stored per account (kind `lambda_esm`, key its UUID, listed under its
function's name). A write answers with AWS's transient state (Creating, Updating,
Enabling, Disabling, Deleting) and stores the state it settles in (states.py), so tooling
that waits for Enabled or Disabled finishes at once; then it wakes this node's poller
supervisor (event_sources/pollers), which starts, restarts or stops the mapping's poller
now (other nodes of a cluster notice at their next pass, within a second).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from lambent.clock import Clock
from lambent.errors import InvalidParameterValue, ResourceNotFound
from lambent.event_sources import mq_checks, sources, sqs_checks, states
from lambent.event_sources.states import MappingEvent, MappingState
from lambent.functions import arns, lookup, pagination
from lambent.functions.catalog import StoreCatalog
from lambent.functions.lookup import Scope
from lambent.functions.model import LATEST
from lambent.functions.repository import ALIAS
from lambent.store.interface import Doc

KIND = "lambda_esm"
NOT_FOUND = "The resource you requested does not exist."
NO_FUNCTION = "Function does not exist"


def mapping_arn(scope: Scope, mapping_id: str) -> str:
    where = f"{arns.partition(scope.region)}:lambda:{scope.region}:{scope.account}"
    return f"arn:{where}:event-source-mapping:{mapping_id}"


def public(doc: Doc) -> Doc:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def _stored(value: Any) -> Any:
    """Request values as a JSON document keeps them (timestamps as epoch seconds)."""
    return value.timestamp() if isinstance(value, dt.datetime) else value


class EventSourceMappings:
    def __init__(
        self,
        catalog: StoreCatalog,
        clock: Clock,
        changed: Callable[[], None] | None = None,
        queues: sqs_checks.QueueLookup | None = None,
        mq: tuple[mq_checks.BrokerExists, mq_checks.SecretExists] | None = None,
    ) -> None:
        self._catalog = catalog
        self._store = catalog.repo.store
        self._clock = clock
        self._changed = changed or (lambda: None)
        self._queues = queues  # finds an SQS queue by ARN (None: no SQS on this node)
        self._mq = mq  # finds a registered broker and a secret (None: not checked)

    async def _check_sqs(self, scope: Scope, name: str, settings: dict[str, Any]) -> None:
        """AWS's checks against the queue: it exists, this account may receive from it,
        and the batching settings suit its type."""
        if self._queues is None:
            return
        version = self._catalog.cached_version(scope.account, name, LATEST)
        principal = version.role if version else f"arn:aws:iam::{scope.account}:root"
        queue = await sqs_checks.queue_for(
            self._queues, str(settings["EventSourceArn"]), scope.account, principal
        )
        sqs_checks.check_batching(settings, queue.fifo)

    async def _check_mq(self, scope: Scope, params: dict[str, Any]) -> None:
        secret = mq_checks.check_shape(params)
        if self._mq is not None:
            broker = str(params["EventSourceArn"])
            await mq_checks.check_stored(scope.account, broker, secret, *self._mq)

    async def _function(self, scope: Scope, function: str) -> tuple[str, str]:
        """(name, ARN as the mapping shows it): qualified if the caller qualified it."""
        try:
            target = await lookup.find(self._catalog, scope, function)
        except ResourceNotFound as exc:
            raise InvalidParameterValue(NO_FUNCTION) from exc
        q = target.qualifier
        if q is not None and q != LATEST:
            repo = self._catalog.repo
            found = (
                await repo.version(scope.account, target.name, q)
                if q.isdigit()
                else await repo.child(ALIAS, scope.account, target.name, q)
            )
            if found is None:
                raise InvalidParameterValue(NO_FUNCTION)
        return target.name, scope.arn(target.name, q)

    async def _get(self, scope: Scope, mapping_id: str) -> Doc:
        doc = await self._store.get(KIND, scope.account, mapping_id)
        if doc is None or doc.get("_region") != scope.region:
            raise ResourceNotFound(NOT_FOUND)
        return doc

    async def _save(self, scope: Scope, doc: Doc) -> None:
        await self._store.put(KIND, scope.account, doc["UUID"], doc, parent=doc["_function"])
        self._changed()

    async def create(self, scope: Scope, params: dict[str, Any]) -> Doc:
        kind = sources.kind_of(params)
        sources.check_create(kind, params)
        sqs_checks.check_filters(params.get("FilterCriteria"))
        name, function_arn = await self._function(scope, params["FunctionName"])
        if kind is sources.SourceKind.SQS:
            await self._check_sqs(scope, name, params)
        if kind is sources.SourceKind.MQ:
            await self._check_mq(scope, params)
        mapping_id = str(uuid.uuid4())
        enabled = params.get("Enabled") is not False
        doc: Doc = {"UUID": mapping_id, **sources.defaults(kind)}
        for key in (*sources.CREATE_ONLY, *sources.UPDATABLE):
            if params.get(key) is not None:
                doc[key] = _stored(params[key])
        doc.update(
            {
                "FunctionArn": function_arn,
                "LastModified": self._clock.time(),
                "State": MappingState.CREATING.value,
                "StateTransitionReason": "USER_INITIATED",
                "EventSourceMappingArn": mapping_arn(scope, mapping_id),
                "_region": scope.region,
                "_function": name,
                "_kind": kind.value,
                "_enabled": enabled,
            }
        )
        answer = public(doc)
        doc["State"] = states.settle(MappingState.CREATING, enabled).value
        await self._save(scope, doc)
        return answer

    async def get(self, scope: Scope, mapping_id: str) -> Doc:
        return public(await self._get(scope, mapping_id))

    async def update(self, scope: Scope, params: dict[str, Any]) -> Doc:
        async with self._catalog.repo.transaction():
            doc = await self._get(scope, params["UUID"])
            kind = sources.SourceKind(doc["_kind"])
            if params.get("DestinationConfig") is not None:
                sources.check_destinations(kind, params["DestinationConfig"])
            sqs_checks.check_filters(params.get("FilterCriteria"))
            access = params.get("SourceAccessConfigurations")
            if kind is sources.SourceKind.MQ and access is not None:
                mq_checks.check_access(access)
            if kind is sources.SourceKind.SQS and self._queues is not None:
                queue = await self._queues(str(doc["EventSourceArn"]))
                if queue is not None:
                    merged = {**doc, **{k: v for k, v in params.items() if v is not None}}
                    sqs_checks.check_batching(merged, queue.fifo)
            if params.get("FunctionName"):
                name, function_arn = await self._function(scope, params["FunctionName"])
                doc.update({"_function": name, "FunctionArn": function_arn})
            for key in sources.UPDATABLE:
                if params.get(key) is not None:
                    doc[key] = _stored(params[key])
            enabled = doc["_enabled"] if params.get("Enabled") is None else bool(params["Enabled"])
            event = MappingEvent.UPDATE
            if params.get("Enabled") is not None:
                event = MappingEvent.ENABLE if enabled else MappingEvent.DISABLE
            state = states.transition(MappingState(doc["State"]), event)
            doc.update({"State": state.value, "LastModified": self._clock.time()})
            doc["_enabled"] = enabled
            answer = public(doc)
            doc["State"] = states.settle(state, enabled).value
            await self._save(scope, doc)
        return answer

    async def delete(self, scope: Scope, mapping_id: str) -> Doc:
        async with self._catalog.repo.transaction():
            doc = await self._get(scope, mapping_id)
            state = states.transition(MappingState(doc["State"]), MappingEvent.DELETE)
            await self._store.delete(KIND, scope.account, mapping_id)
        self._changed()
        return {**public(doc), "State": state.value}

    async def list(self, scope: Scope, params: dict[str, Any]) -> Doc:
        parent = None
        if params.get("FunctionName"):
            ref = arns.parse_function(params["FunctionName"])
            parent = ref.name
        rows = await self._store.list(KIND, scope.account, parent=parent)
        source = params.get("EventSourceArn")
        docs = [
            row.doc
            for row in rows
            if row.doc.get("_region") == scope.region
            and (source is None or row.doc.get("EventSourceArn") == source)
        ]
        chunk, marker = pagination.page(
            docs, lambda d: (str(d["UUID"]),), params.get("Marker"), params.get("MaxItems"), 100
        )
        out: Doc = {"EventSourceMappings": [public(d) for d in chunk]}
        if marker:
            out["NextMarker"] = marker
        return out
