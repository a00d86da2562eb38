"""`lambent accounts create`: a new account for another tenant, made by an operator.

It writes to the data dir's store directly (SQLite WAL takes a second writer while the
server runs; the server finds the new keys on their first use) and puts the new root key
pair in DATA/credentials-<account> (aws CLI format, mode 600).
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from lambent.auth.credentials import Credential, CredentialStore, write_credentials_file
from lambent.clock import SystemClock
from lambent.store.sqlite import SqliteStore


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("accounts", help="operator: manage accounts in a data dir")
    actions = p.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create an account with a root key pair")
    create.add_argument("--data-dir", type=Path, default=Path(".lambent"))
    create.add_argument("--account-id", help="12 digits (default: a random one)")
    create.set_defaults(func=run_create)


def run_create(args: argparse.Namespace) -> int:
    data: Path = args.data_dir
    wanted = args.account_id
    if wanted is not None and not (wanted.isdigit() and len(wanted) == 12):
        raise SystemExit(f"lambent accounts create: --account-id must be 12 digits, got {wanted!r}")
    if not (data / "state.db").exists():
        raise SystemExit(f"lambent accounts create: {data} is not a lambent data dir")
    account, cred = asyncio.run(_create(data, wanted))
    target = data / f"credentials-{account}"
    write_credentials_file(target, cred)
    print(f"created account {account}; its root keys are in {target}")
    return 0


async def _create(data: Path, wanted: str | None) -> tuple[str, Credential]:
    store = SqliteStore(data / "state.db")
    try:
        creds = CredentialStore(store, SystemClock())
        if wanted is not None and wanted in await creds.accounts():
            raise SystemExit(f"lambent accounts create: account {wanted} already exists")
        return await creds.create_account(wanted)
    finally:
        await store.close()
