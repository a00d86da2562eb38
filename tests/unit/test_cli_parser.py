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
