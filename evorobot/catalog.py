"""``evorobot list``: the registries and the shipped world files, from the same dicts the code uses."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO


def shipped_worlds() -> list[Path]:
    """World files next to the package (a source checkout) or in ./worlds."""
    here = Path(__file__).resolve().parent.parent / "worlds"
    seen = {}
    for folder in (Path("worlds"), here):
        if folder.is_dir():
            for p in sorted(folder.glob("*.toml")):
                seen.setdefault(p.name, p)
    return [seen[k] for k in sorted(seen)]


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().splitlines()[0] if doc else ""


def print_catalog(out: TextIO) -> None:
    """Print tasks, controllers, optimizers and world files."""
    from evorobot.controllers import CONTROLLERS
    from evorobot.evolution import OPTIMIZERS
    from evorobot.tasks import TASKS

    for title, registry in (("tasks", TASKS), ("controllers", CONTROLLERS), ("optimizers", OPTIMIZERS)):
        out.write(f"{title}:\n")
        for name, cls in sorted(registry.items()):
            doc = _first_line(sys.modules[cls.__module__].__doc__) or _first_line(cls.__doc__)
            if registry is TASKS and not cls.embodied:  # type: ignore[attr-defined]
                doc = f"[own dynamics, no body] {doc}"
            out.write(f"  {name:<24} {doc}\n")
    out.write("world files:\n")
    for p in shipped_worlds():
        out.write(f"  {p}\n")
