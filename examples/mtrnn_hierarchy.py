"""MTRNN's functional hierarchy, measured (Yamashita & Tani 2008): how early and how stably a linear
read-out of the slow units tells the trial's category, against the fast units.

Command (the README's table and docs/mtrnn_hierarchy.png)::

    python examples/mtrnn_hierarchy.py /work/runs23/mtrnn/s1 ... /work/runs23/mtrnn/s5 \\
        --offsets 40 --out docs/mtrnn_hierarchy.png --json hierarchy.json

Protocol. Each RUN (a run directory or a champion file) whose stored fitness is >= ``--min-fitness``
is replayed on a dense grid of trials: the task's ``offsets`` set to ``--offsets`` (categorical
perception: that many offsets per shape over the world's offset range, both shapes), in the
episode that evolution and replay use (:func:`evorobot.analysis.readout.category_states`). The
neurons' outputs, tick by tick, are grouped by label (an MTRNN's slow ``sl*`` and fast ``f*``
context units, its sensory ``s*`` and motor ``m*`` IO units; a CTRNN's interneurons ``h*``). At
every tick a linear classifier of the category is fitted on each group and scored by stratified
``--folds``-fold cross-validation over trials (:func:`~evorobot.analysis.readout.cv_accuracy`:
ridge least squares, penalty ``--ridge``). A group larger than the slow group (or than ``--size``
where there is none) is also read out through each of its subsets of that size (all of them, or
``--subsets`` random ones), the accuracy averaged over the subsets (``f[2]``: fast units two at
a time), so that a comparison is not an artefact of the number of units.

Per group the table gives the first time from which the accuracy stays >= 0.9 (and >= 0.95) to the
end of the trial ("—": it never does) and the mean accuracy over the first and the second half of
the trial. Runs below ``--min-fitness`` are listed, not analysed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from evorobot.analysis.readout import (
    RIDGE,
    CategoryStates,
    category_states,
    cv_accuracy,
    first_stable_tick,
    subset_accuracy,
    unit_groups,
)
from evorobot.errors import EvorobotError
from evorobot.source import ChampionSource, open_source
from evorobot.store import write_text

THRESHOLDS = (0.9, 0.95)
CONTEXT = ("sl", "f", "h")
"""Context (hidden) groups, the ones subsampled; IO groups (``s``, ``m``) are read out whole."""
STYLE = {"sl": ("tab:red", "-"), "f": ("tab:blue", "-"), "h": ("tab:green", "-"), "m": ("0.5", ":")}


def curves(cs: CategoryStates, args: argparse.Namespace) -> dict[str, np.ndarray]:
    """Accuracy (T,) of each unit group, and of the larger context groups subsampled (``f[2]``)."""
    groups = unit_groups(cs.labels)
    size = len(groups["sl"]) if "sl" in groups else args.size
    out: dict[str, np.ndarray] = {}
    for name, idx in groups.items():
        states = cs.states[:, :, idx]
        out[name] = cv_accuracy(states, cs.category, args.folds, args.ridge)
        if name in CONTEXT and len(idx) > size:
            sub = subset_accuracy(states, cs.category, size, args.folds, args.ridge, args.subsets,
                                  np.random.default_rng(args.seed))
            out[f"{name}[{size}]"] = sub.mean(axis=0)
    return out


def summary(acc: np.ndarray, time: np.ndarray) -> dict[str, Any]:
    """First stable time per threshold and the mean accuracy over each half of the trial."""
    half = len(acc) // 2
    row: dict[str, Any] = {}
    for th in THRESHOLDS:
        t = first_stable_tick(acc, th)
        row[f"stable_{th:g}"] = None if t is None else float(time[t])
    row["first_half"], row["second_half"] = float(acc[:half].mean()), float(acc[half:].mean())
    return row


def analyse(run: str, args: argparse.Namespace) -> dict[str, Any]:
    """One run's record: stored fitness, and (if it categorises) dense-grid fitness and curves."""
    stored = open_source(run)
    if not isinstance(stored, ChampionSource):
        raise EvorobotError(f"{run}: expected a run directory or a champion file")
    rec: dict[str, Any] = {"run": run, "seed": stored.seed, "generation": stored.generation,
                           "fitness": float(stored.stored_fitness), "controller": stored.setup.controller.name}
    if rec["fitness"] < args.min_fitness:
        return rec
    cs = category_states(open_source(run, [f"task.offsets={args.offsets}"]))
    acc = curves(cs, args)
    rec.update(dense_fitness=float(cs.fitness.mean()), trials=int(cs.category.size), category=cs.column,
               time=cs.time.tolist(), groups={k: [cs.labels[j] for j in v] for k, v in unit_groups(cs.labels).items()},
               accuracy={k: v.tolist() for k, v in acc.items()},
               summary={k: summary(v, cs.time) for k, v in acc.items()})
    return rec


