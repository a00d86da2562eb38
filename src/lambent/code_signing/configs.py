"""Code signing configs (Create/Get/Update/Delete/List) and which function uses which.

A config is stored per account (kind `lambda_csc`, key its id `csc-<17 chars>`); a
function names its config on its own document (`code_signing_config`), set by
CreateFunction's CodeSigningConfigArn or PutFunctionCodeSigningConfig.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from lambent.clock import Clock
from lambent.errors import NotFoundError, ResourceConflict, ResourceNotFound
from lambent.functions import arns, lookup, pagination
from lambent.functions.catalog import StoreCatalog
from lambent.functions.config import timestamp
from lambent.functions.lookup import Scope
from lambent.store.interface import Doc

KIND = "lambda_csc"
_ID_CHARS = string.ascii_lowercase + string.digits


class CodeSigningConfigNotFound(NotFoundError):
    code = "CodeSigningConfigNotFoundException"


def config_arn(scope: Scope, config_id: str) -> str:
    where = f"{arns.partition(scope.region)}:lambda:{scope.region}:{scope.account}"
    return f"arn:{where}:code-signing-config:{config_id}"


def unknown(arn: str) -> ResourceNotFound:
    """GetCodeSigningConfig and its siblings on a config that does not exist (AWS sends
    it without `Type`)."""
    return ResourceNotFound(
        f"The Lambda code signing configuration {arn} can not be found.", front_door=True
    )


def not_attachable(arn: str) -> CodeSigningConfigNotFound:
    """A function asked to use a config that does not exist."""
    return CodeSigningConfigNotFound(
        "The code signing configuration cannot be found. Check that the provided "
        f"configuration is not deleted: {arn}."
    )


def _id_of(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]


class CodeSigningConfigs:
    def __init__(self, catalog: StoreCatalog, clock: Clock) -> None:
        self._catalog = catalog
        self._store = catalog.repo.store
        self._clock = clock

    async def find(self, scope: Scope, arn: str) -> Doc | None:
        doc = await self._store.get(KIND, scope.account, _id_of(arn))
        return doc if doc is not None and doc["CodeSigningConfigArn"] == arn else None

    async def _existing(self, scope: Scope, arn: str) -> Doc:
        doc = await self.find(scope, arn)
        if doc is None:
            raise unknown(arn)
        return doc

    async def create(self, scope: Scope, params: dict[str, Any]) -> Doc:
        config_id = "csc-" + "".join(secrets.choice(_ID_CHARS) for _ in range(17))
        policies = params.get("CodeSigningPolicies") or {}
        doc: Doc = {
            "CodeSigningConfigId": config_id,
            "CodeSigningConfigArn": config_arn(scope, config_id),
            "Description": params.get("Description") or "",
            "AllowedPublishers": {
                "SigningProfileVersionArns": list(
                    params["AllowedPublishers"]["SigningProfileVersionArns"]
                )
            },
            "CodeSigningPolicies": {
                "UntrustedArtifactOnDeployment": policies.get("UntrustedArtifactOnDeployment")
                or "Warn"
            },
            "LastModified": timestamp(self._clock.time()),
        }
        await self._store.put(KIND, scope.account, config_id, doc)
        return {"CodeSigningConfig": doc}

    async def get(self, scope: Scope, arn: str) -> Doc:
        return {"CodeSigningConfig": await self._existing(scope, arn)}

    async def update(self, scope: Scope, params: dict[str, Any]) -> Doc:
        async with self._catalog.repo.transaction():
            doc = await self._existing(scope, params["CodeSigningConfigArn"])
            if params.get("Description") is not None:
                doc["Description"] = params["Description"]
            if params.get("AllowedPublishers") is not None:
                doc["AllowedPublishers"] = {
                    "SigningProfileVersionArns": list(
                        params["AllowedPublishers"]["SigningProfileVersionArns"]
                    )
                }
            policy = (params.get("CodeSigningPolicies") or {}).get("UntrustedArtifactOnDeployment")
            if policy is not None:
                doc["CodeSigningPolicies"] = {"UntrustedArtifactOnDeployment": policy}
            doc["LastModified"] = timestamp(self._clock.time())
            await self._store.put(KIND, scope.account, doc["CodeSigningConfigId"], doc)
        return {"CodeSigningConfig": doc}

    async def delete(self, scope: Scope, arn: str) -> None:
        async with self._catalog.repo.transaction():
            doc = await self._existing(scope, arn)
            if await self._users(scope, arn):
                raise ResourceConflict(
                    "The code signing configuration cannot be deleted because it is used "
                    f"by one or more functions: {arn}."
                )
            await self._store.delete(KIND, scope.account, doc["CodeSigningConfigId"])

    async def list_configs(self, scope: Scope, params: dict[str, Any]) -> Doc:
        rows = await self._store.list(KIND, scope.account)
        docs = [r.doc for r in rows if r.doc["CodeSigningConfigArn"] == config_arn(scope, r.key)]
        chunk, marker = pagination.page(
            docs,
            lambda d: (str(d["CodeSigningConfigId"]),),
            params.get("Marker"),
            params.get("MaxItems"),
        )
        out: Doc = {"CodeSigningConfigs": chunk}
        if marker:
            out["NextMarker"] = marker
        return out

    # functions -------------------------------------------------------------------------
    async def _users(self, scope: Scope, arn: str) -> list[str]:
        rows = await self._catalog.repo.functions(scope.account)
        return [
            scope.arn(row.key)
            for row in rows
            if row.doc.get("code_signing_config") == arn and row.doc["region"] == scope.region
        ]

    async def functions_using(self, scope: Scope, params: dict[str, Any]) -> Doc:
        arn = params["CodeSigningConfigArn"]
        await self._existing(scope, arn)
        users = await self._users(scope, arn)
        chunk, marker = pagination.page(
            users, lambda arn: (arn,), params.get("Marker"), params.get("MaxItems")
        )
        out: Doc = {"FunctionArns": chunk}
        if marker:
            out["NextMarker"] = marker
        return out

    async def put_function(self, scope: Scope, function: str, arn: str) -> Doc:
        async with self._catalog.repo.transaction():
            target = await lookup.unqualified(self._catalog, scope, function)
            if await self.find(scope, arn) is None:
                raise not_attachable(arn)
            target.fn["code_signing_config"] = arn
            await self._catalog.repo.put_function(scope.account, target.name, target.fn)
        await self._catalog.changed(scope.account, target.name, None)
        return {"CodeSigningConfigArn": arn, "FunctionName": target.name}

    async def get_function(self, scope: Scope, function: str) -> Doc:
        target = await lookup.unqualified(self._catalog, scope, function)
        arn = target.fn.get("code_signing_config")
        return {} if not arn else {"CodeSigningConfigArn": arn, "FunctionName": target.name}

    async def delete_function(self, scope: Scope, function: str) -> None:
        async with self._catalog.repo.transaction():
            target = await lookup.unqualified(self._catalog, scope, function)
            target.fn.pop("code_signing_config", None)
            await self._catalog.repo.put_function(scope.account, target.name, target.fn)
        await self._catalog.changed(scope.account, target.name, None)
