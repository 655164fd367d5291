"""World files (TOML) -> a resolved, validated, frozen :class:`Experiment`.

A world file has the tables ``[experiment]``, ``[simulation]``, ``[agent]``, ``[task]``,
``[controller]``, ``[optimizer]`` and ``[evolution]``. ``[agent] file`` names a shipped agent
(``"khepera"``: ``agents/khepera.toml``) or an agent file relative to the world file, which must
resolve inside the world file's folder, the ``agents/`` folder beside it or the shipped agents
(:func:`agent_roots`); its tables may be overridden in ``[agent.body]``, ``[agent.eye]`` and
``[agent.motor]``. An optional ``[limits]`` table raises or lowers the resource budget
(:mod:`evorobot.budget`). ``[task]``, ``[controller]`` and ``[optimizer]`` carry a ``type`` that selects
a registry entry whose settings dataclass validates the rest of the table.

Everything is checked before the first tick; every error is one line naming the file, the table,
the key and the value. This module parses; :mod:`evorobot.setup` builds the live objects once
and makes the checks that span tables (:func:`evorobot.setup.load_setup`).
:meth:`Experiment.to_dict` gives the fully resolved experiment (agent inlined), which :func:`experiment_from_dict` reads back with the same validation; champion files
carry it so that they replay with no other file.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evorobot.agent import AGENT_TABLES, OPTIONAL_TABLES, AgentSpec
from evorobot.budget import DEFAULT_LIMITS, Limits, check_settings
from evorobot.errors import ConfigError
from evorobot.spec import did_you_mean, parse, setting, to_dict

TOP_TABLES = ("experiment", "simulation", "agent", "task", "controller", "optimizer", "evolution", "limits")


@dataclass(frozen=True)
class ExperimentSpec:
    """``[experiment]``: names and the run seed."""

    name: str = setting("experiment", doc="run name (default output folder runs/NAME)")
    description: str = setting("", doc="free text")
    seed: int = setting(1, ge=0, doc="root of every random stream of the run")


@dataclass(frozen=True)
class SimulationSpec:
    """``[simulation]``: time step shared by body and network (Beer: forward Euler, dt = 0.1)."""

    dt: float = setting(0.1, gt=0, doc="integration step of network and physics")
    substeps: int = setting(1, ge=1, doc="physics steps per tick; robots pushing into walls need several "
                            "(a robot sinks into a wall by at most one substep's travel per tick)")
    project_contacts: bool = setting(
        False, doc="robots: cut each tick's commanded velocity so that it cannot carry the robot into static "
                   "geometry (walls, obstacles), which lets one substep keep robots out of walls; other robots "
                   "and moving objects are still left to pymunk's contact solver")
    placement: str = setting("tiled", choices=("tiled", "per_trial"),
                             doc="tiled: an individual's trials share one Space, trial k at x = 2000 k; per_trial: "
                                 "every trial has a Space of its own at the origin, so a trial's rounding does "
                                 "not depend on its slot (mirror offsets +x and -x are mirrored coordinates)")
    mirror_exact: bool = setting(
        False, doc="a trial and its mirror image (object at -x for +x) compute mirrored values bit for bit, so a "
                   "symmetric genome scores them identically; implies placement = per_trial, [agent.eye] "
                   "exact_axes and midpoint_edges, [controller] paired_sums and, where the task has it and its "
                   "offset_range is symmetric, [task] mirrored_offsets (the resolved experiment lists each); "
                   "needs Beer's agent (eye, horizontal motor) and a symmetric continuous-time network")


@dataclass(frozen=True)
class EvolutionSpec:
    """``[evolution]``: the generation loop."""

    generations: int = setting(300, ge=1, doc="number of generations")
    chunk_size: int = setting(16, ge=1, doc="individuals per work unit (results never depend on it)")
    checkpoint_every: int = setting(1, ge=1, doc="generations between checkpoints")
    validation_trials: int = setting(
        0, ge=0, doc="fixed trials on which each generation's best are re-tested to pick the champion (0: off)")
    validation_top: int = setting(3, ge=1, doc="individuals of each generation re-tested on the validation trials")


@dataclass(frozen=True)
class Experiment:
    """A fully resolved experiment."""

    experiment: ExperimentSpec
    simulation: SimulationSpec
    agent: AgentSpec | None
    """The body (None for a task that brings its own dynamics: its world file has no [agent])."""
    task_type: str
    task: Any
    controller_type: str
    controller: Any
    optimizer_type: str
    optimizer: Any
    evolution: EvolutionSpec
    source: str = "<dict>"
    limits: Limits = DEFAULT_LIMITS
    """The resource budget (:mod:`evorobot.budget`); written out only when not the defaults."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the whole resolved experiment (no file references)."""
        return {
            "experiment": to_dict(self.experiment),
            "simulation": to_dict(self.simulation),
            **({"agent": {k: to_dict(getattr(self.agent, k)) for k in AGENT_TABLES
                          if getattr(self.agent, k) is not None}} if self.agent is not None else {}),
            "task": {"type": self.task_type, **to_dict(self.task)},
            "controller": {"type": self.controller_type, **to_dict(self.controller)},
            "optimizer": {"type": self.optimizer_type, **to_dict(self.optimizer)},
            "evolution": to_dict(self.evolution),
            **({"limits": to_dict(self.limits)} if self.limits != DEFAULT_LIMITS else {}),
        }


RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,99}")
"""A run name: the folder ``runs/NAME-sSEED``, so one path component of at most 100 safe characters."""


def _experiment(raw: Any, where: str) -> ExperimentSpec:
    """``[experiment]``, with a run name that stays one folder inside the output root."""
    spec = parse(ExperimentSpec, raw, where)
    if not RUN_NAME.fullmatch(spec.name):
        raise ConfigError(f"{where}: `name` = {spec.name!r} must be one folder name: letters, digits and . _ + -, "
                          "starting with a letter or digit, at most 100 characters")
    return spec


def _read_toml(path: Path, what: str) -> dict[str, Any]:
    """A TOML file, read only if it is a regular file (:func:`evorobot.store.read_text`)."""
    from evorobot.store import read_text

    text = read_text(path, what, ConfigError)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: {what} is nested too deeply to be a world file") from None


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``table.key=value``; the value is read as a TOML value, else as a bare string."""
    key, sep, raw = text.partition("=")
    path = key.strip().split(".")
    if not sep or not all(path) or len(path) < 2:
        raise ConfigError(f"--set: expected TABLE.KEY=VALUE, got {text!r}")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return path, value


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return a copy of ``raw`` with every ``--set TABLE.KEY=VALUE`` applied."""
    out = copy.deepcopy(raw)
    for text in overrides:
        path, value = parse_override(text)
        node = out
        for part in path[:-1]:
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise ConfigError(f"--set {text}: `{part}` is not a table")
            node = nxt
        node[path[-1]] = value
    return out


def _typed(raw: dict[str, Any], table: str, registry: dict[str, type], source: str) -> tuple[str, Any]:
    where = f"{source} [{table}]"
    body = raw.get(table)
    if not isinstance(body, dict):
        raise ConfigError(f"{source}: missing table [{table}]")
    name = body.get("type")
    if not isinstance(name, str):
        raise ConfigError(f"{where}: missing required key `type` (one of {', '.join(sorted(registry))})")
    if name not in registry:
        raise ConfigError(
            f"{where}: unknown {table} type `{name}`{did_you_mean(name, registry)}; "
            f"valid: {', '.join(sorted(registry))}"
        )
    return name, parse(registry[name].Spec, body, where, ignore=("type",))


def _chosen_sensors(raw: dict[str, Any], tables: dict[str, Any], where: str) -> set[str]:
    """The sensor tables in use: ``[agent] sensors = [...]`` if given, else every one present."""
    present = {k for k in OPTIONAL_TABLES if k in tables or k in raw}
    if "sensors" not in raw:
        return present
    names = raw["sensors"]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"{where}: `sensors` must be an array of sensor table names, got {names!r}")
    for n in names:
        if n not in present:
            raise ConfigError(f"{where}: `sensors` names `{n}`, which the agent has no table for "
                              f"(present: {', '.join(sorted(present)) or 'none'})")
    return set(names)


SHIPPED_AGENTS = Path(__file__).resolve().parent.parent / "agents"
"""The agent files shipped with evorobot (``agents/`` of the source tree)."""
SHIPPED_WORLDS = SHIPPED_AGENTS.parent / "worlds"
"""The world files shipped with evorobot (``worlds/`` of the source tree)."""


def agent_roots(base: Path) -> tuple[Path, ...]:
    """The folders a world file in ``base`` may read agent files from (symlinks resolved): its own
    folder (and below), the ``agents/`` folder beside it (the layout of ``worlds/`` and ``agents/``
    that evorobot ships and users copy), and the shipped agents."""
    here = base.resolve()
    return here, (here.parent / "agents").resolve(), SHIPPED_AGENTS


