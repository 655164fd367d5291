"""Every controller type on sequence data sets, evolved by the same optimizer at a fixed budget.

    python examples/sequence_table.py run worlds/narma10.toml worlds/temporal_xor.toml \\
        --generations 200 --seeds 1 --out runs/sequences.jsonl
    python examples/sequence_table.py table runs/sequences.jsonl

``run`` evolves each world with every registered controller type (but the hand-wired Braitenberg
vehicle, which needs a body), replacing the
world's ``[controller]`` by that type's defaults (as the controller x world matrix test does),
with the world's optimizer and population, for ``--generations`` generations, through
``evorobot evolve``'s own runner; each run's directory is kept under ``--runs``. It records the
champion's training fitness and its held-out test score (stored in ``champion.json``, recomputed
by ``evorobot replay``). ``table`` prints one Markdown row per controller and one column per world:
the held-out score (median over seeds), with the metric named in the header.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from evorobot.config import load_world
from evorobot.controllers import CONTROLLERS
from evorobot.evolution.runner import evolve
from evorobot.setup import build
from evorobot.store import decode_float


def one(world: str, controller: str, seed: int, generations: int, runs: Path) -> dict[str, Any]:
    """Evolve ``world`` with ``controller``'s defaults."""
    exp = load_world(world, [f"experiment.seed={seed}", f"evolution.generations={generations}"], controller=controller)
    setup = build(exp)
    out = runs / f"{Path(world).stem}-{controller}-s{seed}"
    if out.exists():  # a run that was interrupted before its result was recorded: start it again
        shutil.rmtree(out)
    start = time.perf_counter()
    summary = evolve(exp, out, stream=None)
    champ = json.loads((out / "champion.json").read_text())
    test = champ.get("held_out", {})
    return {"world": Path(world).stem, "controller": controller, "seed": seed, "genes": setup.genome_size,
            "population": exp.optimizer.population, "generations": summary.generations,
            "fitness": summary.best_fitness, "metric": test.get("metric"),
            "held_out": decode_float(test["score"], "held_out") if test else None,
            "seconds": round(time.perf_counter() - start, 1)}


def run(args: argparse.Namespace) -> None:
    out = Path(args.out)
    done = set()
    if out.exists():
        done = {(r["world"], r["controller"], r["seed"]) for r in map(json.loads, out.read_text().splitlines())}
    runs = Path(args.runs)
    for world in args.worlds:
        skip = {"braitenberg", *args.skip.split(",")} - {""}  # braitenberg: a body's wiring
        for controller in sorted(c for c in CONTROLLERS if c not in skip):
            for seed in [int(s) for s in args.seeds.split(",")]:
                if (Path(world).stem, controller, seed) in done:
                    continue
                r = one(world, controller, seed, args.generations, runs)
                with open(out, "a") as fh:
                    fh.write(json.dumps(r) + "\n")
                print(json.dumps(r), flush=True)


def table(args: argparse.Namespace) -> None:
    rows: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    worlds: dict[str, str] = {}
    for path in args.results:
        for r in map(json.loads, Path(path).read_text().splitlines()):
            if args.seeds and r["seed"] not in args.seeds:
                continue
            rows[r["controller"]][r["world"]].append(r)
            worlds[r["world"]] = r["metric"]
    names = sorted(worlds)
    print("| controller | " + " | ".join(f"{w} ({worlds[w]})" for w in names) + " |")
    print("|---|" + "---|" * len(names))
    for controller in sorted(rows):
        cells = []
        for w in names:
            rs = rows[controller].get(w, [])
            vals = [r["held_out"] for r in rs if r["held_out"] is not None]
            cells.append(f"{statistics.median(vals):.3f}" if vals else "-")
        print(f"| {controller} | " + " | ".join(cells) + " |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("worlds", nargs="+")
    r.add_argument("--generations", type=int, default=200)
    r.add_argument("--seeds", default="1")
    r.add_argument("--runs", default="runs/sequences")
    r.add_argument("--skip", default="", help="controller types not to run, comma-separated")
    r.add_argument("--out", required=True)
    t = sub.add_parser("table")
    t.add_argument("results", nargs="+")
    t.add_argument("--seeds", type=lambda v: [int(x) for x in v.split(",")], default=None,
                   help="only these seeds (comma-separated)")
    args = ap.parse_args()
    run(args) if args.command == "run" else table(args)


if __name__ == "__main__":
    main()
