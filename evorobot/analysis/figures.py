"""Figures of ``evorobot analyze``, drawn with matplotlib's object API (no pyplot, no global state).

Each function takes the arrays of :mod:`evorobot.analysis.studies` and returns a
:class:`matplotlib.figure.Figure`; :func:`save` writes it atomically. matplotlib is the ``plot``
extra; :func:`require_matplotlib` names it in one line when it is missing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from evorobot._types import BoolArray, FloatArray
from evorobot.analysis.studies import IOMap, Lesion, PerturbationRun, Traces
from evorobot.errors import DependencyNotInstalled

CONDITION_COLOURS = "viridis"


def require_matplotlib(command: str = "evorobot analyze") -> Any:
    """The Figure class; a one-line :class:`DependencyNotInstalled` naming the extra otherwise."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise DependencyNotInstalled(f"{command} needs matplotlib: pip install 'evorobot[plot]'") from None
    return Figure


def save(fig: Any, path: Path) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix) through a temporary file and a rename."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, format=path.suffix.lstrip("."), dpi=110, bbox_inches="tight")
    os.replace(tmp, path)
    return path


def class_means(fitness: FloatArray, classes: dict[str, BoolArray]) -> dict[str, float]:
    """Mean fitness of each trial class."""
    return {name: float(np.mean(fitness[mask])) for name, mask in classes.items()}


def lesion_figure(rows: list[Lesion], classes: dict[str, BoolArray], title: str) -> Any:
    """Mean fitness per trial class with each neuron, then each sensor, removed; the intact
    champion's as dashed lines."""
    fig = require_matplotlib()(figsize=(7.5, 0.32 * len(rows) + 1.6))
    ax = fig.add_subplot()
    names = list(classes)
    lesions = [r for r in rows if r.kind != "none"]
    intact = class_means(rows[0].fitness, classes)
    height = 0.8 / len(names)
    y = np.arange(len(lesions))
    colours = [f"C{k}" for k in range(len(names))]
    for k, name in enumerate(names):
        means = [class_means(r.fitness, classes)[name] for r in lesions]
        ax.barh(y + (k - (len(names) - 1) / 2) * height, means, height, color=colours[k], label=name)
        ax.axvline(intact[name], color=colours[k], linestyle="--", linewidth=1)
    ax.set_yticks(y, [f"{r.kind} {r.label}" + (f" (={r.value:.2g})" if r.kind == "neuron" else "") for r in lesions])
    ax.invert_yaxis()
    ax.set_xlabel("mean fitness (dashed: intact)")
    ax.set_title(title)
    ax.legend(title="trials", fontsize="small", loc="lower right")
    return fig


def _class_rows(classes: dict[str, BoolArray]) -> list[tuple[str, BoolArray]]:
    """The classes of the class-defining condition with the fewest values (categorical perception's
    ``avoid``: circles and lines apart); all trials when there is none."""
    named = [(k, v) for k, v in classes.items() if k != "all"]
    if not named:
        return [("all trials", classes["all"])]
    columns = [k.split("=")[0] for k, _ in named]
    first = min(dict.fromkeys(columns), key=columns.count)
    return [(k, v) for k, v in named if k.split("=")[0] == first]


def _trial_label(names: tuple[str, ...], cond: FloatArray) -> str:
    return " ".join(f"{n}={v:g}" for n, v in zip(names, cond) if n != "noise_seed")


def traces_figure(tr: Traces, trials: list[int], n_robots: int, names: tuple[str, ...], conditions: FloatArray,
                  classes: dict[str, BoolArray], title: str, max_units: int = 12) -> Any:
    """Every unit's trace over time (one column per unit), one row per trial class, one curve per
    trial coloured by its first condition (categorical perception: one per offset, circles and
    lines apart)."""
    from matplotlib import colormaps

    rows = _class_rows(classes)
    units = min(tr.units.shape[2], max_units)
    fig = require_matplotlib()(figsize=(2.3 * units + 1.5, 2.1 * len(rows) + 0.8), layout="constrained")
    axes = fig.subplots(len(rows), units, squeeze=False, sharex=True, sharey=True)
    first = conditions[trials, 0] if conditions.shape[1] else np.zeros(len(trials))
    span = (float(first.min()), float(first.max()) if first.max() > first.min() else float(first.min()) + 1.0)
    cmap = colormaps[CONDITION_COLOURS]
    for r, (cls, mask) in enumerate(rows):
        for t in [t for t in trials if mask[t]]:
            end = int(tr.end[t])
            colour = cmap((conditions[t, 0] - span[0]) / (span[1] - span[0]) if conditions.shape[1] else 0.5)
            for u in range(units):
                axes[r, u].plot(tr.time[: end + 1], tr.units[: end + 1, t * n_robots, u], color=colour,
                                linewidth=0.9, label=_trial_label(names, conditions[t]))
        axes[r, 0].set_ylabel(f"{cls}\n{tr.key}")
    for u in range(units):
        axes[0, u].set_title(tr.labels[u])
        axes[-1, u].set_xlabel("time (s)")
    if conditions.shape[1]:
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize

        fig.colorbar(ScalarMappable(Normalize(*span), cmap), ax=axes, label=names[0], shrink=0.8)
    fig.suptitle(title)
    return fig


