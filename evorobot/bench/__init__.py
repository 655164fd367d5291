"""``evorobot bench``: speed and memory against baselines measured in the same run.

Five measurements (ARCHITECTURE.md §5), all in one run:

1. the batched CTRNN kernels (euler, rk4, exp_euler) over B = 256 networks of N = 7 and N = 50
   neurons, against a plain-numpy vectorised Euler step of the same networks (and against numpy
   one network at a time, the code the batched kernel replaces);
2. the categorical-perception :class:`~evorobot.episode.Episode` with 384 agents (16 individuals
   x 24 trials), against the naive per-agent pymunk implementation of
   :mod:`evorobot.bench.naive` (which computes the same fitness);
3. the phototaxis :class:`~evorobot.episode.Episode` with 256 Khepera robots (32 individuals x 8
   trials), against the naive per-robot pymunk implementation of :mod:`evorobot.bench.naive_robot`
   (which computes the same fitness);
4. the peak RSS of a default two-generation ``evorobot evolve`` run, in a subprocess;
5. BPTT sequences per second of the Elman network's gradient kernel (32 hidden units, sequences
   of 100 ticks) against the same forward and backward pass in plain numpy,
   :mod:`evorobot.bench.gradient` (one sequence at a time, and over the mini-batch at once).

Output: a table (name, value, unit, baseline, ratio), or with ``--json`` one JSON list of
``{"name", "value", "unit", "baseline", "ratio"}`` (``null`` where there is no baseline).
``ratio`` is always the speed-up over the baseline. ``--quick`` shortens every measurement
(noisy numbers; for tests). Benchmarks are never timed assertions in the test suite.
"""

from __future__ import annotations

import json
import math
import sys
from typing import TextIO

from evorobot.bench.gradient import bench_gradient
from evorobot.bench.measure import (
    Row,
    bench_ctrnn,
    bench_episode,
    bench_robot_episode,
    bench_rss,
    repo_file,
)

__all__ = ["TARGETS", "format_table", "run_bench"]

TARGETS = (
    ("ctrnn.euler.n7.per_network", "ratio", ">=", 30.0, "CTRNN kernel vs numpy (one network per call)"),
    ("ctrnn.euler.n10.vs_c", "ratio", ">=", 0.667, "euler vs the C loop compiled in this run (cost <= 1.5x C)"),
    ("ctrnn.euler.n50.vs_c", "ratio", ">=", 0.667, "euler vs the C loop compiled in this run (cost <= 1.5x C)"),
    ("ctrnn.rk4.n10.cost", "value", "<=", 4.5, "rk4 cost in units of euler"),
    ("ctrnn.rk4.n50.cost", "value", "<=", 4.5, "rk4 cost in units of euler"),
    ("evolve.cp.workers2", "ratio", ">=", 1.7, "2 workers vs 1, generations per minute"),
    ("episode.cp", "ratio", ">=", 20.0, "batched episode vs naive per-agent pymunk"),
    ("episode.phototaxis", "ratio", ">=", 20.0, "batched robot episode vs naive per-robot pymunk"),
    ("evolve.peak_rss", "value", "<", 400.0, "peak RSS of a default evolution run, MB"),
    ("bptt.elman.h32.t100", "ratio", ">=", 10.0, "Elman BPTT kernel vs the same pass in numpy, one sequence at a time"),
)
"""(row, field, comparison, bound, what): the goals printed under the table."""


def _num(v: float | None) -> str:
    if v is None:
        return "-"
    if v != 0 and (abs(v) >= 1e6 or abs(v) < 1e-2):
        return f"{v:.3e}"
    return f"{v:.4g}" if abs(v) >= 1000 else f"{v:.3f}"


def format_table(rows: list[Row]) -> str:
    """The rows as an aligned text table, with the targets underneath."""
    head = ("name", "value", "unit", "baseline", "ratio")
    cells = [head] + [(r["name"], _num(r["value"]), r["unit"], _num(r["baseline"]),
                       "-" if r["ratio"] is None else f"{r['ratio']:.2f}x") for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    lines = []
    for k, c in enumerate(cells):
        lines.append("  ".join(s.ljust(w) if i in (0, 2) else s.rjust(w) for i, (s, w) in enumerate(zip(c, widths))))
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    by_name = {r["name"]: r for r in rows}
    lines.append("")
    for name, field, op, bound, what in TARGETS:
        r = by_name.get(name)
        if r is None:
            lines.append(f"target {name} {field} {op} {bound:g}: not measured ({what})")
            continue
        v = r[field]
        ok = v >= bound if op == ">=" else v < bound
        lines.append(f"target {name} {field} {op} {bound:g}: {'met' if ok else 'MISSED'} ({v:.3g}; {what})")
    return "\n".join(lines)


def run_bench(as_json: bool = False, quick: bool = False, stream: TextIO | None = None) -> int:
    """Run every measurement and print the table (or JSON) on ``stream``; return the exit code."""
    stream = sys.stdout if stream is None else stream
    rows: list[Row] = []
    status = 0
    rows += bench_ctrnn(quick)
    rows += bench_gradient(quick)
    world, robots = repo_file("worlds", "categorical_perception.toml"), repo_file("worlds", "phototaxis.toml")
    if world is None:
        print("evorobot bench: note: worlds/categorical_perception.toml not found next to the package; "
              "skipping the episode and memory measurements", file=sys.stderr)
    else:
        rows += bench_episode(world, quick)
    if robots is None:
        print("evorobot bench: note: worlds/phototaxis.toml not found next to the package; "
              "skipping the robot episode measurement", file=sys.stderr)
    else:
        rows += bench_robot_episode(robots, quick)
    if world is not None:
        if not quick:
            from evorobot.bench.parallel import bench_parallel

            rows += bench_parallel(quick)
        try:
            rows += bench_rss(world, quick)
        except (OSError, RuntimeError) as exc:
            print(f"evorobot bench: error: memory measurement failed: {exc}", file=sys.stderr)
            status = 1
    if not all(math.isfinite(r["value"]) for r in rows):
        status = 1
    if as_json:
        stream.write(json.dumps(rows, allow_nan=False) + "\n")
    else:
        stream.write(format_table(rows) + "\n")
    return status
