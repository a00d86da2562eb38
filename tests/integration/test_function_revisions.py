"""RevisionId, states and versions as AWS shows them (AWS-BEHAVIOURS.md §2, §3), through
real boto3 against a real `lambent serve`. Every wait is a boto3 waiter."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, lambda_role

WAIT = {"Delay": 1, "MaxAttempts": 60}
STATE_KEYS = (
    "State",
    "StateReason",
    "StateReasonCode",
    "LastUpdateStatus",
    "LastUpdateStatusReason",
    "LastUpdateStatusReasonCode",
    "RuntimeVersionConfig",
)


@pytest.fixture(scope="module")
def lam(server: ServerProcess) -> Any:
    return server.client("lambda")


@pytest.fixture(scope="module")
def role(server: ServerProcess) -> str:
    return lambda_role(server, "revisions-role")


def create(lam: Any, role: str, name: str, **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": role,
        "Handler": "app.handler",
        "Code": {"ZipFile": python_zip("def handler(event, context):\n    return event\n")},
        **extra,
    }
    out: dict[str, Any] = lam.create_function(**params)
    return out


def active(lam: Any, name: str, qualifier: str | None = None) -> dict[str, Any]:
    extra = {"Qualifier": qualifier} if qualifier else {}
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=WAIT, **extra)
    out: dict[str, Any] = lam.get_function_configuration(FunctionName=name, **extra)
    return out


def updated(lam: Any, name: str, qualifier: str | None = None) -> dict[str, Any]:
    extra = {"Qualifier": qualifier} if qualifier else {}
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=WAIT, **extra)
    out: dict[str, Any] = lam.get_function_configuration(FunctionName=name, **extra)
    return out


def revision(lam: Any, name: str, qualifier: str | None = None) -> str:
    extra = {"Qualifier": qualifier} if qualifier else {}
    return str(lam.get_function_configuration(FunctionName=name, **extra)["RevisionId"])


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    resp = caught.value.response
    return (
        resp["Error"]["Code"],
        resp["Error"]["Message"],
        resp["ResponseMetadata"]["HTTPStatusCode"],
    )


def without_metadata(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "ResponseMetadata"}


# §2.1 -------------------------------------------------------------------------------------
def test_a_created_function_gets_a_new_revision_when_it_turns_active(lam: Any, role: str) -> None:
    created = create(lam, role, "rev-create")
    assert created["State"] == "Pending"
    now = active(lam, "rev-create")
    assert now["State"] == "Active"
    assert now["RevisionId"] != created["RevisionId"]


def test_version_1_published_by_create_gets_its_own_revision_when_active(
    lam: Any, role: str
) -> None:
    created = create(lam, role, "rev-create-pub", Publish=True)
    assert created["Version"] == "1"
    assert created["State"] == "Pending"
    v1 = active(lam, "rev-create-pub", "1")
    latest = active(lam, "rev-create-pub")
    assert v1["State"] == "Active"
    assert v1["RevisionId"] not in (created["RevisionId"], latest["RevisionId"])


# §2.2 -------------------------------------------------------------------------------------
def test_an_update_that_changes_nothing_still_renews_the_revision_twice(
    lam: Any, role: str
) -> None:
    create(lam, role, "rev-noop")
    before = active(lam, "rev-noop")
    answer = lam.update_function_configuration(FunctionName="rev-noop", Timeout=before["Timeout"])
    assert answer["LastUpdateStatus"] == "InProgress"
    assert answer["RevisionId"] != before["RevisionId"]
    after = updated(lam, "rev-noop")
    assert after["LastUpdateStatus"] == "Successful"
    assert after["RevisionId"] not in (before["RevisionId"], answer["RevisionId"])

    code = python_zip("def handler(event, context):\n    return event\n")
    again = lam.update_function_code(FunctionName="rev-noop", ZipFile=code)
    assert again["CodeSha256"] == after["CodeSha256"]  # the same code
    assert again["LastUpdateStatus"] == "InProgress"
    assert again["RevisionId"] != after["RevisionId"]
    last = updated(lam, "rev-noop")
    assert last["RevisionId"] not in (after["RevisionId"], again["RevisionId"])


# §2.3 -------------------------------------------------------------------------------------
def test_publish_gives_the_version_a_revision_that_reads_the_same_later(
    lam: Any, role: str
) -> None:
    create(lam, role, "rev-publish")
    before = active(lam, "rev-publish")
    published = lam.publish_version(FunctionName="rev-publish")
    assert published["RevisionId"] != before["RevisionId"]
    assert revision(lam, "rev-publish", published["Version"]) == published["RevisionId"]
    latest = revision(lam, "rev-publish")
    assert latest not in (before["RevisionId"], published["RevisionId"])
    # Later reads, after the publish has settled, still show the version's revision.
    assert (
        active(lam, "rev-publish", published["Version"])["RevisionId"] == (published["RevisionId"])
    )


# §2.4 -------------------------------------------------------------------------------------
def test_tag_and_untag_renew_the_functions_revision(lam: Any, role: str) -> None:
    arn = create(lam, role, "rev-tags")["FunctionArn"]
    first = active(lam, "rev-tags")["RevisionId"]
    lam.tag_resource(Resource=arn, Tags={"team": "a"})
    tagged = revision(lam, "rev-tags")
    assert tagged != first
    lam.untag_resource(Resource=arn, TagKeys=["team"])
    assert revision(lam, "rev-tags") not in (first, tagged)


# §2.5 -------------------------------------------------------------------------------------
def test_aliases_change_no_function_revision_and_have_their_own(lam: Any, role: str) -> None:
    create(lam, role, "rev-alias")
    active(lam, "rev-alias")
    version = lam.publish_version(FunctionName="rev-alias")["Version"]
    latest, v1 = revision(lam, "rev-alias"), revision(lam, "rev-alias", version)
    alias = lam.create_alias(FunctionName="rev-alias", Name="live", FunctionVersion=version)
    assert (revision(lam, "rev-alias"), revision(lam, "rev-alias", version)) == (latest, v1)
    moved = lam.update_alias(FunctionName="rev-alias", Name="live", Description="moved")
    assert moved["RevisionId"] != alias["RevisionId"]
    assert alias["RevisionId"] not in (latest, v1)
    assert (revision(lam, "rev-alias"), revision(lam, "rev-alias", version)) == (latest, v1)
    got = lam.get_alias(FunctionName="rev-alias", Name="live")
    assert got["RevisionId"] == moved["RevisionId"]


# §3 PublishVersion ------------------------------------------------------------------------
def test_publish_without_changes_returns_the_last_version_even_with_a_new_description(
    lam: Any, role: str
) -> None:
    create(lam, role, "rev-same")
    active(lam, "rev-same")
    first = without_metadata(lam.publish_version(FunctionName="rev-same", Description="one"))
    latest = revision(lam, "rev-same")
    again = without_metadata(lam.publish_version(FunctionName="rev-same", Description="two"))
    assert again == first
    assert again["Description"] == "one"
    assert revision(lam, "rev-same") == latest
    lam.update_function_configuration(FunctionName="rev-same", MemorySize=256)
    updated(lam, "rev-same")
    assert lam.publish_version(FunctionName="rev-same")["Version"] == "2"


# §3 lists ---------------------------------------------------------------------------------
def test_list_entries_show_no_state(lam: Any, role: str) -> None:
    create(lam, role, "rev-list", Publish=True)
    active(lam, "rev-list", "1")
    shown = lam.get_function_configuration(FunctionName="rev-list")
    assert {"State", "LastUpdateStatus", "RuntimeVersionConfig"} <= set(shown)
    everything = lam.list_functions(FunctionVersion="ALL", MaxItems=50)["Functions"]
    latest_only = lam.list_functions(MaxItems=50)["Functions"]
    versions = lam.list_versions_by_function(FunctionName="rev-list")["Versions"]
    entries = everything + latest_only + versions
    assert [v["Version"] for v in versions] == ["$LATEST", "1"]
    assert [e for e in entries if set(STATE_KEYS) & set(e)] == []
