"""CTRNN controller: integrators against references, masks, symmetry, state isolation."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from evorobot.controllers import CONTROLLERS, get_controller
from evorobot.controllers.base import Controller
from evorobot.controllers.ctrnn import (
    CTRNN,
    CTRNNParams,
    CTRNNSpec,
    CTRNNState,
    center_crossing_biases,
    center_crossing_genomes,
)
from evorobot.errors import ConfigError, UnknownNameError
from evorobot.spec import parse

from netutil import random_params, reference, run

INTEGRATORS = ("euler", "rk4", "exp_euler")


def make(n_in: int = 7, n_out: int = 2, dt: float = 0.1, **kw: object) -> CTRNN:
    return CTRNN(CTRNNSpec(**kw), n_in, n_out, dt)  # type: ignore[arg-type]


def sigma(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def beer_euler_step(
    p: CTRNNParams, b: int, y: list[float], o: list[float], x: list[float], dt: float
) -> None:
    """Beer's CTRNN::EulerStep, in plain Python: all states from the previous outputs, then outputs."""
    n = len(y)
    for i in range(n):
        s = 0.0
        for k in range(len(x)):
            s += p.w_in[b, i, k] * x[k]
        for j in range(n):
            s += p.w[b, i, j] * o[j]
        y[i] += dt / p.tau[b, i] * (s - y[i])
    for i in range(n):
        o[i] = sigma(p.gain[b, i] * (y[i] + p.bias[b, i]))


