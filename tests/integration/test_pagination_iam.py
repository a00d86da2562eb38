"""Every paginated IAM list operation Lambent serves, walked through boto3's paginators
(Marker/IsTruncated) against a real server with random names, tags and page sizes: each
item is seen exactly once, in order, and the walk ends (issue 8 §1.1). Roles and users
follow the same rules, so their tests are one test over both."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.integration.paging_support import CHEAP, flat, fresh, full_pages, walk
from tests.support import LAMBDA_TRUST, ServerProcess

# IAM names are unique case-insensitively: lower case only, so no two drawn names clash.
IAM_NAME = st.lists(
    st.sampled_from(["a", "b", "-", "_", "1", "10", "2", "+", "=", ",", ".", "@"]),
    min_size=1,
    max_size=5,
).map("".join)
TAG_KEY = st.lists(
    st.sampled_from(["k", "-", "_", "1", "10", ".", ":", "/", "@"]), min_size=1, max_size=5
)
DOCUMENT = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
)


@dataclass(frozen=True)
class Principal:
    """What differs between the role and the user operations: their names."""

    noun: str  # "role" or "user"
    field: str  # RoleName or UserName

    def create(self, iam: Any, name: str, path: str = "/") -> None:
        if self.noun == "role":
            iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=LAMBDA_TRUST)
        else:
            iam.create_user(UserName=name, Path=path)


ROLE = Principal("role", "RoleName")
USER = Principal("user", "UserName")
BOTH = pytest.mark.parametrize("who", [ROLE, USER], ids=["role", "user"])


@pytest.fixture(scope="module")
def iam(server: ServerProcess) -> Any:
    return server.client("iam")


@BOTH
@CHEAP
@given(names=st.sets(IAM_NAME, min_size=1, max_size=12), size=st.integers(1, 15))
def test_list_roles_and_users(iam: Any, who: Principal, names: set[str], size: int) -> None:
    """ListRoles / ListUsers: by name, within a path prefix."""
    path = f"/{fresh()}/"
    for name in names:
        who.create(iam, f"{path[1:-1]}{name}", path)
    noun = who.noun.capitalize() + "s"
    pages = walk(iam.get_paginator(f"list_{who.noun}s"), lambda r: r[noun], size, PathPrefix=path)
    full_pages(pages, size)
    assert [x[who.field] for x in flat(pages)] == sorted(f"{path[1:-1]}{n}" for n in names)


@CHEAP
@given(names=st.sets(IAM_NAME, min_size=1, max_size=12), size=st.integers(1, 15))
def test_list_policies(iam: Any, names: set[str], size: int) -> None:
    """ListPolicies: by ARN (path, then name)."""
    stem = fresh()  # policy names are unique in an account, whatever their path
    path = f"/{stem}/"
    for name in names:
        iam.create_policy(PolicyName=stem + name, Path=path, PolicyDocument=DOCUMENT)
    paginator = iam.get_paginator("list_policies")
    pages = walk(paginator, lambda r: r["Policies"], size, Scope="Local", PathPrefix=path)
    full_pages(pages, size)
    assert [p["PolicyName"] for p in flat(pages)] == sorted(stem + n for n in names)


@BOTH
@CHEAP
@given(names=st.sets(IAM_NAME, min_size=1, max_size=10), size=st.integers(1, 12))
def test_list_attached_policies(iam: Any, who: Principal, names: set[str], size: int) -> None:
    """ListAttachedRolePolicies / ListAttachedUserPolicies: by policy ARN (10 at most,
    IAM's quota of managed policies per role or user)."""
    path = f"/{fresh()}/"
    owner = path[1:-1]
    who.create(iam, owner)
    attach = getattr(iam, f"attach_{who.noun}_policy")
    for name in names:
        made = iam.create_policy(PolicyName=owner + name, Path=path, PolicyDocument=DOCUMENT)
        attach(**{who.field: owner, "PolicyArn": made["Policy"]["Arn"]})
    paginator = iam.get_paginator(f"list_attached_{who.noun}_policies")
    pages = walk(paginator, lambda r: r["AttachedPolicies"], size, **{who.field: owner})
    full_pages(pages, size)
    assert [p["PolicyName"] for p in flat(pages)] == sorted(owner + n for n in names)


@BOTH
@CHEAP
@given(names=st.sets(IAM_NAME, min_size=1, max_size=12), size=st.integers(1, 15))
def test_list_inline_policies(iam: Any, who: Principal, names: set[str], size: int) -> None:
    """ListRolePolicies / ListUserPolicies: by policy name."""
    owner = fresh()
    who.create(iam, owner)
    put = getattr(iam, f"put_{who.noun}_policy")
    for name in names:
        put(**{who.field: owner, "PolicyName": name, "PolicyDocument": DOCUMENT})
    paginator = iam.get_paginator(f"list_{who.noun}_policies")
    pages = walk(paginator, lambda r: r["PolicyNames"], size, **{who.field: owner})
    full_pages(pages, size)
    assert flat(pages) == sorted(names)


@BOTH
@CHEAP
@given(
    keys=st.lists(TAG_KEY.map("".join), min_size=1, max_size=20, unique=True),
    size=st.integers(1, 25),
)
def test_list_tags(iam: Any, who: Principal, keys: list[str], size: int) -> None:
    """ListRoleTags / ListUserTags: sorted by tag key (as AWS documents), whatever order
    they were tagged in."""
    owner = fresh()
    who.create(iam, owner)
    tag = getattr(iam, f"tag_{who.noun}")
    for key in keys:  # one call per tag, in the drawn (unsorted) order
        tag(**{who.field: owner, "Tags": [{"Key": key, "Value": key}]})
    paginator = iam.get_paginator(f"list_{who.noun}_tags")
    pages = walk(paginator, lambda r: r["Tags"], size, **{who.field: owner})
    full_pages(pages, size)
    assert [t["Key"] for t in flat(pages)] == sorted(keys)


@CHEAP
@given(count=st.integers(0, 2), size=st.integers(1, 3))
def test_list_access_keys(iam: Any, count: int, size: int) -> None:
    """ListAccessKeys: by key id (two at most, IAM's quota per user)."""
    user = fresh()
    USER.create(iam, user)
    made = [iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"] for _ in range(count)]
    paginator = iam.get_paginator("list_access_keys")
    pages = walk(paginator, lambda r: r["AccessKeyMetadata"], size, UserName=user)
    full_pages(pages, size)
    assert [k["AccessKeyId"] for k in flat(pages)] == sorted(made)
