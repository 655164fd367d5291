"""Echo state network benchmarks: ridge readouts on NARMA-10 and Mackey-Glass, and an evolved readout.

Run from the repository root::

    python examples/esn_benchmarks.py                     # everything (a few minutes on 2 cores)
    python examples/esn_benchmarks.py --only narma100     # one part: narma100, narma500, mackey, ga
    python examples/esn_benchmarks.py --only ga --generations 60 --ga-range 2   # a narrower readout

Parts (each run goes through the normal run directory, ``evorobot.training.run.train`` or
``evorobot.evolution.runner.evolve``, in a temporary folder; the figure is the champion's
held-out test score, the NRMSE on the test split):

- ``narma100``: ``worlds/esn_narma10.toml`` with ``--optimizer ridge`` (100 units, spectral radius
  0.99, 10 x 500 training ticks), over reservoir seeds 0..4. The literature reports NRMSE about
  0.4 for 100 units with a few thousand training steps (EchoTorch's example: 0.436);
- ``narma500``: the same with 500 units (NRMSE should fall with size);
- ``mackey``: ``worlds/esn_mackey_glass.toml`` with ``--optimizer ridge`` (tau 17, one step);
- ``ga``: ``worlds/esn_narma10.toml`` as shipped: the 102 readout weights evolved by the GA
  (population 50, ``--generations``), reservoir seed 0, against ridge on the same reservoir.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from evorobot.config import load_world
from evorobot.evolution.runner import evolve
from evorobot.setup import build
from evorobot.training.run import train

ROOT = Path(__file__).resolve().parent.parent
NARMA = ROOT / "worlds" / "esn_narma10.toml"
MACKEY = ROOT / "worlds" / "esn_mackey_glass.toml"


def held_out_of(run: Path) -> float:
    """The champion's stored held-out score (NRMSE)."""
    return float(json.loads((run / "champion.json").read_text())["held_out"]["score"])


def ridge_score(world: Path, overrides: list[str]) -> tuple[float, float]:
    """(held-out NRMSE, seconds) of a ridge run of ``world`` with ``overrides``."""
    exp = load_world(world, overrides, optimizer="ridge")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        train(build(exp), Path(tmp) / "run", stream=None)
        secs = time.perf_counter() - t0
        return held_out_of(Path(tmp) / "run"), secs


def seeds_table(label: str, world: Path, units: int, seeds: int) -> None:
    scores = []
    for s in range(seeds):
        nrmse, secs = ridge_score(world, [f"controller.units={units}", f"controller.reservoir_seed={s}"])
        scores.append(nrmse)
        print(f"{label}  units {units}  reservoir_seed {s}: test NRMSE {nrmse:.4f}  ({secs:.1f} s)", flush=True)
    print(f"{label}  units {units}: mean {np.mean(scores):.4f}  sd {np.std(scores, ddof=1) if seeds > 1 else 0:.4f}  "
          f"min {min(scores):.4f}  max {max(scores):.4f}  over {seeds} reservoir seeds", flush=True)


def ga(generations: int, readout: float | None) -> None:
    sets = [f"evolution.generations={generations}"]
    if readout is not None:
        sets.append(f"controller.readout_range=[{-readout}, {readout}]")
    exp = load_world(NARMA, sets)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        summary = evolve(exp, Path(tmp) / "run", stream=None)
        secs = time.perf_counter() - t0
        nrmse = held_out_of(Path(tmp) / "run")
    fit = summary.best_fitness
    lo, hi = exp.controller.readout_range
    print(f"ga  NARMA-10 readout in [{lo:g}, {hi:g}] evolved, population 50 x {generations} generations: train fitness {fit:.4f} "
          f"(NRMSE {1 / fit - 1:.4f}), test NRMSE {nrmse:.4f}  ({secs:.0f} s)", flush=True)
    ridge, _ = ridge_score(NARMA, [])
    print(f"ga  ridge on the same reservoir and data: test NRMSE {ridge:.4f}", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", choices=("narma100", "narma500", "mackey", "ga"), help="run one part")
    p.add_argument("--seeds", type=int, default=5, help="reservoir seeds of the NARMA tables (default 5)")
    p.add_argument("--generations", type=int, default=100, help="GA generations (default 100)")
    p.add_argument("--ga-range", type=float, metavar="R", help="evolve the readout in [-R, R] (default: the world's)")
    args = p.parse_args()
    if args.only in (None, "narma100"):
        seeds_table("narma100", NARMA, 100, args.seeds)
    if args.only in (None, "narma500"):
        seeds_table("narma500", NARMA, 500, args.seeds)
    if args.only in (None, "mackey"):
        nrmse, secs = ridge_score(MACKEY, [])
        print(f"mackey  Mackey-Glass tau 17 one step, 100 units, ridge: test NRMSE {nrmse:.2e}  ({secs:.1f} s)")
    if args.only in (None, "ga"):
        ga(args.generations, args.ga_range)


if __name__ == "__main__":
    main()