@pytest.mark.parametrize("topology", ["layered", "full"])
def test_euler_matches_beers_euler_step(topology: str) -> None:
    ctrl = make(topology=topology, gain_range=(0.5, 3.0), tau_range=(0.5, 3.0))
    p = random_params(ctrl, 3, seed=1)
    rng = np.random.default_rng(2)
    state = ctrl.init_state(p)
    out = np.empty((3, 2))
    ref_y = [[0.0] * ctrl.n_neurons for _ in range(3)]
    ref_o = [[sigma(p.gain[b, i] * p.bias[b, i]) for i in range(ctrl.n_neurons)] for b in range(3)]
    for _ in range(500):
        x = rng.uniform(-1, 10, (3, 7))
        ctrl.step(p, state, x, 0.1, out)
        for b in range(3):
            beer_euler_step(p, b, ref_y[b], ref_o[b], list(x[b]), 0.1)
        np.testing.assert_allclose(state.y, ref_y, rtol=0, atol=1e-12)
        np.testing.assert_allclose(state.o, ref_o, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(out, state.o[:, 5:])


def integrate(integrator: str, p: CTRNNParams, x: np.ndarray, dt: float, t_end: float) -> np.ndarray:
    ctrl = make(n_in=x.shape[1], n_out=2, dt=dt, hidden=3, topology="full", integrator=integrator,
                gain_range=(0.5, 2.0))
    state = ctrl.init_state(p)
    out = np.empty((x.shape[0], 2))
    for _ in range(round(t_end / dt)):
        ctrl.step(p, state, x, dt, out)
    return state.y


@pytest.fixture(scope="module")
def ode_problem() -> tuple[CTRNNParams, np.ndarray, np.ndarray]:
    ctrl = make(n_in=3, hidden=3, topology="full", gain_range=(0.5, 2.0))
    p = random_params(ctrl, 4, seed=7)
    x = np.random.default_rng(8).uniform(-1, 1, (4, 3))
    return p, x, reference(p, x, 2.0)


@pytest.mark.parametrize(
    ("integrator", "dt", "tol"), [("rk4", 0.01, 1e-8), ("exp_euler", 0.001, 2e-3), ("euler", 0.001, 2e-3)]
)
def test_integrators_agree_with_solve_ivp(ode_problem, integrator: str, dt: float, tol: float) -> None:
    p, x, y_ref = ode_problem
    err = np.max(np.abs(integrate(integrator, p, x, dt, 2.0) - y_ref))
    assert err < tol
    assert err > 1e-15  # the comparison is not vacuous


@pytest.mark.parametrize(("integrator", "order", "dts"), [
    ("euler", 1, [0.04, 0.02, 0.01, 0.005]),
    ("exp_euler", 1, [0.04, 0.02, 0.01, 0.005]),
    ("rk4", 4, [0.2, 0.1, 0.05, 0.025]),
])
def test_measured_convergence_order(ode_problem, integrator: str, order: int, dts: list[float]) -> None:
    p, x, y_ref = ode_problem
    errs = [np.max(np.abs(integrate(integrator, p, x, dt, 2.0) - y_ref)) for dt in dts]
    slope = np.polyfit(np.log(dts), np.log(errs), 1)[0]
    print(f"{integrator}: errors {errs}, slope {slope:.3f}")
    assert abs(slope - order) < 0.3


def rk4_factor(z: float) -> float:
    """RK4's amplification factor for y' = lambda y, z = lambda dt."""
    return 1 + z + z * z / 2 + z**3 / 6 + z**4 / 24


@pytest.mark.parametrize(("integrator", "factor", "order"), [
    ("euler", lambda z: 1 + z, 1), ("rk4", rk4_factor, 4), ("exp_euler", math.exp, None),
])
def test_lone_neuron_decays_as_exp_minus_t_over_tau(integrator: str, factor, order) -> None:
    y0, tau, t_end = 2.0, 1.5, 3.0
    ctrl = make(n_in=1, n_out=1, dt=0.1, hidden=0, topology="full", integrator=integrator, tau_range=(tau, tau))
    p = ctrl.decode(np.array([[0.3, 0.0, -0.7]]))
    p.w[:] = 0.0
    p.w_in[:] = 0.0
    errs = []
    for dt in (0.1, 0.05):
        state = CTRNNState(np.array([[y0]]), np.array([[0.5]]))
        out = np.empty((1, 1))
        for n in range(1, round(t_end / dt) + 1):
            ctrl.step(p, state, np.ones((1, 1)), dt, out)
            assert state.y[0, 0] == pytest.approx(y0 * factor(-dt / tau) ** n, rel=1e-13)  # the scheme's own map
        errs.append(abs(state.y[0, 0] - y0 * math.exp(-t_end / tau)))
    if order is None:
        assert max(errs) < 1e-14
    else:
        assert 0.7 * 2**order < errs[0] / errs[1] < 1.3 * 2**order  # tends to exp(-t/tau) at its order


def test_lone_neuron_decays_exactly_with_exp_euler() -> None:
    ctrl = make(n_in=1, n_out=1, dt=0.05, hidden=0, topology="full", integrator="exp_euler")
    p = ctrl.decode(np.array([[-1.0, 0, 0, 0], [0.0, 0, 0, 0], [1.0, 0, 0, 0]]))
    p.w[:] = 0.0
    p.w_in[:] = 0.0
    np.testing.assert_array_equal(p.tau[:, 0], [1.0, 1.5, 2.0])
    y0 = np.array([3.0, -2.0, 0.5])
    state = CTRNNState(y0[:, None].copy(), np.full((3, 1), 0.5))
    out = np.empty((3, 1))
    for n in range(1, 101):
        ctrl.step(p, state, np.ones((3, 1)), 0.05, out)
        np.testing.assert_allclose(state.y[:, 0], y0 * np.exp(-n * 0.05 / p.tau[:, 0]), rtol=2e-14, atol=0)


def test_layered_masks_are_absent_from_the_genome_and_inert() -> None:
    h, m, k = 5, 2, 7
    ctrl = make(hidden=h, gain_range=(1.0, 3.0))
    assert ctrl.genome_size == 3 * (h + m) + h * k + h * h + m * h
    assert make(hidden=h).genome_size == 2 * (h + m) + h * k + h * h + m * h  # constant gain: no genes
    assert make(hidden=h, topology="full").genome_size == 2 * (h + m) + (h + m) * (k + h + m)
    assert make(hidden=0).genome_size == 2 * m + m * k
    p = random_params(ctrl, 6, seed=3)
    assert np.all(p.w[:, :, h:] == 0.0) and np.all(p.w_in[:, h:, :] == 0.0)
    assert np.all(p.w[:, :, :h] != 0.0) and np.all(p.w_in[:, :h, :] != 0.0)
    # motor neurons are masked as sources and as input targets: disturbing them leaves the
    # interneurons' trajectories bitwise unchanged, and inputs act only through the interneurons
    rng = np.random.default_rng(4)
    xs = rng.uniform(0, 10, (6, 200, k))
    a, b = ctrl.init_state(p), ctrl.init_state(p)
    b.y[:, h:] = rng.normal(0, 50, (6, m))
    b.o[:, h:] = rng.uniform(0, 1, (6, m))
    out = np.empty((6, m))
    for t in range(200):
        ctrl.step(p, a, xs[:, t], 0.1, out)
        ctrl.step(p, b, xs[:, t], 0.1, out)
        np.testing.assert_array_equal(a.y[:, :h], b.y[:, :h])
    hidden0 = make(hidden=0)
    p0 = random_params(hidden0, 2, seed=5)
    assert np.all(p0.w == 0.0) and np.all(p0.w_in != 0.0)


def test_symmetric_genome_sizes() -> None:
    assert make(hidden=5, symmetric=True).genome_size == 2 * 4 + 18 + 13 + 5  # 44
    assert make(hidden=5).genome_size == 84
    assert make(hidden=4, symmetric=True).genome_size == 2 * 3 + 14 + 8 + 4  # 32
    assert make(hidden=4).genome_size == 64
    assert make(hidden=4, n_in=8, topology="full", symmetric=True).genome_size == 2 * 3 + 24 + 18


@pytest.mark.parametrize(
    ("hidden", "topology", "integrator", "options"),
    [(5, "layered", "euler", {}), (4, "layered", "rk4", {}), (5, "full", "exp_euler", {}),
     (4, "layered", "euler", {"sensor_neurons": True, "sensor_shared": False, "initial_state": "evolved"}),
     (3, "full", "rk4", {"sensor_neurons": True, "bias_mode": "center_crossing"})],
)
def test_mirrored_inputs_give_mirrored_outputs(hidden: int, topology: str, integrator: str, options) -> None:
    ctrl = make(
        hidden=hidden, topology=topology, integrator=integrator, symmetric=True, gain_range=(0.5, 2.0), **options
    )
    p = random_params(ctrl, 4, seed=11)
    xs = np.random.default_rng(12).uniform(0, 5, (4, 300, 7))
    ys, outs = run(ctrl, p, xs, 0.1)
    ys_m, outs_m = run(ctrl, p, xs[:, :, ::-1], 0.1)
    sensors = list(range(7))[::-1] if options.get("sensor_neurons") else []
    s = len(sensors)
    perm = sensors + [s + i for i in range(hidden)][::-1] + [s + hidden + 1, s + hidden]
    np.testing.assert_allclose(outs_m, outs[:, :, ::-1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ys_m, ys[:, :, perm], rtol=0, atol=1e-12)
    assert np.max(np.abs(outs[:, :, 0] - outs[:, :, 1])) > 0.01  # the inputs did break the symmetry


@pytest.mark.parametrize("integrator", INTEGRATORS)
def test_state_is_isolated_across_the_batch_and_across_trials(integrator: str) -> None:
    ctrl = make(hidden=5, topology="full", integrator=integrator, gain_range=(0.5, 3.0))
    rng = np.random.default_rng(21)
    genomes = rng.uniform(-1, 1, (51, ctrl.genome_size))
    xs = rng.uniform(0, 10, (51, 200, 7))
    p = ctrl.decode(genomes)
    ys, outs = run(ctrl, p, xs, 0.1)
    i = 17
    ys1, outs1 = run(ctrl, ctrl.decode(genomes[i : i + 1]), xs[i : i + 1], 0.1)
    assert np.array_equal(ys1[:, 0], ys[:, i]) and np.array_equal(outs1[:, 0], outs[:, i])
    # a new trial starts afresh: same trajectory, fresh arrays, parameters untouched
    ys2, outs2 = run(ctrl, p, xs, 0.1)
    assert np.array_equal(ys2, ys) and np.array_equal(outs2, outs)
    s1, s2 = ctrl.init_state(p), ctrl.init_state(p)
    assert not np.shares_memory(s1.y, s2.y) and not np.shares_memory(s1.o, s2.o)
    for a, b in zip(p, ctrl.decode(genomes)):
        assert np.array_equal(a, b)


def test_euler_rejects_tau_below_dt() -> None:
    with pytest.raises(ConfigError, match=r"\[controller\]: `tau_range` minimum 0.05 is below dt = 0.1") as e:
        make(tau_range=(0.05, 1.0))
    assert "exp_euler" in str(e.value) and "rk4" in str(e.value)
    make(tau_range=(0.1, 1.0))  # tau == dt is still stable
    make(tau_range=(0.05, 1.0), integrator="exp_euler")
    make(tau_range=(0.05, 1.0), integrator="rk4")
    with pytest.raises(ConfigError, match="RK4 is unstable"):
        make(tau_range=(0.03, 1.0), integrator="rk4")


def test_spec_parses_from_a_table() -> None:
    where = "worlds/x.toml [controller]"
    spec = parse(CTRNNSpec, {"type": "ctrnn", "hidden": 3, "tau_range": [1, 3]}, where, ignore=("type",))
    assert spec.hidden == 3 and spec.tau_range == (1.0, 3.0) and spec.integrator == "euler"
    with pytest.raises(ConfigError, match="did you mean `exp_euler`"):
        parse(CTRNNSpec, {"integrator": "exp_eular"}, where)
    with pytest.raises(ConfigError, match="tau_range"):
        parse(CTRNNSpec, {"tau_range": [0.0, 1.0]}, where)


def test_registry() -> None:
    assert CONTROLLERS["ctrnn"] is CTRNN and get_controller("ctrnn", "[controller]") is CTRNN
    assert issubclass(CTRNN, Controller) and CTRNN.Spec is CTRNNSpec and CTRNN.name == "ctrnn"
    msg = r"w.toml \[controller\]: unknown controller type `ctrn` \(did you mean `ctrnn`\?\); valid: `bam`, `braitenberg`, `brnn`, `cascaded`, `ctrnn`, `elman`"
    with pytest.raises(UnknownNameError, match=msg):
        get_controller("ctrn", "w.toml [controller]")


def test_describe_and_trace() -> None:
    ctrl = make(symmetric=True)
    p = random_params(ctrl, 2, seed=0)
    d = ctrl.describe(p, 1)
    json.dumps(d, allow_nan=False)
    assert d["neurons"] == ["h0", "h1", "h2", "h3", "h4", "m0", "m1"]
    assert d["weights"][5][2] == p.w[1, 5, 2] and type(d["weights"][5][2]) is float
    assert np.shape(d["weights"]) == (7, 7) and np.shape(d["input_weights"]) == (7, 7)
    assert d["tau"] == p.tau[1].tolist() and d["gain"] == [1.0] * 7
    state = ctrl.init_state(p)
    tr = ctrl.trace(state)
    assert tr["y"] is state.y and tr["o"] is state.o and tr["o"].shape == (2, 7)


@settings(max_examples=50, deadline=None)
@given(
    integrator=st.sampled_from(INTEGRATORS),
    hidden=st.integers(0, 6),
    n_in=st.integers(0, 8),
    n_out=st.integers(1, 3),
    topology=st.sampled_from(["layered", "full"]),
    symmetric=st.booleans(),
    w_max=st.floats(0.1, 20.0),
    tau_lo=st.floats(0.01, 3.0),
    tau_span=st.floats(0.0, 10.0),
    gain_hi=st.floats(0.1, 10.0),
    dt_frac=st.floats(0.01, 1.0),
    extreme=st.booleans(),
    sensors=st.booleans(),
    bias_mode=st.sampled_from(["evolved", "center_crossing"]),
    initial_state=st.sampled_from(["zero", "evolved"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_states_stay_finite(integrator, hidden, n_in, n_out, topology, symmetric, w_max, tau_lo, tau_span,
                            gain_hi, dt_frac, extreme, sensors, bias_mode, initial_state, seed) -> None:
    limit = {"euler": 1.0, "rk4": 2.785, "exp_euler": 50.0}[integrator]
    dt = tau_lo * limit * dt_frac
    spec = CTRNNSpec(hidden=hidden, integrator=integrator, topology=topology, symmetric=symmetric,
                     weight_range=(-w_max, w_max), bias_range=(-w_max, w_max),
                     tau_range=(tau_lo, tau_lo + tau_span), gain_range=(0.1, gain_hi),
                     sensor_neurons=sensors, sensor_tau_range=(tau_lo, 2 * tau_lo + tau_span),
                     sensor_gain_range=(0.1, gain_hi), bias_mode=bias_mode, initial_state=initial_state,
                     initial_state_range=(-w_max, w_max))
    try:
        ctrl = CTRNN(spec, n_in, n_out, dt)
    except ConfigError:
        assume(False)
    rng = np.random.default_rng(seed)
    genes = rng.uniform(-1, 1, (4, ctrl.genome_size))
    if extreme:
        genes = np.sign(genes)
    p = ctrl.decode(genes)
    state = ctrl.init_state(p)
    out = np.empty((4, n_out))
    for _ in range(200):
        ctrl.step(p, state, rng.uniform(-10, 10, (4, n_in)), dt, out)
    assert np.all(np.isfinite(state.y)) and np.all(np.isfinite(state.o))
    assert np.all((out >= 0.0) & (out <= 1.0))


BEER2003_LABELS = (
    [f"tau[{i}]" for i in (0, 1, 2, 5)] + [f"bias[{i}]" for i in (0, 1, 2, 5)]
    + [f"w[{i},{j}]" for i in (0, 1) for j in range(5)] + ["w[2,0]", "w[2,1]", "w[2,2]"]
    + [f"w[5,{j}]" for j in range(5)]
    + [f"w_in[{i},{j}]" for i in (0, 1) for j in range(7)] + [f"w_in[2,{j}]" for j in range(4)]
)


def test_default_gene_layout_is_unchanged() -> None:
    """Saved champions replay: the beer2003 layout (44 genes) and decoding must never move."""
    ctrl = make(symmetric=True)
    assert ctrl.layout.labels() == BEER2003_LABELS and ctrl.genome_size == 44
    assert ctrl.neurons == ["h0", "h1", "h2", "h3", "h4", "m0", "m1"]
    p = ctrl.decode(np.linspace(-1, 1, 44)[None, :])
    assert p.tau[0, 0] == 1.0 and p.tau[0, 4] == 1.0 and p.bias[0, 5] == p.bias[0, 6]
    assert p.w_in[0, 2, 3] == 5.0 and np.all(p.y0 == 0.0)


# -- center-crossing (Mathayomchan & Beer 2002) ------------------------------------------------

@pytest.mark.parametrize(("topology", "hidden", "symmetric"), [("layered", 5, True), ("full", 4, False)])
def test_center_crossing_puts_every_resting_input_at_the_centre_of_its_sigmoid(
    topology: str, hidden: int, symmetric: bool
) -> None:
    ctrl = make(hidden=hidden, topology=topology, symmetric=symmetric, bias_mode="center_crossing",
                gain_range=(0.5, 3.0))
    n = hidden + 2
    base = make(hidden=hidden, topology=topology, symmetric=symmetric, gain_range=(0.5, 3.0))
    assert ctrl.genome_size == base.genome_size - len(set(base.layout.entry_genes("bias").tolist()))
    assert ctrl.layout.entry_genes("bias").tolist() == [-1] * n  # no bias genes
    p = random_params(ctrl, 5, seed=31)
    # when every output sits at the centre 1/2 of its range, each neuron's net input sits at the
    # centre of its own sigmoid (y + theta = 0 at y = sum_j w_ij / 2)
    np.testing.assert_allclose(np.einsum("bij,bj->bi", p.w, np.full((5, n), 0.5)) + p.bias, 0.0, atol=1e-12)
    assert np.ptp(p.bias) > 1.0  # the biases are not all the same
    for integrator in INTEGRATORS:  # so y = -theta is an equilibrium under zero input
        c = make(hidden=hidden, topology=topology, symmetric=symmetric, bias_mode="center_crossing",
                 integrator=integrator, gain_range=(0.5, 3.0))
        state = CTRNNState(-p.bias.copy(), np.full((5, n), 0.5))
        out = np.empty((5, 2))
        for _ in range(100):
            c.step(p, state, np.zeros((5, 7)), 0.1, out)
        np.testing.assert_allclose(state.y, -p.bias, atol=1e-12)


def test_center_crossing_leaves_neurons_without_recurrent_inputs_evolved() -> None:
    ctrl = make(hidden=3, sensor_neurons=True, sensor_shared=False, bias_mode="center_crossing")
    genes = ctrl.layout.entry_genes("bias")
    assert np.all(genes[:7] >= 0) and np.all(genes[7:] == -1)  # sensory neurons keep their bias genes
    p = random_params(ctrl, 3, seed=2)
    np.testing.assert_array_equal(p.bias[:, 7:], center_crossing_biases(p.w)[:, 7:])
    assert np.all(np.abs(p.bias[:, :7]) <= 5.0) and np.ptp(p.bias[:, :7]) > 0


def test_center_crossing_initial_population() -> None:
    ctrl = make(symmetric=True, center_crossing_init=True, weight_range=(-2.0, 2.0))
    genomes = np.random.default_rng(5).uniform(-1, 1, (20, ctrl.genome_size))
    out = ctrl.prepare_initial_population(genomes.copy())
    np.testing.assert_array_equal(out, center_crossing_genomes(ctrl, genomes))
    p = ctrl.decode(out)
    np.testing.assert_allclose(p.bias, center_crossing_biases(p.w), atol=1e-12)  # |theta*| <= 5 here
    bias_genes = ctrl.layout.entry_genes("bias")
    others = np.setdiff1d(np.arange(ctrl.genome_size), bias_genes)
    np.testing.assert_array_equal(out[:, others], genomes[:, others])  # bit for bit
    assert not np.array_equal(out, genomes)
    # clipped into the bias range when the center-crossing value lies outside it
    wide = make(center_crossing_init=True, weight_range=(-20.0, 20.0))
    p = wide.decode(center_crossing_genomes(wide, np.ones((1, wide.genome_size))))
    assert np.all(p.bias == -5.0)
    off = make(symmetric=True)  # center_crossing_init = false: the optimizer's draw is kept as is
    assert off.prepare_initial_population(genomes) is genomes
    with pytest.raises(ConfigError, match="center_crossing_init"):
        parse(CTRNNSpec, {"bias_mode": "center_crossing", "center_crossing_init": True}, "w.toml [controller]")
    cc = make(bias_mode="center_crossing")
    g = np.zeros((2, cc.genome_size))
    np.testing.assert_array_equal(center_crossing_genomes(cc, g), g)


# -- initial state, sensory neurons, per-group ranges ---------------------------------------------

def test_evolved_initial_state_starts_every_trial() -> None:
    ctrl = make(hidden=4, initial_state="evolved", initial_state_range=(-3.0, 2.0), symmetric=True)
    assert ctrl.genome_size == make(hidden=4, symmetric=True).genome_size + 3  # 2 + 1 mirrored orbits
    assert ctrl.layout.labels()[-3:] == ["y0[0]", "y0[1]", "y0[4]"]
    genomes = np.random.default_rng(3).uniform(-1, 1, (6, ctrl.genome_size))
    p = ctrl.decode(genomes)
    assert np.all((p.y0 >= -3.0) & (p.y0 <= 2.0)) and np.ptp(p.y0) > 1.0
    np.testing.assert_array_equal(p.y0, p.y0[:, [3, 2, 1, 0, 5, 4]])  # mirrored
    xs = np.random.default_rng(4).uniform(0, 10, (6, 50, 7))
    state = ctrl.init_state(p)
    np.testing.assert_array_equal(state.y, p.y0)
    assert not np.shares_memory(state.y, p.y0)
    ys, _ = run(ctrl, p, xs, 0.1)
    np.testing.assert_array_equal(p.y0, ctrl.decode(genomes).y0)  # a trial never writes the genome's y0
    ys2, _ = run(ctrl, p, xs, 0.1)
    np.testing.assert_array_equal(ys, ys2)
    assert ctrl.describe(p, 2)["initial_state"] == p.y0[2].tolist()
    assert "initial_state" not in make().describe(random_params(make(), 1, 0), 0)


@pytest.mark.parametrize("shared", [True, False])
def test_sensory_neurons_filter_their_own_input(shared: bool) -> None:
    ctrl = make(hidden=3, sensor_neurons=True, sensor_shared=shared, integrator="exp_euler",
                sensor_tau_range=(0.5, 3.0), sensor_gain_range=(1.0, 4.0))
    n_direct = make(hidden=3).genome_size
    per = 1 if shared else 7  # tau, bias, gain genes of the sensory neurons
    assert ctrl.genome_size == n_direct - 3 * 7 + 3 * 7 + 3 * per  # 7 inputs -> 7 sensors replaces w_in
    assert ctrl.neurons[:8] == ["s0", "s1", "s2", "s3", "s4", "s5", "s6", "h0"] and ctrl.n_neurons == 12
    p = random_params(ctrl, 4, seed=8)
    np.testing.assert_array_equal(p.w_in[:, :7], np.broadcast_to(np.eye(7), (4, 7, 7)))
    assert np.all(p.w_in[:, 7:] == 0.0) and np.all(p.w[:, :7] == 0.0)  # inputs reach the sensors only
    assert np.all(p.w[:, 7:10, :7] != 0.0) and np.all(p.w[:, 10:, :7] == 0.0)  # sensors -> interneurons
    assert np.all((p.tau[:, :7] >= 0.5) & (p.tau[:, :7] <= 3.0)) and np.all((p.tau[:, 7:] >= 1) & (p.tau[:, 7:] <= 2))
    assert (np.ptp(p.tau[:, :7], axis=1) == 0).all() == shared
    x = np.random.default_rng(9).uniform(0, 10, (4, 7))
    ys, _ = run(ctrl, p, np.repeat(x[:, None], 40, axis=1), 0.1)
    t = 0.1 * np.arange(1, 41)[:, None, None]
    np.testing.assert_allclose(ys[:, :, :7], x * (1 - np.exp(-t / p.tau[None, :, :7])), rtol=1e-12, atol=1e-12)


def test_per_group_ranges_and_the_euler_rule_name_the_setting() -> None:
    with pytest.raises(ConfigError, match=r"`sensor_tau_range` minimum 0.05 is below dt = 0.1.*exp_euler.*rk4"):
        make(sensor_neurons=True, sensor_tau_range=(0.05, 1.0))
    make(sensor_tau_range=(0.05, 1.0))  # without sensory neurons the range is unused
    fixed = make(sensor_neurons=True, sensor_tau_range=(1.5, 1.5), sensor_bias_range=(0.0, 0.0))
    p = random_params(fixed, 2, seed=1)
    assert np.all(p.tau[:, :7] == 1.5) and np.all(p.bias[:, :7] == 0.0)
    assert fixed.genome_size == make(sensor_neurons=True).genome_size - 2


def test_options_agree_with_solve_ivp() -> None:
    ctrl = make(n_in=3, hidden=3, topology="full", integrator="rk4", dt=0.01, sensor_neurons=True,
                initial_state="evolved", bias_mode="center_crossing", gain_range=(0.5, 2.0))
    p = random_params(ctrl, 3, seed=17)
    x = np.random.default_rng(18).uniform(-1, 1, (3, 3))
    state = ctrl.init_state(p)
    out = np.empty((3, 2))
    for _ in range(200):
        ctrl.step(p, state, x, 0.01, out)
    err = np.max(np.abs(state.y - reference(p, x, 2.0)))
    assert 1e-15 < err < 1e-8


# -- kernel layouts (issue 20): batch-minor below SOURCE_MAJOR_N neurons, source-major from there, the same bits
def ordered_step(integrator: str, p: CTRNNParams, b: int, y: list[float], o: list[float], x: list[float],
                 dt: float) -> None:
    """One step of network ``b`` in plain Python floats, every sum in order (inputs by k, then
    sources by j) with the kernels' operations: the bits the kernels must reproduce."""
    n, tau, bias, gain = len(y), p.tau[b].tolist(), p.bias[b].tolist(), p.gain[b].tolist()
    w, w_in = p.w[b].tolist(), p.w_in[b].tolist()

    def outs(ys: list[float]) -> list[float]:
        return [1.0 / (1.0 + math.exp(-gain[i] * (ys[i] + bias[i]))) for i in range(n)]

    def drive(os: list[float]) -> list[float]:
        acc = []
        for i in range(n):
            s = 0.0
            for k in range(len(x)):
                s += w_in[i][k] * x[k]
            for j in range(n):
                s += w[i][j] * os[j]
            acc.append(s)
        return acc

    if integrator == "euler":
        acc = drive(o)
        y[:] = [y[i] + dt / tau[i] * (acc[i] - y[i]) for i in range(n)]
    elif integrator == "exp_euler":
        acc = drive(o)
        y[:] = [acc[i] + (y[i] - acc[i]) * math.exp(-dt / tau[i]) for i in range(n)]
    else:
        rtau = [1.0 / t for t in tau]
        acc = drive(o)
        k = [(acc[i] - y[i]) * rtau[i] for i in range(n)]
        ksum = list(k)
        ys = [y[i] + 0.5 * dt * k[i] for i in range(n)]
        for stage in range(3):
            acc = drive(outs(ys))
            k = [(acc[i] - ys[i]) * rtau[i] for i in range(n)]
            ksum = [ksum[i] + (2.0 * k[i] if stage < 2 else k[i]) for i in range(n)]
            ys = [y[i] + (0.5 * dt if stage == 0 else dt) * k[i] for i in range(n)]
        y[:] = [y[i] + dt / 6.0 * ksum[i] for i in range(n)]
    o[:] = outs(y)


def target_major(p: CTRNNParams) -> CTRNNParams:
    return CTRNNParams(*(np.ascontiguousarray(a) for a in p))


@pytest.mark.parametrize("integrator", INTEGRATORS)
@pytest.mark.parametrize("topology", ["layered", "full"])
@pytest.mark.parametrize("hidden", [1, 5, 8, 48, 198])  # N = 3, 7, 10, 50, 200
def test_every_layout_steps_bit_for_bit_like_the_ordered_loop(integrator: str, topology: str, hidden: int) -> None:
    from evorobot.controllers._ctrnn_kernels import SOURCE_MAJOR_N

    ctrl = make(hidden=hidden, topology=topology, integrator=integrator, gain_range=(0.5, 3.0),
                tau_range=(0.5, 3.0) if integrator != "euler" else (0.1, 3.0), initial_state="evolved")
    n, b_n, steps = ctrl.n_neurons, 3, 4 if hidden > 100 else 12
    p = random_params(ctrl, b_n, seed=hidden)
    assert p.w.flags.f_contiguous == (n < SOURCE_MAJOR_N)  # batch-minor below it (B = 3: not also C)
    rng = np.random.default_rng(7)
    runs = [(p, ctrl.init_state(p)), (target_major(p), ctrl.init_state(p))]
    ref = [(p.y0[b].tolist(), runs[0][1].o[b].tolist()) for b in range(b_n)]
    out = np.empty((b_n, 2))
    for _ in range(steps):
        x = rng.uniform(-1, 10, (b_n, 7))
        for b in range(b_n):
            ordered_step(integrator, p, b, *ref[b], x[b].tolist(), 0.1)
        for params, state in runs:
            ctrl.step(params, state, x, 0.1, out)
            np.testing.assert_array_equal(state.y, [r[0] for r in ref])
            np.testing.assert_array_equal(state.o, [r[1] for r in ref])
            np.testing.assert_array_equal(out, state.o[:, hidden:])
    assert (runs[0][1].y != p.y0).all()  # every state moved


@pytest.mark.parametrize("integrator", INTEGRATORS)
@pytest.mark.parametrize("hidden", [48, 198])
def test_large_networks_alone_equal_the_batch(integrator: str, hidden: int) -> None:
    ctrl = make(hidden=hidden, topology="full", integrator=integrator)
    genomes = np.random.default_rng(hidden).uniform(-1, 1, (5, ctrl.genome_size))
    x = np.random.default_rng(3).uniform(0, 10, (6, 5, 7))
    batch = ctrl.decode(genomes)
    state, out = ctrl.init_state(batch), np.empty((5, 2))
    for t in range(6):
        ctrl.step(batch, state, x[t], 0.1, out)
    for b in (0, 4):
        alone = ctrl.decode(genomes[b:b + 1])
        s1, o1 = ctrl.init_state(alone), np.empty((1, 2))
        for t in range(6):
            ctrl.step(alone, s1, x[t, b:b + 1], 0.1, o1)
        np.testing.assert_array_equal(s1.y[0], state.y[b])
        np.testing.assert_array_equal(o1[0], out[b])
