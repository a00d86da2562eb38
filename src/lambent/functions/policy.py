"""Resource-based policies: AddPermission statements shaped the way Lambda stores them."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from lambent.errors import InvalidParameterValue, ResourceConflict, ResourceNotFound
from lambent.functions import arns, lookup, versions
from lambent.functions.catalog import StoreCatalog, not_found
from lambent.functions.lookup import Scope, Target
from lambent.functions.model import LATEST
from lambent.functions.repository import ALIAS, POLICY
from lambent.store.interface import Doc

_ACCOUNT = re.compile(r"^\d{12}$")
# The principals AddPermission takes: everyone, an account, an IAM (or STS) ARN, a service.
_VALID_PRINCIPAL = re.compile(
    r"\*|\d{12}|arn:aws[a-zA-Z-]*:(iam|sts)::\d{12}:.+|[a-z0-9][a-z0-9.-]*\.amazonaws\.com(\.cn)?"
)
BAD_PRINCIPAL = "The provided principal was invalid. Please check the principal and try again."


def check_principal(text: str) -> None:
    if _VALID_PRINCIPAL.fullmatch(text) is None:
        raise InvalidParameterValue(BAD_PRINCIPAL)


def principal(text: str, partition: str = "aws") -> Any:
    if text == "*":
        return "*"
    if _ACCOUNT.match(text):
        return {"AWS": f"arn:{partition}:iam::{text}:root"}
    if text.startswith("arn:"):
        return {"AWS": text}
    return {"Service": text}


def statement(params: dict[str, Any], resource: str, partition: str = "aws") -> Doc:
    """One policy statement from AddPermission's parameters (pure)."""
    stmt: Doc = {
        "Sid": params["StatementId"],
        "Effect": "Allow",
        "Principal": principal(str(params["Principal"]), partition),
        "Action": params["Action"],
        "Resource": resource,
    }
    condition: dict[str, dict[str, str]] = {}
    equals = {
        "SourceAccount": "AWS:SourceAccount",
        "PrincipalOrgID": "aws:PrincipalOrgID",
        "EventSourceToken": "lambda:EventSourceToken",
        "FunctionUrlAuthType": "lambda:FunctionUrlAuthType",
    }
    for member, key in equals.items():
        if params.get(member):
            condition.setdefault("StringEquals", {})[key] = str(params[member])
    if params.get("SourceArn"):
        condition["ArnLike"] = {"AWS:SourceArn": str(params["SourceArn"])}
    if params.get("InvokedViaFunctionUrl"):
        condition["Bool"] = {"lambda:InvokedViaFunctionUrl": "true"}
    if condition:
        stmt["Condition"] = condition
    return stmt


def empty_policy() -> Doc:
    return {"Version": "2012-10-17", "Id": "default", "Statement": []}


class PolicyService:
    def __init__(self, catalog: StoreCatalog) -> None:
        self._catalog = catalog
        self._repo = catalog.repo

    async def _qualified(self, scope: Scope, target: Target) -> tuple[str, str]:
        """(policy key, revision id of what the qualifier names); unknown qualifiers 404."""
        q = target.qualifier
        if q is None:
            return "", str(target.fn["latest"]["config"]["RevisionId"])
        if q.isdigit():
            doc = await self._repo.version(scope.account, target.name, q)
            if doc is None:
                raise not_found(scope.region, scope.account, target.name, q)
            return q, str(doc["config"]["RevisionId"])
        alias = await self._repo.child(ALIAS, scope.account, target.name, q)
        if alias is None:
            raise ResourceNotFound(f"Cannot find alias arn: {scope.arn(target.name, q)}")
        return q, str(alias["RevisionId"])

    async def add(self, scope: Scope, params: dict[str, Any]) -> Doc:
        ref = arns.parse_function(params["FunctionName"], params.get("Qualifier"))
        if ref.qualifier == LATEST:
            raise InvalidParameterValue("We currently do not support adding policies for $LATEST.")
        check_principal(str(params["Principal"]))
        async with self._repo.transaction():
            target = await lookup.find(
                self._catalog,
                scope,
                params["FunctionName"],
                params.get("Qualifier"),
                shown=lookup.Shown.FUNCTION,
            )
            key, revision = await self._qualified(scope, target)
            policy = (
                await self._repo.child(POLICY, scope.account, target.name, key) or empty_policy()
            )
            versions.check_revision(
                params.get("RevisionId"), str(policy.get("_revision") or revision)
            )
            sid = params["StatementId"]
            if any(s["Sid"] == sid for s in policy["Statement"]):
                raise ResourceConflict(
                    f"The statement id ({sid}) provided already exists. Please provide a new "
                    "statement id, or remove the existing statement."
                )
            stmt = statement(
                params, scope.arn(target.name, key or None), arns.partition(scope.region)
            )
            policy["Statement"].append(stmt)
            policy["_revision"] = str(uuid.uuid4())
            await self._repo.put_child(POLICY, scope.account, target.name, key, policy)
        return {"Statement": json.dumps(stmt, separators=(",", ":"))}

    async def remove(self, scope: Scope, params: dict[str, Any]) -> None:
        async with self._repo.transaction():
            target = await lookup.find(
                self._catalog, scope, params["FunctionName"], params.get("Qualifier")
            )
            key, revision = await self._qualified(scope, target)
            policy = await self._repo.child(POLICY, scope.account, target.name, key)
            if policy is None:
                raise ResourceNotFound("No policy is associated with the given resource.")
            sid = params["StatementId"]
            kept = [s for s in policy["Statement"] if s["Sid"] != sid]
            if len(kept) == len(policy["Statement"]):
                raise ResourceNotFound(f"Statement {sid} is not found in resource policy.")
            versions.check_revision(
                params.get("RevisionId"), str(policy.get("_revision") or revision)
            )
            if kept:
                policy["Statement"] = kept
                policy["_revision"] = str(uuid.uuid4())
                await self._repo.put_child(POLICY, scope.account, target.name, key, policy)
            else:
                await self._repo.delete_child(POLICY, scope.account, target.name, key)

    async def get(self, scope: Scope, function: str, qualifier: str | None) -> Doc:
        target = await lookup.find(self._catalog, scope, function, qualifier)
        key, revision = await self._qualified(scope, target)
        policy = await self._repo.child(POLICY, scope.account, target.name, key)
        if policy is None:
            raise ResourceNotFound("The resource you requested does not exist.")
        shown = {k: v for k, v in policy.items() if not k.startswith("_")}
        return {
            "Policy": json.dumps(shown, separators=(",", ":")),
            "RevisionId": str(policy.get("_revision") or revision),
        }
