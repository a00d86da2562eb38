"""Published versions: immutable snapshots of $LATEST, numbered 1, 2, ... and never reused."""

from __future__ import annotations

import copy
from typing import Any

from lambent.errors import InvalidParameterValue, PreconditionFailed
from lambent.functions import arns, config, states
from lambent.functions.repository import FunctionRepository
from lambent.store.interface import Doc

STALE_REVISION = (
    "The Revision Id provided does not match the latest Revision Id. "
    "Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
)


def check_revision(given: str | None, current: str) -> None:
    if given and given != current:
        raise PreconditionFailed(STALE_REVISION)


def check_code_sha(given: str | None, current: str) -> None:
    if given and given != current:
        raise InvalidParameterValue(
            f"CodeSHA256 ({given}) is different from current CodeSHA256 in $LATEST "
            f"({current}). Please try again with the CodeSHA256 in $LATEST."
        )


async def publish(
    repo: FunctionRepository,
    account: str,
    name: str,
    fn: Doc,
    *,
    description: str | None,
    now: float,
) -> tuple[Doc, bool]:
    """Publish $LATEST of `fn` (the caller holds the transaction and saves `fn`).

    Returns (version document, created). Lambda publishes nothing when $LATEST was not
    updated since the last published version; it returns that version. An
    UpdateFunctionCode or UpdateFunctionConfiguration counts even when it changed nothing
    (the same zip again): AWS then publishes a new version, so the mark includes the
    LastModified that every update renews (and that tags and publishing leave alone).
    """
    latest = fn["latest"]
    cfg = latest["config"]
    mark = config.publish_mark(
        config.fingerprint(cfg) + str(latest["code"]["sha256_hex"]) + str(cfg["LastModified"])
    )
    last = fn.get("last_published")
    if last and last.get("mark") == mark:
        existing = await repo.version(account, name, str(last["version"]))
        if existing is not None:
            return existing, False
    number = int(fn.get("next_version", 1))
    fn["next_version"] = number + 1
    doc: dict[str, Any] = copy.deepcopy(latest)
    vcfg = doc["config"]
    vcfg["Version"] = str(number)
    vcfg["FunctionArn"] = arns.function_arn(str(fn["region"]), account, name, str(number))
    vcfg["RevisionId"] = states.new_revision()
    vcfg["LastModified"] = config.timestamp(now)
    if description is not None:
        vcfg["Description"] = description
    snapstart = vcfg.get("SnapStart") or {}
    vcfg["SnapStart"] = config.snapstart_response(snapstart, published=True)
    latest_status = states.from_config(cfg)
    if vcfg["SnapStart"]["OptimizationStatus"] == "On":
        # Pending until the data plane has taken the snapshot.
        states.apply(vcfg, states.PENDING_SNAPSHOT)
    elif latest_status.state == "Pending" or latest_status.update == "InProgress":
        # Published with a create or an update (Publish=True): the version is being
        # created until $LATEST's code is ready, and settles with it (Active, Successful).
        states.apply(vcfg, states.PENDING)
    # Otherwise the version keeps $LATEST's state: its code is the same, already extracted
    # (PublishVersion waits for that), so an invoke right after publishing works, as on AWS.
    await repo.put_version(account, name, str(number), doc)
    fn["last_published"] = {"version": str(number), "mark": mark}
    # Publishing bumps $LATEST's revision, as Lambda does.
    cfg["RevisionId"] = states.new_revision()
    return doc, True
