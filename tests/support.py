"""Test support: a real `lambent serve` process and real boto3 clients pointed at it."""

from __future__ import annotations

import asyncio
import atexit
import base64
import configparser
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from lambent.auth import sealing
from lambent.auth.credentials import Credential, CredentialStore
from lambent.cli.roles import TRUST_POLICY
from lambent.clock import SystemClock
from lambent.store.select import open_store

REPO = Path(__file__).resolve().parent.parent
# LAMBENT_TEST_DATABASE=postgres: every server a test starts keeps its store in PostgreSQL,
# on a schema of its data dir's own (the same again when a test restarts it on that dir).
# LAMBENT_TEST_DATABASE=cluster: the same, and every server is 1 frontend + 2 workers
# (`--role`, docs/CLUSTER.md): the test talks to the frontend, its invokes run on workers.
PG_MODE = os.environ.get("LAMBENT_TEST_DATABASE") in ("postgres", "cluster")
CLUSTER_MODE = os.environ.get("LAMBENT_TEST_DATABASE") == "cluster"
CLUSTER_WORKERS = 2
_schemas: dict[Path, tuple[str, str]] = {}  # data dir -> (schema, URL)
_first_keys: dict[str, Path] = {}  # database URL -> the master key of its first server
# A test of what the data dir's SQLite files hold: with --database that is in PostgreSQL.
sqlite_files = pytest.mark.skipif(
    PG_MODE, reason="reads the data dir's SQLite files (LAMBENT_TEST_DATABASE=postgres)"
)
# The trust policy of a Lambda execution role (the same one `lambent deploy` uses).
LAMBDA_TRUST = json.dumps(TRUST_POLICY)


READY_LINES = ("lambent ready at ", "lambent worker ready at ")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    """A running `lambent serve`; `output` holds what it printed so far."""

    proc: subprocess.Popen[str]
    port: int
    data_dir: Path
    auth: str
    account_id: str
    output: list[str] = field(default_factory=list)
    # What it printed on stderr, when started with separate_stderr (else it is in output).
    errors: list[str] = field(default_factory=list)
    database_url: str | None = None  # its store is in PostgreSQL (--database)
    # LAMBENT_TEST_DATABASE=cluster: this is a frontend, and these run its invocations.
    workers: list[ServerProcess] = field(default_factory=list)

    def store_args(self) -> list[str]:
        """What an operator's command (lambent accounts, signing-profiles) adds to reach
        this server's store."""
        return [] if self.database_url is None else ["--database", self.database_url]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def credentials(self) -> tuple[str, str]:
        if self.auth == "open":
            return ("testing", "testing")
        cp = configparser.ConfigParser()
        cp.read(self.data_dir / "credentials")
        return (cp["default"]["aws_access_key_id"], cp["default"]["aws_secret_access_key"])

    def client(self, service: str, **kwargs: Any) -> Any:
        key, secret = kwargs.pop("keys", None) or self.credentials()
        factory: Any = boto3.client
        return factory(
            service,
            endpoint_url=self.endpoint,
            region_name=kwargs.pop("region_name", "us-east-1"),
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=kwargs.pop("session_token", None),
            config=Config(
                retries={"max_attempts": 0, "mode": "standard"},
                read_timeout=kwargs.pop("read_timeout", 120),
                connect_timeout=5,
                max_pool_connections=kwargs.pop("max_pool_connections", 10),
            ),
            **kwargs,
        )

    def stop(self, sig: int = 15, timeout: float = 30) -> int:
        try:
            return self._stop(sig, timeout)
        finally:
            for worker in self.workers:  # a crashed frontend's workers go too
                worker._stop(15, timeout)

    def _stop(self, sig: int, timeout: float) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            rest = self.proc.stdout.read()
            if rest:
                self.output.extend(rest.splitlines())
        return int(self.proc.returncode)


