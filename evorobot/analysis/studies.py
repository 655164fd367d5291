"""The analyses of ``evorobot analyze``: lesions, perturbation, neural traces and the input-output map.

Each study runs the champion in the very :class:`~evorobot.episode.Episode` that evolution and
replay use, with copies of the champion as extra individuals of one batch (one copy per lesion),
so the intact copy reproduces the stored fitness bit for bit and every other copy differs only by
its intervention (:mod:`evorobot.analysis.interventions`). Results are plain arrays; the figures
and tables are drawn elsewhere (:mod:`evorobot.analysis.figures`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from evorobot._types import BoolArray, FloatArray
from evorobot.analysis.interventions import (
    Intervened,
    Perturbation,
    is_network,
    lesion_neurons,
    motor_neurons,
)
from evorobot.episode import Episode
from evorobot.errors import EvorobotError
from evorobot.labels import input_labels, neuron_labels, unit_labels
from evorobot.source import Source

MAX_CLASS_VALUES = 4
"""A condition column with 2..4 distinct values defines trial classes (categorical perception's
``avoid``: circles to catch, lines to avoid)."""


def trial_classes(names: tuple[str, ...], conditions: FloatArray) -> dict[str, BoolArray]:
    """``{"all": every trial, "avoid=0": ..., "avoid=1": ...}``: the trials grouped by each condition
    column with a few distinct values (``noise_seed`` and continuous columns define no class)."""
    classes = {"all": np.ones(conditions.shape[0], dtype=bool)}
    for c, name in enumerate(names):
        values = np.unique(conditions[:, c])
        if name != "noise_seed" and 2 <= values.size <= MAX_CLASS_VALUES:
            for v in values:
                classes[f"{name}={v:g}"] = conditions[:, c] == v
    return classes


def copies_episode(source: Source, copies: int) -> Episode:
    """An episode of ``copies`` identical copies of the champion (copy ``c`` = individual ``c``)."""
    return Episode(source.setup, np.repeat(source.genome[None, :], copies, axis=0), source.conditions)


def copy_rows(ep: Episode, c: int) -> slice:
    """The agent rows of copy ``c`` (its trials x robots)."""
    per = ep.n_trials * ep.n_robots
    return slice(c * per, (c + 1) * per)


@dataclass
class Traces:
    """What a run did, tick by tick, from t = 0: ``time`` (K+1,), then per tick and agent row
    ``units`` (K+1, agents, N: the traced quantity ``key``, a network's outputs ``o``), ``outputs``
    (motor commands), ``inputs`` and, for bodies, ``x`` (the agent's horizontal position in its
    trial); ``end`` (worlds,) is the first tick at which each trial had ended (K if it ran out)."""

    time: FloatArray
    key: str
    labels: list[str]
    units: FloatArray
    outputs: FloatArray
    inputs: FloatArray
    x: FloatArray | None
    end: np.ndarray


def record(ep: Episode) -> Traces:
    """Reset ``ep`` and run it to its end, recording :class:`Traces`."""
    ep.reset()
    trace = ep.controller.trace(ep.state)
    key = "o" if "o" in trace else next(iter(trace))
    units, outs, ins, xs, times = [], [], [], [], []
    end = np.full(ep.n_worlds, -1)

    def take() -> None:
        times.append(ep.time)
        units.append(ep.controller.trace(ep.state)[key].copy())
        outs.append(ep.outputs.copy())
        ins.append(ep.inputs.copy())
        if ep.plant_task is None:
            xs.append(ep.poses[ep.agent_body, 0] - np.repeat(ep.origins[:, 0], ep.n_robots))
        ended = (ep.scores.done | ep.scores.failed) & (end < 0)
        end[ended] = len(times) - 1

    take()
    ep.run(lambda _: take())
    end[end < 0] = len(times) - 1
    n = units[0].shape[1]
    return Traces(np.array(times), key, unit_labels(ep.controller, key, n), np.array(units), np.array(outs),
                  np.array(ins), np.array(xs) if xs else None, end)


def mean_outputs(traces: Traces, n_robots: int) -> FloatArray:
    """Each unit's mean over every live tick of every trial (a lesion value "mean")."""
    live = np.arange(traces.time.size)[:, None] <= np.repeat(traces.end, n_robots)[None, :]
    return (traces.units * live[..., None]).sum(axis=(0, 1)) / live.sum()


@dataclass
class Lesion:
    """One row of the lesion table: what was removed and the per-trial fitness without it."""

    kind: str  # "none", "neuron" or "sensor"
    label: str
    value: float
    fitness: FloatArray
    failed: BoolArray


def lesion_study(source: Source, value: float | str = 0.0) -> list[Lesion]:
    """The intact champion, then each non-motor neuron removed in turn (output clamped to
    ``value``, or to its mean output in the intact run when ``value == "mean"``), then each sensor
    removed in turn (reading 0), all in one batch."""
    ctrl = source.setup.controller
    neurons = [j for j in range(ctrl.n_neurons) if j not in motor_neurons(ctrl)] if is_network(ctrl) else []
    sensors = input_labels(copies_episode(source, 1))
    ep = copies_episode(source, 1 + len(neurons) + len(sensors))
    if value == "mean":
        values = mean_outputs(record(copies_episode(source, 1)), ep.n_robots)[neurons] if neurons else np.zeros(0)
    else:
        values = np.full(len(neurons), float(value))
    params = ep.params
    for c, (j, v) in enumerate(zip(neurons, values), start=1):
        params = lesion_neurons(ctrl, params, copy_rows(ep, c), [j], v)
    mask = np.zeros((ep.n_agents, ep.n_inputs), dtype=bool)
    for k in range(len(sensors)):
        mask[copy_rows(ep, 1 + len(neurons) + k), k] = True
    ep.params = params
    ep.controller = Intervened(ctrl, mask, 0.0)
    ep.reset()
    res = ep.run()
    rows = [Lesion("none", "intact", math.nan, res.fitness[0], res.failed[0])]
    labels = neuron_labels(ctrl) or []
    rows += [Lesion("neuron", labels[j], float(v), res.fitness[c], res.failed[c])
             for c, (j, v) in enumerate(zip(neurons, values), start=1)]
    rows += [Lesion("sensor", name, 0.0, res.fitness[c], res.failed[c])
             for c, name in enumerate(sensors, start=1 + len(neurons))]
    return rows


@dataclass
class PerturbationRun:
    """The intact and the perturbed run of every trial, side by side."""

    perturbation: Perturbation
    intact: Traces
    perturbed: Traces
    fitness_intact: FloatArray
    fitness_perturbed: FloatArray


def perturbation_study(source: Source, neuron: int, kind: str, amplitude: float,
                       window: tuple[float, float]) -> PerturbationRun:
    """Every trial run twice in one batch: intact (copy 0) and with ``neuron`` perturbed (copy 1)."""
    ep = copies_episode(source, 2)
    rows = np.zeros(ep.n_agents, dtype=bool)
    rows[copy_rows(ep, 1)] = True
    p = Perturbation(neuron, kind, float(amplitude), float(window[0]), float(window[1]), rows)
    ep.controller = Intervened(ep.controller, perturbation=p)
    traces = record(ep)
    fit = ep.result().fitness
    half = ep.n_trials * ep.n_robots

    def part(c: int) -> Traces:
        r = slice(c * half, (c + 1) * half)
        w = slice(c * ep.n_trials, (c + 1) * ep.n_trials)
        return Traces(traces.time, traces.key, traces.labels, traces.units[:, r], traces.outputs[:, r],
                      traces.inputs[:, r], None if traces.x is None else traces.x[:, r], traces.end[w])

    return PerturbationRun(p, part(0), part(1), fit[0], fit[1])


@dataclass
class IOMap:
    """Steady-state outputs of the network alone with one input held at each swept value and the
    others at 0: ``steady`` (inputs, values, outputs) is the output after the settling time,
    ``spread`` its range over the last tenth of it (0: a fixed point; larger: it oscillates)."""

    inputs: list[str]
    values: FloatArray
    steady: FloatArray
    spread: FloatArray
    ticks: int


def settle(ctrl: Any, params: Any, inputs: FloatArray, dt: float, ticks: int) -> tuple[FloatArray, FloatArray]:
    """Run networks ``params`` (one per row of ``inputs``) alone with constant ``inputs`` for
    ``ticks`` ticks; their outputs after it and the range of each over the last tenth."""
    state = ctrl.init_state(params)
    out = np.zeros((inputs.shape[0], ctrl.n_outputs))
    tail = max(1, ticks // 10)
    lo_seen, hi_seen = np.full_like(out, np.inf), np.full_like(out, -np.inf)
    for t in range(ticks):
        ctrl.step(params, state, inputs.copy(), dt, out)
        if t >= ticks - tail:
            np.minimum(lo_seen, out, out=lo_seen)
            np.maximum(hi_seen, out, out=hi_seen)
    return out, hi_seen - lo_seen


def io_map(source: Source, sweep: list[int], lo: float, hi: float, n: int = 41) -> IOMap:
    """Sweep each input of ``sweep`` alone over ``n`` values in [lo, hi], one batch for all of them;
    the settling time is 20 of the network's slowest time constants (at least 200 ticks)."""
    ctrl = source.setup.controller
    if getattr(ctrl, "offline", False):
        raise EvorobotError(f"the input-output map needs a causal network; `{ctrl.name}` reads whole sequences")
    dt = source.setup.experiment.simulation.dt
    m = len(sweep) * n
    params = ctrl.decode(np.repeat(source.genome[None, : ctrl.genome_size], m, axis=0))
    tau = float(np.max(params.tau)) if is_network(ctrl) else dt
    ticks = max(200, math.ceil(20.0 * tau / dt))
    values = np.linspace(lo, hi, n)
    inputs = np.zeros((m, ctrl.n_inputs))
    for s, k in enumerate(sweep):
        inputs[s * n:(s + 1) * n, k] = values
    out, spread = settle(ctrl, params, inputs, dt, ticks)
    names = input_labels(copies_episode(source, 1))
    shape = (len(sweep), n, ctrl.n_outputs)
    return IOMap([names[k] for k in sweep], values, out.reshape(shape), spread.reshape(shape), ticks)
