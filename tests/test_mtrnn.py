"""MTRNN controller: groups, masks, Yamashita & Tani's discrete map, integrators, symmetry, isolation."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from evorobot import cli
from evorobot.config import experiment_from_dict, load_world
from evorobot.controllers import CONTROLLERS
from evorobot.controllers.ctrnn import CTRNNParams, CTRNNState
from evorobot.controllers.mtrnn import MTRNN, MTRNNSpec
from evorobot.errors import ConfigError
from evorobot.setup import build

from netutil import groups, random_params, reference, run

ROOT = Path(__file__).resolve().parent.parent
INTEGRATORS = ("euler", "rk4", "exp_euler")
SMALL_TAUS = {"io_tau_range": (0.5, 1.0), "fast_tau_range": (1.0, 3.0), "slow_tau_range": (4.0, 8.0)}


def make(n_in: int = 7, n_out: int = 2, dt: float = 0.1, **kw: object) -> MTRNN:
    return MTRNN(MTRNNSpec(**kw), n_in, n_out, dt)  # type: ignore[arg-type]


def test_groups_time_constants_and_gene_count() -> None:
    f, s, k, m = 6, 3, 7, 2
    ctrl = make(fast=f, slow=s)
    g = groups(ctrl)
    assert [len(g[x]) for x in ("s", "f", "sl", "m")] == [k, f, s, m] and ctrl.n_neurons == k + f + s + m
    assert ctrl.neurons[-2:] == ["m0", "m1"]
    p = random_params(ctrl, 3, seed=0)
    for name, tau in (("s", 2.0), ("m", 2.0), ("f", 5.0), ("sl", 70.0)):  # Yamashita & Tani's defaults
        assert np.all(p.tau[:, g[name]] == tau)
    n = k + f + s + m
    weights = f * k + f * m + m * f + f * f + 2 * f * s + s * s  # IO->fast, fast->motor, ff, fs, sf, ss
    assert ctrl.genome_size == n + weights  # biases + weights: fixed taus, gains and input weights take none
    evolvable = make(fast=f, slow=s, **SMALL_TAUS)
    assert evolvable.genome_size == ctrl.genome_size + n
    q = random_params(evolvable, 50, seed=1)
    assert np.all((q.tau[:, g["sl"]] >= 4.0) & (q.tau[:, g["sl"]] <= 8.0)) and np.ptp(q.tau[:, g["sl"]]) > 2


def test_masked_weights_are_absent_from_the_genome_and_have_no_effect() -> None:
    ctrl = make(fast=5, slow=3, gain_range=(0.5, 2.0))
    g = groups(ctrl)
    io = np.concatenate([g["s"], g["m"]])
    p = random_params(ctrl, 4, seed=3)
    w = p.w
    for a, b in ((io, g["sl"]), (g["sl"], io), (io, io), (g["s"], g["f"])):  # absent: exact zeros
        assert np.all(w[:, a[:, None], b[None, :]] == 0.0)
    for a, b in ((g["f"], io), (g["m"], g["f"]), (g["f"], g["f"]), (g["f"], g["sl"]), (g["sl"], g["f"]),
                 (g["sl"], g["sl"])):
        assert np.all(w[:, a[:, None], b[None, :]] != 0.0)
    # no gene can make an absent weight non-zero: every gene moves only present connections
    genomes = np.random.default_rng(4).uniform(-1, 1, (1, ctrl.genome_size))
    base = ctrl.decode(genomes).w
    moved = np.zeros(base.shape[1:], dtype=bool)
    for k in range(ctrl.genome_size):
        h = genomes.copy()
        h[0, k] = -h[0, k] - 0.1
        moved |= (ctrl.decode(h).w != base)[0]
    np.testing.assert_array_equal(moved, ctrl.wiring.w)
    # disturbing the slow units leaves the IO units' next states untouched (no IO <-> slow weights)
    a, b = ctrl.init_state(p), ctrl.init_state(p)
    rng = np.random.default_rng(5)
    b.y[:, g["sl"]] = rng.normal(0, 30, (4, 3))
    b.o[:, g["sl"]] = rng.uniform(0, 1, (4, 3))
    x, out = rng.uniform(0, 10, (4, 7)), np.empty((4, 2))
    ctrl.step(p, a, x, 0.1, out)
    ctrl.step(p, b, x, 0.1, out)
    np.testing.assert_array_equal(a.y[:, io], b.y[:, io])
    assert np.all(a.y[:, g["f"]] != b.y[:, g["f"]])  # ... but the fast units do feel them


def test_without_sensor_units_the_inputs_enter_the_motor_io_units() -> None:
    ctrl = make(fast=4, slow=2, sensor_neurons=False)
    assert ctrl.neurons[0] == "f0" and ctrl.n_neurons == 8
    p = random_params(ctrl, 2, seed=6)
    assert np.all(p.w_in[:, -2:] != 0.0) and np.all(p.w_in[:, :-2] == 0.0)


def test_euler_with_dt_1_is_yamashita_and_tanis_discrete_map() -> None:
    """u(t+1) = (1 - 1/tau) u(t) + (1/tau) (sum_j w_ij x_j(t) + b_i), x = sigma(g u): the paper's map."""
    ctrl = make(n_in=3, dt=1.0, fast=4, slow=2, gain_range=(0.5, 2.0))
    p = random_params(ctrl, 2, seed=7)
    xs = np.random.default_rng(8).uniform(0, 1, (2, 60, 3))
    ys, outs = run(ctrl, p, xs, 1.0)
    for b in range(2):
        tau, bias, gain = p.tau[b].tolist(), p.bias[b].tolist(), p.gain[b].tolist()
        w, w_in, n = p.w[b].tolist(), p.w_in[b].tolist(), ctrl.n_neurons
        u = list(bias)  # u = y + theta, y(0) = 0
        for t in range(60):
            x = [1.0 / (1.0 + math.exp(-gain[j] * u[j])) for j in range(n)]
            drive = [sum(w_in[i][k] * xs[b, t, k] for k in range(3)) + sum(w[i][j] * x[j] for j in range(n))
                     for i in range(n)]
            u = [(1 - 1 / tau[i]) * u[i] + (drive[i] + bias[i]) / tau[i] for i in range(n)]
            np.testing.assert_allclose(ys[t, b] + p.bias[b], u, rtol=0, atol=1e-11)
            motors = [1.0 / (1.0 + math.exp(-gain[i] * u[i])) for i in range(n - 2, n)]
            np.testing.assert_allclose(outs[t, b], motors, rtol=0, atol=1e-12)


