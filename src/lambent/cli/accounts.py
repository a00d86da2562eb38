"""`lambent accounts create|list|delete`: tenants' accounts, managed by an operator.

These write to the server's store directly: the data dir's SQLite (WAL takes a second
writer while the server runs) or, with --database, the cluster's PostgreSQL. The server
finds new keys on their first use, and stops accepting deleted ones within a few seconds.
`create` puts the new root key pair in DATA/credentials-<account> (aws CLI format, mode
600), sealed in the store under the server's master key (DATA/master.key, or
--master-key-file / $LAMBENT_MASTER_KEY_FILE).
What `delete` removes and refuses: lambent/accounts.py.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from lambent.auth import sealing
from lambent.auth.credentials import Credential, CredentialStore, write_credentials_file
from lambent.cli.stores import add_database_argument, open_for
from lambent.clock import SystemClock
from lambent.errors import ServiceError
from lambent.store.interface import Store

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]


def add_parser(sub: SubParsers) -> None:
    p = sub.add_parser("accounts", help="operator: manage accounts in a data dir")
    actions = p.add_subparsers(dest="action", required=True)
    create = _action(actions, "create", "create an account with a root key pair")
    create.add_argument("--account-id", help="12 digits (default: a random one)")
    create.set_defaults(func=run_create)
    listing = _action(actions, "list", "list accounts (the default one marked, with functions)")
    listing.set_defaults(func=run_list)
    delete = _action(
        actions,
        "delete",
        "delete an account that holds no functions, layers, buckets or event source mappings "
        "(never the default)",
    )
    delete.add_argument("account_id", metavar="ACCOUNT_ID", help="the account to delete")
    delete.add_argument("--yes", action="store_true", help="confirm: the deletion is final")
    delete.set_defaults(func=run_delete)


def _action(actions: SubParsers, name: str, text: str) -> argparse.ArgumentParser:
    p = actions.add_parser(name, help=text, description=text)
    p.add_argument("--data-dir", type=Path, default=Path(".lambent"), help="the server's data dir")
    p.add_argument(
        "--master-key-file",
        type=Path,
        default=os.environ.get(sealing.ENV_VAR) or None,
        help=f"the server's master key (default: ${sealing.ENV_VAR} or DATA/master.key)",
    )
    add_database_argument(p)
    return p


def _fail(action: str, message: str) -> SystemExit:
    return SystemExit(f"lambent accounts {action}: {message}")


@asynccontextmanager
async def _opened(args: argparse.Namespace) -> AsyncIterator[tuple[Store, CredentialStore]]:
    data: Path = args.data_dir
    command = f"lambent accounts {args.action}"
    if args.database is None and not (data / "state.db").exists():
        raise _fail(args.action, f"{data} is not a lambent data dir")
    try:
        sealer = sealing.load_existing(sealing.master_key_path(data, args.master_key_file))
    except sealing.SealError as exc:
        raise _fail(args.action, str(exc)) from None
    store = await open_for(command, data, args.database)
    try:
        yield store, CredentialStore(store, SystemClock(), sealer)
    finally:
        await store.close()


def run_create(args: argparse.Namespace) -> int:
    wanted = args.account_id
    if wanted is not None and not (wanted.isdigit() and len(wanted) == 12):
        raise _fail("create", f"--account-id must be 12 digits, got {wanted!r}")
    account, cred = asyncio.run(_create(args, wanted))
    target = args.data_dir / f"credentials-{account}"
    write_credentials_file(target, cred)
    print(f"created account {account}; its root keys are in {target}")
    return 0


async def _create(args: argparse.Namespace, wanted: str | None) -> tuple[str, Credential]:
    async with _opened(args) as (_, creds):
        if wanted is not None and wanted in await creds.accounts():
            raise _fail("create", f"account {wanted} already exists")
        return await creds.create_account(wanted)


def run_list(args: argparse.Namespace) -> int:
    from lambent.accounts import list_accounts

    async def listed() -> None:
        async with _opened(args) as (store, creds):
            for summary in await list_accounts(store, creds):
                mark = "  (default)" if summary.default else ""
                print(f"{summary.account_id}  {summary.functions} function(s){mark}")

    asyncio.run(listed())
    return 0


def run_delete(args: argparse.Namespace) -> int:
    from lambent.accounts import delete_account

    account: str = args.account_id
    if not args.yes:
        raise _fail("delete", f"deleting account {account} is final; add --yes to confirm")

    async def delete() -> int:
        async with _opened(args) as (store, creds):
            return await delete_account(store, creds, account)

    try:
        keys = asyncio.run(delete())
    except ServiceError as exc:
        print(f"lambent accounts delete: {exc.message}", file=sys.stderr)
        return 1
    leftover = args.data_dir / f"credentials-{account}"
    leftover.unlink(missing_ok=True)
    print(f"deleted account {account} and its {keys} access key(s)")
    return 0
