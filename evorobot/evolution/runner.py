"""The generation loop and its run directory.

One generation: ``genomes = optimizer.ask()`` -> trial conditions of the generation -> evaluate
-> ``optimizer.tell(fitness)`` -> a ``history.csv`` row, ``champion.json`` when the best-ever
improves, and a checkpoint.

A run directory holds ``manifest.json`` (versions, platform, seed, command line),
``config.json`` (the resolved experiment), ``history.csv`` (one row per generation),
``champion.json`` (best ever) and ``checkpoint/`` (optimizer state). Every file is written
atomically.
"""

from __future__ import annotations

import csv
import io
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

import evorobot
from evorobot.champion import champion_dict
from evorobot.config import Experiment
from evorobot.errors import ConfigError
from evorobot.evolution import OPTIMIZERS
from evorobot.evolution.evaluate import MapFn, evaluate
from evorobot.seeding import conditions_rng, optimizer_seed
from evorobot.setup import build
from evorobot.store import encode_float, write_json, write_npz, write_text

HISTORY_COLUMNS = ("generation", "best", "mean", "std", "best_ever", "evaluations", "failed", "seconds")
"""``failed`` counts the trials of the generation that blew up or did not finish."""


@dataclass
class RunSummary:
    """What an evolution run produced."""

    out: Path
    generations: int
    best_fitness: float
    best_generation: int
    seconds: float


def manifest(exp: Experiment, argv: list[str]) -> dict[str, Any]:
    """Versions, platform, seed and command line of a run."""
    import numba
    import pymunk
    import scipy

    return {
        "evorobot": evorobot.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "numba": numba.__version__,
        "pymunk": pymunk.version,
        "platform": platform.platform(),
        "seed": exp.experiment.seed,
        "world": exp.source,
        "command": argv,
    }


def prepare_run_dir(out: Path) -> None:
    """Create ``out``; refuse to write into a directory that already holds a run."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"{out}: output directory exists and is not empty (choose another --out)")
    out.mkdir(parents=True, exist_ok=True)


def _fmt(x: float) -> str:
    return repr(float(x)) if np.isfinite(x) else str(encode_float(x))


class _Progress:
    """One updating line on a terminal, one plain line per generation otherwise."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream
        self.tty = bool(stream is not None and getattr(stream, "isatty", lambda: False)())

    def update(self, gen: int, total: int, stats: dict[str, Any], best_ever: float, secs: float) -> None:
        if self.stream is None:
            return
        line = (f"gen {gen + 1}/{total}  best {stats['best']:.4f}  mean {stats['mean']:.4f}  "
                f"best-ever {best_ever:.4f}  failed {stats['failed']}  {secs:.2f}s")
        if self.tty:
            self.stream.write("\r" + line.ljust(79))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.stream is not None and self.tty:
            self.stream.write("\n")
            self.stream.flush()


def evolve(
    exp: Experiment,
    out: Path,
    argv: list[str] | None = None,
    stream: TextIO | None = sys.stderr,
    map_fn: MapFn = map,
) -> RunSummary:
    """Run the evolution described by ``exp``, writing its run directory ``out``."""
    setup = build(exp)
    seed = exp.experiment.seed
    prepare_run_dir(out)
    write_json(out / "manifest.json", manifest(exp, list(argv or [])))
    write_json(out / "config.json", exp.to_dict())
    opt = OPTIMIZERS[exp.optimizer_type](exp.optimizer, setup.genome_size, optimizer_seed(seed))
    rows: list[list[str]] = []
    best_ever, best_gen = -np.inf, -1
    total = exp.evolution.generations
    progress = _Progress(stream)
    start = time.perf_counter()
    for gen in range(total):
        t0 = time.perf_counter()
        genomes = opt.ask()
        conditions = setup.task.conditions(conditions_rng(seed, gen))
        ev = evaluate(setup, genomes, conditions, exp.evolution.chunk_size, map_fn)
        stats = opt.tell(ev.fitness)
        i = stats["best_index"]
        if i >= 0 and ev.fitness[i] > best_ever:
            best_ever, best_gen = float(ev.fitness[i]), gen
            champ = champion_dict(setup, genomes[i], ev.trials[i], int(ev.failed[i]), gen, int(i), seed)
            write_json(out / "champion.json", champ)
        secs = time.perf_counter() - t0
        rows.append([str(gen), _fmt(stats["best"]), _fmt(stats["mean"]), _fmt(stats["std"]),
                     _fmt(best_ever), str(len(genomes)), str(int(ev.failed.sum())), f"{secs:.3f}"])
        _write_history(out, rows)
        if (gen + 1) % exp.evolution.checkpoint_every == 0 or gen + 1 == total:
            _checkpoint(out, opt.state_dict(), gen, best_ever)
        progress.update(gen, total, stats, best_ever, secs)
    progress.close()
    return RunSummary(out, total, best_ever, best_gen, time.perf_counter() - start)


def _write_history(out: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HISTORY_COLUMNS)
    writer.writerows(rows)
    write_text(out / "history.csv", buf.getvalue())


def _checkpoint(out: Path, state: dict[str, Any], gen: int, best_ever: float) -> None:
    arrays = {k: v for k, v in state.items() if isinstance(v, np.ndarray)}
    meta = {k: v for k, v in state.items() if not isinstance(v, np.ndarray)}
    ckpt = out / "checkpoint"
    write_npz(ckpt / "optimizer.npz", arrays)
    write_json(ckpt / "state.json", {"generation": gen, "best_ever": encode_float(best_ever), "optimizer": meta})
