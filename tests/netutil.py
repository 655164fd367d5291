"""Helpers shared by the continuous-time controller tests."""

from typing import Any

import numpy as np
from scipy.integrate import solve_ivp

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


def reference(p: Any, x: np.ndarray, t_end: float) -> np.ndarray:
    """y(t_end) from y(0) = p.y0 under constant inputs ``x`` (B, n_in), by DOP853 at 1e-12."""
    shape, ext = p.tau.shape, np.einsum("bik,bk->bi", p.w_in, x)

    def rhs(_t: float, yf: np.ndarray) -> np.ndarray:
        y = yf.reshape(shape)
        o = 1.0 / (1.0 + np.exp(-p.gain * (y + p.bias)))
        return ((-y + np.einsum("bij,bj->bi", p.w, o) + ext) / p.tau).ravel()

    sol = solve_ivp(rhs, (0.0, t_end), p.y0.ravel(), method="DOP853", rtol=1e-12, atol=1e-12)
    assert sol.success
    return sol.y[:, -1].reshape(shape)


def groups(ctrl: Controller) -> dict[str, np.ndarray]:
    """Neuron indices of each group, from the neuron names (``fast0`` -> ``fast``)."""
    out: dict[str, list[int]] = {}
    for i, name in enumerate(ctrl.neurons):  # type: ignore[attr-defined]
        out.setdefault(name.rstrip("0123456789"), []).append(i)
    return {k: np.array(v) for k, v in out.items()}
