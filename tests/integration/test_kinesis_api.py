"""Kinesis streams on Lambent's endpoint: real boto3 against a real `lambent serve`
(SQLite, or PostgreSQL with LAMBENT_TEST_DATABASE=postgres)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import signal
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support import ServerProcess, start_server


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def _drain(k: Any, it: str) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    while True:
        out = k.get_records(ShardIterator=it)
        got += out["Records"]
        it = out["NextShardIterator"]
        if not out["Records"]:
            return got


def test_streams_are_created_described_listed_and_deleted(server: ServerProcess) -> None:
    k = server.client("kinesis")
    k.create_stream(StreamName="orders", ShardCount=3)
    k.get_waiter("stream_exists").wait(StreamName="orders")
    with pytest.raises(ClientError) as err:
        k.create_stream(StreamName="orders", ShardCount=1)
    assert _code(err) == "ResourceInUseException"
    d = k.describe_stream(StreamName="orders")["StreamDescription"]
    assert d["StreamStatus"] == "ACTIVE" and d["RetentionPeriodHours"] == 24
    assert re.fullmatch(r"arn:aws:kinesis:us-east-1:\d{12}:stream/orders", d["StreamARN"])
    ranges = [s["HashKeyRange"] for s in d["Shards"]]
    assert ranges[0] == {
        "StartingHashKey": "0",
        "EndingHashKey": "113427455640312821154458202477256070484",
    }
    assert ranges[2]["EndingHashKey"] == str(2**128 - 1)
    summary = k.describe_stream_summary(StreamARN=d["StreamARN"])["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 3
    page = k.list_shards(StreamName="orders", MaxResults=2)
    rest = k.list_shards(NextToken=page["NextToken"])
    assert [s["ShardId"] for s in page["Shards"] + rest["Shards"]] == [
        f"shardId-{i:012d}" for i in range(3)
    ]
    assert "orders" in k.list_streams()["StreamNames"]
    k.increase_stream_retention_period(StreamName="orders", RetentionPeriodHours=48)
    with pytest.raises(ClientError) as err:
        k.decrease_stream_retention_period(StreamName="orders", RetentionPeriodHours=12)
    assert _code(err) == "InvalidArgumentException"
    k.delete_stream(StreamName="orders")
    with pytest.raises(ClientError) as err:
        k.describe_stream(StreamName="orders")
    assert _code(err) == "ResourceNotFoundException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_records_go_to_the_md5_shard_and_read_back_in_order(server: ServerProcess) -> None:
    k = server.client("kinesis")
    k.create_stream(StreamName="clicks", ShardCount=2)
    keys = [f"user-{i}" for i in range(40)]
    out = k.put_records(
        StreamName="clicks",
        Records=[
            {"Data": f"{key}:{n}".encode(), "PartitionKey": key} for n, key in enumerate(keys)
        ],
    )
    assert out["FailedRecordCount"] == 0
    for key, r in zip(keys, out["Records"], strict=True):
        shard = int(hashlib.md5(key.encode()).hexdigest(), 16) // 2**127
        assert r["ShardId"] == f"shardId-{shard:012d}"
    one = k.put_record(StreamName="clicks", Data=b"\x00bin", PartitionKey="x", ExplicitHashKey="0")
    assert one["ShardId"] == "shardId-000000000000"
    it = k.get_shard_iterator(
        StreamName="clicks", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    got = _drain(k, it)
    seqs = [int(r["SequenceNumber"]) for r in got]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert got[-1]["Data"] == b"\x00bin" and got[-1]["SequenceNumber"] == one["SequenceNumber"]
    expected = [r for r in out["Records"] if r["ShardId"] == "shardId-000000000000"]
    assert [r["SequenceNumber"] for r in got[:-1]] == [r["SequenceNumber"] for r in expected]
    assert isinstance(got[0]["ApproximateArrivalTimestamp"], dt.datetime)


def test_every_iterator_type(server: ServerProcess) -> None:
    k = server.client("kinesis")
    k.create_stream(StreamName="it", ShardCount=1)
    shard = "shardId-000000000000"
    seqs = [
        k.put_record(StreamName="it", Data=str(i).encode(), PartitionKey="p")["SequenceNumber"]
        for i in range(5)
    ]

    def read(kind: str, **kw: Any) -> list[bytes]:
        it = k.get_shard_iterator(StreamName="it", ShardId=shard, ShardIteratorType=kind, **kw)
        return [r["Data"] for r in _drain(k, it["ShardIterator"])]

    assert read("AT_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[2]) == [b"2", b"3", b"4"]
    assert read("AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[2]) == [b"3", b"4"]
    assert read("AT_TIMESTAMP", Timestamp=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)) == [
        b"0",
        b"1",
        b"2",
        b"3",
        b"4",
    ]
    latest = k.get_shard_iterator(StreamName="it", ShardId=shard, ShardIteratorType="LATEST")
    assert k.get_records(ShardIterator=latest["ShardIterator"])["Records"] == []
    k.put_record(StreamName="it", Data=b"5", PartitionKey="p")
    assert [r["Data"] for r in _drain(k, latest["ShardIterator"])] == [b"5"]
    for kw, code in [
        (
            {"ShardId": "shardId-000000000009", "ShardIteratorType": "LATEST"},
            "ResourceNotFoundException",
        ),
        (
            {
                "ShardId": shard,
                "ShardIteratorType": "AT_SEQUENCE_NUMBER",
                "StartingSequenceNumber": "12",
            },
            "InvalidArgumentException",
        ),
        ({"ShardId": shard, "ShardIteratorType": "AT_TIMESTAMP"}, "InvalidArgumentException"),
    ]:
        with pytest.raises(ClientError) as err:
            k.get_shard_iterator(StreamName="it", **kw)
        assert _code(err) == code
    with pytest.raises(ClientError) as err:
        k.get_records(ShardIterator="garbage")
    assert _code(err) == "InvalidArgumentException"
    with pytest.raises(ClientError) as err:
        k.put_record(StreamName="nope", Data=b"x", PartitionKey="p")
    assert _code(err) == "ResourceNotFoundException"


def test_accepted_records_survive_sigkill(tmp_path: Path) -> None:
    srv = start_server(tmp_path / "data")
    try:
        k = srv.client("kinesis")
        k.create_stream(StreamName="durable", ShardCount=1)
        seq = k.put_records(StreamName="durable", Records=[{"Data": b"kept", "PartitionKey": "p"}])[
            "Records"
        ][0]["SequenceNumber"]
    finally:
        srv.stop(sig=signal.SIGKILL)
    again = start_server(tmp_path / "data")
    try:
        k = again.client("kinesis")
        it = k.get_shard_iterator(
            StreamName="durable",
            ShardId="shardId-000000000000",
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            StartingSequenceNumber=seq,
        )["ShardIterator"]
        assert [r["Data"] for r in _drain(k, it)] == [b"kept"]
    finally:
        again.stop()


def test_put_records_entries_get_the_model_check(server: ServerProcess) -> None:
    k = server.client("kinesis")
    k.create_stream(StreamName="checked", ShardCount=1)
    records = [{"Data": b"ok", "PartitionKey": "p"}, {"Data": b"x", "PartitionKey": "k" * 257}]
    with pytest.raises(ClientError) as err:
        k.put_records(StreamName="checked", Records=records)
    assert _code(err) == "ValidationException"
    message = err.value.response["Error"]["Message"]
    assert message.startswith("1 validation error detected: ")
    assert "partitionKey' failed to satisfy constraint: Member must have length less" in message
    with pytest.raises(ClientError) as err:
        k.put_records(
            StreamName="checked",
            Records=[{"Data": b"x", "PartitionKey": "p", "ExplicitHashKey": str(2**128)}],
        )
    assert _code(err) == "InvalidArgumentException"
