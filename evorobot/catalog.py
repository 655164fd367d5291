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


KINDS = ("task", "controller", "optimizer", "agent")


def _registry(kind: str) -> dict[str, Any]:
    """The registered types of ``kind`` (an agent's tables for ``agent``); trainers are optimizers."""
    if kind == "task":
        from evorobot.tasks import TASKS

        return dict(TASKS)
    if kind == "controller":
        from evorobot.controllers import CONTROLLERS

        return dict(CONTROLLERS)
    if kind == "optimizer":
        from evorobot.evolution import OPTIMIZERS
        from evorobot.training import TRAINERS

        return {**OPTIMIZERS, **TRAINERS}
    from evorobot.agent import AGENT_TABLES

    return dict(AGENT_TABLES)


def settings(spec: type) -> list[tuple[str, Any, str, str]]:
    """``(key, default, allowed values, meaning)`` of every field of a settings dataclass."""
    import dataclasses

    rows = []
    for f in dataclasses.fields(spec):
        meta = f.metadata
        allowed = []
        if meta.get("choices"):
            allowed.append(" | ".join(meta["choices"]))
        for key, sign in (("ge", ">="), ("gt", ">"), ("le", "<=")):
            if meta.get(key) is not None:
                allowed.append(f"{sign} {meta[key]:g}")
        default = f.default if f.default is not dataclasses.MISSING else "(required)"
        rows.append((f.name, default, ", ".join(allowed), meta.get("doc", "")))
    return rows


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str) and v != "(required)":
        return f'"{v}"'
    if isinstance(v, tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return f"{v:g}" if isinstance(v, float) else str(v)


def print_settings(kind: str, name: str | None, out: TextIO) -> None:
    """``evorobot list KIND [NAME]``: the names of a kind, or every setting of one type with its
    default, allowed values and meaning (for ``agent``: the tables of an agent file)."""
    from evorobot.errors import EvorobotError
    from evorobot.spec import did_you_mean

    if kind not in KINDS:
        raise EvorobotError(f"list {kind!r}: choose one of {', '.join(KINDS)}{did_you_mean(kind, KINDS)}")
    registry = _registry(kind)
    if name is None:
        out.writelines(f"{n}\n" for n in sorted(registry))
        return
    if name not in registry:
        raise EvorobotError(f"list {kind} {name!r}: not a registered {kind}{did_you_mean(name, registry)}; "
                            f"`evorobot list {kind}` names them")
    entry = registry[name]
    spec = entry if kind == "agent" else entry.Spec
    table = f"[agent.{name}]" if kind == "agent" else f"[{kind}] type = \"{name}\""
    out.write(f"{table}\n")
    rows = settings(spec)
    width = max((len(r[0]) for r in rows), default=0)
    for key, default, allowed, doc in rows:
        extra = f" ({allowed})" if allowed else ""
        out.write(f"  {key:<{width}} = {_value(default)}{extra}\n      {doc}\n")
