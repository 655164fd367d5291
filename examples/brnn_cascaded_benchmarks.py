"""Benchmarks of the bidirectional network (Schuster & Paliwal 1997) and of Pollack's (1991)
sequential cascaded network, evolved through ``evorobot evolve``'s own runner.

    python examples/brnn_cascaded_benchmarks.py framewise --seeds 1 --generations 800
    python examples/brnn_cascaded_benchmarks.py tomita --grammars 1,2,4 --seeds 1-10 --generations 300

``framewise`` evolves ``worlds/brnn_framewise.toml`` (an offline ``brnn``: both chains read the
whole stream before it labels a frame) and the same world with a unidirectional ``elman`` network
of as many hidden units (``forward + backward``) under the same optimizer (CMA-ES) and budget,
and prints each champion's accuracy on the train streams and on the held-out test streams. The
causal Bayes ceiling of delay 0 is 76.4 % (:meth:`evorobot.tasks.framewise.Framewise.ceiling`).

``tomita`` evolves ``worlds/cascaded_tomita{G}.toml`` for each grammar and seed (CMA-ES) and prints
the champion's training accuracy (accept when the accept unit > 0.5 at the end marker, over the
train strings), its plain and balanced accuracy on the longer test strings, and whether the
training accuracy is 100 %. Each result is one JSON line (``--out`` appends them to a file); run
directories go under ``--runs``. Runs are done one after the other.
"""

from __future__ import annotations

import argparse
import json
import os
import time

# one BLAS thread: CMA-ES's eigendecompositions slow down many-fold on a shared 2-core machine otherwise
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
from pathlib import Path
from typing import Any

import numpy as np

from evorobot.config import load_world
from evorobot.episode import Episode
from evorobot.evolution.runner import evolve
from evorobot.setup import Setup, build

ROOT = Path(__file__).resolve().parent.parent


def accuracy(setup: Setup, genome: np.ndarray, conditions: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Pooled thresholded accuracy of ``genome`` over the trials ``conditions``, with each trial's
    fraction of correct scored outputs and whether it failed."""
    ep = Episode(setup, genome[None, :], conditions)
    ep.run()
    task = setup.task
    per_trial = np.where(ep.scores.failed, 0.0, task.mean_of(ep.scores, "correct"))
    return task.held_out_mean(ep.scores, ep.conditions, "correct", failed_value=0.0), per_trial, ep.scores.failed


def one(world: Path, overrides: list[str], controller: str | None, out: Path) -> dict[str, Any]:
    """Evolve ``world`` and measure its champion on the train and the test split."""
    exp = load_world(world, overrides, controller=controller)
    setup = build(exp)
    start = time.perf_counter()
    summary = evolve(exp, out, stream=None)
    champ = json.loads((out / "champion.json").read_text())
    genome = np.array(champ["genome"], dtype=np.float64)
    task = setup.task
    train, _, _ = accuracy(setup, genome, task.conditions(np.random.default_rng(0)))
    test, _, _ = accuracy(setup, genome, task.held_out_conditions())
    row = {"world": world.stem, "controller": exp.controller_type, "overrides": overrides,
           "genes": setup.genome_size, "optimizer": exp.optimizer_type, "population": exp.optimizer.population,
           "generations": summary.generations, "fitness": summary.best_fitness, "train_accuracy": train,
           "test_accuracy": test, "held_out": champ.get("held_out"), "seconds": round(time.perf_counter() - start, 1)}
    return row


def seeds(text: str) -> list[int]:
    if "-" in text:
        a, b = text.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(s) for s in text.split(",")]


def emit(row: dict[str, Any], out: str | None) -> None:
    line = json.dumps(row)
    print(line, flush=True)
    if out:
        with open(out, "a") as fh:
            fh.write(line + "\n")


def framewise(args: argparse.Namespace) -> None:
    world = ROOT / "worlds" / "brnn_framewise.toml"
    exp = load_world(world)
    hidden = exp.controller.forward + exp.controller.backward
    for seed in seeds(args.seeds):
        common = [f"experiment.seed={seed}", f"evolution.generations={args.generations}"]
        for name, controller, extra in (("brnn", None, []), ("elman", "elman", [f"controller.hidden={hidden}"])):
            row = one(world, common + extra, controller, Path(args.runs) / f"framewise-{name}-s{seed}")
            emit({**row, "seed": seed}, args.out)


def tomita(args: argparse.Namespace) -> None:
    for g in [int(s) for s in args.grammars.split(",")]:
        world = ROOT / "worlds" / f"cascaded_tomita{g}.toml"
        for seed in seeds(args.seeds):
            common = [f"experiment.seed={seed}", f"evolution.generations={args.generations}"]
            row = one(world, common, None, Path(args.runs) / f"tomita{g}-s{seed}")
            emit({**row, "grammar": g, "seed": seed, "train_perfect": row["train_accuracy"] == 1.0}, args.out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    f = sub.add_parser("framewise")
    f.add_argument("--seeds", default="1")
    f.add_argument("--generations", type=int, default=800)
    t = sub.add_parser("tomita")
    t.add_argument("--grammars", default="1,2,4")
    t.add_argument("--seeds", default="1-10")
    t.add_argument("--generations", type=int, default=300)
    for p in (f, t):
        p.add_argument("--runs", default="runs/brnn_cascaded")
        p.add_argument("--out", default=None)
    args = ap.parse_args()
    framewise(args) if args.command == "framewise" else tomita(args)


if __name__ == "__main__":
    main()
