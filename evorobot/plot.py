"""``evorobot plot``: fitness curves of one run directory, or the median and quartiles of several.

A run directory's ``history.csv`` (written by :mod:`evorobot.evolution.runner` or, one row per
epoch, by :mod:`evorobot.training.run`) is read strictly with the ``csv`` module: the header's first
column is ``generation`` (an evolution) or ``epoch`` (a gradient trainer), every row has the
header's number of cells, the first column holds strictly increasing integers and every plotted
cell is a float. An empty cell, ``NaN``, ``Infinity`` and ``-Infinity`` are gaps in the curve (a
generation with no validation, or one whose every trial failed). ``config.json`` gives the title:
the experiment's name and seed.

- One run: its curves against the generation (``best``, ``mean``, ``best_ever``, ``validation``,
  those with at least one value, on one axis of fitness), or against the epoch (``loss``,
  ``fitness``, ``test``, one panel each: their units differ, each panel labelled by its column).
- Several runs (e.g. seeds; all evolutions or all trainer runs): per generation, the median and
  the inter-quartile band (25-75 %, ``numpy.percentile``'s linear interpolation) across runs of
  ``best_ever`` and of ``best`` (of ``fitness`` per epoch for trainer runs), over the generations
  every run has (runs of different lengths: the band stops at the shortest run, which keeps the
  same runs behind every point of it), plus each run's ``best_ever`` in full as a thin line
  labelled by its directory name.

matplotlib (the ``plot`` extra) is imported inside the functions, through the object API (a
:class:`~matplotlib.figure.Figure` rendered by the Agg or SVG canvas, no ``pyplot`` and no global
state), so ``import evorobot`` and every other command work without it. The figure is written
atomically (:func:`evorobot.store.write_bytes_atomic`).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from evorobot._types import FloatArray, IntArray
from evorobot.errors import ChampionFileError, DependencyNotInstalled, EvorobotError
from evorobot.store import read_json, read_text, write_bytes_atomic

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["FORMATS", "KINDS", "Kind", "Run", "fitness_figure", "plot_runs", "read_run"]

FORMATS = (".png", ".svg")
"""Suffixes ``--out`` may have."""

MISSING = "evorobot plot needs matplotlib: pip install 'evorobot[plot]'"


@dataclass(frozen=True)
class Kind:
    """What a history's columns are: an evolution's (per generation) or a trainer's (per epoch)."""

    x: str
    """The first column: ``generation`` or ``epoch``."""
    curves: tuple[str, ...]
    """The columns drawn for one run, in legend order."""
    bands: tuple[str, ...]
    """The columns summarised by median and quartiles across several runs."""
    per_run: str
    """The column drawn as one thin line per run when there are several."""
    panels: bool
    """One panel per column (a trainer's loss, fitness and test score have different units)."""


EVOLUTION = Kind("generation", ("best", "mean", "best_ever", "validation"), ("best_ever", "best"), "best_ever", False)
TRAINING = Kind("epoch", ("loss", "fitness", "test"), ("fitness",), "fitness", True)
KINDS = {k.x: k for k in (EVOLUTION, TRAINING)}
"""The kinds of history, keyed by their first column."""

LABELS = {"best_ever": "best ever"}
"""A column's name in a legend, where it differs from the column's."""


@dataclass(frozen=True)
class Run:
    """One run directory's history and identity."""

    path: Path
    name: str
    """The experiment's name (``config.json``)."""
    seed: int
    kind: Kind
    x: IntArray
    """The generations (or epochs) of the rows."""
    columns: dict[str, FloatArray]
    """Each of ``kind.curves`` in the header, one float per row, NaN for a gap."""


def _cell(text: str, where: str) -> float:
    if text == "":
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise ChampionFileError(f"{where}: expected a number, got {text!r}") from None
    return value if math.isfinite(value) else math.nan


