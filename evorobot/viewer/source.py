"""What the viewer shows: a champion file, a world file, or a run directory (watched live)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evorobot._types import FloatArray
from evorobot.champion import load_champion
from evorobot.config import load_world
from evorobot.errors import ChampionFileError
from evorobot.seeding import conditions_rng
from evorobot.setup import Setup, build


class Source:
    """A genome with its experiment, trial conditions and a few facts for the status line."""

    setup: Setup
    genome: FloatArray
    conditions: FloatArray
    info: dict[str, str]

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

    def __init__(self, path: Path, overrides: list[str] | None = None, seed: int = 0) -> None:
        exp = load_world(path, overrides)
        self.setup = build(exp)
        rng = np.random.default_rng(seed)
        self.genome = rng.uniform(-1.0, 1.0, self.setup.genome_size)
        self.conditions = self.setup.task.conditions(conditions_rng(exp.experiment.seed, 0))
        self.info = {"controller": f"random (seed {seed})", "world": Path(path).name}


def open_source(target: str, overrides: list[str] | None = None, seed: int = 0) -> Source:
    """Pick the source kind from ``target``: a directory, a .toml world file, or a champion."""
    p = Path(target)
    if p.is_dir():
        return RunDirSource(p)
    if p.suffix == ".toml":
        return WorldSource(p, overrides, seed)
    return ChampionSource(p)
