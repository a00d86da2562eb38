"""Every lifecycle table in Lambent, and the diagrams `docs/LIFECYCLES.md` shows of them.

The diagrams in the docs are generated from the tables, between markers, and a unit test
keeps them equal, so the docs cannot go stale:

    python -m lambent.lifecycles docs/LIFECYCLES.md     # rewrite the generated blocks
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from lambent.environments import lifecycle as environment
from lambent.event_sources import states as event_source_mapping
from lambent.fsm import StateMachine
from lambent.functions import provisioned_states, states
from lambent.runtime_api import state as runtime_api

MACHINES: dict[str, StateMachine[Any, Any]] = {
    "runtime-api": runtime_api.MACHINE,
    "environment": environment.LIFECYCLE,
    "function": states.LIFECYCLE,
    "provisioned-concurrency": provisioned_states.LIFECYCLE,
    "event-source-mapping": event_source_mapping.LIFECYCLE,
}

_BLOCK = re.compile(
    r"(<!-- generated: (?P<key>[\w-]+) -->\n)(?P<body>.*?)(<!-- end generated -->)", re.DOTALL
)


def block(key: str) -> str:
    """The fenced Mermaid block for one lifecycle, as it sits between its markers."""
    return f"```mermaid\n{MACHINES[key].diagram()}```\n"


def blocks(text: str) -> dict[str, str]:
    """The generated blocks a document holds, by lifecycle key."""
    return {m["key"]: m["body"] for m in _BLOCK.finditer(text)}


def regenerate(text: str) -> str:
    return _BLOCK.sub(lambda m: f"{m[1]}{block(m['key'])}{m[4]}", text)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m lambent.lifecycles DOC.md", file=sys.stderr)
        return 2
    path = Path(argv[0])
    path.write_text(regenerate(path.read_text()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
