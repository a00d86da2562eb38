"""Code and S3 bytes in PostgreSQL (`lambent serve --database`): a second server on the
same schema, with a data dir of its own that has never seen the function's zip, fetches it
by SHA-256 and runs it, reads an object's bytes, and serves the zip at GetFunction's
Code.Location; the bytes never land in a data dir except as a node's cache of the code.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.fixtures.functions import files_zip
from tests.support import http_get, lambda_role, running_server

pytestmark = pytest.mark.services


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blob_rows(url: str) -> set[tuple[str, str, int, int]]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT namespace, sha256, size, refs FROM blobs").fetchall()
    return {(str(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in rows}


def files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()] if path.exists() else []


def invoke(lam: Any, name: str) -> Any:
    resp = lam.invoke(FunctionName=name, Payload=b"{}")
    assert "FunctionError" not in resp, resp["Payload"].read()
    return json.loads(resp["Payload"].read())


def test_a_second_node_runs_the_code_and_reads_the_objects_from_postgres(
    pg_url: str, tmp_path: Path
) -> None:
    code = files_zip({"app.py": "def handler(event, context):\n    return {'ran': 'here'}\n"})
    obj = os.urandom(3 * 1024 * 1024 + 17)  # more than one chunk
    first, second = tmp_path / "a", tmp_path / "b"
    # Every node's master key is the same; each runs its own environments (--role all, even
    # where LAMBENT_TEST_DATABASE=cluster makes servers frontends): its data dir is the cache.
    key = ["--master-key-file", str(tmp_path / "master.key"), "--role", "all"]
    with running_server(first, auth="open", database_url=pg_url, extra_args=key) as a:
        lam = a.client("lambda")
        lam.create_function(
            FunctionName="shared",
            Runtime="python3.12",
            Role=lambda_role(a, "blobs"),
            Handler="app.handler",
            Code={"ZipFile": code},
        )
        lam.get_waiter("function_active_v2").wait(FunctionName="shared")
        assert invoke(lam, "shared") == {"ran": "here"}
        s3 = a.client("s3")
        s3.create_bucket(Bucket="shared-bucket")
        s3.put_object(Bucket="shared-bucket", Key="obj", Body=obj)
        rows = blob_rows(pg_url)
        assert ("code", sha(code), len(code), 0) in rows
        assert ("s3", sha(obj), len(obj), 1) in rows
        assert files_under(first / "s3") == []  # object bytes live in PostgreSQL

        with running_server(second, auth="open", database_url=pg_url, extra_args=key) as b:
            lam = b.client("lambda")
            assert not (second / "blobs" / sha(code)[:2] / sha(code)).exists()
            assert invoke(lam, "shared") == {"ran": "here"}  # fetched by SHA-256, extracted
            assert (second / "blobs" / sha(code)[:2] / sha(code)).read_bytes() == code
            location = lam.get_function(FunctionName="shared")["Code"]["Location"]
            assert http_get(location) == (200, code)
            s3 = b.client("s3")
            assert s3.get_object(Bucket="shared-bucket", Key="obj")["Body"].read() == obj
            ranged = s3.get_object(Bucket="shared-bucket", Key="obj", Range="bytes=1048570-1048589")
            assert ranged["Body"].read() == obj[1048570:1048590]
            s3.delete_object(Bucket="shared-bucket", Key="obj")
        assert {r[0] for r in blob_rows(pg_url)} == {"code"}  # the last reference took them
        with pytest.raises(a.client("s3").exceptions.NoSuchKey):
            a.client("s3").get_object(Bucket="shared-bucket", Key="obj")