def test_a_lone_slow_unit_decays_as_exp_minus_t_over_tau() -> None:
    ctrl = make(n_in=1, n_out=1, fast=1, slow=1, integrator="exp_euler")
    p = random_params(ctrl, 1, seed=9)
    p.w[:] = 0.0
    sl = groups(ctrl)["sl"][0]
    state = CTRNNState(np.zeros((1, ctrl.n_neurons)), np.full((1, ctrl.n_neurons), 0.5))
    state.y[0, sl] = 3.0
    out = np.empty((1, 1))
    for n in range(1, 501):
        ctrl.step(p, state, np.zeros((1, 1)), 0.1, out)
        assert state.y[0, sl] == pytest.approx(3.0 * math.exp(-n * 0.1 / 70.0), rel=1e-13)


@pytest.fixture(scope="module")
def ode_problem() -> tuple[CTRNNParams, np.ndarray, np.ndarray]:
    ctrl = make(n_in=3, fast=4, slow=2, initial_state="evolved", gain_range=(0.5, 2.0), **SMALL_TAUS)
    p = random_params(ctrl, 3, seed=10)
    x = np.random.default_rng(11).uniform(-1, 1, (3, 3))
    return p, x, reference(p, x, 2.0)


def integrate(integrator: str, p: CTRNNParams, x: np.ndarray, dt: float) -> np.ndarray:
    ctrl = make(n_in=3, dt=dt, fast=4, slow=2, integrator=integrator, initial_state="evolved",
                gain_range=(0.5, 2.0), **SMALL_TAUS)
    state, out = ctrl.init_state(p), np.empty((x.shape[0], 2))
    for _ in range(round(2.0 / dt)):
        ctrl.step(p, state, x, dt, out)
    return state.y