def _agent_file(value: Any, base: Path | None, where: str) -> Path:
    """``[agent] file``: a shipped agent by name (``"khepera"``: ``agents/khepera.toml``, so that a
    world file keeps working wherever it is copied), or a path relative to the world file that
    resolves, after ``..`` and symlinks, inside one of :func:`agent_roots` (a world file from
    elsewhere cannot read arbitrary files of the machine)."""
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: `file` must be a shipped agent's name or a path relative to the world file, "
                          f"got {value!r}")
    if "/" not in value and "\\" not in value and not value.endswith(".toml"):
        path = SHIPPED_AGENTS / f"{value}.toml"
        if not path.is_file():
            names = sorted(p.stem for p in SHIPPED_AGENTS.glob("*.toml"))
            raise ConfigError(f"{where}: `file` = {value!r}: no shipped agent of that name{did_you_mean(value, names)} "
                              f"(shipped: {', '.join(names)}; a path needs a / or .toml)")
        return path
    if base is None:
        raise ConfigError(f"{where}: `file` = {value!r}: a path is relative to a world file; name a shipped agent")
    path = base / value
    try:
        real = path.resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise ConfigError(f"{where}: `file` = {value!r}: cannot resolve {path} ({exc})") from None
    roots = agent_roots(base)
    if not any(real.is_relative_to(root) for root in roots):
        raise ConfigError(f"{where}: `file` = {value!r} resolves to {real}, outside the folders agent files may live "
                          f"in: the world file's folder, the agents/ folder beside it, or the shipped agents "
                          f"({', '.join(str(r) for r in roots)})")
    if not real.is_file():
        raise ConfigError(f"{where}: `file` = {value!r}: agent file {path} not found")
    return real


def _agent(raw: Any, source: str, base: Path | None, limits: Limits = DEFAULT_LIMITS) -> AgentSpec:
    where = f"{source} [agent]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: missing table [agent]")
    tables: dict[str, dict[str, Any]] = {}
    agent_src = source
    for key in raw:
        if key not in ("file", "sensors") and key not in AGENT_TABLES:
            raise ConfigError(f"{where}: unknown key `{key}`{did_you_mean(key, ['file', 'sensors', *AGENT_TABLES])}")
    if "file" in raw:
        path = _agent_file(raw["file"], base, where)
        tables = _read_toml(path, "agent file")
        agent_src = str(path)
        for key in tables:
            if key not in AGENT_TABLES:
                raise ConfigError(f"{agent_src}: unknown table [{key}]{did_you_mean(key, AGENT_TABLES)}")
    chosen = _chosen_sensors(raw, tables, where)
    parts = {}
    for key, cls in AGENT_TABLES.items():
        if key in OPTIONAL_TABLES and key not in chosen:
            parts[key] = None  # no such sensor
            continue
        merged = dict(tables.get(key, {}))
        override = raw.get(key, {})
        if not isinstance(override, dict):
            raise ConfigError(f"{where}: `{key}` must be a table")
        merged.update(override)
        label = f"{source} [agent.{key}]" if override else f"{agent_src} [{key}]"
        parts[key] = parse(cls, merged, label)
        check_settings(parts[key], label, "agent", limits)  # before validate() sizes anything
    agent = AgentSpec(**parts)
    agent.validate(f"{agent_src} (agent)")
    return agent


def experiment_from_dict(raw: dict[str, Any], source: str, base: Path | None = None) -> Experiment:
    """Validate a world-file dict (or a resolved experiment from a champion) into an Experiment.

    Every table is checked on its own here; what depends on several tables (the controller's sizes
    against the agent's, the physics step against the robot's speed) is checked when the objects
    are built, once, by :func:`evorobot.setup.build`.
    """
    from evorobot.controllers import CONTROLLERS
    from evorobot.evolution import OPTIMIZERS
    from evorobot.tasks import TASKS
    from evorobot.training import TRAINERS

    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a table of tables")
    for key in raw:
        if key not in TOP_TABLES:
            raise ConfigError(f"{source}: unknown table [{key}]{did_you_mean(key, TOP_TABLES)}")
    task_type, task = _typed(raw, "task", TASKS, source)
    if not TASKS[task_type].embodied and "agent" in raw:
        raise ConfigError(f"{source} [agent]: task `{task_type}` brings its own dynamics and has no body; "
                          "remove the [agent] table (the task sets the network's inputs and outputs)")
    ctrl_type, ctrl = _typed(raw, "controller", CONTROLLERS, source)
    # an evolutionary optimizer, or a trainer (evorobot.training: ridge, ...), by the same `type` key
    opt_type, opt = _typed(raw, "optimizer", {**OPTIMIZERS, **TRAINERS}, source)
    limits = parse(Limits, raw.get("limits", {}), f"{source} [limits]")
    exp = Experiment(
        experiment=_experiment(raw.get("experiment", {}), f"{source} [experiment]"),
        simulation=parse(SimulationSpec, raw.get("simulation", {}), f"{source} [simulation]"),
        agent=_agent(raw.get("agent"), source, base, limits) if TASKS[task_type].embodied else None,
        task_type=task_type,
        task=task,
        controller_type=ctrl_type,
        controller=ctrl,
        optimizer_type=opt_type,
        optimizer=opt,
        evolution=parse(EvolutionSpec, raw.get("evolution", {}), f"{source} [evolution]"),
        source=source,
        limits=limits,
    )
    for table in ("experiment", "simulation", "task", "controller", "optimizer", "evolution"):
        check_settings(getattr(exp, table), f"{source} [{table}]", table, limits)
    return _mirror_exact(exp, raw, source) if exp.simulation.mirror_exact else exp


