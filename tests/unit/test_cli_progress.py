"""The status line: in place on a terminal, one line per update otherwise, throttled."""

from __future__ import annotations

import io

from lambent.cli.progress import StatusLine, human_bytes


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_human_bytes() -> None:
    assert human_bytes(0) == "0 B"
    assert human_bytes(1023) == "1023 B"
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(50 * 1024 * 1024) == "50.0 MiB"
    assert human_bytes(3 * 1024**4) == "3072.0 GiB"


def test_disabled_writes_nothing() -> None:
    out = io.StringIO()
    line = StatusLine(out, enabled=False, in_place=True)
    line.upload(5, 10)
    line.spin("x")
    line.clear()
    assert out.getvalue() == ""


def test_in_place_redraws_pads_and_clears() -> None:
    out, clock = io.StringIO(), Clock()
    line = StatusLine(out, enabled=True, in_place=True, clock=clock)
    line.upload(512 * 1024, 2 * 1024 * 1024)
    clock.now = 1
    line.upload(2 * 1024 * 1024, 2 * 1024 * 1024)
    first = "uploading 512.0 KiB / 2.0 MiB (25%)"
    second = "uploading 2.0 MiB / 2.0 MiB (100%)"
    assert out.getvalue() == "\r" + first + "\r" + second + " " * (len(first) - len(second))
    line.clear()
    assert out.getvalue().endswith("\r" + " " * len(second) + "\r")


def test_updates_are_throttled_but_completion_always_shows() -> None:
    out, clock = io.StringIO(), Clock()
    line = StatusLine(out, enabled=True, in_place=False, clock=clock)
    for sent in range(0, 100, 10):
        line.upload(sent, 100)
    line.upload(100, 100)
    assert out.getvalue().splitlines() == [
        "uploading 0 B / 100 B (0%)",
        "uploading 100 B / 100 B (100%)",
    ]
    clock.now = 10
    line.spin("waiting")
    assert out.getvalue().splitlines()[-1] == "waiting"


def test_for_stream_follows_the_tty() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, pipe = Tty(), io.StringIO()
    StatusLine.for_stream(tty, forced=False).upload(1, 1)
    StatusLine.for_stream(pipe, forced=False).upload(1, 1)
    assert tty.getvalue().startswith("\ruploading")
    assert pipe.getvalue() == ""
    StatusLine.for_stream(pipe, forced=True).upload(1, 1)
    assert pipe.getvalue() == "uploading 1 B / 1 B (100%)\n"
