"""`lambent signing-profiles add|list` (operator) and `lambent sign` (a publisher).

An operator registers the public key of each signing profile a code signing config may
allow: `lambent signing-profiles add NAME --public-key key.pem` writes it into the data
dir's store (as `lambent accounts create` does; the server reads it on the next check)
and prints the profile version ARN to put in AllowedPublishers.SigningProfileVersionArns.
A publisher signs a deployment package with the matching private key:
`lambent sign function.zip --key private.pem --profile-version-arn ARN` writes the
signature into the zip (`code_signing/signatures.py` has the format), which then deploys
with unchanged CreateFunction/UpdateFunctionCode calls.
"""

from __future__ import annotations

import argparse
import asyncio
import configparser
from pathlib import Path

from lambent.auth.credentials import ACCOUNT_KIND, GLOBAL
from lambent.cli.stores import add_database_argument, open_for
from lambent.code_signing.profiles import SigningProfiles
from lambent.store.interface import Store


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("signing-profiles", help="operator: signing profiles' public keys")
    actions = p.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="register a profile's public key (PEM)")
    add.add_argument("name", help="the signing profile's name")
    add.add_argument("--public-key", type=Path, required=True, help="Ed25519 or EC P-256 PEM")
    listing = actions.add_parser("list", help="the registered profile versions")
    for parser in (add, listing):
        parser.add_argument(
            "--data-dir", type=Path, default=Path(".lambent"), help="the server's data dir"
        )
        parser.add_argument("--account-id", help="default: the data dir's only account")
        parser.add_argument("--region", help="default: the data dir's region")
        add_database_argument(parser)
    add.set_defaults(func=run_add)
    listing.set_defaults(func=run_list)

    sign = sub.add_parser("sign", help="sign a deployment package (zip) in place or to -o")
    sign.add_argument("zip", type=Path, help="the deployment package")
    sign.add_argument("--key", type=Path, required=True, help="the private key (PEM)")
    sign.add_argument(
        "--profile-version-arn",
        required=True,
        help="the profile version `lambent signing-profiles add` printed",
    )
    sign.add_argument("-o", "--output", type=Path, help="default: overwrite the zip")
    sign.set_defaults(func=run_sign)


def _region(data: Path, given: str | None) -> str:
    if given:
        return given
    cp = configparser.ConfigParser()
    cp.read(data / "config")
    return cp.get("default", "region", fallback="us-east-1")


async def _account(store: Store, given: str | None) -> str:
    """The account named, else the data dir's default one (whose root keys are in
    DATA/credentials)."""
    if given:
        return given
    for row in await store.list(ACCOUNT_KIND, GLOBAL):
        if row.doc.get("default"):
            return row.key
    raise SystemExit("lambent signing-profiles: no default account; pass --account-id")


async def _open(args: argparse.Namespace) -> Store:
    return await open_for("lambent signing-profiles", args.data_dir, args.database)


def run_add(args: argparse.Namespace) -> int:
    pem = args.public_key.read_text()

    async def add() -> str:
        store = await _open(args)
        try:
            account = await _account(store, args.account_id)
            region = _region(args.data_dir, args.region)
            return await SigningProfiles(store).add(account, region, args.name, pem)
        finally:
            await store.close()

    print(asyncio.run(add()))
    return 0


def run_list(args: argparse.Namespace) -> int:
    async def listed() -> list[tuple[str, str]]:
        store = await _open(args)
        try:
            return await SigningProfiles(store).list(await _account(store, args.account_id))
        finally:
            await store.close()

    for name, arn in asyncio.run(listed()):
        print(f"{name}\t{arn}")
    return 0


def run_sign(args: argparse.Namespace) -> int:
    from lambent.code_signing.signatures import sign

    signed = sign(args.zip.read_bytes(), args.key.read_bytes(), args.profile_version_arn)
    (args.output or args.zip).write_bytes(signed)
    return 0
