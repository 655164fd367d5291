"""Hierarchical network (Paine & Tani 2005): levels, bottleneck, masks, symmetry, isolation, integrators."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from evorobot.controllers import CONTROLLERS
from evorobot.controllers.hierarchical import Hierarchical, HierarchicalSpec
from evorobot.errors import ConfigError

from netutil import groups, random_params, run

INTEGRATORS = ("euler", "rk4", "exp_euler")


def make(n_in: int = 7, n_out: int = 2, dt: float = 0.1, **kw: object) -> Hierarchical:
    return Hierarchical(HierarchicalSpec(**kw), n_in, n_out, dt)  # type: ignore[arg-type]


def test_registry_and_levels() -> None:
    assert CONTROLLERS["hierarchical"] is Hierarchical and Hierarchical.Spec is HierarchicalSpec
    ctrl = make(lower=4, bottleneck=2, upper=3)
    g = groups(ctrl)
    assert [len(g[k]) for k in ("l", "b", "u", "m")] == [4, 2, 3, 2] and "s" not in g
    l_, b, u, m = 4, 2, 3, 2
    weights = l_ * l_ + m * l_ + 2 * b * l_ + 2 * b * u + u * u
    n = l_ + b + u + m
    assert ctrl.genome_size == 2 * n + weights + 7 * l_  # tau and bias per neuron; inputs -> lower
    p = random_params(ctrl, 20, seed=0)
    assert np.all((p.tau[:, g["u"]] >= 10.0) & (p.tau[:, g["u"]] <= 50.0))
    assert np.all((p.tau[:, g["l"]] >= 1.0) & (p.tau[:, g["l"]] <= 2.0))


def test_the_levels_meet_only_through_the_bottleneck() -> None:
    ctrl = make(lower=4, bottleneck=2, upper=3, gain_range=(0.5, 2.0))
    g = groups(ctrl)
    p = random_params(ctrl, 4, seed=1)
    low = np.concatenate([g["l"], g["m"]])
    for a, b in ((low, g["u"]), (g["u"], low), (g["m"], g["b"]), (g["b"], g["b"]), (g["m"], g["m"])):
        assert np.all(p.w[:, a[:, None], b[None, :]] == 0.0)
    for a, b in ((g["l"], g["b"]), (g["b"], g["l"]), (g["u"], g["b"]), (g["b"], g["u"]), (g["u"], g["u"])):
        assert np.all(p.w[:, a[:, None], b[None, :]] != 0.0)
    assert np.all(p.w_in[:, g["l"]] != 0.0) and np.all(np.delete(p.w_in, g["l"], axis=1) == 0.0)
    # a disturbance of the upper level reaches the lower level only through the bottleneck
    a, c = ctrl.init_state(p), ctrl.init_state(p)
    rng = np.random.default_rng(2)
    c.y[:, g["u"]] = rng.normal(0, 30, (4, 3))
    c.o[:, g["u"]] = rng.uniform(0, 1, (4, 3))
    x, out = rng.uniform(0, 10, (4, 7)), np.empty((4, 2))
    ctrl.step(p, a, x, 0.1, out)
    ctrl.step(p, c, x, 0.1, out)
    np.testing.assert_array_equal(a.y[:, low], c.y[:, low])
    assert np.all(a.y[:, g["b"]] != c.y[:, g["b"]])


def test_evolved_initial_state_is_the_upper_levels() -> None:
    ctrl = make(upper=3, initial_state="evolved", sensor_neurons=True)
    g = groups(ctrl)
    assert ctrl.genome_size == make(upper=3, sensor_neurons=True).genome_size + 3
    p = random_params(ctrl, 5, seed=3)
    assert np.all(p.y0[:, g["u"]] != 0.0) and np.all(np.delete(p.y0, g["u"], axis=1) == 0.0)
    np.testing.assert_array_equal(ctrl.init_state(p).y, p.y0)


@pytest.mark.parametrize(("lower", "bottleneck", "upper", "sensors"), [(5, 2, 3, False), (4, 3, 2, True)])
def test_symmetric_genomes_give_mirror_image_behaviour(lower: int, bottleneck: int, upper: int, sensors: bool) -> None:
    kw = dict(lower=lower, bottleneck=bottleneck, upper=upper, sensor_neurons=sensors, initial_state="evolved",
              gain_range=(0.5, 2.0))
    ctrl = make(symmetric=True, **kw)
    assert ctrl.genome_size < make(**kw).genome_size
    p = random_params(ctrl, 3, seed=4)
    xs = np.random.default_rng(5).uniform(0, 5, (3, 300, 7))
    ys, outs = run(ctrl, p, xs, 0.1)
    ys_m, outs_m = run(ctrl, p, xs[:, :, ::-1], 0.1)
    perm = np.concatenate([idx[::-1] for idx in groups(ctrl).values()])
    np.testing.assert_allclose(outs_m, outs[:, :, ::-1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ys_m[:, :, perm], ys, rtol=0, atol=1e-12)
    assert np.max(np.abs(ys[:, :, perm] - ys)) > 0.1


@pytest.mark.parametrize("integrator", INTEGRATORS)
def test_state_is_isolated_across_the_batch_and_across_trials(integrator: str) -> None:
    ctrl = make(integrator=integrator, initial_state="evolved", gain_range=(0.5, 3.0))
    rng = np.random.default_rng(6)
    genomes = rng.uniform(-1, 1, (17, ctrl.genome_size))
    xs = rng.uniform(0, 10, (17, 150, 7))
    p = ctrl.decode(genomes)
    ys, outs = run(ctrl, p, xs, 0.1)
    ys1, outs1 = run(ctrl, ctrl.decode(genomes[9:10]), xs[9:10], 0.1)
    assert np.array_equal(ys1[:, 0], ys[:, 9]) and np.array_equal(outs1[:, 0], outs[:, 9])
    ys2, outs2 = run(ctrl, p, xs, 0.1)
    assert np.array_equal(ys2, ys) and np.array_equal(outs2, outs)


@pytest.mark.parametrize(("integrator", "dt", "tol"), [("rk4", 0.01, 1e-8), ("exp_euler", 0.002, 5e-3)])
def test_integrators_agree_with_solve_ivp(integrator: str, dt: float, tol: float) -> None:
    kw = dict(n_in=3, lower=3, bottleneck=2, upper=2, initial_state="evolved", gain_range=(0.5, 2.0),
              upper_tau_range=(3.0, 6.0))
    p = random_params(make(**kw), 3, seed=7)
    x = np.random.default_rng(8).uniform(-1, 1, (3, 3))
    shape, ext = p.tau.shape, np.einsum("bik,bk->bi", p.w_in, x)

    def rhs(_t: float, yf: np.ndarray) -> np.ndarray:
        y = yf.reshape(shape)
        o = 1.0 / (1.0 + np.exp(-p.gain * (y + p.bias)))
        return ((-y + np.einsum("bij,bj->bi", p.w, o) + ext) / p.tau).ravel()

    ref = solve_ivp(rhs, (0.0, 2.0), p.y0.ravel(), method="DOP853", rtol=1e-12, atol=1e-12).y[:, -1]
    ctrl = make(dt=dt, integrator=integrator, **kw)
    state, out = ctrl.init_state(p), np.empty((3, 2))
    for _ in range(round(2.0 / dt)):
        ctrl.step(p, state, x, dt, out)
    assert 1e-15 < np.max(np.abs(state.y - ref.reshape(shape))) < tol


def test_euler_rule_names_the_level() -> None:
    with pytest.raises(ConfigError, match=r"`lower_tau_range` minimum 0.05 is below dt = 0.1.*exp_euler.*rk4"):
        make(lower_tau_range=(0.05, 2.0))
    with pytest.raises(ConfigError, match="`bottleneck_tau_range`"):
        make(bottleneck_tau_range=(0.01, 2.0), integrator="rk4")
    make(lower_tau_range=(0.05, 2.0), integrator="exp_euler")


@settings(max_examples=30, deadline=None)
@given(
    integrator=st.sampled_from(INTEGRATORS), lower=st.integers(1, 5), bottleneck=st.integers(1, 3),
    upper=st.integers(1, 4), n_in=st.integers(0, 8), n_out=st.integers(1, 3), sensors=st.booleans(),
    symmetric=st.booleans(), w_max=st.floats(0.1, 20.0), tau_lo=st.floats(0.01, 3.0), dt_frac=st.floats(0.01, 1.0),
    bias_mode=st.sampled_from(["evolved", "center_crossing"]), initial_state=st.sampled_from(["zero", "evolved"]),
    extreme=st.booleans(), seed=st.integers(0, 2**32 - 1),
)
def test_states_stay_finite(integrator, lower, bottleneck, upper, n_in, n_out, sensors, symmetric, w_max, tau_lo,
                            dt_frac, bias_mode, initial_state, extreme, seed) -> None:
    dt = tau_lo * {"euler": 1.0, "rk4": 2.785, "exp_euler": 50.0}[integrator] * dt_frac
    spec = HierarchicalSpec(
        integrator=integrator, lower=lower, bottleneck=bottleneck, upper=upper, sensor_neurons=sensors,
        symmetric=symmetric, weight_range=(-w_max, w_max), bias_range=(-w_max, w_max), gain_range=(0.1, 5.0),
        lower_tau_range=(tau_lo, 2 * tau_lo), bottleneck_tau_range=(tau_lo, 3 * tau_lo),
        upper_tau_range=(tau_lo, 50 * tau_lo), bias_mode=bias_mode, initial_state=initial_state,
        initial_state_range=(-w_max, w_max))
    try:
        ctrl = Hierarchical(spec, n_in, n_out, dt)
    except ConfigError:
        assume(False)
    rng = np.random.default_rng(seed)
    genes = rng.uniform(-1, 1, (3, ctrl.genome_size))
    p = ctrl.decode(np.sign(genes) if extreme else genes)
    state, out = ctrl.init_state(p), np.empty((3, n_out))
    for _ in range(200):
        ctrl.step(p, state, rng.uniform(-10, 10, (3, n_in)), dt, out)
    assert np.all(np.isfinite(state.y)) and np.all(np.isfinite(state.o))
    assert np.all((out >= 0.0) & (out <= 1.0))