@pytest.mark.parametrize(("integrator", "dt", "tol"), [("rk4", 0.01, 1e-8), ("exp_euler", 0.002, 5e-3)])
def test_integrators_agree_with_solve_ivp(ode_problem, integrator: str, dt: float, tol: float) -> None:
    p, x, y_ref = ode_problem
    assert np.ptp(p.y0) > 1.0  # from an evolved initial state
    err = np.max(np.abs(integrate(integrator, p, x, dt) - y_ref))
    assert 1e-15 < err < tol


@pytest.mark.parametrize(("integrator", "order", "dts"), [
    ("euler", 1, [0.04, 0.02, 0.01]), ("exp_euler", 1, [0.04, 0.02, 0.01]), ("rk4", 4, [0.2, 0.1, 0.05]),
])
def test_measured_convergence_order(ode_problem, integrator: str, order: int, dts: list[float]) -> None:
    p, x, y_ref = ode_problem
    errs = [np.max(np.abs(integrate(integrator, p, x, dt) - y_ref)) for dt in dts]
    slope = np.polyfit(np.log(dts), np.log(errs), 1)[0]
    assert abs(slope - order) < 0.3, (errs, slope)


@pytest.mark.parametrize(("fast", "slow", "integrator", "sensors"),
                         [(5, 3, "euler", True), (4, 2, "rk4", True), (3, 1, "exp_euler", False)])
