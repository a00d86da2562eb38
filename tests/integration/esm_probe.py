"""A loopback TCP probe functions report to from inside: each connection is one running
handler, which writes a line per record (with its start time) and a last line with its end
time, both read on the function's clock. Concurrency is computed from those intervals, not
from open connections (the probe may see a close after the next handler's connect)."""

from __future__ import annotations

import json
import socket
import threading


class Probe:
    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self._sock.getsockname()[1]}"
        self._lock = threading.Lock()
        self.active = 0
        self.total = 0
        self.intervals: list[tuple[float, float]] = []
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with self._lock:
            self.active += 1
            self.total += 1
        data = b""
        try:
            while chunk := conn.recv(65536):
                data += chunk
        finally:
            conn.close()
            lines = [line for line in data.decode().splitlines() if line]
            with self._lock:
                self.active -= 1
                records = [line for line in lines if '"end"' not in line]
                ends = [json.loads(line)["end"] for line in lines if '"end"' in line]
                self.lines.extend(records)
                if records and ends:
                    self.intervals.append((json.loads(records[0])["start"], ends[0]))

    @property
    def peak(self) -> int:
        """The most handlers that ran at once (an end at the same instant as a start
        counts first)."""
        with self._lock:
            edges = sorted(
                [(end, -1) for _, end in self.intervals]
                + [(start, 1) for start, _ in self.intervals]
            )
        running = best = 0
        for _, step in edges:
            running += step
            best = max(best, running)
        return best

    def close(self) -> None:
        self._sock.close()


# The handler: connect at start (one active connection per running handler), say when it
# started and which records it got, sleep SLEEP_S per record, close at the end.
# The host's loopback is 127.0.0.1 under the process sandbox, host.lambent.internal (in
# /etc/hosts) under the namespaces sandbox.
HANDLER = """
import json, os, socket, time
NS = "host.lambent.internal"
HOST = NS if NS in open("/etc/hosts").read() else "127.0.0.1"
def handler(event, context):
    start = time.time()
    port = os.environ["PROBE"].rsplit(":", 1)[1]
    s = socket.create_connection((HOST, int(port)))
    for r in event["Records"]:
        s.sendall((json.dumps({"start": start, "body": r["body"],
                               "sent": int(r["attributes"]["SentTimestamp"])}) + "\\n").encode())
    time.sleep(float(os.environ.get("SLEEP_S", "0")) * len(event["Records"]))
    s.sendall((json.dumps({"end": time.time()}) + "\\n").encode())
    s.close()
"""
