"""NARX network (Siegelmann, Horne & Giles 1997): reference loop, exact delay windows."""

import numpy as np
import pytest
from ctrlutil import ACTIVATION, dot, genomes, make, roll, sigmoid

from evorobot.controllers.narx import NARX


def reference(p, b: int, xs: np.ndarray, f, n_u: int, n_y: int) -> np.ndarray:
    """Outputs (T, n_out) of network ``b`` from explicit histories (zero before the trial):
    y(t) = Psi(x(t), ..., x(t - n_u), y(t - 1), ..., y(t - n_y))."""
    n_h, n_o, n_in = p.b_h.shape[1], p.b_o.shape[1], xs.shape[1]
    ys: list[list[float]] = []
    for t in range(len(xs)):
        u = [v for k in range(n_u + 1) for v in (xs[t - k] if t - k >= 0 else [0.0] * n_in)]
        r = [v for k in range(1, n_y + 1) for v in (ys[t - k] if t - k >= 0 else [0.0] * n_o)]
        h = [f(p.b_h[b, i] + dot(p.w_in[b, i], u) + dot(p.w_rec[b, i], r)) for i in range(n_h)]
        ys.append([sigmoid(p.b_o[b, k] + dot(p.w_out[b, k], h)) for k in range(n_o)])
    return np.array(ys)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
@pytest.mark.parametrize(("n_u", "n_y"), [(2, 2), (0, 3), (3, 0), (0, 0)])
def test_matches_a_plain_loop_over_explicit_histories(activation: str, n_u: int, n_y: int) -> None:
    ctrl = make(NARX, n_out=3, hidden=4, input_delays=n_u, output_delays=n_y, activation=activation,
                weight_range=[-2, 2], bias_range=[-1, 1])
    assert ctrl.genome_size == 4 * 7 * (n_u + 1) + 4 * 3 * n_y + 4 + 3 * 4 + 3
    p = ctrl.decode(genomes(ctrl, 3, seed=1))
    xs = np.random.default_rng(2).uniform(0, 1, (3, 50, 7))
    outs, tr = roll(ctrl, p, xs)
    for b in range(3):
        np.testing.assert_allclose(outs[:, b], reference(p, b, xs[b], ACTIVATION[activation], n_u, n_y),
                                   rtol=0, atol=1e-12)
    assert np.min(np.ptp(outs, axis=0)) > 1e-3
    # the delay lines hold the newest values first: [x(t), ..., x(t - n_u)] and [y(t), ..., y(t - n_y + 1)]
    for k in range(n_u + 1):
        np.testing.assert_array_equal(tr["x_delay"][k:, :, 7 * k:7 * (k + 1)], xs[:, :50 - k].swapaxes(0, 1))
    for k in range(n_y):
        np.testing.assert_array_equal(tr["y_delay"][k:, :, 3 * k:3 * (k + 1)], outs[:50 - k])


def _differs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.any(a != b, axis=(1, 2))


@pytest.mark.parametrize("n_u", [0, 1, 3])
def test_a_time_delay_network_sees_exactly_its_input_window(n_u: int) -> None:
    """With no output delays, perturbing x(t0) changes y(t) exactly for t0 <= t <= t0 + n_u."""
    ctrl = make(NARX, input_delays=n_u, output_delays=0)
    p = ctrl.decode(genomes(ctrl, 1, seed=3))
    xs = np.random.default_rng(4).uniform(0, 1, (1, 20, 7))
    other = xs.copy()
    other[0, 8] += 0.5
    changed = _differs(roll(ctrl, p, xs)[0], roll(ctrl, p, other)[0])
    np.testing.assert_array_equal(np.flatnonzero(changed), np.arange(8, 8 + n_u + 1))


@pytest.mark.parametrize(("n_u", "n_y"), [(0, 2), (2, 1), (3, 3)])
def test_given_the_same_past_outputs_only_the_input_window_matters(n_u: int, n_y: int) -> None:
    """Two closed loops whose inputs differ at t0, the second fed the first's past outputs (its output
    delay line copied before every tick): their outputs differ exactly for t0 <= t <= t0 + n_u."""
    ctrl = make(NARX, input_delays=n_u, output_delays=n_y)
    p = ctrl.decode(genomes(ctrl, 1, seed=5))
    xs = np.random.default_rng(6).uniform(0, 1, (20, 1, 7))
    a, b = ctrl.init_state(p), ctrl.init_state(p)
    ya, yb = np.empty((1, 2)), np.empty((1, 2))
    changed = []
    for t in range(20):
        b.y_delay[:] = a.y_delay
        ctrl.step(p, a, xs[t], 0.1, ya)
        ctrl.step(p, b, xs[t] + (0.5 if t == 8 else 0.0), 0.1, yb)
        changed.append(not np.array_equal(ya, yb))
    np.testing.assert_array_equal(np.flatnonzero(changed), np.arange(8, 8 + n_u + 1))


def test_every_output_tap_feeds_the_network() -> None:
    n_y = 3
    ctrl = make(NARX, input_delays=1, output_delays=n_y)
    p = ctrl.decode(genomes(ctrl, 1, seed=7))
    x = np.random.default_rng(8).uniform(0, 1, (1, 7))
    base = np.empty((1, 2))
    ctrl.step(p, ctrl.init_state(p), x, 0.1, base)
    for j in range(n_y * 2):  # y(t - 1 - j // 2), motor j % 2
        state = ctrl.init_state(p)
        state.y_delay[0, j] = 0.7
        out = np.empty((1, 2))
        ctrl.step(p, state, x, 0.1, out)
        assert np.all(out != base)
