"""Client commands (`deploy`, `invoke`, `ls`, `logs`): filled in with the CLI issue work."""

from __future__ import annotations

import argparse


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    return None
