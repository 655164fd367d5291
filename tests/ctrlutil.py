"""Helpers of the controller tests: build a controller from settings, step it through inputs."""

import math
from typing import Any

import numpy as np

from evorobot.controllers.base import Controller
from evorobot.spec import parse


def make(cls: type[Controller], n_in: int = 7, n_out: int = 2, dt: float = 0.1, **settings: Any) -> Any:
    """A ``cls`` controller for ``n_in`` inputs and ``n_out`` motors, its settings parsed as a world file's."""
    return cls(parse(cls.Spec, settings, "test [controller]"), n_in, n_out, dt)  # type: ignore[call-arg]


def genomes(ctrl: Controller, batch: int, seed: int) -> np.ndarray:
    """``batch`` uniformly random genomes in [-1, 1]."""
    return np.random.default_rng(seed).uniform(-1, 1, (batch, ctrl.genome_size))


def roll(ctrl: Controller, params: Any, xs: np.ndarray, dt: float = 0.1) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Step from a fresh state through inputs ``xs`` (B, T, n_in).

    Returns the motor outputs (T, B, n_out) and every traced array, each (T, B, k), after each step.
    """
    state = ctrl.init_state(params)
    out = np.empty((xs.shape[0], ctrl.n_outputs))
    outs: list[np.ndarray] = []
    traces: dict[str, list[np.ndarray]] = {}
    for t in range(xs.shape[1]):
        ctrl.step(params, state, np.ascontiguousarray(xs[:, t]), dt, out)
        outs.append(out.copy())
        for name, arr in ctrl.trace(state).items():
            traces.setdefault(name, []).append(np.array(arr))
    return np.array(outs), {k: np.array(v) for k, v in traces.items()}


def sigmoid(v: float) -> float:
    """The logistic function, as the references compute it."""
    return 1.0 / (1.0 + math.exp(-v)) if v > -700 else 0.0


ACTIVATION = {"tanh": math.tanh, "sigmoid": sigmoid}


def dot(row: Any, x: Any) -> float:
    """sum_j row[j] x[j] in a plain loop."""
    s = 0.0
    for a, b in zip(row, x):
        s += float(a) * float(b)
    return s
