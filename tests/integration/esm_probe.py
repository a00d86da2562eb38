"""A loopback TCP probe functions report to from inside: each connection is one running
handler (open at start, closed at the end), so the probe sees true concurrency; a line a
handler writes is kept (timestamps for latency benchmarks)."""

from __future__ import annotations

import socket
import threading


class Probe:
    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self._sock.getsockname()[1]}"
        self._lock = threading.Lock()
        self.active = 0
        self.peak = 0
        self.total = 0
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
            self.peak = max(self.peak, self.active)
        data = b""
        try:
            while chunk := conn.recv(65536):
                data += chunk
        finally:
            conn.close()
            with self._lock:
                self.active -= 1
                self.lines.extend(line for line in data.decode().splitlines() if line)

    def close(self) -> None:
        self._sock.close()


# The handler: connect at start (one active connection per running handler), say when it
# started and which records it got, sleep SLEEP_S per record, close at the end.
# The host's loopback is 127.0.0.1 under the process sandbox, host.lambent.internal (in
# /etc/hosts) under the namespaces sandbox.
HANDLER = """
import json, os, socket, time
HOST = "host.lambent.internal" if "host.lambent.internal" in open("/etc/hosts").read() else "127.0.0.1"
def handler(event, context):
    start = time.time()
    port = os.environ["PROBE"].rsplit(":", 1)[1]
    s = socket.create_connection((HOST, int(port)))
    for r in event["Records"]:
        s.sendall((json.dumps({"start": start, "body": r["body"],
                               "sent": int(r["attributes"]["SentTimestamp"])}) + "\\n").encode())
    time.sleep(float(os.environ.get("SLEEP_S", "0")) * len(event["Records"]))
    s.close()
"""