def perturbation_figure(run: PerturbationRun, trials: list[int], n_robots: int, neuron_label: str,
                        names: tuple[str, ...], conditions: FloatArray, title: str) -> Any:
    """Per shown trial: the perturbed neuron's output, the motor commands' difference (or the first
    output) and, for bodies, the agent's position, intact (solid) against perturbed (dashed), the
    window shaded."""
    p = run.perturbation
    panels = 3 if run.intact.x is not None else 2
    fig = require_matplotlib()(figsize=(3.2 * len(trials) + 1.0, 2.0 * panels + 0.8), layout="constrained")
    axes = fig.subplots(panels, len(trials), squeeze=False, sharex="col")
    j = run.intact.labels.index(neuron_label) if neuron_label in run.intact.labels else 0
    for c, t in enumerate(trials):
        a = t * n_robots
        for tr, style, name in ((run.intact, "-", "intact"), (run.perturbed, "--", f"{p.kind} {p.amplitude:g}")):
            end = int(tr.end[t]) + 1
            time = tr.time[:end]
            axes[0, c].plot(time, tr.units[:end, a, j], style, label=name)
            out = tr.outputs[:end, a]
            axes[1, c].plot(time, out[:, 0] - out[:, 1] if out.shape[1] >= 2 else out[:, 0], style, label=name)
            if panels == 3:
                assert tr.x is not None
                axes[2, c].plot(time, tr.x[:end, a], style, label=name)
        for ax in axes[:, c]:
            ax.axvspan(p.t0, p.t1, color="0.85", zorder=0)
        axes[0, c].set_title(f"trial {t}: {_trial_label(names, conditions[t])}\nfitness {run.fitness_intact[t]:.3f} "
                             f"-> {run.fitness_perturbed[t]:.3f}", fontsize="small")
        axes[-1, c].set_xlabel("time (s)")
    axes[0, 0].set_ylabel(f"output {neuron_label}")
    axes[1, 0].set_ylabel("motor0 - motor1" if run.intact.outputs.shape[2] >= 2 else "output 0")
    if panels == 3:
        axes[2, 0].set_ylabel("agent x")
    axes[0, 0].legend(fontsize="small")
    fig.suptitle(title)
    return fig


def io_map_figure(m: IOMap, title: str) -> Any:
    """Steady-state motor difference (or first output) against each swept input; a band where the
    network does not settle (its range over the last tenth of the settling time)."""
    fig = require_matplotlib()(figsize=(6.5, 4.2), layout="constrained")
    ax = fig.add_subplot()
    two = m.steady.shape[2] >= 2
    for k, name in enumerate(m.inputs):
        y = m.steady[k, :, 0] - m.steady[k, :, 1] if two else m.steady[k, :, 0]
        spread = m.spread[k, :, 0] + m.spread[k, :, 1] if two else m.spread[k, :, 0]
        line, = ax.plot(m.values, y, label=name)
        ax.fill_between(m.values, y - spread, y + spread, color=line.get_color(), alpha=0.2, linewidth=0)
    ax.axhline(0.0, color="0.5", linewidth=0.8)
    ax.set_xlabel("input value (the others held at 0)")
    ax.set_ylabel("steady motor0 - motor1" if two else "steady output 0")
    ax.set_title(f"{title}\nsettled for {m.ticks} ticks; band: range over the last tenth")
    ax.legend(title="swept input", fontsize="small", ncol=2)
    return fig


def phase_figure(tr: Traces, a: int, b: int, trials: list[int], n_robots: int, classes: dict[str, BoolArray],
                 title: str) -> Any:
    """Trajectories of units ``a`` and ``b`` against each other, one per trial, coloured by class;
    a circle marks each start, a cross each end."""
    fig = require_matplotlib()(figsize=(5.5, 5.0), layout="constrained")
    ax = fig.add_subplot()
    for k, (cls, mask) in enumerate(_class_rows(classes)):
        first = True
        for t in [t for t in trials if mask[t]]:
            end = int(tr.end[t]) + 1
            u = tr.units[:end, t * n_robots]
            ax.plot(u[:, a], u[:, b], color=f"C{k}", linewidth=0.8, label=cls if first else None)
            ax.plot(u[0, a], u[0, b], "o", color=f"C{k}", markersize=3)
            ax.plot(u[-1, a], u[-1, b], "x", color=f"C{k}", markersize=5)
            first = False
    ax.set_xlabel(tr.labels[a])
    ax.set_ylabel(tr.labels[b])
    ax.set_title(title)
    ax.legend(fontsize="small")
    return fig
