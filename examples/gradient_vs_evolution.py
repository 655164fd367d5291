"""Gradient against evolution on the same problem and network (issue 17, "What it must show" item 3).

Each problem is trained three ways, GA, CMA-ES and BPTT, with the same task data (the world file's
``[task]``), the same network (its ``[controller]``) and the same held-out test, 3 seeds each:

- ``temporal_xor``: ``worlds/temporal_xor.toml`` (Elman 1990's stream of triples, 4 train streams
  of 50 triples, an Elman net of 4 hidden units, 29 genes); BPTT as in
  ``worlds/bptt_temporal_xor.toml`` (full BPTT, Adam lr 0.05, batch 2, cross-entropy).
  Held-out: the bit error on the predictable third bits of 4 unseen streams (lower is better).
- ``narma10``: ``worlds/narma10.toml`` (4 train sequences of 500 ticks after a 50-tick washout, an
  Elman net of 10 hidden units, 131 genes); BPTT(50; 50) with Adam lr 0.003, batch 1, squared
  error (the settings of ``examples/gradient_benchmarks.py narma``). Held-out: NRMSE on 2 unseen
  sequences.
- ``adding``: ``worlds/adding.toml`` (T = 50, a pool of 1000 train sequences of which an
  evaluation draws 20, 2560 test sequences), an LSTM of 4 cells (117 genes) with the forget-gate
  bias range [0, 5] of ``examples/adding_gradients.py``; BPTT: full BPTT, Adam lr 0.01, batch 32,
  squared error, over the whole pool each epoch. Held-out: the fraction of test sequences with
  ``|error| >= 0.04`` (Hochreiter & Schmidhuber's criterion: solved below 0.01).

Budgets (chosen so that the 27 runs take well under 25 minutes on one core, one run at a time):
temporal XOR 2000 generations x 50 (GA, CMA-ES), 300 epochs (BPTT); NARMA-10 1000 x 50, 1000
epochs; adding 1000 x 50, 300 epochs. The GA and CMA-ES each evaluate ``generations x population`` genomes, each genome on the task's training
trials (temporal XOR and NARMA-10: every train sequence; adding: 20 drawn from the pool), so the
sequences seen are ``generations x population x trials``; BPTT sees ``epochs x train sequences``.
The GA and CMA-ES get the same population (50) and generations. The ``fitness`` column is the
champion's training fitness as the runner stores it (the same evaluation for every method: for
BPTT each epoch's genome is scored by the episode on the training trials and the best epoch is
the champion), the ``held-out`` column the champion's ``held_out`` score in ``champion.json``
(what ``evorobot replay`` recomputes). A run that raises is recorded with its error (a failure).

Commands (set ``OPENBLAS_NUM_THREADS=1``: CMA-ES's eigendecomposition is slow under contention)::

    OPENBLAS_NUM_THREADS=1 python examples/gradient_vs_evolution.py run \\
        --out /work/runs_pole/gradient_vs_evolution.jsonl --runs /work/runs_pole/gve
    python examples/gradient_vs_evolution.py table /work/runs_pole/gradient_vs_evolution.jsonl

``run`` takes ``--problems``, ``--methods`` and ``--seeds`` (comma-separated) to run a subset and
skips the (problem, method, seed) runs already in ``--out``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
import traceback
from pathlib import Path
from typing import Any

from evorobot.config import load_world
from evorobot.errors import EvorobotError
from evorobot.evolution.runner import evolve
from evorobot.setup import build
from evorobot.store import decode_float
from evorobot.training.run import train

ROOT = Path(__file__).resolve().parent.parent

PROBLEMS: dict[str, dict[str, Any]] = {
    "temporal_xor": {
        "world": "temporal_xor.toml", "network": [],
        "generations": 2000, "population": 50,
        "bptt": ["optimizer.epochs=300", "optimizer.batch=2", "optimizer.learning_rate=0.05",
                 "optimizer.clip=1.0", "optimizer.loss=cross_entropy"],
    },
    "narma10": {
        "world": "narma10.toml", "network": [],
        "generations": 1000, "population": 50,
        "bptt": ["optimizer.epochs=1000", "optimizer.batch=1", "optimizer.learning_rate=0.003",
                 "optimizer.clip=1.0", "optimizer.truncation=50", "optimizer.loss=squared"],
    },
    "adding": {
        "world": "adding.toml", "network": ["controller.forget_bias_range=[0.0, 5.0]"],
        "generations": 1000, "population": 50,
        "bptt": ["optimizer.epochs=300", "optimizer.batch=32", "optimizer.learning_rate=0.01",
                 "optimizer.clip=1.0", "optimizer.loss=squared"],
    },
}
METHODS = ("ga", "cmaes", "bptt")


def overrides(problem: str, method: str, seed: int) -> list[str]:
    """The ``--set`` overrides of one run (the world's task and network kept)."""
    p = PROBLEMS[problem]
    common = [f"experiment.seed={seed}", *p["network"]]
    if method == "bptt":
        return [*common, "optimizer.type=bptt", *p["bptt"]]
    return [*common, f"optimizer.type={method}", f"optimizer.population={p['population']}",
            f"evolution.generations={p['generations']}"]


def one(problem: str, method: str, seed: int, runs: Path) -> dict[str, Any]:
    """Train ``problem``'s network by ``method`` from ``seed``; one result line."""
    sets = overrides(problem, method, seed)
    # replace the world's [optimizer] table by the method's defaults, then apply the overrides
    exp = load_world(ROOT / "worlds" / PROBLEMS[problem]["world"], sets, optimizer=method)
    setup = build(exp)
    task = setup.task
    trials = int(task.n_trials)
    n_train = int(getattr(task, "n_train", trials))
    out = runs / f"{problem}-{method}-s{seed}"
    if out.exists():  # interrupted before its line was written: start it again
        shutil.rmtree(out)
    row: dict[str, Any] = {"problem": problem, "method": method, "seed": seed, "genes": setup.genome_size,
                           "set": sets}
    if method == "bptt":
        epochs = exp.optimizer.epochs
        row.update(budget=f"{epochs} epochs x {n_train} seq", sequences=epochs * n_train)
    else:
        pop, gens = exp.optimizer.population, exp.evolution.generations
        row.update(budget=f"{gens} gen x {pop} pop", sequences=gens * pop * trials)
    start = time.perf_counter()
    try:
        if method == "bptt":
            summary = train(setup, out, ["gradient_vs_evolution.py", *sets], stream=None)
        else:
            summary = evolve(exp, out, ["gradient_vs_evolution.py", *sets], stream=None)
        champ = json.loads((out / "champion.json").read_text())
        test = champ.get("held_out", {})
        row.update(fitness=summary.best_fitness, metric=test.get("metric"),
                   held_out=decode_float(test["score"], "held_out") if test else None, error=None)
    except (EvorobotError, ArithmeticError, ValueError, RuntimeError) as exc:  # a failure is a line too
        traceback.print_exc()
        row.update(fitness=None, metric=None, held_out=None, error=f"{type(exc).__name__}: {exc}")
    row["seconds"] = round(time.perf_counter() - start, 1)
    return row


def run(args: argparse.Namespace) -> None:
    out = Path(args.out)
    done = set()
    if out.exists():
        done = {(r["problem"], r["method"], r["seed"]) for r in map(json.loads, out.read_text().splitlines())}
    runs = Path(args.runs)
    runs.mkdir(parents=True, exist_ok=True)
    for problem in args.problems.split(","):
        for method in args.methods.split(","):
            for seed in [int(s) for s in args.seeds.split(",")]:
                if (problem, method, seed) in done:
                    continue
                r = one(problem, method, seed, runs)
                with open(out, "a") as fh:
                    fh.write(json.dumps(r) + "\n")
                print(json.dumps(r), flush=True)


def table(args: argparse.Namespace) -> None:
    rows = [r for path in args.results for r in map(json.loads, Path(path).read_text().splitlines())]
    order = {p: i for i, p in enumerate(PROBLEMS)}
    rows.sort(key=lambda r: (order.get(r["problem"], 99), METHODS.index(r["method"]), r["seed"]))
    print("| problem | network (genes) | method | seed | budget | sequences seen | wall s | training fitness "
          "| held-out (metric) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        net = {"temporal_xor": "elman 4", "narma10": "elman 10", "adding": "lstm 4"}.get(r["problem"], "?")
        fit = "-" if r["fitness"] is None else f"{r['fitness']:.4f}"
        test = f"failed: {r['error']}" if r.get("error") else (
            "-" if r["held_out"] is None else f"{r['held_out']:.4f} ({r['metric']})")
        print(f"| {r['problem']} | {net} ({r['genes']}) | {r['method']} | {r['seed']} | {r['budget']} | "
              f"{r['sequences']:,} | {r['seconds']:.0f} | {fit} | {test} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("--problems", default=",".join(PROBLEMS))
    r.add_argument("--methods", default=",".join(METHODS))
    r.add_argument("--seeds", default="1,2,3")
    r.add_argument("--runs", default="/work/runs_pole/gve", help="run directories")
    r.add_argument("--out", required=True)
    t = sub.add_parser("table")
    t.add_argument("results", nargs="+")
    args = ap.parse_args()
    run(args) if args.command == "run" else table(args)


if __name__ == "__main__":
    main()
