"""`lambent brokers add|list` (operator): register an existing RabbitMQ for event source
mappings (brokers/registry.py). Writes the server's store directly, as `lambent
accounts` does; the URL is sealed under the server's master key."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

from lambent.auth import sealing
from lambent.brokers.registry import BrokerError, Brokers
from lambent.cli.signing import _account, _region
from lambent.cli.stores import add_database_argument, open_for
from lambent.clock import SystemClock


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("brokers", help="operator: RabbitMQ brokers event source mappings read")
    actions = p.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="register a broker; prints its ARN")
    add.add_argument("name", help="the broker's name (1-50 letters, digits, - or _)")
    add.add_argument("url", help="amqp://user:password@host:5672/vhost")
    listing = actions.add_parser("list", help="the registered brokers (passwords masked)")
    for parser in (add, listing):
        parser.add_argument(
            "--data-dir", type=Path, default=Path(".lambent"), help="the server's data dir"
        )
        parser.add_argument("--account-id", help="default: the data dir's only account")
        parser.add_argument("--region", help="default: the data dir's region")
        parser.add_argument(
            "--master-key-file",
            type=Path,
            default=os.environ.get(sealing.ENV_VAR) or None,
            help=f"the server's master key (default: ${sealing.ENV_VAR} or DATA/master.key)",
        )
        add_database_argument(parser)
    add.set_defaults(func=run_add)
    listing.set_defaults(func=run_list)


def _run(args: argparse.Namespace, adding: bool) -> list[tuple[str, str, str]]:
    command = f"lambent brokers {args.action}"

    async def go() -> list[tuple[str, str, str]]:
        try:
            key = sealing.master_key_path(args.data_dir, args.master_key_file)
            sealer = sealing.load_existing(key)
        except sealing.SealError as exc:
            raise SystemExit(f"{command}: {exc}") from None
        store = await open_for(command, args.data_dir, args.database)
        try:
            brokers = Brokers(store, sealer, SystemClock())
            account = await _account(store, args.account_id)
            if adding:
                region = _region(args.data_dir, args.region)
                made = await brokers.add(account, region, args.name, args.url)
                return [(made.name, made.arn, made.masked)]
            return [(b.name, b.arn, b.masked) for b in await brokers.list(account)]
        except BrokerError as exc:
            raise SystemExit(f"{command}: {exc}") from None
        finally:
            await store.close()

    return asyncio.run(go())


def run_add(args: argparse.Namespace) -> int:
    print(_run(args, adding=True)[0][1])
    return 0


def run_list(args: argparse.Namespace) -> int:
    for name, arn, url in _run(args, adding=False):
        print(f"{name}\t{arn}\t{url}")
    return 0
