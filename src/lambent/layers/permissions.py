"""Layer version permissions: who else may use a layer version (lambda:GetLayerVersion).

The resource policy lives on the layer version document, with its own RevisionId, and is
shaped as AWS shapes it: `{"Version":"2012-10-17","Id":"default","Statement":[...]}`.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from lambent.errors import (
    InvalidParameterValue,
    PreconditionFailed,
    ResourceConflict,
    ResourceNotFound,
)
from lambent.functions import arns
from lambent.functions.lookup import Scope
from lambent.layers.service import LayerService
from lambent.store.interface import Doc

ACTION = "lambda:GetLayerVersion"
NO_POLICY = "No policy is associated with the given resource."


def layer_statement(params: dict[str, Any], resource: str) -> Doc:
    principal = str(params["Principal"])
    stmt: Doc = {
        "Sid": params["StatementId"],
        "Effect": "Allow",
        "Principal": "*" if principal == "*" else {"AWS": _principal_arn(principal)},
        "Action": params["Action"],
        "Resource": resource,
    }
    org = params.get("OrganizationId")
    if org:
        stmt["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": org}}
    return stmt


def _principal_arn(principal: str) -> str:
    return f"arn:aws:iam::{principal}:root" if principal.isdigit() else principal


class LayerPermissions:
    def __init__(self, layers: LayerService) -> None:
        self._layers = layers
        self._repo = layers.repo

    async def _load(self, scope: Scope, layer: str, number: int) -> tuple[str, str, Doc]:
        """(region, name, version document); a missing layer or version is named."""
        try:
            name, doc = await self._layers.version_doc(scope, layer, number)
        except ResourceNotFound as exc:
            ref = arns.parse_layer(layer)
            arn = arns.layer_arn(ref.region or scope.region, ref.account or scope.account, ref.name)
            raise ResourceNotFound(f"Layer version {arn}:{number} does not exist.") from exc
        return scope.region, name, doc

    async def add(self, scope: Scope, params: dict[str, Any]) -> Doc:
        if params["Action"] != ACTION:
            raise InvalidParameterValue(
                "Action must be lambda:GetLayerVersion for the layer version permission."
            )
        if params.get("OrganizationId") and params["Principal"] != "*":
            raise InvalidParameterValue("OrganizationId requires Principal to be '*'.")
        number = int(params["VersionNumber"])
        async with self._repo.store.transaction():
            region, name, doc = await self._load(scope, params["LayerName"], number)
            policy = doc.get("_policy") or {"statements": [], "revision": str(uuid.uuid4())}
            self._check_revision(params.get("RevisionId"), policy)
            sid = params["StatementId"]
            if any(s["Sid"] == sid for s in policy["statements"]):
                raise ResourceConflict(
                    f"The statement id ({sid}) provided already exists. Please provide a new "
                    "statement id, or remove the existing statement."
                )
            stmt = layer_statement(params, str(doc["LayerVersionArn"]))
            policy["statements"].append(stmt)
            policy["revision"] = str(uuid.uuid4())
            doc["_policy"] = policy
            await self._repo.put_version(scope.account, region, name, number, doc)
        return {"Statement": json.dumps(stmt), "RevisionId": policy["revision"]}

    async def get(self, scope: Scope, layer: str, number: int) -> Doc:
        _, _, doc = await self._load(scope, layer, number)
        policy = doc.get("_policy")
        if not policy or not policy["statements"]:
            raise ResourceNotFound(NO_POLICY)
        document = {"Version": "2012-10-17", "Id": "default", "Statement": policy["statements"]}
        return {"Policy": json.dumps(document), "RevisionId": policy["revision"]}

    async def remove(self, scope: Scope, params: dict[str, Any]) -> None:
        number = int(params["VersionNumber"])
        async with self._repo.store.transaction():
            region, name, doc = await self._load(scope, params["LayerName"], number)
            policy = doc.get("_policy") or {"statements": [], "revision": ""}
            sid = params["StatementId"]
            kept = [s for s in policy["statements"] if s["Sid"] != sid]
            if len(kept) == len(policy["statements"]):
                raise ResourceNotFound(f"Statement {sid} is not found in resource policy.")
            self._check_revision(params.get("RevisionId"), policy)
            policy["statements"] = kept
            policy["revision"] = str(uuid.uuid4())
            doc["_policy"] = policy
            await self._repo.put_version(scope.account, region, name, number, doc)

    def _check_revision(self, given: str | None, policy: Doc) -> None:
        if given and given != policy.get("revision"):
            raise PreconditionFailed(
                "The Revision Id provided does not match the latest Revision Id. Call the "
                "GetLayerPolicy API to retrieve the latest Revision Id"
            )
