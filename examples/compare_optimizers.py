"""Summarise evolution runs per optimizer: a Markdown table for the README.

    python examples/compare_optimizers.py runs/opt-*/ --target 0.95

Each run directory's ``config.json`` names its optimizer; ``history.csv`` gives the best-ever
fitness per generation and the evaluations of each generation. Per optimizer the table gives the
runs (seeds), the fraction reaching ``best >= target``, the median best, the median evaluations
until the best first reached the target (over the runs that reached it) and the median wall time.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
from collections import defaultdict
from pathlib import Path


def summarise(run: Path, target: float) -> dict[str, float | int | str | None]:
    """One run: its optimizer, population, generations, best, evaluations to ``target``, seconds."""
    config = json.loads((run / "config.json").read_text())
    with open(run / "history.csv") as fh:
        rows = list(csv.DictReader(fh))
    evaluations, reached = 0, None
    for r in rows:
        evaluations += int(r["evaluations"])
        if reached is None and float(r["best_ever"]) >= target:
            reached = evaluations
    return {"optimizer": config["optimizer"]["type"], "population": config["optimizer"]["population"],
            "generations": len(rows), "seed": config["experiment"]["seed"],
            "best": max(float(r["best_ever"]) for r in rows), "evaluations": evaluations,
            "to_target": reached, "seconds": sum(float(r["seconds"]) for r in rows)}


def table(runs: list[dict], target: float) -> str:
    by: dict[str, list[dict]] = defaultdict(list)
    for r in runs:
        by[str(r["optimizer"])].append(r)
    lines = [f"| optimizer | population x generations | seeds | best >= {target} | median best | "
             f"median evaluations to {target} | median wall |", "|---|---|---|---|---|---|---|"]
    for name, rs in sorted(by.items()):
        hits = [r["to_target"] for r in rs if r["to_target"] is not None]
        med_eval = f"{statistics.median(hits):,.0f}" if hits else "—"
        lines.append(
            f"| `{name}` | {rs[0]['population']} x {rs[0]['generations']} | "
            f"{', '.join(str(r['seed']) for r in sorted(rs, key=lambda r: r['seed']))} | {len(hits)}/{len(rs)} | "
            f"{statistics.median(r['best'] for r in rs):.4f} | {med_eval} | "
            f"{statistics.median(r['seconds'] for r in rs) / 60:.1f} min |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+", type=Path, help="run directories")
    p.add_argument("--target", type=float, default=0.95)
    p.add_argument("--per-run", action="store_true", help="also print one line per run")
    a = p.parse_args()
    runs = [summarise(r, a.target) for r in a.runs if (r / "history.csv").is_file()]
    if a.per_run:
        for r in sorted(runs, key=lambda r: (str(r["optimizer"]), int(r["seed"]))):
            print(f"{r['optimizer']:>10} seed {r['seed']}: best {r['best']:.4f}  to {a.target}: "
                  f"{r['to_target'] if r['to_target'] is not None else '-'}  ({r['seconds'] / 60:.1f} min)")
    print(table(runs, a.target))


if __name__ == "__main__":
    main()