def _read_history(run: Path) -> tuple[Kind, IntArray, dict[str, FloatArray]]:
    file = run / "history.csv"
    if not file.exists() and not file.is_symlink():
        raise ChampionFileError(f"{run}: not a run directory (no history.csv)")
    text = read_text(file, "history")
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise ChampionFileError(f"{file}: history is not valid CSV: {exc}") from None
    if not rows:
        raise ChampionFileError(f"{file}: history is empty")
    header = rows[0]
    kind = KINDS.get(header[0])
    if kind is None:
        raise ChampionFileError(f"{file}: the first column is {header[0]!r}, expected one of {sorted(KINDS)}")
    if len(set(header)) != len(header):
        raise ChampionFileError(f"{file}: the header names a column twice: {','.join(header)}")
    if len(rows) == 1:
        raise ChampionFileError(f"{file}: history has no rows yet")
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ChampionFileError(f"{file}: line {line} has {len(row)} cells, the header {len(header)}")
    x = np.empty(len(rows) - 1, dtype=np.int64)
    for i, row in enumerate(rows[1:]):
        try:
            x[i] = int(row[0])
        except ValueError:
            raise ChampionFileError(f"{file}: line {i + 2}: {kind.x} must be an integer, got {row[0]!r}") from None
        if i and x[i] <= x[i - 1]:
            raise ChampionFileError(f"{file}: line {i + 2}: {kind.x} {x[i]} does not follow {x[i - 1]}")
    columns = {}
    for name in kind.curves:
        if name in header:
            j = header.index(name)
            columns[name] = np.array([_cell(row[j], f"{file}: line {i + 2}, column {name}")
                                      for i, row in enumerate(rows[1:])], dtype=np.float64)
    return kind, x, columns


def read_run(path: Path) -> Run:
    """The history (:data:`KINDS`) and the experiment's name and seed of run directory ``path``.

    Raises ChampionFileError, one line naming the path, for a folder that is not a run directory,
    a missing, unreadable or empty ``history.csv`` or a malformed one.
    """
    path = Path(path)
    if not path.is_dir():
        raise ChampionFileError(f"{path}: not a run directory ({'not a folder' if path.exists() else 'not found'})")
    kind, x, columns = _read_history(path)
    config = read_json(path / "config.json", "run configuration")
    exp = config.get("experiment") if isinstance(config, dict) else None
    name = exp.get("name") if isinstance(exp, dict) else None
    seed = exp.get("seed") if isinstance(exp, dict) else None
    if not isinstance(name, str) or not isinstance(seed, int) or isinstance(seed, bool):
        raise ChampionFileError(f"{path / 'config.json'}: [experiment] needs a string `name` and an integer `seed`")
    return Run(path, name, seed, kind, x, columns)


def _present(run: Run) -> list[str]:
    """The curves of ``run`` with at least one value (``validation`` is empty when it is off)."""
    return [c for c in run.kind.curves if c in run.columns and not np.isnan(run.columns[c]).all()]


def _one_run(fig: Figure, run: Run) -> None:
    curves = _present(run)
    title = f"{run.name}, seed {run.seed}"
    if run.kind.panels:
        axes = fig.subplots(max(len(curves), 1), 1, sharex=True, squeeze=False)[:, 0]
        groups: list[tuple[Axes, list[str], str]] = [(ax, [c], c) for ax, c in zip(axes, curves)]
        groups = groups or [(axes[0], [], "")]
    else:
        groups = [(fig.subplots(), curves, "fitness")]
    for ax, names, ylabel in groups:
        for c in names:
            ax.plot(run.x, run.columns[c], label=LABELS.get(c, c), linewidth=1.2)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if names:
            ax.legend(loc="best", fontsize="small")
    groups[0][0].set_title(title)
    groups[-1][0].set_xlabel(run.kind.x)
    _integer_ticks(groups[-1][0])


def _integer_ticks(ax: Axes) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _label(run: Run, runs: Sequence[Run]) -> str:
    """The run's directory name, or its path when another run has the same name."""
    same = sum(r.path.name == run.path.name for r in runs)
    return run.path.name if same == 1 else str(run.path)