def start_server(
    data_dir: Path,
    *,
    auth: str = "sigv4",
    account_id: str = "123456789012",
    extra_args: list[str] | None = None,
    env: dict[str, str] | None = None,
    port: int | None = None,
    ready_timeout: float = 60.0,
    separate_stderr: bool = False,
    database_url: str | None = None,
) -> ServerProcess:
    port = port or free_port()
    given = [*(extra_args or [])]
    cluster = CLUSTER_MODE and "--role" not in given
    if cluster:
        given = [*_cluster_role(data_dir, "frontend"), *given]
    if "--database" in given:  # a cluster test's own schema
        database_url = given[given.index("--database") + 1]
    else:
        database_url = database_url or database_for(data_dir)
        given = [*(["--database", database_url] if database_url else []), *given]
    given += _shared_master_key(data_dir, database_url, given, env)
    args = [
        sys.executable,
        "-m",
        "lambent",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--auth",
        auth,
        "--account-id",
        account_id,
        *given,
    ]
    proc = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if separate_stderr else subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=str(REPO),
    )
    server = ServerProcess(proc, port, data_dir, auth, account_id, database_url=database_url)
    deadline = time.monotonic() + ready_timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                raise RuntimeError("lambent serve exited:\n" + "\n".join(server.output))
            continue
        server.output.append(line.rstrip("\n"))
        # Its own line only: a warning that says "too many clients already" is no start.
        if line.startswith(READY_LINES):
            _drain_in_background(server)
            if cluster:
                _start_cluster_workers(server, extra_args or [], env, ready_timeout)
            return server
    proc.kill()
    raise RuntimeError("lambent serve did not become ready:\n" + "\n".join(server.output))


def _cluster_role(data_dir: Path, role: str) -> list[str]:
    """LAMBENT_TEST_DATABASE=cluster: the role, with the cluster secret beside the data dir."""
    return ["--role", role, "--cluster-secret-file", str(cluster_secret(data_dir.parent))]


def _start_cluster_workers(
    frontend: ServerProcess,
    extra_args: list[str],
    env: dict[str, str] | None,
    ready_timeout: float,
) -> None:
    """The frontend's workers: same database, secret and arguments, their own data dirs,
    the database's first master key (_shared_master_key); their functions call the
    frontend."""
    given = [*_cluster_role(frontend.data_dir, "worker")[2:], *extra_args]
    for index in range(CLUSTER_WORKERS):
        data_dir = frontend.data_dir.with_name(f"{frontend.data_dir.name}-worker{index}")
        worker_args = [
            *given,
            "--role",
            "worker",
            "--internal-listen",
            f"127.0.0.1:{free_port()}",
        ]
        try:
            worker = start_server(
                data_dir,
                auth=frontend.auth,
                account_id=frontend.account_id,
                extra_args=worker_args,
                env=env,
                port=frontend.port,
                ready_timeout=ready_timeout,
                database_url=frontend.database_url,
            )
        except BaseException:
            frontend.stop()
            raise
        frontend.workers.append(worker)


def lambda_role(server: ServerProcess, name: str, **kwargs: Any) -> str:
    """The ARN of an execution role Lambda may assume, created if the account lacks it."""
    iam = server.client("iam", **kwargs)
    try:
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=LAMBDA_TRUST)
    except iam.exceptions.EntityAlreadyExistsException:
        role = iam.get_role(RoleName=name)
    return str(role["Role"]["Arn"])


def _drain_in_background(server: ServerProcess) -> None:
    import threading

    def pump(stream: Any, into: list[str]) -> None:
        for line in stream:
            into.append(line.rstrip("\n"))

    threading.Thread(target=pump, args=(server.proc.stdout, server.output), daemon=True).start()
    if server.proc.stderr is not None:
        args = (server.proc.stderr, server.errors)
        threading.Thread(target=pump, args=args, daemon=True).start()


@contextlib.contextmanager
def running_server(data_dir: Path, **kwargs: Any) -> Iterator[ServerProcess]:
    server = start_server(data_dir, **kwargs)
    try:
        yield server
    finally:
        server.stop()


def http_get(url: str, timeout: float = 10) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as err:
        return int(err.code), err.read()


def _shared_master_key(
    data_dir: Path, database_url: str | None, args: list[str], env: dict[str, str] | None
) -> list[str]:
    """Nodes on one database share a master key, as a cluster's must: a server started on
    a database another test server used first gets that one's key, unless told a key."""
    if (
        database_url is None
        or "--master-key-file" in args
        or "LAMBENT_MASTER_KEY_FILE" in (env or {})
    ):
        return []
    own = data_dir.resolve() / sealing.MASTER_KEY_FILE
    first = _first_keys.setdefault(database_url, own)
    return [] if first == own else ["--master-key-file", str(first)]