def _group(name: str) -> tuple[str, int | None]:
    """``"f[2]"`` -> ``("f", 2)``; ``"sl"`` -> ``("sl", None)``."""
    base, _, rest = name.partition("[")
    return base, int(rest.rstrip("]")) if rest else None


def _t(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f}"


def table(records: list[dict[str, Any]], min_fitness: float) -> str:
    """The Markdown table: one line per run and group."""
    lines = ["| run | seed | fitness (dense) | group | units | stable >= 0.9 | stable >= 0.95 | mean acc 1st half | 2nd half |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        head = f"| {Path(r['run']).name} | {r['seed']} | {r['fitness']:.3f}"
        if "summary" not in r:
            lines.append(f"{head} | (not analysed: < {min_fitness:g}) | | | | | |")
            continue
        head += f" ({r['dense_fitness']:.3f})"
        for name, s in r["summary"].items():
            base, sub = _group(name)
            units = len(r["groups"][base]) if sub is None else sub
            lines.append(f"{head} | {name} | {units} | {_t(s['stable_0.9'])} | {_t(s['stable_0.95'])} | "
                         f"{s['first_half']:.3f} | {s['second_half']:.3f} |")
    return "\n".join(lines)


def _mean_panel(done: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A last panel with each group's accuracy averaged over the runs (when they share time and groups)."""
    if len(done) < 2 or any(r["time"] != done[0]["time"] or r["accuracy"].keys() != done[0]["accuracy"].keys()
                            for r in done):
        return []
    acc = {k: np.mean([r["accuracy"][k] for r in done], axis=0).tolist() for k in done[0]["accuracy"]}
    return [{**done[0], "accuracy": acc, "title": f"mean over the {len(done)} runs"}]


def figure(records: list[dict[str, Any]], path: Path) -> None:
    """Accuracy against time, one panel per analysed run."""
    from evorobot.analysis.figures import require_matplotlib, save

    Figure = require_matplotlib("examples/mtrnn_hierarchy.py --out")
    done = [r for r in records if "accuracy" in r]
    if not done:
        raise EvorobotError("--out: no run reached --min-fitness, nothing to draw")
    panels = done + _mean_panel(done)
    cols = min(3, len(panels))
    rows = -(-len(panels) // cols)
    fig = Figure(figsize=(4.2 * cols, 3.0 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, sharey=True)
    for ax, r in zip(axes.flat, panels):
        for name, acc in r["accuracy"].items():
            base, sub = _group(name)
            if base not in STYLE:
                continue
            colour, line = STYLE[base]
            ax.plot(r["time"], acc, color=colour, ls="--" if sub else line, lw=1.2,
                    label=f"{name}: {'mean over subsets' if sub else ', '.join(r['groups'][base])}")
        ax.axhline(0.9, color="0.8", lw=0.8)
        ax.set_title(r.get("title") or f"{Path(r['run']).name}: {r['controller']}, fitness {r['fitness']:.3f}",
                     fontsize=9)
        ax.set_xlabel("time")
        ax.set_ylim(0.4, 1.02)
    for ax in axes[:, 0]:
        ax.set_ylabel("cross-validated accuracy")
    for ax in list(axes.flat)[len(panels):]:
        ax.set_axis_off()
    axes.flat[0].legend(fontsize=7, loc="lower right")
    save(fig, path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", metavar="RUN", help="run directories or champion files")
    p.add_argument("--offsets", type=int, default=40, help="task.offsets of the dense grid (per category)")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds over trials")
    p.add_argument("--ridge", type=float, default=RIDGE, help="ridge penalty on the read-out weights")
    p.add_argument("--size", type=int, default=2, help="subset size where the network has no slow units")
    p.add_argument("--subsets", type=int, default=20, help="at most this many subsets per group")
    p.add_argument("--seed", type=int, default=0, help="seed of the random subsets")
    p.add_argument("--min-fitness", type=float, default=0.9, help="analyse only champions at least this good")
    p.add_argument("--out", help="figure (PNG) of accuracy against time")
    p.add_argument("--json", help="every number behind the table, strict JSON")
    args = p.parse_args(argv)
    try:
        records = [analyse(run, args) for run in args.runs]
        print(table(records, args.min_fitness))
        if args.json:
            write_text(Path(args.json), json.dumps(records, allow_nan=False) + "\n")
        if args.out:
            figure(records, Path(args.out))
    except EvorobotError as e:
        print(f"mtrnn_hierarchy: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
