"""Every paginated Lambda list operation, walked through boto3's paginators against a real
server with random names (prefixes of one another, `-`, `_`, digits), random versions,
aliases and page sizes: each item is seen exactly once, in AWS's order, and the walk ends
(issue 8 §1.1). One module server; every example makes its own resources."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.integration.paging_support import (
    NAME_SUFFIX,
    PROPERTY,
    flat,
    fresh,
    full_pages,
    walk,
)
from tests.integration.test_lambda_functions import make_zip
from tests.support import ServerProcess, lambda_role

CODE = make_zip()
LAYER = make_zip("VALUE = 1\n")
# Alias names: Lambda's pattern, never all digits (that would be a version).
ALIASES = st.sets(
    st.lists(st.sampled_from(["a", "A", "-", "_", "1", "live", "v2", "10"]), min_size=1, max_size=4)
    .map("".join)
    .filter(lambda s: not s.isdigit()),
    min_size=1,
    max_size=6,
)


@pytest.fixture(scope="module")
def lam(server: ServerProcess) -> Any:
    return server.client("lambda")


@pytest.fixture(scope="module")
def role(server: ServerProcess) -> str:
    return lambda_role(server, "pager")


def qualifier_order(qualifier: str) -> tuple[int, int, str]:
    """AWS's order of a function's qualifiers: $LATEST, versions by number, aliases by name."""
    if qualifier == "$LATEST":
        return (0, 0, "")
    if qualifier.isdigit():
        return (1, int(qualifier), "")
    return (2, 0, qualifier)


def increasing(keys: list[Any]) -> bool:
    return all(a < b for a, b in itertools.pairwise(keys))


def make_function(lam: Any, role: str, name: str, versions: int = 0) -> None:
    """A function with `versions` published versions (1..versions)."""
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": CODE},
    )
    for n in range(versions):
        lam.update_function_configuration(FunctionName=name, Timeout=10 + n)
        # AWS's update window: a publish during an update is refused, so wait it out
        # (polled, bounded at 30 s; it takes milliseconds).
        lam.get_waiter("function_updated_v2").wait(
            FunctionName=name, WaiterConfig={"Delay": 0.02, "MaxAttempts": 1500}
        )
        assert lam.publish_version(FunctionName=name)["Version"] == str(n + 1)


def qualifier_of(arn: str, name: str) -> str:
    """The qualifier of a function ARN ($LATEST for the unqualified one)."""
    tail = arn.split(":function:", 1)[1]
    return tail.split(":", 1)[1] if tail != name else "$LATEST"


@PROPERTY
@given(
    suffixes=st.sets(NAME_SUFFIX, min_size=1, max_size=6),
    versions=st.lists(st.integers(0, 3), min_size=6, max_size=6),
    size=st.integers(1, 60),
    every=st.booleans(),
)
def test_list_functions(
    lam: Any, role: str, suffixes: set[str], versions: list[int], size: int, every: bool
) -> None:
    """Names in order (then, with ALL, $LATEST before versions by number); at most 50 a
    page whatever MaxItems says; every function of the account once."""
    stem = fresh("fn")
    made = {stem + s: v for s, v in zip(sorted(suffixes), versions, strict=False)}
    for name, count in made.items():
        make_function(lam, role, name, count)
    params = {"FunctionVersion": "ALL"} if every else {}
    pages = walk(lam.get_paginator("list_functions"), lambda r: r["Functions"], size, **params)
    assert all(len(p) <= 50 for p in pages)
    full_pages(pages, min(size, 50))
    seen = [(f["FunctionName"], f["Version"]) for f in flat(pages)]
    keys = [(n, qualifier_order(v)) for n, v in seen]
    assert increasing(keys), keys
    mine = [item for item in seen if item[0].startswith(stem)]
    expected = [
        (name, q)
        for name in sorted(made)
        for q in ["$LATEST", *(str(n) for n in range(1, made[name] + 1) if every)]
    ]
    assert mine == expected


@PROPERTY
@given(count=st.integers(0, 13), size=st.integers(1, 60))
def test_list_versions_by_function(lam: Any, role: str, count: int, size: int) -> None:
    """$LATEST, then versions by number (2 before 10); at most 50 a page, as AWS."""
    name = fresh("ver")
    make_function(lam, role, name, count)
    paginator = lam.get_paginator("list_versions_by_function")
    pages = walk(paginator, lambda r: r["Versions"], size, FunctionName=name)
    full_pages(pages, min(size, 50))
    assert [v["Version"] for v in flat(pages)] == ["$LATEST", *map(str, range(1, count + 1))]


@PROPERTY
@given(aliases=ALIASES, data=st.data(), size=st.integers(1, 8))
def test_list_aliases(lam: Any, role: str, aliases: set[str], data: Any, size: int) -> None:
    """Aliases by name; with FunctionVersion, only those pointing at that version."""
    name = fresh("al")
    make_function(lam, role, name, 2)
    target = {a: data.draw(st.sampled_from(["1", "2"])) for a in sorted(aliases)}
    for alias, version in target.items():
        lam.create_alias(FunctionName=name, Name=alias, FunctionVersion=version)
    pages = walk(lam.get_paginator("list_aliases"), lambda r: r["Aliases"], size, FunctionName=name)
    full_pages(pages, size)
    assert [a["Name"] for a in flat(pages)] == sorted(aliases)
    only = walk(
        lam.get_paginator("list_aliases"),
        lambda r: r["Aliases"],
        size,
        FunctionName=name,
        FunctionVersion="2",
    )
    assert [a["Name"] for a in flat(only)] == sorted(a for a, v in target.items() if v == "2")


@PROPERTY
@given(suffixes=st.sets(NAME_SUFFIX, min_size=1, max_size=6), size=st.integers(1, 50))
def test_list_layers(lam: Any, suffixes: set[str], size: int) -> None:
    """Layers by name, every layer of the account once."""
    stem = fresh("ly")
    for suffix in suffixes:
        lam.publish_layer_version(LayerName=stem + suffix, Content={"ZipFile": LAYER})
    pages = walk(lam.get_paginator("list_layers"), lambda r: r["Layers"], size)
    full_pages(pages, size)
    seen = [layer["LayerName"] for layer in flat(pages)]
    assert increasing(seen)
    assert [n for n in seen if n.startswith(stem)] == sorted(stem + s for s in suffixes)


@PROPERTY
@given(count=st.integers(1, 13), data=st.data(), size=st.integers(1, 50))
def test_list_layer_versions(lam: Any, count: int, data: Any, size: int) -> None:
    """Newest first, by number (10 before 9), gaps where versions were deleted."""
    layer = fresh("lv")
    for _ in range(count):
        lam.publish_layer_version(LayerName=layer, Content={"ZipFile": LAYER})
    deleted = data.draw(st.sets(st.integers(1, count), max_size=count - 1))
    for number in deleted:
        lam.delete_layer_version(LayerName=layer, VersionNumber=number)
    paginator = lam.get_paginator("list_layer_versions")
    pages = walk(paginator, lambda r: r["LayerVersions"], size, LayerName=layer)
    full_pages(pages, size)
    kept = sorted(set(range(1, count + 1)) - deleted, reverse=True)
    assert [v["Version"] for v in flat(pages)] == kept


def qualified_function(
    lam: Any, role: str, stem: str, versions: int, aliases: set[str]
) -> Iterator[str]:
    """A function with versions and aliases; yields its qualifiers ($LATEST first)."""
    make_function(lam, role, stem, versions)
    for alias in sorted(aliases):
        lam.create_alias(FunctionName=stem, Name=alias, FunctionVersion="1")
    yield "$LATEST"
    yield from (str(n) for n in range(1, versions + 1))
    yield from aliases


@PROPERTY
@given(versions=st.integers(1, 12), aliases=ALIASES, data=st.data(), size=st.integers(1, 50))
def test_list_function_event_invoke_configs(
    lam: Any, role: str, versions: int, aliases: set[str], data: Any, size: int
) -> None:
    """$LATEST, versions by number, aliases by name."""
    name = fresh("eic")
    qualifiers = list(qualified_function(lam, role, name, versions, aliases))
    chosen = data.draw(st.sets(st.sampled_from(qualifiers), min_size=1))
    for q in chosen:
        lam.put_function_event_invoke_config(FunctionName=name, Qualifier=q, MaximumRetryAttempts=0)
    paginator = lam.get_paginator("list_function_event_invoke_configs")
    pages = walk(paginator, lambda r: r["FunctionEventInvokeConfigs"], size, FunctionName=name)
    full_pages(pages, size)
    seen = [qualifier_of(c["FunctionArn"], name) for c in flat(pages)]
    assert seen == sorted(chosen, key=qualifier_order)


@PROPERTY
@given(aliases=ALIASES, data=st.data(), size=st.integers(1, 50))
def test_list_function_url_configs(
    lam: Any, role: str, aliases: set[str], data: Any, size: int
) -> None:
    """$LATEST, then aliases by name."""
    name = fresh("url")
    qualifiers = ["$LATEST", *sorted(aliases)]
    list(qualified_function(lam, role, name, 1, aliases))
    chosen = data.draw(st.sets(st.sampled_from(qualifiers), min_size=1))
    for q in chosen:
        extra = {} if q == "$LATEST" else {"Qualifier": q}
        lam.create_function_url_config(FunctionName=name, AuthType="NONE", **extra)
    paginator = lam.get_paginator("list_function_url_configs")
    pages = walk(paginator, lambda r: r["FunctionUrlConfigs"], size, FunctionName=name)
    full_pages(pages, size)
    seen = [qualifier_of(c["FunctionArn"], name) for c in flat(pages)]
    assert seen == sorted(chosen, key=qualifier_order)


@PROPERTY
@given(versions=st.integers(2, 11), data=st.data(), size=st.integers(1, 4))
def test_list_provisioned_concurrency_configs(
    lam: Any, role: str, versions: int, data: Any, size: int
) -> None:
    """Versions by number, then aliases by name. Each config runs a real environment, so
    few of them; the function is deleted after, which stops them."""
    name = fresh("pc")
    aliases = data.draw(ALIASES.map(lambda s: set(sorted(s)[:1])))
    # Not version 1 too: the alias points at it, and one of them may hold the config.
    qualifiers = list(qualified_function(lam, role, name, versions, aliases))[2:]
    chosen = data.draw(st.sets(st.sampled_from(qualifiers), min_size=1, max_size=4))
    try:
        for q in chosen:
            lam.put_provisioned_concurrency_config(
                FunctionName=name, Qualifier=q, ProvisionedConcurrentExecutions=1
            )
        paginator = lam.get_paginator("list_provisioned_concurrency_configs")
        pages = walk(
            paginator, lambda r: r["ProvisionedConcurrencyConfigs"], size, FunctionName=name
        )
        full_pages(pages, size)
        seen = [qualifier_of(c["FunctionArn"], name) for c in flat(pages)]
        assert seen == sorted(chosen, key=qualifier_order)
    finally:
        lam.delete_function(FunctionName=name)


@pytest.fixture(scope="module")
def sqs(server: ServerProcess) -> Any:
    return server.client("sqs")


@PROPERTY
@given(count=st.integers(0, 12), size=st.integers(1, 15), by_function=st.booleans())
def test_list_event_source_mappings(
    lam: Any, sqs: Any, role: str, count: int, size: int, by_function: bool
) -> None:
    """By UUID; by function, or every mapping of the account."""
    name = fresh("esm")
    make_function(lam, role, name)
    account = role.split(":")[4]
    made = []
    for n in range(count):  # a mapping's queue must exist, as on AWS
        sqs.create_queue(QueueName=f"{name}-{n}")
        arn = f"arn:aws:sqs:us-east-1:{account}:{name}-{n}"
        made.append(lam.create_event_source_mapping(FunctionName=name, EventSourceArn=arn)["UUID"])
    params = {"FunctionName": name} if by_function else {}
    paginator = lam.get_paginator("list_event_source_mappings")
    pages = walk(paginator, lambda r: r["EventSourceMappings"], size, **params)
    full_pages(pages, size)
    seen = [m["UUID"] for m in flat(pages)]
    assert increasing(seen)
    assert [u for u in seen if u in made] == sorted(made)


def test_list_functions_and_versions_give_at_most_50_a_page(lam: Any, role: str) -> None:
    """AWS: "returns a maximum of 50 items in each response, even if you set the number
    higher" (ListFunctions, ListVersionsByFunction)."""
    stem = fresh("cap")
    for n in range(51):
        make_function(lam, role, f"{stem}{n}")
    first = lam.list_functions(MaxItems=100)
    assert len(first["Functions"]) == 50 and first["NextMarker"]
    make_function(lam, role, stem, 50)  # $LATEST and 50 versions
    page = lam.list_versions_by_function(FunctionName=stem, MaxItems=100)
    assert len(page["Versions"]) == 50
    rest = lam.list_versions_by_function(FunctionName=stem, Marker=page["NextMarker"])
    assert [v["Version"] for v in rest["Versions"]] == ["50"]


