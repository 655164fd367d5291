"""``evorobot list``: the registries and the shipped world files, from the same dicts the code uses."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO


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
    """Print tasks, controllers, optimizers, trainers and world files."""
    from evorobot.controllers import CONTROLLERS
    from evorobot.evolution import OPTIMIZERS
    from evorobot.tasks import TASKS
    from evorobot.training import TRAINERS

    registries: tuple[tuple[str, dict[str, Any]], ...] = (
        ("tasks", TASKS), ("controllers", CONTROLLERS), ("optimizers", OPTIMIZERS),
        ("trainers ([optimizer] type; they fit rather than evolve)", TRAINERS))
    for title, registry in registries:
        out.write(f"{title}:\n")
        for name, cls in sorted(registry.items()):
            doc = _first_line(sys.modules[cls.__module__].__doc__) or _first_line(cls.__doc__)
            if registry is TASKS and not cls.embodied:  # type: ignore[attr-defined]
                doc = f"[own dynamics, no body] {doc}"
            out.write(f"  {name:<24} {doc}\n")
    out.write("world files:\n")
    out.writelines(f"  {p}\n" for p in shipped_worlds())
