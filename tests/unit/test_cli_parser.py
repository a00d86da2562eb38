"""The client commands' arguments, and that the literal defaults in help match the code."""

from __future__ import annotations

import argparse
from pathlib import Path

from lambent.cli import logs, roles, waiting
from lambent.cli.main import build_parser


def test_deploy_arguments() -> None:
    args = build_parser().parse_args(
        ["deploy", "fn", "--name", "n", "--env", "AA=1", "BB=2", "--env", "CC=3", "--publish"]
    )
    assert args.directory == Path("fn")
    assert args.env == ["AA=1", "BB=2", "CC=3"]
    assert args.publish is True
    assert args.wait_timeout == waiting.DEFAULT_WAIT_S
    assert args.data_dir == Path(".lambent")
    assert args.endpoint_url is None and args.profile is None and args.region is None


def test_logs_and_invoke_arguments() -> None:
    parser = build_parser()
    assert parser.parse_args(["logs", "fn"]).since == logs.DEFAULT_SINCE
    assert parser.parse_args(["logs", "fn", "-f"]).follow is True
    args = parser.parse_args(["invoke", "fn", "-", "--qualifier", "live", "--log"])
    assert (args.name, args.payload, args.qualifier, args.log) == ("fn", "-", "live", True)
    assert parser.parse_args(["invoke", "fn"]).payload is None


def test_help_names_the_default_role() -> None:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    deploy = sub.choices["deploy"]
    role = next(a for a in deploy._actions if a.dest == "role")
    assert role.help is not None and roles.DEFAULT_ROLE in role.help


def _subparser(parser: argparse.ArgumentParser, *path: str) -> argparse.ArgumentParser:
    for name in path:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return parser


def test_every_serve_option_says_what_it_does() -> None:
    serve = _subparser(build_parser(), "serve")
    options = [a for a in serve._actions if a.option_strings and a.dest != "help"]
    assert len(options) >= 15
    silent = [a.option_strings[0] for a in options if not (a.help or "").strip()]
    assert silent == []
    assert "--master-key-file" in serve.format_help()


def test_every_accounts_action_and_option_says_what_it_does() -> None:
    accounts = _subparser(build_parser(), "accounts")
    actions = next(a for a in accounts._actions if isinstance(a, argparse._SubParsersAction))
    assert set(actions.choices) == {"create", "list", "delete"}
    for name, parser in actions.choices.items():
        silent = [
            a.dest for a in parser._actions if a.dest != "help" and not (a.help or "").strip()
        ]
        assert silent == [], name


def test_every_signing_option_says_what_it_does() -> None:
    profiles = _subparser(build_parser(), "signing-profiles")
    actions = next(a for a in profiles._actions if isinstance(a, argparse._SubParsersAction))
    assert set(actions.choices) == {"add", "list"}
    parsers = [*actions.choices.values(), _subparser(build_parser(), "sign")]
    for parser in parsers:
        silent = [
            a.dest for a in parser._actions if a.dest != "help" and not (a.help or "").strip()
        ]
        assert silent == [], parser.prog
