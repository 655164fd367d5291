"""Helpers shared by the continuous-time controller tests."""

from typing import Any

import numpy as np

from evorobot.controllers.base import Controller


def random_params(ctrl: Controller, batch: int, seed: int) -> Any:
    """Parameters decoded from ``batch`` uniformly random genomes."""
    return ctrl.decode(np.random.default_rng(seed).uniform(-1, 1, (batch, ctrl.genome_size)))


def run(ctrl: Controller, params: Any, inputs: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Step through ``inputs`` (B, T, n_in); return states (T, B, N) and motor outputs (T, B, n_out)."""
    state = ctrl.init_state(params)
    out = np.empty((inputs.shape[0], ctrl.n_outputs))
    ys, outs = [], []
    for t in range(inputs.shape[1]):
        ctrl.step(params, state, np.ascontiguousarray(inputs[:, t]), dt, out)
        ys.append(state.y.copy())
        outs.append(out.copy())
    return np.array(ys), np.array(outs)
