"""What to run: a champion file, a run directory (watched live by the viewer), or a world file
with a seeded random genome (or none, for a hand-wired controller).

``evorobot replay`` and ``evorobot view`` both take any of these. :func:`with_fresh_trials` swaps
a source's trial set-ups for ``n`` new random ones (tasks that draw random trials), so that a
champion can be tested on trials it never saw (``evorobot replay --trials N --seed S``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evorobot._types import FloatArray
from evorobot.champion import load_champion
from evorobot.config import load_world, with_trials
from evorobot.errors import ChampionFileError, EvorobotError
from evorobot.seeding import conditions_rng, evaluation_rng
from evorobot.setup import Setup, build


class Source:
    """A genome with its experiment, trial conditions and a few facts for the status line."""

    setup: Setup
    genome: FloatArray
    conditions: FloatArray
    info: dict[str, str]
    stored_trials: FloatArray | None = None
    """Per-trial fitness stored with the genome (champions), compared bit for bit on replay."""
    stored_fitness: float | None = None

    def poll(self) -> bool:
        """Reload if the underlying file changed; return whether it did."""
        return False


class ChampionSource(Source):
    """A champion file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._load()

    def _load(self) -> None:
        champ = load_champion(self.path)
        self.setup, self.genome, self.conditions = champ.setup, champ.genome, champ.conditions()
        self.stored_trials, self.stored_fitness = champ.trials, champ.fitness
        self.generation, self.seed = champ.generation, champ.seed
        self.info = {"generation": str(champ.generation), "seed": str(champ.seed),
                     "stored": f"{champ.fitness:.4f}"}


class RunDirSource(ChampionSource):
    """A run directory: shows its champion and reloads it when evolution writes a new one."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        path = run_dir / "champion.json"
        if not path.is_file():
            raise ChampionFileError(f"{run_dir}: no champion.json yet (is evolution running there?)")
        self._mtime = path.stat().st_mtime_ns
        super().__init__(path)

    def poll(self) -> bool:
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return False
        if mtime == self._mtime:
            return False
        self._mtime = mtime
        self._load()
        return True


class WorldSource(Source):
    """A world file with a random genome (seeded), for looking at a task before evolving."""

    def __init__(self, path: Path, overrides: list[str] | None = None, seed: int = 0,
                 controller: str | None = None) -> None:
        exp = load_world(path, overrides, controller)
        self.setup = build(exp)
        rng = np.random.default_rng(seed)
        self.genome = rng.uniform(-1.0, 1.0, self.setup.genome_size)
        self.conditions = self.setup.task.conditions(conditions_rng(exp.experiment.seed, 0))
        kind = f"random (seed {seed})" if self.setup.genome_size else self.setup.experiment.controller_type
        self.info = {"controller": kind, "world": Path(path).name}


def open_source(target: str, overrides: list[str] | None = None, seed: int = 0,
                controller: str | None = None) -> Source:
    """Pick the source kind from ``target``: a directory, a .toml world file, or a champion.

    ``overrides`` and ``controller`` (see :func:`evorobot.config.load_world`) apply to world files;
    a champion takes only ``task.KEY=VALUE`` overrides (:func:`with_task_settings`), as its network
    and body are what it evolved with.
    """
    p = Path(target)
    if p.suffix == ".toml":
        return WorldSource(p, overrides, seed, controller)
    if controller:
        raise EvorobotError(f"{target}: --controller applies to world files, not to champions")
    source = RunDirSource(p) if p.is_dir() else ChampionSource(p)
    return with_task_settings(source, overrides) if overrides else source


def with_task_settings(source: Source, overrides: list[str]) -> Source:
    """``source`` with ``--set task.KEY=VALUE`` applied (a generalisation test: a denser grid of
    offsets, another arena ...): its trials are the changed task's, drawn from evaluation seed 0,
    and nothing stored is compared. Only ``[task]`` settings may change: the genome stays valid."""
    bad = [o for o in overrides if not o.strip().startswith("task.")]
    if bad:
        raise EvorobotError(f"--set {bad[0]!r}: a champion takes only task.KEY=VALUE settings (the network and "
                            "body it evolved with stay as they were)")
    from evorobot.config import apply_overrides, experiment_from_dict

    raw = apply_overrides(source.setup.experiment.to_dict(), overrides)
    source.setup = build(experiment_from_dict(raw, f"{source.info.get('champion', 'champion')} with --set"))
    source.conditions = source.setup.task.conditions(evaluation_rng(0))
    source.stored_trials = source.stored_fitness = None
    source.info = {**source.info, "trials": f"changed task: {', '.join(overrides)}"}
    return source


def with_fresh_trials(source: Source, n: int, seed: int) -> Source:
    """``source`` re-targeted at ``n`` fresh random trials drawn from ``seed`` (nothing stored to compare).

    Raises ConfigError for a task that evaluates a fixed grid of trials (no ``trials`` setting).
    """
    source.setup = build(with_trials(source.setup.experiment, n, "--trials"))
    source.conditions = source.setup.task.conditions(evaluation_rng(seed))
    source.stored_trials = source.stored_fitness = None
    source.info = {**source.info, "trials": f"{n} fresh (seed {seed})"}
    return source
