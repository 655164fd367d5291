"""``evorobot analyze CHAMPION [--out DIR]``: lesions, perturbation, traces, input-output map, phase portrait.

Writes into DIR (default ``analysis/`` next to the champion file), each file through a temporary
file and a rename:

- ``lesions.csv`` and ``lesions.png``: mean fitness per trial class (``all``, and e.g. ``avoid=0``
  / ``avoid=1`` for categorical perception) of the intact champion and with each non-motor neuron
  removed in turn (its output clamped to ``--lesion-value``, 0 by default, or ``mean``: its mean
  output in the intact run), then each sensor removed (reading 0);
- ``perturbation.png``: ``--neuron`` kicked or clamped over ``--window`` (default: the second fifth of
  the intact champion's median trial), against the intact run;
- ``traces.png``: every neuron's output over time for ``--trials``, labelled by the trials' conditions;
- ``io_map.png``: the steady-state motor difference against each input swept alone;
- ``phase.png``: two neurons' outputs against each other (``--phase A,B``);
- ``analysis.json``: every number behind the figures (per-trial fitness of every lesion and of
  the perturbation, the input-output map), strict JSON.

Neuron lesions and perturbations need a continuous-time network (ctrnn, mtrnn, hierarchical);
for other controllers the sensor lesions, traces, map and portrait are still made.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from evorobot.analysis import figures
from evorobot.analysis.interventions import is_network, motor_neurons, neuron_index
from evorobot.analysis.studies import (
    copies_episode,
    io_map,
    lesion_study,
    perturbation_study,
    record,
    trial_classes,
)
from evorobot.errors import EvorobotError
from evorobot.labels import input_labels
from evorobot.source import ChampionSource, open_source
from evorobot.store import encode_float, write_text

MAX_TRIALS_SHOWN = 24
MAX_INPUTS_SWEPT = 16


def _numbers(text: str, option: str, kind: type = float) -> list[Any]:
    try:
        return [kind(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise EvorobotError(f"{option} {text!r}: expected comma-separated {kind.__name__}s") from None


def _lesion_value(text: str) -> float | str:
    if text == "mean":
        return "mean"
    v = _numbers(text, "--lesion-value")
    if len(v) != 1 or not 0.0 <= v[0] <= 1.0:
        raise EvorobotError(f"--lesion-value {text!r}: a number in [0, 1] or `mean`")
    return float(v[0])


def _trials(text: str | None, n: int) -> list[int]:
    if text is None:
        return sorted(set(np.linspace(0, n - 1, min(n, MAX_TRIALS_SHOWN)).round().astype(int).tolist()))
    trials = _numbers(text, "--trials", int)
    bad = [t for t in trials if not 0 <= t < n]
    if bad or not trials:
        raise EvorobotError(f"--trials {text!r}: the champion has trials 0..{n - 1}")
    return trials


def _default_neurons(ctrl: Any) -> list[str]:
    """Non-motor neurons, interneurons first."""
    names = list(getattr(ctrl, "neurons", []) or [])
    free = [names[j] for j in range(len(names)) if not is_network(ctrl) or j not in motor_neurons(ctrl)]
    return sorted(free, key=lambda s: not s.startswith("h"))


def analyze(args: argparse.Namespace) -> int:
    """Run every analysis of the module docstring on ``args.champion``; print where the files went."""
    figures.require_matplotlib()
    source = open_source(args.champion)
    if not isinstance(source, ChampionSource):
        raise EvorobotError(f"{args.champion}: `evorobot analyze` takes a champion (champion.json or a run directory)")
    out = Path(args.out) if args.out else source.path.parent / "analysis"
    if out.exists() and not out.is_dir():
        raise EvorobotError(f"--out {out}: exists and is not a folder")
    if not out.parent.is_dir():
        raise EvorobotError(f"--out {out}: its folder {out.parent} does not exist")
    ctrl, task = source.setup.controller, source.setup.task
    names, conds = task.condition_names, source.conditions
    classes = trial_classes(names, conds)
    trials = _trials(args.trials, len(conds))
    value = _lesion_value(args.lesion_value)
    free = _default_neurons(ctrl)
    neuron = args.neuron or (free[0] if free else None)
    window = tuple(_numbers(args.window, "--window")) if args.window else None
    if window is not None and len(window) != 2:
        raise EvorobotError(f"--window {args.window!r}: expected T0,T1 in seconds")
    sensors = input_labels(copies_episode(source, 1))
    if args.sweep:
        if args.sweep not in sensors:
            raise EvorobotError(f"--sweep {args.sweep!r}: the inputs are {', '.join(sensors)}")
        sweep = [sensors.index(args.sweep)]
    else:
        sweep = sorted(set(np.linspace(0, len(sensors) - 1, min(len(sensors), MAX_INPUTS_SWEPT)).round().astype(int)))
    intact = record(copies_episode(source, 1))
    units = intact.labels
    if window is None:  # the second fifth of the intact champion's median trial
        horizon = float(np.median(intact.time[intact.end]))
        window = (horizon / 5, 2 * horizon / 5)
    if args.phase:
        pair = [p.strip() for p in args.phase.split(",")]
        if len(pair) != 2 or any(p not in units for p in pair):
            raise EvorobotError(f"--phase {args.phase!r}: two of {', '.join(units)}")
        phase = (units.index(pair[0]), units.index(pair[1]))
    else:
        pref = [units.index(n) for n in free if n in units] + list(range(len(units)))
        phase = (pref[0], next(k for k in pref if k != pref[0])) if len(units) > 1 else (0, 0)
    perturbed = None
    if neuron is not None and is_network(ctrl):
        perturbed = perturbation_study(source, neuron_index(ctrl, neuron), args.perturb, args.amplitude, window)
    elif args.neuron:
        raise EvorobotError(f"--neuron: perturbations need a continuous-time network, not `{ctrl.name}`")
    lesions = lesion_study(source, value)
    seen = intact.inputs[:, :, sweep]
    lo, hi = min(0.0, float(seen.min())), float(seen.max())
    iomap = io_map(source, sweep, lo, hi if hi > lo else lo + 1.0)

    out.mkdir(exist_ok=True)
    title = f"{source.info.get('run', source.path.parent.name)}: {task.name}"
    written = [figures.save(figures.lesion_figure(lesions, classes, f"lesions, {title}"), out / "lesions.png")]
    written.append(_lesion_csv(lesions, classes, out / "lesions.csv"))
    written.append(figures.save(figures.traces_figure(intact, trials, source.setup.task.n_robots, names, conds,
                                                      classes, f"neural traces, {title}"), out / "traces.png"))
    if perturbed is not None:
        shown = trials[:: max(1, len(trials) // 4)][:4]
        written.append(figures.save(figures.perturbation_figure(perturbed, shown, task.n_robots, neuron, names, conds,
                                                                f"perturbation of {neuron}, {title}"),
                                    out / "perturbation.png"))
    written.append(figures.save(figures.io_map_figure(iomap, f"input-output map, {title}"), out / "io_map.png"))
    written.append(figures.save(figures.phase_figure(intact, *phase, trials, task.n_robots, classes,
                                                     f"phase portrait, {title}"), out / "phase.png"))
    doc = {
        "champion": str(source.path), "task": task.name, "controller": ctrl.name,
        "condition_names": list(names), "conditions": [[encode_float(float(v)) for v in c] for c in conds],
        "classes": {k: np.flatnonzero(v).tolist() for k, v in classes.items()},
        "lesion_value": value,
        "lesions": [{"kind": r.kind, "label": r.label, "value": encode_float(r.value),
                     "fitness": [encode_float(float(f)) for f in r.fitness], "failed": r.failed.tolist(),
                     "class_means": {k: encode_float(v) for k, v in figures.class_means(r.fitness, classes).items()}}
                    for r in lesions],
        "io_map": {"inputs": iomap.inputs, "values": iomap.values.tolist(), "ticks": iomap.ticks,
                   "steady": iomap.steady.tolist(), "spread": iomap.spread.tolist()},
        "phase": [units[phase[0]], units[phase[1]]],
    }
    if perturbed is not None:
        p = perturbed.perturbation
        doc["perturbation"] = {"neuron": neuron, "kind": p.kind, "amplitude": p.amplitude, "window": [p.t0, p.t1],
                               "fitness_intact": [encode_float(float(f)) for f in perturbed.fitness_intact],
                               "fitness_perturbed": [encode_float(float(f)) for f in perturbed.fitness_perturbed]}
    path = out / "analysis.json"
    write_text(path, json.dumps(doc, allow_nan=False, indent=1) + "\n")
    written.append(path)
    _print_summary(lesions, classes)
    for p in written:
        print(f"wrote {p}")
    return 0


def _lesion_csv(rows: list[Any], classes: dict[str, Any], path: Path) -> Path:
    lines = [",".join(["kind", "label", "value", *classes, "failed_trials"])]
    for r in rows:
        means = figures.class_means(r.fitness, classes)
        lines.append(",".join([r.kind, r.label, "" if r.kind == "none" else repr(r.value),
                               *[repr(means[k]) for k in classes], str(int(r.failed.sum()))]))
    write_text(path, "\n".join(lines) + "\n")
    return path


def _print_summary(rows: list[Any], classes: dict[str, Any]) -> None:
    head = "".join(f"{k:>12s}" for k in classes)
    print(f"{'removed':<16s}{head}")
    for r in rows:
        means = figures.class_means(r.fitness, classes)
        label = "nothing" if r.kind == "none" else f"{r.kind} {r.label}"
        print(f"{label:<16s}" + "".join(f"{means[k]:12.4f}" for k in classes))