def database_for(data_dir: Path) -> str | None:
    """In PG mode, the URL of the data dir's own schema (made on first use, dropped when
    the test process exits); else None."""
    if not PG_MODE:
        return None
    where = data_dir.resolve()
    if where not in _schemas:
        from tests.pg import create_schema, drop_schema, schema_url

        schema = create_schema()
        if not _schemas:

            def drop_all() -> None:
                for schema_name, _ in _schemas.values():
                    drop_schema(schema_name)

            atexit.register(drop_all)
        _schemas[where] = (schema, schema_url(schema))
    return _schemas[where][1]


def create_account(data_dir: Path, database_url: str | None = None) -> tuple[str, Credential]:
    """Another account, made the way an operator makes one: in the server's store, which
    the running server reads (SQLite WAL takes a second writer)."""

    async def create() -> tuple[str, Credential]:
        url = database_url or database_for(data_dir)
        own = data_dir.resolve() / sealing.MASTER_KEY_FILE
        store = await open_store(data_dir, url)
        sealer = sealing.load_existing(_first_keys.get(url or "", own))
        try:
            return await CredentialStore(store, SystemClock(), sealer).create_account()
        finally:
            await store.close()

    return asyncio.run(create())


# -- cluster mode (docs/CLUSTER.md) ------------------------------------------------------
def cluster_secret(directory: Path) -> Path:
    """A cluster secret file as an operator makes one: random, mode 600."""
    path = directory / "cluster.secret"
    if not path.exists():
        path.write_bytes(base64.b64encode(os.urandom(48)) + b"\n")
        path.chmod(0o600)
    return path


def signed_get(url: str, secret_file: Path, timeout: float = 10) -> tuple[int, bytes]:
    """A GET carrying the cluster signature (a worker's stats, a frontend's code)."""
    from urllib.parse import urlsplit

    from lambent.cluster import secret

    key = secret.load(secret_file)
    path = urlsplit(url).path
    request = urllib.request.Request(
        url, headers=dict(secret.sign(key, "GET", path, b"", time.time()))
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as err:
        return int(err.code), err.read()


def cluster_args(role: str, database: str, secret_file: Path, master_key: Path) -> list[str]:
    """What every node of one cluster shares: the database, the secret, the master key."""
    return [
        "--role",
        role,
        "--database",
        database,
        "--cluster-secret-file",
        str(secret_file),
        "--master-key-file",
        str(master_key),
    ]


def start_frontend(
    data_dir: Path, database: str, secret_file: Path, *, processes: int = 1, **kwargs: Any
) -> ServerProcess:
    extra = [
        *cluster_args("frontend", database, secret_file, data_dir.parent / "master.key"),
        "--processes",
        str(processes),
        *kwargs.pop("extra_args", []),
    ]
    return start_server(data_dir, extra_args=extra, **kwargs)


@dataclass
class WorkerProcess:
    """A running `lambent serve --role worker`: no public API, its internal listener."""

    server: ServerProcess
    internal_port: int
    secret_file: Path

    @property
    def internal(self) -> str:
        return f"127.0.0.1:{self.internal_port}"

    def stats(self) -> dict[str, Any]:
        status, body = signed_get(f"http://{self.internal}/_lambent/stats", self.secret_file)
        assert status == 200, body
        return dict(json.loads(body))

    def stop(self, sig: int = 15, timeout: float = 30) -> int:
        return self.server.stop(sig, timeout)


def start_worker(
    data_dir: Path, database: str, secret_file: Path, frontend_port: int, **kwargs: Any
) -> WorkerProcess:
    """A worker whose functions call the frontend at `frontend_port` (nothing is bound
    there by the worker itself)."""
    internal = free_port()
    extra = [
        *cluster_args("worker", database, secret_file, data_dir.parent / "master.key"),
        "--internal-listen",
        f"127.0.0.1:{internal}",
        *kwargs.pop("extra_args", []),
    ]
    server = start_server(data_dir, extra_args=extra, port=frontend_port, **kwargs)
    return WorkerProcess(server, internal, secret_file)
