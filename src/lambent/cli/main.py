"""The `lambent` command: `serve`, and for people without the aws CLI, `deploy`, `invoke`,
`ls` and `logs`, which talk to a server through the same public API as any client."""

from __future__ import annotations

import argparse
import sys

from lambent.cli import accounts, brokers, commands, serve, signing


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lambent", description="A self-hosted AWS Lambda.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve.add_parser(sub)
    accounts.add_parser(sub)
    brokers.add_parser(sub)
    commands.add_parsers(sub)
    signing.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