def test_symmetric_genomes_give_mirror_image_behaviour(fast: int, slow: int, integrator: str, sensors: bool) -> None:
    ctrl = make(fast=fast, slow=slow, integrator=integrator, symmetric=True, sensor_neurons=sensors,
                initial_state="evolved", gain_range=(0.5, 2.0), fast_tau_range=(1.0, 5.0))
    assert ctrl.genome_size < make(fast=fast, slow=slow, sensor_neurons=sensors, initial_state="evolved",
                                   gain_range=(0.5, 2.0), fast_tau_range=(1.0, 5.0)).genome_size
    p = random_params(ctrl, 3, seed=12)
    xs = np.random.default_rng(13).uniform(0, 5, (3, 300, 7))
    ys, outs = run(ctrl, p, xs, 0.1)
    ys_m, outs_m = run(ctrl, p, xs[:, :, ::-1], 0.1)
    perm = np.concatenate([idx[::-1] for idx in groups(ctrl).values()])
    np.testing.assert_allclose(outs_m, outs[:, :, ::-1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ys_m[:, :, perm], ys, rtol=0, atol=1e-12)
    assert np.max(np.abs(ys[:, :, perm] - ys)) > 0.1  # the inputs did break the symmetry


@pytest.mark.parametrize("integrator", INTEGRATORS)
def test_state_is_isolated_across_the_batch_and_across_trials(integrator: str) -> None:
    ctrl = make(fast=5, slow=2, integrator=integrator, initial_state="evolved", gain_range=(0.5, 3.0))
    g = groups(ctrl)
    rng = np.random.default_rng(14)
    genomes = rng.uniform(-1, 1, (33, ctrl.genome_size))
    xs = rng.uniform(0, 10, (33, 150, 7))
    p = ctrl.decode(genomes)
    others = np.setdiff1d(np.arange(ctrl.n_neurons), g["sl"])
    assert np.all(p.y0[:, others] == 0.0) and np.all(p.y0[:, g["sl"]] != 0.0)  # only the slow units evolve y0
    ys, outs = run(ctrl, p, xs, 0.1)
    i = 20
    ys1, outs1 = run(ctrl, ctrl.decode(genomes[i : i + 1]), xs[i : i + 1], 0.1)
    assert np.array_equal(ys1[:, 0], ys[:, i]) and np.array_equal(outs1[:, 0], outs[:, i])
    ys2, outs2 = run(ctrl, p, xs, 0.1)
    assert np.array_equal(ys2, ys) and np.array_equal(outs2, outs)
    for a, b in zip(p, ctrl.decode(genomes)):
        assert np.array_equal(a, b)


def test_euler_rule_names_the_group_and_the_alternatives() -> None:
    with pytest.raises(ConfigError, match=r"`slow_tau_range` minimum 0.05 is below dt = 0.1.*exp_euler.*rk4"):
        make(slow_tau_range=(0.05, 1.0))
    with pytest.raises(ConfigError, match=r"`io_tau_range` minimum 0.5 is below dt = 1.0"):
        make(dt=1.0, io_tau_range=(0.5, 0.5))
    make(slow_tau_range=(0.05, 1.0), integrator="exp_euler")
    make(dt=1.0)  # the paper's set-up: dt = 1, tau >= 2


@settings(max_examples=30, deadline=None)
@given(
    integrator=st.sampled_from(INTEGRATORS),
    fast=st.integers(1, 6), slow=st.integers(0, 3), n_in=st.integers(0, 8), n_out=st.integers(1, 3),
    sensors=st.booleans(), symmetric=st.booleans(), w_max=st.floats(0.1, 20.0), tau_lo=st.floats(0.01, 3.0),
    dt_frac=st.floats(0.01, 1.0), bias_mode=st.sampled_from(["evolved", "center_crossing"]),
    initial_state=st.sampled_from(["zero", "evolved"]), extreme=st.booleans(), seed=st.integers(0, 2**32 - 1),
)
def test_states_stay_finite(integrator, fast, slow, n_in, n_out, sensors, symmetric, w_max, tau_lo, dt_frac,
                            bias_mode, initial_state, extreme, seed) -> None:
    dt = tau_lo * {"euler": 1.0, "rk4": 2.785, "exp_euler": 50.0}[integrator] * dt_frac
    spec = MTRNNSpec(integrator=integrator, fast=fast, slow=slow, sensor_neurons=sensors, symmetric=symmetric,
                     weight_range=(-w_max, w_max), bias_range=(-w_max, w_max), gain_range=(0.1, 5.0),
                     io_tau_range=(tau_lo, 2 * tau_lo), fast_tau_range=(tau_lo, 5 * tau_lo),
                     slow_tau_range=(tau_lo, 70 * tau_lo), bias_mode=bias_mode, initial_state=initial_state,
                     initial_state_range=(-w_max, w_max))
    try:
        ctrl = MTRNN(spec, n_in, n_out, dt)
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


# -- the world file: an MTRNN on categorical perception, no code change -----------------------------

def test_the_mtrnn_world_differs_from_the_ctrnn_world_only_in_its_controller_table() -> None:
    worlds = ROOT / "worlds"
    ctrnn = tomllib.loads((worlds / "categorical_perception.toml").read_text())
    mtrnn = tomllib.loads((worlds / "categorical_perception_mtrnn.toml").read_text())
    assert mtrnn["controller"]["type"] == "mtrnn"
    ctrnn.pop("controller"), mtrnn.pop("controller")
    assert mtrnn == ctrnn
    setup = build(load_world(worlds / "categorical_perception_mtrnn.toml"))
    assert isinstance(setup.controller, MTRNN)


@pytest.mark.parametrize("name", sorted(CONTROLLERS))
def test_every_network_runs_the_task_by_changing_only_the_controller_table(name: str) -> None:
    world = ROOT / "worlds" / "categorical_perception.toml"
    raw = tomllib.loads(world.read_text())
    raw["controller"] = {"type": name}
    setup = build(experiment_from_dict(raw, "cp.toml", world.parent))
    assert setup.controller.name == name


def test_an_mtrnn_evolves_and_replays_from_the_world_file(tmp_path: Path, capsys) -> None:
    world = ROOT / "worlds" / "categorical_perception_mtrnn.toml"
    out = tmp_path / "run"
    args = ["evolve", str(world), "--generations", "2", "--population", "6", "--out", str(out),
            "--set", "task.offsets=2", "--set", "controller.fast=3"]
    assert cli.main(args) == 0
    assert cli.main(["replay", str(out / "champion.json")]) == 0
    assert "identical bit for bit" in capsys.readouterr().out
