"""Policy-document checks, encoding, ARNs and IAM pagination: pure logic."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import pytest

from lambent.errors import IamInvalidInput, IamLimitExceeded, IamMalformedPolicy
from lambent.iam import documents, names, paging


def _doc(**stmt: Any) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [stmt]})


def test_encode_round_trips_and_never_uses_plus() -> None:
    text = _doc(Effect="Allow", Action="s3:Get*", Resource="arn:aws:s3:::a b+c/*")
    encoded = documents.encode(text)
    assert " " not in encoded and "+" not in encoded
    assert unquote(encoded) == text


def test_trust_policy_checks() -> None:
    ok = _doc(
        Effect="Allow", Principal={"Service": "lambda.amazonaws.com"}, Action="sts:AssumeRole"
    )
    assert unquote(documents.check_trust_policy(ok)) == ok
    with pytest.raises(IamMalformedPolicy, match="invalid Json"):
        documents.check_trust_policy("some policy")
    assert documents.check_trust_policy("some policy", lenient=True) == "some policy"
    with pytest.raises(IamMalformedPolicy, match="prohibited field Resource"):
        documents.check_trust_policy(
            _doc(Effect="Allow", Principal="*", Action="sts:AssumeRole", Resource="*")
        )
    with pytest.raises(IamMalformedPolicy, match="principal"):
        documents.check_trust_policy(_doc(Effect="Allow", Action="sts:AssumeRole"))
    with pytest.raises(IamLimitExceeded):
        documents.check_trust_policy(
            _doc(Effect="Allow", Principal={"AWS": ["x" * 50] * 50}, Action="sts:AssumeRole")
        )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("[]", "Syntax errors in policy."),
        ("{", "Syntax errors in policy."),
        (json.dumps({"Version": "2012-10-17"}), "Syntax errors in policy."),
        (json.dumps({"Version": "1999", "Statement": []}), "The policy failed legacy parsing"),
        (_doc(Effect="Maybe", Action="*", Resource="*"), "Syntax errors in policy."),
        (_doc(Effect="Allow", Resource="*"), "Policy statement must contain actions."),
        (_doc(Effect="Allow", Action="*"), "Policy statement must contain resources."),
        (
            _doc(Effect="Allow", Action="*", Resource="*", Principal="*"),
            "Policy document should not specify a principal.",
        ),
    ],
)
def test_permission_policy_rejections(document: str, message: str) -> None:
    with pytest.raises(IamMalformedPolicy) as err:
        documents.check_permission_policy(document, documents.MANAGED_POLICY_QUOTA)
    assert err.value.message == message


def test_permission_policy_size_ignores_whitespace() -> None:
    spaced = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
        },
        indent=40,
    )
    assert len(spaced) > 200 > documents.size(spaced)
    documents.check_permission_policy(spaced, 200)
    with pytest.raises(IamLimitExceeded, match="PolicySize: 50"):
        documents.check_permission_policy(spaced, 50)


def test_parse_iam_arn() -> None:
    parsed = names.parse_iam_arn("arn:aws:iam::123456789012:role/a/b/name", "role")
    assert (parsed.account, parsed.path, parsed.name) == ("123456789012", "/a/b/", "name")
    assert parsed.arn == "arn:aws:iam::123456789012:role/a/b/name"
    top = names.parse_iam_arn("arn:aws:iam::aws:policy/AdministratorAccess", "policy")
    assert (top.account, top.path, top.name) == ("aws", "/", "AdministratorAccess")
    for bad in ("nope", "arn:aws:iam::1:user/x", "arn:aws:s3:::role/x", "arn:aws:iam::1:role/"):
        with pytest.raises(IamInvalidInput):
            names.parse_iam_arn(bad, "role")
    assert names.user_name_of("arn:aws:iam::1:user/p/q/alice") == "alice"
    assert names.user_name_of("arn:aws:iam::1:root") is None
    assert names.user_name_of("arn:aws:sts::1:assumed-role/r/user/x") is None


def test_paging_walks_every_item_once() -> None:
    items = [f"k{i:02d}" for i in range(25)]
    seen: list[str] = []
    params: dict[str, Any] = {"MaxItems": 10}
    pages = 0
    while True:
        chunk, extra = paging.page(items, lambda s: (s,), params)
        seen += chunk
        pages += 1
        if not extra["IsTruncated"]:
            assert "Marker" not in extra
            break
        params = {"MaxItems": 10, "Marker": extra["Marker"]}
    assert seen == items and pages == 3
    # A marker stays valid when the item it points at is deleted.
    _, extra = paging.page(items, lambda s: (s,), {"MaxItems": 5})
    rest, _ = paging.page(items[:4] + items[5:], lambda s: (s,), {"Marker": extra["Marker"]})
    assert rest[0] == "k05"
    assert paging.page(items, lambda s: (s,), {})[1] == {"IsTruncated": False}
    with pytest.raises(IamInvalidInput):
        paging.page(items, lambda s: (s,), {"Marker": "!!!"})