@PROPERTY
@given(count=st.integers(0, 12), size=st.integers(1, 15))
def test_list_code_signing_configs(lam: Any, role: str, count: int, size: int) -> None:
    """By config id, every config of the account once."""
    profile = f"arn:aws:signer:us-east-1:{role.split(':')[4]}:/signing-profiles/p/ABCDEF1234"
    made = [
        lam.create_code_signing_config(AllowedPublishers={"SigningProfileVersionArns": [profile]})[
            "CodeSigningConfig"
        ]["CodeSigningConfigId"]
        for _ in range(count)
    ]
    paginator = lam.get_paginator("list_code_signing_configs")
    pages = walk(paginator, lambda r: r["CodeSigningConfigs"], size)
    full_pages(pages, size)
    seen = [c["CodeSigningConfigId"] for c in flat(pages)]
    assert increasing(seen)
    assert [c for c in seen if c in made] == sorted(made)


@PROPERTY
@given(suffixes=st.sets(NAME_SUFFIX, min_size=1, max_size=8), size=st.integers(1, 10))
def test_list_functions_by_code_signing_config(
    lam: Any, role: str, suffixes: set[str], size: int
) -> None:
    """The functions using one config, by ARN."""
    profile = f"arn:aws:signer:us-east-1:{role.split(':')[4]}:/signing-profiles/p/ABCDEF1234"
    config = lam.create_code_signing_config(
        AllowedPublishers={"SigningProfileVersionArns": [profile]}
    )["CodeSigningConfig"]["CodeSigningConfigArn"]
    stem = fresh("csc")
    arns = []
    for suffix in suffixes:
        make_function(lam, role, stem + suffix)
        lam.put_function_code_signing_config(
            FunctionName=stem + suffix, CodeSigningConfigArn=config
        )
        arns.append(lam.get_function_configuration(FunctionName=stem + suffix)["FunctionArn"])
    paginator = lam.get_paginator("list_functions_by_code_signing_config")
    pages = walk(paginator, lambda r: r["FunctionArns"], size, CodeSigningConfigArn=config)
    full_pages(pages, size)
    assert flat(pages) == sorted(arns)
