"""A $LATEST version's key (its template's and pool's identity) follows its code and
configuration, not its RevisionId or State: AWS gives $LATEST a new RevisionId when it turns
Active, and the template made while it was Pending is the one its first invoke must find."""

from __future__ import annotations

import copy
from typing import Any

from lambent.functions.catalog import build_version

ACCOUNT = "123456789012"


def docs() -> tuple[dict[str, Any], dict[str, Any]]:
    cfg = {
        "FunctionName": "f",
        "Version": "$LATEST",
        "RevisionId": "r1",
        "Runtime": "python3.12",
        "Handler": "app.handler",
        "Role": f"arn:aws:iam::{ACCOUNT}:role/r",
        "MemorySize": 128,
        "Timeout": 3,
        "EphemeralStorage": {"Size": 512},
        "LastModified": "2026-01-01T00:00:00.000+0000",
        "State": "Pending",
        "StateReason": "The function is being created.",
        "StateReasonCode": "Creating",
    }
    doc = {"config": cfg, "code": {"sha256_hex": "a" * 64, "size": 10}, "layers": []}
    fn = {"region": "us-east-1", "tags": {}, "latest": doc}
    return fn, doc


def key(fn: dict[str, Any], doc: dict[str, Any]) -> str:
    return build_version(ACCOUNT, "f", fn, doc).key


def test_state_and_revision_changes_keep_the_key() -> None:
    fn, doc = docs()
    pending = key(fn, doc)
    active = copy.deepcopy(doc)
    cfg = active["config"]
    for field in ("StateReason", "StateReasonCode"):
        del cfg[field]
    cfg.update(State="Active", LastUpdateStatus="Successful", RevisionId="r2")
    assert key(fn, active) == pending


def test_code_configuration_layers_and_network_change_the_key() -> None:
    fn, doc = docs()
    base = key(fn, doc)
    changes = []
    for path, value in (
        (("config", "Timeout"), 9),
        (("config", "LastModified"), "2026-01-01T00:00:01.000+0000"),  # any update
        (("code", "sha256_hex"), "b" * 64),
        (("layers",), [{"arn": "l:1", "sha256_hex": "c" * 64, "size": 1}]),
    ):
        changed = copy.deepcopy(doc)
        target = changed
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
        changes.append(key(fn, changed))
    tagged = copy.deepcopy(fn)
    tagged["tags"] = {"lambent:network": "none"}
    changes.append(key(tagged, doc))
    assert base not in changes and len(set(changes)) == len(changes)
