"""``evorobot bench``: speed and memory against baselines measured in the same run.

Six measurements (ARCHITECTURE.md §5), all in one run:

1. the batched CTRNN kernels (euler, rk4, exp_euler) over B = 256 networks of each size in
   :data:`~evorobot.bench.measure.CTRNN_SIZES`, against a plain-numpy vectorised Euler step of the
   same networks (and against numpy one network at a time, the code the batched kernel replaces,
   and against a C loop compiled in the same run, :mod:`evorobot.bench.cref`);
2. the categorical-perception :class:`~evorobot.episode.Episode` with 384 agents (16 individuals
   x 24 trials), against the naive per-agent pymunk implementation of
   :mod:`evorobot.bench.naive` (which computes the same fitness);
3. the phototaxis :class:`~evorobot.episode.Episode` with 256 Khepera robots (32 individuals x 8
   trials), against the naive per-robot pymunk implementation of :mod:`evorobot.bench.naive_robot`
   (which computes the same fitness);
4. the peak RSS of a default two-generation ``evorobot evolve`` run, in a subprocess;
5. BPTT sequences per second of the Elman network's gradient kernel (32 hidden units, sequences
   of 100 ticks) against the same forward and backward pass in plain numpy,
   :mod:`evorobot.bench.gradient` (one sequence at a time, and over the mini-batch at once);
6. generations per minute of categorical-perception evolution (population 96) with 2 worker
   processes against 1, :mod:`evorobot.bench.parallel` (not with ``--quick``).

Output: a table (name, value, unit, baseline, ratio) with one line per :data:`TARGETS` entry
underneath (met, MISSED, or not measured), or with ``--json`` one JSON list of
``{"name", "value", "unit", "baseline", "ratio"}`` (``null`` where there is no baseline).
``ratio`` is always the speed-up over the baseline. A figure a target judges is printed with
enough digits that the verdict and the printed figure agree. ``--quick`` shortens every
measurement (noisy numbers; for tests). Benchmarks are never timed assertions in the test suite.
"""

from __future__ import annotations

import json
import math
import operator
import sys
from collections.abc import Callable
from typing import NamedTuple, TextIO

from evorobot.bench.gradient import bench_gradient
from evorobot.bench.measure import (
    Row,
    bench_ctrnn,
    bench_episode,
    bench_robot_episode,
    bench_rss,
    repo_file,
)

__all__ = ["TARGETS", "Target", "format_table", "run_bench"]


class Target(NamedTuple):
    """A goal printed under the table: ``row``'s ``field`` compared (``op``) with ``bound``."""

    row: str
    field: str  # "value" or "ratio"
    op: str  # ">=", ">", "<=" or "<"
    bound: float
    what: str


TARGETS: tuple[Target, ...] = (
    Target("episode.cp", "ratio", ">=", 60.0, "batched episode (384 agents) vs naive per-agent pymunk"),
    Target("episode.cp.vs_c", "ratio", ">=", 1.0, "batched episode vs the scalar C agent compiled in this run (goal 2x)"),
    Target("episode.phototaxis", "ratio", ">=", 30.0, "batched robot episode vs naive per-robot pymunk"),
    Target("episode.phototaxis", "value", ">=", 1e6, "robot-steps/s on one core"),
    Target("ctrnn.euler.n7.vs_c", "ratio", ">=", 1 / 1.2, "euler vs the C loop compiled in this run (cost <= 1.2x C)"),
    Target("ctrnn.euler.n10.vs_c", "ratio", ">=", 1 / 1.2, "euler vs the C loop compiled in this run (cost <= 1.2x C)"),
    Target("ctrnn.euler.n50", "ratio", ">=", 1.0, "batched euler vs batched numpy (BLAS)"),
    Target("ctrnn.euler.n200", "ratio", ">=", 1.0, "batched euler vs batched numpy (BLAS)"),
    Target("ctrnn.euler.n7.per_network", "ratio", ">=", 30.0, "CTRNN kernel vs numpy (one network per call)"),
    Target("ctrnn.rk4.n10.cost", "value", "<=", 4.5, "rk4 cost in units of euler"),
    Target("ctrnn.rk4.n50.cost", "value", "<=", 4.5, "rk4 cost in units of euler"),
    Target("evolve.cp.workers2", "ratio", ">=", 1.8, "2 workers vs 1, generations per minute, population 96"),
    Target("evolve.peak_rss", "value", "<", 400.0, "peak RSS of a default evolution run, MB"),
    Target("bptt.elman.h32.t100", "ratio", ">=", 10.0, "Elman BPTT kernel vs the same pass in numpy, one sequence at a time"),
)
"""The goals printed under the table (issue 20 for the episode, CTRNN and worker rows)."""

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
}


def _num(v: float | None, extra: int = 0) -> str:
    """A value or baseline as printed, with ``extra`` more digits than the default."""
    if v is None:
        return "-"
    if v != 0 and (abs(v) >= 1e6 or abs(v) < 1e-2):
        return f"{v:.{3 + extra}e}"
    return f"{v:.{4 + extra}g}" if abs(v) >= 1000 else f"{v:.{3 + extra}f}"


def _ratio(v: float | None, extra: int = 0) -> str:
    return "-" if v is None else f"{v:.{2 + extra}f}x"


_FORMATS = {"value": _num, "ratio": _ratio}


def _figure(v: float, field: str, targets: list[Target]) -> str:
    """``v`` printed with the fewest digits at which every target's verdict on the printed figure
    is its verdict on ``v`` (19.996 against ``>= 20`` prints 19.996x, not 20.00x, next to MISSED)."""
    fmt = _FORMATS[field]
    for extra in range(16):
        text = fmt(v, extra)
        shown = float(text.removesuffix("x"))
        if all(_OPS[t.op](shown, t.bound) == _OPS[t.op](v, t.bound) for t in targets):
            return text
    return fmt(v, 17)


def format_table(rows: list[Row]) -> str:
    """The rows as an aligned text table, with the targets underneath.

    A figure that a target judges is printed with as many digits as its verdict needs, in the
    table and in the target's line alike, so that a verdict always agrees with the printed figure.
    """
    judged: dict[tuple[str, str], list[Target]] = {}
    for t in TARGETS:
        judged.setdefault((t.row, t.field), []).append(t)

    def shown(r: Row, field: str) -> str:
        targets = judged.get((r["name"], field))
        if r[field] is None or not targets:
            return _FORMATS[field](r[field])
        return _figure(r[field], field, targets)

    head = ("name", "value", "unit", "baseline", "ratio")
    cells = [head] + [(r["name"], shown(r, "value"), r["unit"], _num(r["baseline"]), shown(r, "ratio")) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    lines = []
    for k, c in enumerate(cells):
        lines.append("  ".join(s.ljust(w) if i in (0, 2) else s.rjust(w) for i, (s, w) in enumerate(zip(c, widths))))
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    by_name = {r["name"]: r for r in rows}
    lines.append("")
    for t in TARGETS:
        head_line = f"target {t.row} {t.field} {t.op} {t.bound:g}"
        r = by_name.get(t.row)
        if r is None or r[t.field] is None:
            lines.append(f"{head_line}: not measured ({t.what})")
            continue
        verdict = "met" if _OPS[t.op](r[t.field], t.bound) else "MISSED"
        lines.append(f"{head_line}: {verdict} ({shown(r, t.field)}; {t.what})")
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
        from evorobot.bench.cp_reference import bench_cp_vs_c

        rows += bench_cp_vs_c(quick)  # nothing without a C compiler
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
