"""A secret's versions and their staging labels, as AWS moves them. Pure.

A version is `{"created": t, "stages": [...], "value": sealed}` in the secret's document,
keyed by its id (the ClientRequestToken). Staging a new version moves each label it takes
from whichever version held it; when AWSCURRENT moves, the version that held it becomes
AWSPREVIOUS. AWS keeps versions left without a label as deprecated and removes them in
time; Lambent removes them at once (their values cannot be read by stage anyway).
"""

from __future__ import annotations

from typing import Any

CURRENT = "AWSCURRENT"
PREVIOUS = "AWSPREVIOUS"

Versions = dict[str, dict[str, Any]]


def holder(versions: Versions, stage: str) -> str | None:
    for vid, version in versions.items():
        if stage in version["stages"]:
            return vid
    return None


def stage(versions: Versions, new_id: str, version: dict[str, Any], stages: list[str]) -> None:
    """Add `version` under `new_id` holding `stages`, moving labels as AWS does."""
    old_current = holder(versions, CURRENT) if CURRENT in stages else None
    for other in versions.values():
        other["stages"] = [s for s in other["stages"] if s not in stages]
    if old_current is not None and old_current != new_id:
        for other in versions.values():
            other["stages"] = [s for s in other["stages"] if s != PREVIOUS]
        versions[old_current]["stages"].append(PREVIOUS)
    versions[new_id] = {**version, "stages": list(stages)}
    for vid in [v for v, d in versions.items() if not d["stages"]]:
        del versions[vid]


def to_stages(versions: Versions) -> dict[str, list[str]]:
    return {vid: list(v["stages"]) for vid, v in versions.items()}
