"""The diagrams in docs/LIFECYCLES.md are the ones the tables generate, and every table is
there: change a table and this fails until `python -m lambent.lifecycles docs/LIFECYCLES.md`
is run."""

from __future__ import annotations

from pathlib import Path

from lambent import lifecycles

DOC = Path(__file__).resolve().parents[2] / "docs" / "LIFECYCLES.md"


def test_every_lifecycle_has_its_generated_diagram_in_the_docs() -> None:
    found = lifecycles.blocks(DOC.read_text())
    assert set(found) == set(lifecycles.MACHINES)
    for key, body in found.items():
        assert body == lifecycles.block(key), f"docs/LIFECYCLES.md is stale for {key}"


def test_regenerating_replaces_only_the_blocks() -> None:
    stale = "intro\n<!-- generated: environment -->\nold\n<!-- end generated -->\noutro\n"
    fresh = lifecycles.regenerate(stale)
    assert fresh.startswith("intro\n<!-- generated: environment -->\n```mermaid\n")
    assert fresh.endswith("```\n<!-- end generated -->\noutro\n")
    assert lifecycles.regenerate(fresh) == fresh
