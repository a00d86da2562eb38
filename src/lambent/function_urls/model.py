"""One function URL configuration, as stored and as the Lambda API shows it."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, replace
from typing import Any

from lambent.functions import arns
from lambent.functions.model import LATEST

# AWS url-ids are 32 characters of lower-case letters and digits.
URL_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
URL_ID_LENGTH = 32


def new_url_id() -> str:
    return "".join(secrets.choice(URL_ID_ALPHABET) for _ in range(URL_ID_LENGTH))


def iso_time(epoch: float) -> str:
    """Function URL timestamps look like `2023-10-24T18:16:39.355734Z` (microseconds, Z)."""
    moment = dt.datetime.fromtimestamp(epoch, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class UrlConfig:
    url_id: str
    account: str
    region: str
    function: str
    qualifier: str  # "$LATEST" or an alias name
    auth_type: str  # NONE | AWS_IAM
    created: float
    modified: float
    # The function's own creation time: a URL of a deleted-and-recreated function is stale.
    function_created: float
    cors: dict[str, Any] | None = None
    invoke_mode: str | None = None  # as the caller set it; absent means BUFFERED

    @property
    def function_arn(self) -> str:
        """The unqualified ARN for $LATEST, the alias ARN otherwise (as AWS reports it)."""
        qualifier = None if self.qualifier == LATEST else self.qualifier
        return arns.function_arn(self.region, self.account, self.function, qualifier)

    def updated(self, params: dict[str, Any], now: float) -> UrlConfig:
        """UpdateFunctionUrlConfig: members given replace the stored ones, others stay."""
        changes: dict[str, Any] = {"modified": now}
        if params.get("AuthType") is not None:
            changes["auth_type"] = str(params["AuthType"])
        if params.get("Cors") is not None:
            changes["cors"] = dict(params["Cors"])
        if params.get("InvokeMode") is not None:
            changes["invoke_mode"] = str(params["InvokeMode"])
        return replace(self, **changes)

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "url_id": self.url_id,
            "account": self.account,
            "region": self.region,
            "function": self.function,
            "qualifier": self.qualifier,
            "auth_type": self.auth_type,
            "created": self.created,
            "modified": self.modified,
            "function_created": self.function_created,
        }
        if self.cors is not None:
            doc["cors"] = self.cors
        if self.invoke_mode is not None:
            doc["invoke_mode"] = self.invoke_mode
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> UrlConfig:
        return cls(
            url_id=str(doc["url_id"]),
            account=str(doc["account"]),
            region=str(doc["region"]),
            function=str(doc["function"]),
            qualifier=str(doc["qualifier"]),
            auth_type=str(doc["auth_type"]),
            created=float(doc["created"]),
            modified=float(doc["modified"]),
            function_created=float(doc["function_created"]),
            cors=doc.get("cors"),
            invoke_mode=doc.get("invoke_mode"),
        )


def render(config: UrlConfig, function_url: str, *, with_modified: bool = True) -> dict[str, Any]:
    """The FunctionUrlConfig shape. Create answers without LastModifiedTime; Cors and
    InvokeMode appear only when set (what AWS answers for a URL created without them)."""
    out: dict[str, Any] = {
        "FunctionUrl": function_url,
        "FunctionArn": config.function_arn,
        "AuthType": config.auth_type,
        "CreationTime": iso_time(config.created),
    }
    if with_modified:
        out["LastModifiedTime"] = iso_time(config.modified)
    if config.cors is not None:
        out["Cors"] = config.cors
    if config.invoke_mode is not None:
        out["InvokeMode"] = config.invoke_mode
    return out