def _mirror_exact(exp: Experiment, raw: dict[str, Any], source: str) -> Experiment:
    """``[simulation] mirror_exact``: ``exp`` with every setting it implies turned on, so that the
    resolved experiment (and a champion file) names each one. Mirror exactness of a trial rests on
    four things, each its own option: a Space per trial at the origin (``placement = "per_trial"``:
    the mirror's coordinates are exact negations), ray directions mirrored exactly (``exact_axes``)
    and edges tested from their midpoints (``midpoint_edges``), the network's sums in mirror pairs
    (``paired_sums``), and, for the trial grid, offsets that are exact negations of each other
    (``mirrored_offsets``, where the task has it and its ``offset_range`` is symmetric; a
    one-sided grid has no mirror pairs to make). The rest of a tick (the horizontal motor, the x
    limit, the kinematic step, the arrival offset, a score of ``|offset|``) is odd or even under
    ``x -> -x`` in IEEE arithmetic already. A key set explicitly to the contrary is an error."""
    where = f"{source} [simulation]"
    agent = exp.agent
    if agent is None or agent.eye is None or agent.motor.type != "horizontal":
        raise ConfigError(f"{where}: `mirror_exact` needs Beer's agent (an [agent.eye] and the horizontal motor)")
    if not hasattr(exp.controller, "paired_sums") or not exp.controller.symmetric:
        raise ConfigError(f"{where}: `mirror_exact` needs a continuous-time network (ctrnn, mtrnn, hierarchical) "
                          f"with symmetric = true, got `{exp.controller_type}`"
                          + ("" if not hasattr(exp.controller, "symmetric") else
                             f" with symmetric = {str(exp.controller.symmetric).lower()}"))
    implied: list[tuple[str, Any, str, Any]] = [
        ("simulation", raw.get("simulation", {}), "placement", "per_trial"),
        ("agent.eye", (raw.get("agent") or {}).get("eye", {}), "exact_axes", True),
        ("agent.eye", (raw.get("agent") or {}).get("eye", {}), "midpoint_edges", True),
        ("controller", raw.get("controller", {}), "paired_sums", True),
    ]
    task = exp.task
    mirrored = hasattr(task, "mirrored_offsets") and task.offset_range[0] == -task.offset_range[1]
    if mirrored:
        implied.append(("task", raw.get("task", {}), "mirrored_offsets", True))
    for table, given, key, value in implied:
        if isinstance(given, dict) and key in given and given[key] != value:
            raise ConfigError(f"{source} [{table}]: `{key}` = {given[key]!r} contradicts [simulation] mirror_exact "
                              f"= true, which implies {key} = {value!r} (remove the key)")
    eye = dataclasses.replace(agent.eye, exact_axes=True, midpoint_edges=True)
    return dataclasses.replace(
        exp,
        simulation=dataclasses.replace(exp.simulation, placement="per_trial"),
        agent=dataclasses.replace(agent, eye=eye),
        controller=dataclasses.replace(exp.controller, paired_sums=True),
        task=dataclasses.replace(task, mirrored_offsets=True) if mirrored else task,
    )


def with_trials(exp: Experiment, n: int, what: str) -> Experiment:
    """``exp`` with ``task.trials = n`` (random trials: fresh tests, validation); ConfigError naming
    ``what`` for a task that evaluates a fixed grid of trials (no ``trials`` setting) or ``n < 1``."""
    raw = exp.to_dict()
    if "trials" not in raw["task"]:
        raise ConfigError(f"{what}: task `{exp.task_type}` evaluates a fixed grid of trials (it has no "
                          "`trials` setting), so there are no fresh trials to draw")
    if n < 1:
        raise ConfigError(f"{what}: the number of trials must be >= 1, got {n}")
    raw["task"]["trials"] = n
    return experiment_from_dict(raw, exp.source)


def load_world(path: str | Path, overrides: list[str] | None = None, controller: str | None = None,
               optimizer: str | None = None) -> Experiment:
    """Load and validate a world file, applying ``--set`` overrides first.

    ``controller`` (``optimizer``) replaces the whole ``[controller]`` (``[optimizer]``) table by
    that type's defaults (before the overrides, so ``--set controller.KEY=...`` can still tune it).
    """
    p = Path(path)
    raw = _read_toml(p, "world file")
    if controller is not None:
        raw["controller"] = {"type": controller}
    if optimizer is not None:
        raw["optimizer"] = {"type": optimizer}
    raw = apply_overrides(raw, overrides or [])
    return experiment_from_dict(raw, str(path), p.parent)