def _several_runs(fig: Figure, runs: Sequence[Run]) -> None:
    kind = runs[0].kind
    shared = reduce(np.intersect1d, [r.x for r in runs])
    ax = fig.subplots()
    # An elitist GA's best often equals its best-ever: the best's median is dashed over the best-ever's.
    styles = {kind.bands[0]: ("black", 0.25, "-", 2.2), **{c: ("tab:red", 0.15, "--", 1.4) for c in kind.bands[1:]}}
    for c in kind.bands:
        stack = np.stack([r.columns[c][np.isin(r.x, shared)] for r in runs])  # (runs, shared)
        q25, q50, q75 = np.percentile(stack, [25.0, 50.0, 75.0], axis=0)
        color, alpha, style, width = styles[c]
        name = LABELS.get(c, c)
        ax.fill_between(shared, q25, q75, color=color, alpha=alpha, linewidth=0, label=f"{name}, 25-75 %")
        ax.plot(shared, q50, color=color, linestyle=style, linewidth=width, zorder=3,
                label=f"{name}, median")  # over the thin lines: with 3 runs the median is one of them
    palette = [f"C{i}" for i in range(10) if i != 3]  # C3 is the red of the best's median
    colors = [palette[i % len(palette)] for i in range(len(runs))]
    for r, color in zip(runs, colors):
        ax.plot(r.x, r.columns[kind.per_run], color=color, linewidth=0.7, alpha=0.8, label=_label(r, runs))
    names = sorted({r.name for r in runs})
    seeds = ", ".join(str(r.seed) for r in runs)
    ax.set_title(f"{', '.join(names)}: {len(runs)} runs (seeds {seeds})")
    ax.set_xlabel(kind.x)
    _integer_ticks(ax)
    ax.set_ylabel("fitness")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize="small")


def _matplotlib() -> Any:
    try:
        import matplotlib
        from matplotlib.figure import Figure  # noqa: F401  (the object API; no pyplot)
    except ImportError:
        raise DependencyNotInstalled(MISSING) from None
    return matplotlib


def fitness_figure(runs: Sequence[Path]) -> Figure:
    """The figure of one run directory's curves or of several runs' median and quartiles.

    One run: a line per present column of its history (one panel per column for a trainer's run);
    several: per shared generation, the median line and the 25-75 % band (a PolyCollection) of
    ``best_ever`` and ``best`` (``fitness`` per epoch), then each run's ``best_ever`` (``fitness``).
    Raises DependencyNotInstalled without matplotlib, ChampionFileError for a bad run directory.
    """
    _matplotlib()
    from matplotlib.figure import Figure

    if not runs:
        raise EvorobotError("evorobot plot: no run directory given")
    loaded = [read_run(Path(p)) for p in runs]
    for r in loaded[1:]:
        if r.kind is not loaded[0].kind:
            raise EvorobotError(f"{r.path}: a run per {r.kind.x} cannot share a plot with runs per "
                                f"{loaded[0].kind.x} ({loaded[0].path})")
    if len(reduce(np.intersect1d, [r.x for r in loaded])) == 0:
        raise EvorobotError(f"{', '.join(str(p) for p in runs)}: the runs share no {loaded[0].kind.x}")
    fig = Figure(figsize=(8.0, 5.0), layout="constrained")
    if len(loaded) == 1:
        _one_run(fig, loaded[0])
    else:
        _several_runs(fig, loaded)
    return fig


def figure_bytes(fig: Figure, suffix: str) -> bytes:
    """``fig`` encoded as PNG (Agg, 120 dpi) or SVG (no date, so equal figures give equal files)."""
    buf = io.BytesIO()
    if suffix == ".svg":
        fig.savefig(buf, format="svg", metadata={"Date": None})
    else:
        fig.savefig(buf, format="png", dpi=120)
    return buf.getvalue()


def plot_runs(runs: list[Path], out: Path | None) -> Path:
    """Write the fitness figure of ``runs`` (:func:`fitness_figure`) to ``out`` and return its path.

    ``out``: a ``.png`` or ``.svg`` file; by default ``RUN_DIR/fitness.png`` for one run and
    ``fitness.png`` in the working directory for several. Another suffix, or an ``out`` that is a
    folder, raises EvorobotError before anything is read or written.
    """
    if out is None:
        out = Path(runs[0]) / "fitness.png" if len(runs) == 1 else Path("fitness.png")
    out = Path(out)
    if out.suffix.lower() not in FORMATS:
        raise EvorobotError(f"--out {out}: the figure must be a {' or '.join(FORMATS)} file, got "
                            f"{out.suffix or 'no suffix'!r}")
    if out.is_dir():
        raise EvorobotError(f"--out {out}: is a folder, expected a {' or '.join(FORMATS)} file")
    data = figure_bytes(fitness_figure(runs), out.suffix.lower())
    try:
        write_bytes_atomic(out, data)
    except OSError as exc:
        raise EvorobotError(f"--out {out}: cannot write the figure: {exc.strerror or exc}") from None
    return out
