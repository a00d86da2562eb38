"""Kinesis's hash-key split, shard choice and sequence numbers, against AWS's values."""

from __future__ import annotations

import pytest

from lambent.kinesis import iterators, model
from lambent.kinesis.errors import ExpiredIterator, InvalidArgument
from lambent.kinesis.model import StreamRecord

S = StreamRecord("id", "123456789012", "us-east-1", "s", 3, 24, 1_700_000_000_123)


def test_hash_ranges_are_aws_split() -> None:
    # DescribeStream of a 3-shard stream on AWS.
    assert model.hash_range(0, 3) == (0, 113427455640312821154458202477256070484)
    assert model.hash_range(1, 3) == (
        113427455640312821154458202477256070485,
        226854911280625642308916404954512140969,
    )
    assert model.hash_range(2, 3)[1] == 2**128 - 1
    for n in (1, 2, 3, 7):
        for key in (0, 2**127, 2**128 - 1, model.hash_key("pk")):
            low, high = model.hash_range(model.shard_for(key, n), n)
            assert low <= key <= high


def test_partition_keys_hash_with_md5() -> None:
    assert model.hash_key("a") == 0x0CC175B9C0F1B6A831C399E269772661


def test_sequence_numbers_increase_and_name_their_shard() -> None:
    seqs = [model.sequence_number(S, 2, p) for p in (0, 1, 10, 10**12)]
    assert all(len(s) == 56 and s.isdigit() for s in seqs)
    assert [int(s) for s in seqs] == sorted(int(s) for s in seqs)
    assert model.parse_sequence(S, seqs[2]) == (2, 10)
    assert model.parse_sequence(S, "1" + seqs[2][1:]) is None


def test_iterators_expire_after_five_minutes() -> None:
    it = iterators.Iterator("id", "a", "s", 0, 5, 1_000)
    assert iterators.decode(iterators.encode(it), 1_000 + iterators.TTL_MS) == it
    with pytest.raises(ExpiredIterator, match="tolerated delay of 300000 milliseconds"):
        iterators.decode(iterators.encode(it), 1_001 + iterators.TTL_MS)
    with pytest.raises(InvalidArgument):
        iterators.decode("not-an-iterator", 0)
