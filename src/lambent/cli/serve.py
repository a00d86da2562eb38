"""`lambent serve`: the all-in-one server in the foreground until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import signal
import sys
from pathlib import Path

from lambent.oplog import event
from lambent.settings import (
    AsyncSettings,
    ClusterSettings,
    EnvironmentSettings,
    LimitSettings,
    OperatorLogSettings,
    Settings,
)

log = logging.getLogger("lambent.server")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve",
        help="run the all-in-one server",
        description="Serve the Lambda, IAM, STS, CloudWatch Logs and S3 APIs on one "
        "endpoint until SIGTERM or Ctrl-C.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=9000, help="port to listen on (9000)")
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".lambent"),
        help="where state, code, logs and keys live (mode 700; written: DATA/credentials, "
        "DATA/config, DATA/endpoint)",
    )
    p.add_argument(
        "--auth",
        choices=["sigv4", "open"],
        default="sigv4",
        help="sigv4: every request signed with a key of the data dir; open: anyone on "
        "loopback acts as --account-id (local development only)",
    )
    p.add_argument(
        "--account-id",
        default="000000000000",
        help="the account --auth open acts as (12 digits)",
    )
    p.add_argument("--region", default="us-east-1", help="the region in ARNs and answers")
    p.add_argument(
        "--allow-open-on-public-host",
        action="store_true",
        help="let --auth open bind a non-loopback address (anyone who can reach it is root)",
    )
    p.add_argument(
        "--sandbox",
        choices=["auto", "namespaces", "process"],
        default="auto",
        help="how environments are isolated: namespaces (needs root), process (none), "
        "auto (namespaces where possible)",
    )
    p.add_argument(
        "--master-key-file",
        type=Path,
        default=os.environ.get("LAMBENT_MASTER_KEY_FILE") or None,
        metavar="PATH",
        help="the key that seals secrets in the database, made on first start (default: "
        "$LAMBENT_MASTER_KEY_FILE or DATA/master.key)",
    )
    p.add_argument(
        "--database",
        default=os.environ.get("LAMBENT_DATABASE_URL") or None,
        metavar="URL",
        help="keep everything durable in PostgreSQL (postgresql://user@host:port/db, "
        "optionally ?options=-csearch_path%%3Dschema) instead of SQLite in the data dir "
        "(default: $LAMBENT_DATABASE_URL)",
    )
    p.add_argument(
        "--node-id",
        default=os.environ.get("LAMBENT_NODE_ID") or None,
        metavar="ID",
        help="this node's name in a cluster (with --database; default: $LAMBENT_NODE_ID, "
        "else a uuid made once and kept in DATA/node-id)",
    )
    p.add_argument(
        "--role",
        choices=["all", "frontend", "worker"],
        default="all",
        help="all: everything in this process (default); frontend: the public API, invokes "
        "placed on workers; worker: environments, reached only by frontends "
        "(frontend and worker need --database and --cluster-secret-file; docs/CLUSTER.md)",
    )
    p.add_argument(
        "--processes",
        type=int,
        default=1,
        metavar="N",
        help="frontend only: N processes serve the port together (SO_REUSEPORT), supervised "
        "by this one",
    )
    # Set by the --processes supervisor on its children (cli/supervise.py), not by users.
    p.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--ready-fd", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--process-index", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument(
        "--internal-listen",
        default=None,
        metavar="HOST:PORT",
        help="worker only: where frontends reach this worker's internal invoke endpoint "
        "(the public API is not served; --host/--port name the frontend its functions call)",
    )
    p.add_argument(
        "--internal-advertise",
        default=None,
        metavar="HOST:PORT",
        help="worker only: the address frontends are told to use (default: --internal-listen)",
    )
    p.add_argument(
        "--cluster-secret-file",
        type=Path,
        default=os.environ.get("LAMBENT_CLUSTER_SECRET_FILE") or None,
        metavar="PATH",
        help="the key (>= 32 bytes, mode 600) every node of a cluster signs internal requests "
        "with (default: $LAMBENT_CLUSTER_SECRET_FILE)",
    )
    p.add_argument("--keep-alive", type=float, default=600.0, help="idle environment seconds")
    p.add_argument(
        "--template-budget",
        type=int,
        default=EnvironmentSettings.template_budget_mb,
        metavar="MB",
        help="memory for the templates kept ahead of cold starts (~4.5 MB per function "
        "version; least recently used go first)",
    )
    p.add_argument(
        "--template-keep-alive",
        type=float,
        default=EnvironmentSettings.template_keep_alive_s,
        metavar="SECONDS",
        help="a function's template is kept this long after its last create, update or invoke",
    )
    p.add_argument(
        "--account-concurrency",
        type=int,
        default=1000,
        help="concurrent executions per account (AWS's default quota is 1000)",
    )
    p.add_argument(
        "--async-retry-base",
        type=float,
        default=60.0,
        help="seconds before the first async retry (AWS: about 60; the second waits twice that)",
    )
    p.add_argument(
        "--burst-limit",
        type=int,
        default=1000,
        help="new execution environments per function per 10 s",
    )
    p.add_argument(
        "--log-level",
        type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        default="INFO",
        help="least severe operator event the server prints on stderr (default INFO: "
        "signature failures, throttles, timeouts, OOM kills, async retries, start-up, ...)",
    )
    p.add_argument(
        "--log-format",
        type=str.lower,
        choices=["text", "json"],
        default="text",
        help="operator log lines as text or as one JSON object each (default text)",
    )
    p.add_argument(
        "--access-log",
        action="store_true",
        help="also print one line per HTTP request (method, path, status, bytes, duration, "
        "request id, operation); off by default",
    )
    p.set_defaults(func=run)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _at_least(low: int, value: int, flag: str) -> int:
    if value < low:
        raise SystemExit(f"lambent serve: {flag} must be at least {low}, got {value}")
    return value


def settings_from(args: argparse.Namespace) -> Settings:
    account = str(args.account_id)
    if not (account.isdigit() and len(account) == 12):
        raise SystemExit(f"lambent serve: --account-id must be 12 digits, got {account!r}")
    if args.auth == "open" and not _is_loopback(args.host) and not args.allow_open_on_public_host:
        raise SystemExit(
            f"lambent serve: refusing --auth open on non-loopback host {args.host}; "
            "anyone who can reach it could act as the account. "
            "Add --allow-open-on-public-host if that is really what you want."
        )
    return Settings(
        cluster=cluster_from(args),
        data_dir=args.data_dir.resolve(),
        host=args.host,
        port=args.port,
        auth=args.auth,
        account_id=account,
        region=args.region,
        allow_public_open=bool(args.allow_open_on_public_host),
        master_key_file=args.master_key_file.resolve() if args.master_key_file else None,
        database_url=args.database,
        environments=EnvironmentSettings(
            sandbox=args.sandbox,
            keep_alive_s=args.keep_alive,
            template_budget_mb=_at_least(0, args.template_budget, "--template-budget"),
            template_keep_alive_s=args.template_keep_alive,
        ),
        limits=LimitSettings(
            account_concurrency=args.account_concurrency, burst_per_function=args.burst_limit
        ),
        async_=AsyncSettings(retry_base_s=args.async_retry_base),
        operator_log=OperatorLogSettings(
            level=args.log_level, format=args.log_format, access_log=bool(args.access_log)
        ),
    )


def _host_port(value: str, flag: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise SystemExit(f"lambent serve: {flag} must be HOST:PORT, got {value!r}")
    return host.strip("[]"), int(port)


def cluster_from(args: argparse.Namespace) -> ClusterSettings:
    """The role and its requirements, checked before anything starts."""
    role = args.role
    processes = _at_least(1, args.processes, "--processes")
    if role != "all" and not args.database:
        raise SystemExit(
            f"lambent serve: --role {role} needs --database (a PostgreSQL URL every node "
            "shares; or set LAMBENT_DATABASE_URL)"
        )
    if role != "all" and args.cluster_secret_file is None:
        raise SystemExit(
            f"lambent serve: --role {role} needs --cluster-secret-file (the key, mode 600, "
            "that every node signs internal requests with)"
        )
    if processes > 1 and role != "frontend":
        raise SystemExit(
            "lambent serve: --processes is for --role frontend (environments, the async "
            "queue and SQLite belong to one process per data dir)"
        )
    if role == "worker" and not args.internal_listen:
        raise SystemExit("lambent serve: --role worker needs --internal-listen HOST:PORT")
    if role != "worker" and (args.internal_listen or args.internal_advertise):
        raise SystemExit("lambent serve: --internal-listen is for --role worker")
    host, port = _host_port(args.internal_listen or "127.0.0.1:0", "--internal-listen")
    if args.internal_advertise:
        _host_port(args.internal_advertise, "--internal-advertise")
    secret = args.cluster_secret_file
    return ClusterSettings(
        node_id=args.node_id,
        role=role,
        processes=processes,
        process_index=args.process_index,
        internal_host=host,
        internal_port=port,
        address=args.internal_advertise,
        secret_file=secret.resolve() if secret is not None else None,
    )


def run(args: argparse.Namespace) -> int:
    from lambent.oplog.configure import configure
    from lambent.private_files import PRIVATE_UMASK

    settings = settings_from(args)
    configure(settings.operator_log)
    # Everything the server creates is its user's alone (private_files.py).
    os.umask(PRIVATE_UMASK)
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is a dependency
        pass
    if settings.cluster.processes > 1:
        return _supervise(settings)
    return asyncio.run(_serve(settings, reuse_port=args.reuse_port, ready_fd=args.ready_fd))


def _supervise(settings: Settings) -> int:
    """N processes on one port: the parent holds the port and supervises them."""
    from lambent.cli.supervise import Supervisor
    from lambent.http.listen import ListenFailed, bind_listeners

    try:
        held = bind_listeners(settings.host, settings.port, reuse_port=True, listen=False)
    except ListenFailed as exc:
        print(f"lambent serve: {exc}", file=sys.stderr, flush=True)
        return 1
    if settings.database_url is not None:  # said once here, not by each child in turn
        from lambent.pg import DatabaseUnreachable
        from lambent.pg.connect import probe

        try:
            asyncio.run(probe(settings.database_url))
        except DatabaseUnreachable as exc:
            for sock in held:
                sock.close()
            print(f"lambent serve: {exc}", file=sys.stderr, flush=True)
            return 1
    try:
        return asyncio.run(Supervisor(settings, sys.argv[1:]).run())
    finally:
        for sock in held:
            sock.close()


async def _serve(
    settings: Settings, *, reuse_port: bool = False, ready_fd: int | None = None
) -> int:
    from lambent.app import App
    from lambent.cluster.roles import listen_address
    from lambent.gcpolicy import freeze_startup_heap
    from lambent.http.listen import ListenFailed, bind_listeners

    # The port first: if it is taken, say so before anything exists that must be undone.
    try:
        listeners = bind_listeners(*listen_address(settings), reuse_port=reuse_port)
    except ListenFailed as exc:
        print(f"lambent serve: {exc}", file=sys.stderr, flush=True)
        return 1
    from lambent.auth.sealing import SealError
    from lambent.cluster.secret import SecretFileError
    from lambent.pg import DatabaseUnreachable

    app = App(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        info = await app.start(listeners)
    except BaseException as exc:
        for sock in listeners:
            sock.close()
        await app.stop()  # whatever started (the sandbox's host objects) is undone
        if isinstance(exc, SealError | DatabaseUnreachable | SecretFileError):
            print(f"lambent serve: {exc}", file=sys.stderr, flush=True)
            return 1
        raise
    # What start-up built lives as long as the process: keep full collections off it.
    freeze_startup_heap()
    if info.created_account:
        print(f"created account {info.created_account} with a root access key", flush=True)
    if info.credentials_file is not None:
        print(
            f"credentials: {info.credentials_file} (aws CLI format; use "
            f"AWS_SHARED_CREDENTIALS_FILE={info.credentials_file} "
            f"AWS_CONFIG_FILE={info.credentials_file.parent / 'config'})",
            flush=True,
        )
    for note in info.notes:
        print(f"note: {note}", flush=True)
    if ready_fd is not None:  # one of --processes N: its supervisor says "ready"
        print(f"lambent: process {os.getpid()} serving {settings.endpoint}", flush=True)
        os.write(ready_fd, b"1")
        os.close(ready_fd)
    elif settings.role == "worker":
        print(
            f"lambent worker ready at {settings.cluster.internal_address} (internal; functions "
            f"call {settings.endpoint}, data {settings.data_dir})",
            flush=True,
        )
    else:
        role = "" if settings.role == "all" else f"role {settings.role}, "
        print(
            f"lambent ready at {settings.endpoint} ({role}auth {settings.auth}, "
            f"region {settings.region}, data {settings.data_dir})",
            flush=True,
        )
    event(
        log,
        logging.INFO,
        "server.started",
        "serving at %s",
        settings.endpoint,
        endpoint=settings.endpoint,
        auth=settings.auth,
        region=settings.region,
        sandbox=app.sandbox.name if settings.role != "frontend" else "none",
        role=settings.role,
        data_dir=str(settings.data_dir),
    )
    await stop.wait()
    print("lambent: stopping", flush=True)
    event(log, logging.INFO, "server.stopping", "stopping")
    await app.stop()
    print("lambent: stopped", flush=True)
    event(log, logging.INFO, "server.stopped", "stopped")
    return 0
