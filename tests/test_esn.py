"""Echo state network (Jaeger 2001; leaky form of Jaeger et al. 2007): the defining properties
(echo states, the unstable zero state past radius 1, the spectral radius), the documented
reservoir recipe rebuilt from the seed, and a plain-numpy reference of the update."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from ctrlutil import genomes, make

from evorobot.controllers.esn import ESN
from evorobot.errors import ConfigError
from evorobot.spec import parse


def esn(n_in: int = 3, n_out: int = 2, **settings: Any) -> ESN:
    return make(ESN, n_in, n_out, 1.0, **settings)


def run_states(ctrl: ESN, params: Any, x0: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """Reservoir states (T, B, N) after each tick, from initial states ``x0`` (B, N)."""
    state = ctrl.init_state(params)
    state.x[:] = x0
    out = np.empty((x0.shape[0], ctrl.n_outputs))
    xs = []
    for u in inputs:
        ctrl.step(params, state, np.ascontiguousarray(u), 1.0, out)
        xs.append(state.x.copy())
    return np.array(xs)


@pytest.mark.parametrize(("radius", "units", "density", "seed"),
                         [(0.9, 100, 0.1, 0), (1.5, 50, 0.2, 3), (0.99, 200, 0.05, 7), (0.3, 20, 1.0, 1)])
def test_the_reservoir_matrix_has_the_set_spectral_radius(radius: float, units: int, density: float,
                                                          seed: int) -> None:
    ctrl = esn(units=units, spectral_radius=radius, density=density, reservoir_seed=seed)
    params = ctrl.decode(genomes(ctrl, 2, 0))
    eig = np.linalg.eigvals(ctrl.reservoir_matrix(params, 1))
    assert abs(np.max(np.abs(eig)) - radius) < 1e-10


def test_evolved_spectral_radius_is_each_networks_own() -> None:
    ctrl = esn(units=60, evolve="readout_and_scaling", spectral_radius_range=(0.2, 1.4))
    g = genomes(ctrl, 3, 5)
    params = ctrl.decode(g)
    for i in range(3):
        rho = float(params.spectral_radius[i])
        assert 0.2 <= rho <= 1.4
        assert abs(np.max(np.abs(np.linalg.eigvals(ctrl.reservoir_matrix(params, i)))) - rho) < 1e-10
    assert len(set(params.spectral_radius.tolist())) == 3


def test_reservoir_follows_the_documented_recipe_from_its_seed() -> None:
    """W: entries present with probability `density`, uniform in [-1, 1], divided by its spectral
    radius; then W_in, the biases, W_fb, uniform in [-1, 1] and scaled, drawn from the same generator."""
    n, n_in, n_out, d = 80, 3, 2, 0.15
    ctrl = esn(n_in, n_out, units=n, density=d, reservoir_seed=11, bias_scaling=0.3, output_feedback=True,
               feedback_scaling=0.7)
    rng = np.random.default_rng(11)
    present = rng.random((n, n)) < d
    w = np.where(present, rng.uniform(-1, 1, (n, n)), 0.0)
    w /= np.max(np.abs(np.linalg.eigvals(w)))
    w_in = rng.uniform(-1, 1, (n, n_in))
    bias = 0.3 * rng.uniform(-1, 1, n)
    w_fb = 0.7 * rng.uniform(-1, 1, (n, n_out))
    r = ctrl.reservoir
    np.testing.assert_array_equal(r.dense(), w)
    np.testing.assert_array_equal(r.w_in, w_in)
    np.testing.assert_array_equal(r.bias, bias)
    np.testing.assert_array_equal(r.w_fb, w_fb)
    nnz = np.count_nonzero(w)
    assert abs(nnz - d * n * n) < 4 * np.sqrt(d * (1 - d) * n * n)  # the density is the setting's
    assert r.data.shape == (nnz,)
    # another seed, another reservoir; the reservoir does not depend on the agent's sizes
    assert not np.array_equal(esn(n_in, n_out, units=n, density=d, reservoir_seed=12).reservoir.dense(), w)
    np.testing.assert_array_equal(esn(5, 1, units=n, density=d, reservoir_seed=11).reservoir.dense(), w)


def test_echo_state_property_two_initial_states_forget_their_difference() -> None:
    ctrl = esn(units=100, spectral_radius=0.9, leak=1.0)
    params = ctrl.decode(np.repeat(genomes(ctrl, 1, 0), 2, axis=0))
    rng = np.random.default_rng(1)
    x0 = rng.uniform(-1, 1, (2, 100))
    u = np.repeat(rng.uniform(0, 1, (300, 1, 3)), 2, axis=1)
    xs = run_states(ctrl, params, x0, u)
    gap = np.max(np.abs(xs[:, 0] - xs[:, 1]), axis=1)
    assert gap[0] > 0.1  # they start apart
    assert gap[-1] < 1e-8


@pytest.mark.parametrize(("radius", "grows"), [(1.5, True), (0.9, False)])
def test_zero_state_is_unstable_past_radius_one(radius: float, grows: bool) -> None:
    """With no bias and no input, 0 is a fixed point; tanh'(0) = 1, so near it x(t+1) ~ rho W x(t):
    a tiny perturbation grows like rho^t past radius 1 (leak 1) and dies out below it."""
    ctrl = esn(units=100, spectral_radius=radius, leak=1.0, bias_scaling=0.0)
    params = ctrl.decode(genomes(ctrl, 1, 0))
    x0 = 1e-8 * np.random.default_rng(2).standard_normal((1, 100))
    xs = run_states(ctrl, params, x0, np.zeros((60, 1, 3)))
    size = np.linalg.norm(xs[-1])
    assert (size > 1e-4) if grows else (size < 1e-10)


def reference(ctrl: ESN, params: Any, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The update in plain numpy with dense matrices, every network on its own:
    x <- (1 - a) x + a tanh(s W_in u + rho W x + W_fb y + b); y = clip(W_out [x; u; 1], 0, 1)."""
    r = ctrl.reservoir
    w = r.dense()
    b_count = params.w_out.shape[0]
    x = np.zeros((b_count, ctrl.spec.units))
    y = np.zeros((b_count, ctrl.n_outputs))
    xs, ys = [], []
    for u in inputs:
        for b in range(b_count):
            a, rho, s = params.leak[b], params.spectral_radius[b], params.input_scaling[b]
            fb = r.w_fb @ y[b] if ctrl.spec.output_feedback else 0.0
            pre = s * (r.w_in @ u[b]) + rho * (w @ x[b]) + fb + r.bias
            x[b] = (1 - a) * x[b] + a * np.tanh(pre)
            y[b] = np.clip(params.w_out[b] @ np.concatenate([x[b], u[b], [1.0]]), 0.0, 1.0)
        xs.append(x.copy())
        ys.append(y.copy())
    return np.array(xs), np.array(ys)


