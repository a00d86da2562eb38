"""Client commands (`deploy`, `invoke`, `ls`, `queues`, `mappings`, `logs`): arguments and
the error boundary.

Building the parser imports nothing heavy, because `lambent serve` shares it: each command
imports its own modules when it runs. Every command runs inside one wrapper that turns any
failure into a one-line message and an exit status: AWS error answers as
`lambent: Code: message` (status 1), bad input as argparse usage (status 2), an unreachable
server with a hint. A traceback only appears with LAMBENT_DEBUG=1, for bugs in the CLI.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from lambent.cli.errors import CliError, UsageError

if TYPE_CHECKING:
    from lambent.cli.client import AwsClient

    Command = Callable[[argparse.Namespace, AwsClient], int]
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]


def add_parsers(sub: SubParsers) -> None:
    common = _connection_flags()
    _add_deploy(sub, common)
    _add_invoke(sub, common)
    _add_ls(sub, common)
    _add_queues(sub, common)
    _add_mappings(sub, common)
    _add_logs(sub, common)


def _connection_flags() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("connection")
    g.add_argument(
        "--endpoint-url",
        help="server URL (default: $LAMBENT_ENDPOINT, $AWS_ENDPOINT_URL, the endpoint the "
        "server wrote in DATA/endpoint, or http://127.0.0.1:9000)",
    )
    g.add_argument("--profile", help="credentials profile (skips the AWS_* key variables)")
    g.add_argument(
        "--region", help="region (default: $AWS_REGION, the data dir's config, us-east-1)"
    )
    g.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".lambent"),
        help="a `lambent serve` data dir whose credentials to use (default: .lambent)",
    )
    return p


def _add_deploy(sub: SubParsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "deploy",
        parents=[common],
        help="zip a folder and create or update a function",
        description="Zip DIR (sorted, fixed timestamps, execute bits kept; __pycache__ and "
        ".git skipped) and create the function, or update its code and changed settings.",
    )
    p.add_argument("directory", metavar="DIR", type=Path)
    p.add_argument("--name", required=True, help="function name")
    p.add_argument("--runtime", help="e.g. python3.11, nodejs20.x, provided.al2023")
    p.add_argument("--handler", help="e.g. app.handler")
    p.add_argument("--memory", type=int, help="MemorySize in MB")
    p.add_argument("--timeout", type=int, help="Timeout in seconds")
    p.add_argument(
        "--role",
        help="execution role ARN (default: lambent-default-execution-role, created if missing)",
    )
    p.add_argument(
        "--env",
        nargs="+",
        action="extend",
        metavar="KEY=VALUE",
        help="environment variables (repeatable; replaces the function's whole set)",
    )
    p.add_argument(
        "--layers",
        nargs="*",
        action="extend",
        metavar="ARN",
        help="layer version ARNs, in order (repeatable; replaces the function's list; "
        "`--layers` alone removes every layer)",
    )
    p.add_argument("--publish", action="store_true", help="publish a version")
    p.add_argument("--progress", action="store_true", help="show progress even without a TTY")
    p.add_argument(
        "--wait-timeout", type=float, default=300.0, help="seconds to wait for Active (300)"
    )
    p.set_defaults(func=_wrap(p, _deploy))


def _add_invoke(sub: SubParsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("invoke", parents=[common], help="invoke a function, print its answer")
    p.add_argument("name", metavar="NAME", help="function name or ARN")
    p.add_argument("payload", metavar="PAYLOAD", nargs="?", help="JSON text, @file or - (stdin)")
    p.add_argument("--qualifier", help="version or alias")
    p.add_argument("--log", action="store_true", help="print the log tail on stderr")
    p.set_defaults(func=_wrap(p, _invoke))


def _add_ls(sub: SubParsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("ls", parents=[common], help="list functions")
    p.add_argument(
        "--page-size", type=_positive, metavar="N", help="functions per ListFunctions call"
    )
    p.set_defaults(func=_wrap(p, _ls))


def _add_queues(sub: SubParsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "queues", parents=[common], help="list SQS queues with their messages by state"
    )
    p.add_argument("--prefix", default="", help="only queues whose name starts with this")
    p.set_defaults(func=_wrap(p, _queues))


def _add_mappings(sub: SubParsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "mappings",
        parents=[common],
        help="list event source mappings with their pollers' counters",
    )
    p.set_defaults(func=_wrap(p, _mappings))


def _add_logs(sub: SubParsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("logs", parents=[common], help="show a function's logs")
    p.add_argument("name", metavar="NAME")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new events")
    p.add_argument(
        "--since",
        default="10m",
        help="start: 30s, 10m, 2h, 1d, 1w or an ISO 8601 time (default: 10m)",
    )
    p.add_argument("--filter-pattern", help="a CloudWatch Logs filter pattern")
    p.set_defaults(func=_wrap(p, _logs))


# commands --------------------------------------------------------------------------------
def _deploy(args: argparse.Namespace, client: AwsClient) -> int:
    from lambent.cli import deploy
    from lambent.cli.progress import StatusLine

    spec = deploy.DeploySpec(
        directory=args.directory,
        name=args.name,
        runtime=args.runtime,
        handler=args.handler,
        memory=args.memory,
        timeout=args.timeout,
        role=args.role,
        environment=deploy.parse_env(args.env),
        layers=args.layers,
        publish=args.publish,
        wait_s=args.wait_timeout,
    )
    status = StatusLine.for_stream(sys.stderr, forced=args.progress)
    try:
        return deploy.deploy(client, spec, status, sys.stdout)
    finally:
        status.clear()


def _invoke(args: argparse.Namespace, client: AwsClient) -> int:
    from lambent.cli import invoke

    payload = invoke.read_payload(args.payload, sys.stdin.buffer)
    return invoke.invoke(
        client,
        args.name,
        payload,
        qualifier=args.qualifier,
        show_log=args.log,
        stdout=sys.stdout.buffer,
        stderr=sys.stderr.buffer,
    )


def _ls(args: argparse.Namespace, client: AwsClient) -> int:
    from lambent.cli import listing

    return listing.list_command(
        client, page_size=args.page_size, stdout=sys.stdout, stderr=sys.stderr
    )


def _queues(args: argparse.Namespace, client: AwsClient) -> int:
    from lambent.cli import queues

    return queues.list_command(client, args.prefix, sys.stdout, sys.stderr)


def _mappings(args: argparse.Namespace, client: AwsClient) -> int:
    from lambent.cli import mappings

    return mappings.list_command(client, sys.stdout, sys.stderr)


def _logs(args: argparse.Namespace, client: AwsClient) -> int:
    from lambent.cli import logs

    start = logs.parse_since(args.since, int(time.time() * 1000))
    if args.follow:
        return logs.follow(client, args.name, start, args.filter_pattern, sys.stdout, sys.stderr)
    return logs.show(client, args.name, start, args.filter_pattern, sys.stdout, sys.stderr)


# the error boundary ----------------------------------------------------------------------
def _wrap(parser: argparse.ArgumentParser, command: Command) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return _run(args, command)
        except UsageError as exc:
            parser.error(exc.message)  # prints usage, exits 2
        except CliError as exc:
            _say(exc.message)
            return exc.exit_code
        except KeyboardInterrupt:
            return 130
        except BrokenPipeError:
            _silence_stdout()
            return 1
        except Exception as exc:
            if os.environ.get("LAMBENT_DEBUG"):
                raise
            _say(f"unexpected error: {type(exc).__name__}: {exc} (LAMBENT_DEBUG=1 shows more)")
            return 1

    return run


def _run(args: argparse.Namespace, command: Command) -> int:
    from lambent.cli.client import AwsClient
    from lambent.cli.config import ConnectionOptions, resolve

    opts = ConnectionOptions(
        endpoint_url=args.endpoint_url,
        profile=args.profile,
        region=args.region,
        data_dir=args.data_dir,
    )
    config = resolve(opts, os.environ, _home())
    with AwsClient(config) as client:
        return command(args, client)


def _say(message: str) -> None:
    sys.stderr.write(f"lambent: {message}\n")
    sys.stderr.flush()


def _silence_stdout() -> None:
    """After a closed pipe (`lambent ls | head`), make the final flush at exit harmless."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _home() -> Path:
    try:
        return Path.home()
    except RuntimeError:
        return Path("/nonexistent")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value
