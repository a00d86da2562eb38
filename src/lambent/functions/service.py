"""Create, read, update and delete functions, with Lambda's rules and messages."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from lambent.code_signing.check import CodeCheck
from lambent.errors import AccessDenied, InvalidParameterValue, ResourceConflict
from lambent.functions import arns, config, lookup, runtimes, states, versions
from lambent.functions.catalog import StoreCatalog, not_found, public_config
from lambent.functions.code_url import CodeUrlSigner
from lambent.functions.lifecycle import Provisioner
from lambent.functions.lookup import Scope, Target
from lambent.functions.model import LATEST
from lambent.functions.repository import (
    ALIAS,
    EVENT_INVOKE,
    POLICY,
    PROVISIONED,
    FunctionRepository,
)
from lambent.functions.uploads import ZipUploads, names_s3
from lambent.layers.service import LayerService, ResolvedLayer
from lambent.store.interface import Doc

ROLE_KIND = "iam_role"


@dataclass
class ControlPlane:
    """Everything the function operations need, built once per server."""

    catalog: StoreCatalog
    uploads: ZipUploads
    provisioner: Provisioner
    layers: LayerService
    signer: CodeUrlSigner
    runtimes: frozenset[str]
    code_check: CodeCheck | None = None  # code signing (None: not checked)

    @property
    def repo(self) -> FunctionRepository:
        return self.catalog.repo

    def now(self) -> float:
        return self.catalog.clock.time()


def render(cfg: Doc, *, qualified: bool, arn: str | None = None) -> Doc:
    out = public_config(cfg)
    if arn is not None:
        out["FunctionArn"] = arn
    elif qualified and cfg.get("Version") == LATEST:
        out["FunctionArn"] = f"{cfg['FunctionArn']}:{LATEST}"
    return out


# AWS leaves a version's state out of ListFunctions and ListVersionsByFunction entries.
UNLISTED = (
    "State",
    "StateReason",
    "StateReasonCode",
    "LastUpdateStatus",
    "LastUpdateStatusReason",
    "LastUpdateStatusReasonCode",
    "RuntimeVersionConfig",
)


def listed(cfg: Doc, *, qualified: bool) -> Doc:
    """A configuration as a list entry shows it."""
    out = render(cfg, qualified=qualified)
    for key in UNLISTED:
        out.pop(key, None)
    return out


def shas_of(doc: Doc) -> list[str]:
    return [str(doc["code"]["sha256_hex"])] + [
        str(ly["sha256_hex"]) for ly in doc.get("layers") or []
    ]


class FunctionService:
    def __init__(self, cp: ControlPlane) -> None:
        self.cp = cp

    # checks --------------------------------------------------------------------------
    async def _check_role(self, scope: Scope, role_arn: str) -> None:
        account, name = arns.role_parts(role_arn)
        if account != scope.account:
            raise AccessDenied("Cross-account pass role is not allowed.")
        if await self.cp.repo.store.get(ROLE_KIND, account, name) is None:
            raise InvalidParameterValue(
                "The role defined for the function cannot be assumed by Lambda."
            )

    async def _zip(self, scope: Scope, code: dict[str, Any]) -> tuple[bytes, bool]:
        """The zip's bytes, and whether they came from S3 (not held to the upload limit)."""
        if names_s3(code):
            return await self.cp.uploads.from_s3(scope.account, scope.region, code), True
        data = code.get("ZipFile")
        if data is None:
            if code.get("ImageUri"):
                raise InvalidParameterValue(
                    "Please don't provide ImageUri when updating a function with packageType Zip."
                )
            raise InvalidParameterValue("Please provide a source for function code.")
        return bytes(data), False

    async def _check_runtime(self, runtime: str, data: bytes) -> None:
        """Lambda looks at the zip before the runtime: a bad zip is reported whatever the
        runtime says."""
        error = runtimes.runtime_error(runtime, self.cp.runtimes)
        if error is not None:
            await self.cp.uploads.check(data)
            raise error

    async def _layers(self, scope: Scope, arns_: list[str]) -> list[ResolvedLayer]:
        return await self.cp.layers.resolve(scope, arns_) if arns_ else []

    # create --------------------------------------------------------------------------
    async def _signing_config(self, scope: Scope, arn: str | None) -> Doc | None:
        if not arn or self.cp.code_check is None:
            return None
        return await self.cp.code_check.config(scope, arn)

    async def _check_code(
        self, scope: Scope, csc: Doc | None, data: bytes, name: str, request_id: str
    ) -> None:
        if csc is not None and self.cp.code_check is not None:
            await self.cp.code_check.check(scope, csc, data, scope.arn(name), request_id)

    async def create(self, scope: Scope, params: dict[str, Any], request_id: str = "") -> Doc:
        ref = arns.read_function(params["FunctionName"])
        name = ref.name
        config.check_name(name)
        arns.check_region(ref, scope.region)
        if ref.account is not None and ref.account != scope.account:
            raise AccessDenied("", front_door=True)  # AWS says nothing more
        config.check_package(params)
        config.check_limits(params)
        runtime = params.get("Runtime")
        config.check_handler(runtime, params.get("Handler"))
        await self._check_role(scope, params["Role"])
        tags = dict(params.get("Tags") or {})
        config.check_tags(tags)
        layers = await self._layers(scope, list(params.get("Layers") or []))
        csc = await self._signing_config(scope, params.get("CodeSigningConfigArn"))
        data, from_s3 = await self._zip(scope, params.get("Code") or {})
        await self._check_runtime(str(runtime), data)
        config.check_snapstart(params.get("SnapStart"), str(runtime))
        if await self.cp.repo.function(scope.account, name) is not None:
            raise ResourceConflict(f"Function already exist: {name}")
        await self._check_code(scope, csc, data, name, request_id)
        blob = await self.cp.uploads.store(data, "CreateFunction", from_s3=from_s3)
        now = self.cp.now()
        cfg = config.base_configuration(
            name=name,
            arn=scope.arn(name),
            params=params,
            region=scope.region,
            now=now,
            revision_id=states.new_revision(),
        )
        cfg["CodeSha256"] = blob.code_sha256
        cfg["CodeSize"] = blob.size
        if layers:
            cfg["Layers"] = [{"Arn": ly.arn, "CodeSize": ly.size} for ly in layers]
        states.apply(cfg, states.PENDING)
        latest = {
            "config": cfg,
            "code": {"sha256_hex": blob.sha256_hex, "size": blob.size},
            "layers": [ly.as_doc() for ly in layers],
        }
        fn: Doc = {
            "region": scope.region,
            "created": now,
            "next_version": 1,
            "tags": tags,
            "reserved": None,
            "latest": latest,
            "last_published": None,
        }
        if csc is not None:
            fn["code_signing_config"] = csc["CodeSigningConfigArn"]
        published: Doc | None = None
        async with self.cp.repo.transaction():
            if params.get("Publish"):
                published, _ = await versions.publish(
                    self.cp.repo, scope.account, name, fn, description=None, now=now
                )
            if not await self.cp.repo.insert_function(scope.account, name, fn):
                raise ResourceConflict(f"Function already exist: {name}")
        await self.cp.catalog.changed(scope.account, name, None)
        self.cp.provisioner.start(scope.account, name, shas_of(latest), creating=True)
        if published is not None:
            await self.cp.catalog.published(
                scope.account, name, str(published["config"]["Version"])
            )
            return render(published["config"], qualified=False, arn=scope.arn(name))
        out = render(cfg, qualified=False)
        out.pop("LastUpdateStatus", None)
        return out

    # read ----------------------------------------------------------------------------
    async def version_doc(self, scope: Scope, target: Target) -> tuple[Doc, str | None]:
        """The version a qualifier names (an alias resolved), and the ARN to show for it."""
        q = target.qualifier
        if q is None:
            return target.fn["latest"], None
        if q == LATEST:
            return target.fn["latest"], scope.arn(target.name, LATEST)
        if q.isdigit():
            doc = await self.cp.repo.version(scope.account, target.name, q)
            if doc is None:
                raise not_found(scope.region, scope.account, target.name, q)
            return doc, scope.arn(target.name, q)
        alias = await self.cp.repo.child(ALIAS, scope.account, target.name, q)
        if alias is None:
            raise not_found(scope.region, scope.account, target.name, q)
        version = str(alias["FunctionVersion"])
        doc = await self.cp.repo.version(scope.account, target.name, version)
        if doc is None:
            raise not_found(scope.region, scope.account, target.name, q)
        # Through an alias Lambda shows the configuration of the version it points at
        # (its Version), under the alias's ARN.
        return doc, scope.arn(target.name, q)

    async def get_configuration(self, scope: Scope, function: str, qualifier: str | None) -> Doc:
        target = await lookup.find(self.cp.catalog, scope, function, qualifier)
        doc, arn = await self.version_doc(scope, target)
        return render(doc["config"], qualified=arn is not None, arn=arn)

    async def get(self, scope: Scope, function: str, qualifier: str | None) -> Doc:
        target = await lookup.find(self.cp.catalog, scope, function, qualifier)
        doc, arn = await self.version_doc(scope, target)
        out: Doc = {
            "Configuration": render(doc["config"], qualified=arn is not None, arn=arn),
            "Code": {
                "RepositoryType": "S3",
                "Location": await self.cp.signer.url(
                    str(doc["code"]["sha256_hex"]), f"{target.name}.zip"
                ),
            },
        }
        if target.fn.get("tags"):
            out["Tags"] = dict(target.fn["tags"])
        if target.fn.get("reserved") is not None:
            out["Concurrency"] = {"ReservedConcurrentExecutions": target.fn["reserved"]}
        return out

    # update --------------------------------------------------------------------------
    async def _begin_update(self, scope: Scope, name: str, revision: str | None) -> Doc:
        fn = await self.cp.repo.function(scope.account, name)
        if fn is None or fn["region"] != scope.region:
            raise not_found(scope.region, scope.account, name)
        cfg = fn["latest"]["config"]
        states.check_mutable(states.from_config(cfg), scope.arn(name))
        versions.check_revision(revision, str(cfg["RevisionId"]))
        return fn

    async def _finish_update(self, scope: Scope, name: str, fn: Doc, publish: bool) -> Doc | None:
        cfg = fn["latest"]["config"]
        cfg["LastModified"] = config.timestamp(self.cp.now())
        states.enter(cfg, states.transition(states.from_config(cfg), states.Event.UPDATE_STARTED))
        published = None
        if publish:
            published, _ = await versions.publish(
                self.cp.repo, scope.account, name, fn, description=None, now=self.cp.now()
            )
        await self.cp.repo.put_function(scope.account, name, fn)
        return published

    async def update_code(self, scope: Scope, params: dict[str, Any], request_id: str = "") -> Doc:
        target = await lookup.unqualified(self.cp.catalog, scope, params["FunctionName"])
        data, from_s3 = await self._zip(scope, params)
        arn = target.fn.get("code_signing_config")
        csc = (
            await self.cp.code_check.configs.find(scope, arn)
            if arn and self.cp.code_check
            else None
        )
        await self._check_code(scope, csc, data, target.name, request_id)
        config.check_limits({"Architectures": params.get("Architectures")})
        blob = await self.cp.uploads.store(data, "UpdateFunctionCode", from_s3=from_s3)
        await self.cp.provisioner.wait(scope.account, target.name)
        async with self.cp.repo.transaction():
            fn = await self._begin_update(scope, target.name, params.get("RevisionId"))
            latest = fn["latest"]
            cfg = latest["config"]
            cfg["CodeSha256"] = blob.code_sha256
            cfg["CodeSize"] = blob.size
            if params.get("Architectures"):
                cfg["Architectures"] = list(params["Architectures"])
            latest["code"] = {"sha256_hex": blob.sha256_hex, "size": blob.size}
            if params.get("DryRun"):
                return render(cfg, qualified=False)
            published = await self._finish_update(
                scope, target.name, fn, bool(params.get("Publish"))
            )
        return await self._after_update(scope, target.name, fn, published)

    async def _after_update(self, scope: Scope, name: str, fn: Doc, published: Doc | None) -> Doc:
        await self.cp.catalog.changed(scope.account, name, LATEST)
        self.cp.provisioner.start(scope.account, name, shas_of(fn["latest"]))
        if published is not None:
            await self.cp.catalog.published(
                scope.account, name, str(published["config"]["Version"])
            )
            return render(published["config"], qualified=True)
        return render(fn["latest"]["config"], qualified=False)

    async def update_configuration(self, scope: Scope, params: dict[str, Any]) -> Doc:
        target = await lookup.unqualified(self.cp.catalog, scope, params["FunctionName"])
        config.check_limits(params)
        if "Runtime" in params:
            runtimes.check_runtime(params["Runtime"], self.cp.runtimes)
        if "Role" in params:
            await self._check_role(scope, params["Role"])
        layers = await self._layers(scope, list(params.get("Layers") or []))
        await self.cp.provisioner.wait(scope.account, target.name)
        async with self.cp.repo.transaction():
            fn = await self._begin_update(scope, target.name, params.get("RevisionId"))
            latest = fn["latest"]
            cfg = latest["config"]
            config.check_snapstart(
                params.get("SnapStart") or cfg.get("SnapStart"),
                str(params.get("Runtime") or cfg.get("Runtime")),
            )
            config.apply_update(cfg, params, scope.region)
            if "Layers" in params:
                latest["layers"] = [ly.as_doc() for ly in layers]
                cfg.pop("Layers", None)
                if layers:
                    cfg["Layers"] = [{"Arn": ly.arn, "CodeSize": ly.size} for ly in layers]
            await self._finish_update(scope, target.name, fn, False)
        return await self._after_update(scope, target.name, fn, None)

    # delete --------------------------------------------------------------------------
    async def delete(self, scope: Scope, function: str, qualifier: str | None) -> None:
        """A missing version of an existing function is already deleted: 204, as AWS."""
        ref = lookup.reference(scope, function, qualifier)
        if ref.qualifier == LATEST:  # checked before existence, as AWS
            raise InvalidParameterValue(
                "$LATEST version cannot be deleted without deleting the function."
            )
        target = await lookup.find_ref(self.cp.catalog, scope, ref, shown=lookup.Shown.FUNCTION)
        q = target.qualifier
        repo = self.cp.repo
        if q is None:
            async with repo.transaction():
                await repo.delete_function(scope.account, target.name)
            await self.cp.catalog.changed(scope.account, target.name, "*")
            return
        if not q.isdigit():
            raise InvalidParameterValue(
                f"Deletion of an alias ({q}) through DeleteFunction is not supported. "
                "Use DeleteAlias."
            )
        async with repo.transaction():
            if await repo.version(scope.account, target.name, q) is None:
                return
            users = [
                row.key
                for row in await repo.children(ALIAS, scope.account, target.name)
                if str(row.doc["FunctionVersion"]) == q
                or q in ((row.doc.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {})
            ]
            if users:
                raise ResourceConflict(
                    "Unable to delete version because the following aliases reference it: "
                    f"[{', '.join(users)}]"
                )
            await repo.delete_version(scope.account, target.name, q)
            for kind in (PROVISIONED, EVENT_INVOKE, POLICY):
                await repo.delete_child(kind, scope.account, target.name, q)
        await self.cp.catalog.changed(scope.account, target.name, q)

    # list ----------------------------------------------------------------------------
    async def list_functions(self, scope: Scope, params: dict[str, Any]) -> Doc:
        from lambent.functions import listing

        functions, marker = await listing.list_functions(
            self.cp.repo,
            scope.account,
            scope.region,
            every=params.get("FunctionVersion") == "ALL",
            marker=params.get("Marker"),
            max_items=params.get("MaxItems"),
            render=lambda cfg, qualified: listed(cfg, qualified=qualified),
        )
        out: Doc = {"Functions": functions}
        if marker:
            out["NextMarker"] = marker
        return out

    async def list_versions(self, scope: Scope, params: dict[str, Any]) -> Doc:
        from lambent.functions import pagination

        target = await lookup.find(self.cp.catalog, scope, params["FunctionName"])
        versions = await self.cp.repo.versions(scope.account, target.name)
        configs = [target.fn["latest"]["config"], *(doc["config"] for doc in versions)]
        chunk, marker = pagination.page(  # AWS: at most 50 a page, whatever MaxItems says
            configs,
            lambda cfg: pagination.qualifier_key(str(cfg["Version"])),
            params.get("Marker"),
            params.get("MaxItems"),
            cap=pagination.DEFAULT_PAGE,
        )
        out: Doc = {"Versions": [listed(cfg, qualified=True) for cfg in chunk]}
        if marker:
            out["NextMarker"] = marker
        return out

    async def publish_version(self, scope: Scope, params: dict[str, Any]) -> Doc:
        target = await lookup.unqualified(self.cp.catalog, scope, params["FunctionName"])
        await self.cp.provisioner.wait(scope.account, target.name)
        async with self.cp.repo.transaction():
            fn = await self._begin_update(scope, target.name, params.get("RevisionId"))
            versions.check_code_sha(
                params.get("CodeSha256"), str(fn["latest"]["config"]["CodeSha256"])
            )
            doc, created = await versions.publish(
                self.cp.repo,
                scope.account,
                target.name,
                fn,
                description=params.get("Description"),
                now=self.cp.now(),
            )
            if created:
                await self.cp.repo.put_function(scope.account, target.name, fn)
        if created:
            await self.cp.catalog.changed(scope.account, target.name, None)
            self.cp.provisioner.start(scope.account, target.name, shas_of(doc))
            await self.cp.catalog.published(
                scope.account, target.name, str(doc["config"]["Version"])
            )
        return render(copy.deepcopy(doc["config"]), qualified=True)