@pytest.mark.parametrize("settings", [
    {},
    {"output_feedback": True, "leak": 0.3, "bias_scaling": 0.5},
    {"evolve": "readout_and_scaling", "output_feedback": True, "readout_range": (-0.5, 0.5)},
])
def test_kernel_agrees_with_a_plain_numpy_reference(settings: dict[str, Any]) -> None:
    ctrl = esn(units=40, **settings)
    params = ctrl.decode(genomes(ctrl, 3, 4))
    inputs = np.random.default_rng(5).uniform(0, 1, (80, 3, 3))
    xs, ys = reference(ctrl, params, inputs)
    state = ctrl.init_state(params)
    out = np.empty((3, 2))
    spread = []
    for t, u in enumerate(inputs):
        ctrl.step(params, state, np.ascontiguousarray(u), 1.0, out)
        np.testing.assert_allclose(state.x, xs[t], rtol=0, atol=1e-12)
        np.testing.assert_allclose(out, ys[t], rtol=0, atol=1e-10)  # a sum of 44 terms up to 5
        np.testing.assert_array_equal(state.y, out)
        spread.append(np.ptp(out))
    assert np.mean(spread) > 0.01  # outputs move and differ: the comparison is not vacuous


def test_genes_are_the_readout_or_the_readout_and_three_scalings() -> None:
    plain = esn(units=30)
    assert plain.genome_size == 2 * (30 + 3 + 1)
    params = plain.decode(genomes(plain, 2, 0))
    assert np.all(params.spectral_radius == 0.9) and np.all(params.leak == 1.0) and np.all(params.input_scaling == 1.0)
    scaled = esn(units=30, evolve="readout_and_scaling", leak_range=(0.1, 0.5), input_scaling_range=(0.2, 0.3))
    assert scaled.genome_size == plain.genome_size + 3
    p = scaled.decode(np.ones((1, scaled.genome_size)))
    assert (p.spectral_radius[0], p.leak[0], p.input_scaling[0]) == (1.5, 0.5, 0.3)
    groups = scaled.gene_groups()
    assert [len(g) for g in groups] == [34, 34, 3]  # one per output unit, then the scalings


@pytest.mark.parametrize(("table", "message"), [
    ({"density": 0.0}, "`density` must be > 0"),
    ({"leak": 0.0}, "`leak` must be > 0"),
    ({"leak": 1.5}, "`leak` must be <= 1"),
    ({"evolve": "reservoir"}, "`evolve` must be one of"),
    ({"leak_range": [0.0, 1.0]}, "`leak_range` must lie in"),
    ({"spectral_radius_range": [-1.0, 1.0]}, "`spectral_radius_range` must be >= 0"),
    ({"units": 0}, "`units` must be >= 1"),
])
def test_bad_settings_are_one_line_errors(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        ESN(parse(ESN.Spec, table, "w.toml [controller]"), 3, 2, 1.0, "w.toml [controller]")
    assert "\n" not in str(err.value) and str(err.value).startswith("w.toml [controller]")


def test_a_reservoir_of_spectral_radius_zero_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"w.toml \[controller\]: .*spectral radius 0"):
        ESN(parse(ESN.Spec, {"units": 2, "density": 0.01}, "w.toml [controller]"), 3, 2, 1.0, "w.toml [controller]")
