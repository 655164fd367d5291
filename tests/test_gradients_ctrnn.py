"""Gradients of the CTRNN family (ctrnn.py, _ctrnn_kernels.py; mtrnn, hierarchical) and the adjoint trainer.

Checked against a reference written here in plain numpy (the ODE ``tau dy/dt = -y + W o(y) + W_in
x``, ``o = sigma(g (y + theta))``, stepped by forward Euler, classic RK4 and exponential Euler as
the textbook writes them): the kernels' loss equals it, and central finite differences of it agree
with the gradient of every parameter class (time constants, biases, gains, weights, input
weights, initial states) to 1e-6 relative, for both losses, for the CTRNN (full and layered,
sensory neurons, symmetric), the MTRNN and the hierarchical net; the loss equals the episode's;
truncation with a window as long as the sequence equals full BPTT, and a shorter one is the exact
gradient of Williams & Peng's cut loss. Pearlmutter's (1989) continuous adjoint: its loss is the
reference's at the fine step; the discrete gradients converge to it as dt halves, at first order
under Euler (error ratio 2 per halving) and at fourth order under RK4 (ratio 16). Then the
trainers: BPTT and the adjoint reduce the loss of Tomita 1, and refusals are one line.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from test_bptt import central_differences, ref_loss

from evorobot.config import experiment_from_dict
from evorobot.controllers.ctrnn import CTRNN, CTRNNSpec
from evorobot.controllers.hierarchical import Hierarchical, HierarchicalSpec
from evorobot.controllers.mtrnn import MTRNN, MTRNNSpec
from evorobot.episode import Episode
from evorobot.errors import ConfigError
from evorobot.setup import Setup, build
from evorobot.spec import parse
from evorobot.training import TRAINERS

WHERE = "w.toml [optimizer]"


def sig(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


def field(p: Any, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    tau, bias, gain, w, w_in = (a[0] for a in p[:5])
    return (w @ sig(gain * (y + bias)) + w_in @ x - y) / tau


def ref_step(p: Any, x: np.ndarray, y: np.ndarray, dt: float, integrator: str) -> np.ndarray:
    if integrator == "euler":
        return y + dt * field(p, x, y)
    if integrator == "rk4":
        k1 = field(p, x, y)
        k2 = field(p, x, y + dt / 2 * k1)
        k3 = field(p, x, y + dt / 2 * k2)
        k4 = field(p, x, y + dt * k3)
        return y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    tau, bias, gain, w, w_in = (a[0] for a in p[:5])
    drive = w @ sig(gain * (y + bias)) + w_in @ x
    return drive + (y - drive) * np.exp(-dt / tau)


def ref_total(p: Any, x, y, w, lengths, loss: int, dt: float, integrator: str, first: int,
              cut: tuple[int, int, np.ndarray] | None = None) -> float:
    """Loss over the sequences; ``cut = (window, stride, states)``: Williams & Peng's cut loss, each
    block's ticks run from the recorded state ``window`` ticks before the block's end, held fixed."""
    total, n_o = 0.0, y.shape[2]
    for r in range(x.shape[0]):
        blocks = [(0, lengths[r] - 1, 0)]
        if cut is not None:
            window, stride, states = cut
            blocks = [(s, min(s + stride, lengths[r]) - 1, max(0, min(s + stride, lengths[r]) - window))
                      for s in range(0, lengths[r], stride)]
        for start, end, lo in blocks:
            state = p.y0[0].copy() if lo == 0 else states[r, lo - 1]
            for t in range(lo, end + 1):
                state = ref_step(p, x[r, t], state, dt, integrator)
                if t >= start:
                    o = sig(p.gain[0] * (state + p.bias[0]))[first:first + n_o]
                    total += ref_loss(o, y[r, t], w[r, t], loss)
    return total


def data(seed: int = 0, n_in: int = 2, n_out: int = 2, t: int = 11) -> tuple[np.ndarray, ...]:
    """Three padded sequences of lengths t, t - 3, t - 6 with random score weights (zero after the end)."""
    rng = np.random.default_rng(seed)
    lengths = np.array([t, t - 3, t - 6])
    x = rng.uniform(-1, 1, (3, t, n_in))
    y = rng.integers(0, 2, (3, t, n_out)).astype(float)
    w = rng.uniform(0, 1, (3, t)) * (np.arange(t)[None, :] < lengths[:, None])
    return x, y, w, lengths


FREE = {"tau_range": (1.0, 3.0), "gain_range": (0.5, 2.0), "initial_state": "evolved"}
NETS = {
    "ctrnn_full_euler": lambda: CTRNN(CTRNNSpec(hidden=3, topology="full", **FREE), 2, 2, 0.5),
    "ctrnn_layered_rk4": lambda: CTRNN(CTRNNSpec(hidden=3, integrator="rk4", **FREE), 2, 2, 0.7),
    "ctrnn_exp_euler": lambda: CTRNN(CTRNNSpec(hidden=2, integrator="exp_euler", topology="full", **FREE), 2, 2, 1.0),
    "ctrnn_sensor_symmetric": lambda: CTRNN(CTRNNSpec(hidden=2, sensor_neurons=True, symmetric=True,
                                                      sensor_gain_range=(0.5, 2.0), **FREE), 2, 2, 0.5),
    "mtrnn_euler": lambda: MTRNN(MTRNNSpec(fast=3, slow=2, io_tau_range=(1.0, 2.0), fast_tau_range=(2.0, 4.0),
                                           slow_tau_range=(10.0, 20.0), gain_range=(0.5, 2.0),
                                           initial_state="evolved"), 2, 2, 1.0),
    "mtrnn_rk4_no_sensors": lambda: MTRNN(MTRNNSpec(fast=3, slow=2, sensor_neurons=False, integrator="rk4",
                                                    initial_state="evolved"), 2, 2, 1.0),
    "hierarchical_rk4": lambda: Hierarchical(HierarchicalSpec(lower=2, bottleneck=1, upper=2, integrator="rk4",
                                                              initial_state="evolved"), 2, 2, 0.5),
}


def params_of(ctrl: Any, seed: int = 1, scale: float = 0.6) -> Any:
    return ctrl.decode(np.random.default_rng(seed).uniform(-scale, scale, (1, ctrl.genome_size)))


def reference(ctrl: Any) -> Any:
    return lambda q, x, y, w, lengths, loss, cut=None: ref_total(q, x, y, w, lengths, loss, ctrl.dt,
                                                                   ctrl.spec.integrator, ctrl._first_out, cut)


@pytest.mark.parametrize("loss", [0, 1], ids=["squared", "cross_entropy"])
@pytest.mark.parametrize("net", sorted(NETS))
def test_gradient_of_every_parameter_class_matches_central_differences(net: str, loss: int) -> None:
    ctrl = NETS[net]()
    p, (x, y, w, lengths) = params_of(ctrl), data()
    f = reference(ctrl)
    total, grads = ctrl.gradient_model("w").bptt(p, x, y, w, lengths, loss, x.shape[1], x.shape[1])
    assert total == pytest.approx(f(p, x, y, w, lengths, loss), rel=1e-12)
    for name in p._fields:
        fd = central_differences(lambda q: f(q, x, y, w, lengths, loss), p, name)
        assert np.linalg.norm(getattr(grads, name) - fd) <= 1e-6 * np.linalg.norm(fd), name
        assert np.linalg.norm(fd) > 1e-3, name  # a real gradient, not two zeros


@pytest.mark.parametrize("net", ["ctrnn_full_euler", "ctrnn_layered_rk4", "mtrnn_euler"])
def test_truncation_full_window_is_bptt_and_a_short_one_the_cut_losss_gradient(net: str) -> None:
    ctrl = NETS[net]()
    p, (x, y, w, lengths) = params_of(ctrl, 3), data(3)
    t = x.shape[1]
    model = ctrl.gradient_model("w")
    full = model.bptt(p, x, y, w, lengths, 0, t, t)
    for stride in (1, 3, t):
        loss, grads = model.bptt(p, x, y, w, lengths, 0, t, stride)
        assert loss == full[0]
        for a, b in zip(grads, full[1], strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    states = np.zeros((x.shape[0], t, p.tau.shape[1]))  # the recorded states, held fixed by the cut
    for r in range(x.shape[0]):
        s = p.y0[0].copy()
        for k in range(lengths[r]):
            s = states[r, k] = ref_step(p, x[r, k], s, ctrl.dt, ctrl.spec.integrator)
    f = reference(ctrl)
    window, stride = 4, 2
    _, cut = model.bptt(p, x, y, w, lengths, 0, window, stride)
    for name in p._fields:
        fd = central_differences(lambda q: f(q, x, y, w, lengths, 0, (window, stride, states)), p, name)
        assert np.linalg.norm(getattr(cut, name) - fd) <= 1e-6 * np.linalg.norm(fd), name
    assert not np.allclose(cut.w, full[1].w, rtol=1e-3)


def world(controller: dict[str, Any], **optimizer: Any) -> dict[str, Any]:
    return {"experiment": {"seed": 3}, "simulation": {"dt": 1.0},
            "task": {"type": "temporal_xor", "train_sequences": 8, "test_sequences": 2, "triples": 30},
            "controller": {"type": "ctrnn", "hidden": 4, "tau_range": [1.0, 2.0], **controller},
            "optimizer": {"type": "bptt", "epochs": 12, "batch": 2, "learning_rate": 0.05, **optimizer}}


def setup_of(raw: dict[str, Any]) -> Setup:
    return build(experiment_from_dict(json.loads(json.dumps(raw)), "w.toml"))


def trainer(raw: dict[str, Any]) -> Any:
    cls = TRAINERS[raw["optimizer"]["type"]]
    spec = parse(cls.Spec, {k: v for k, v in raw["optimizer"].items() if k != "type"}, WHERE)
    return cls(spec, setup_of(raw), WHERE)


@pytest.mark.parametrize("integrator", ["euler", "rk4"])
def test_the_kernels_loss_is_the_episodes_squared_error(integrator: str) -> None:
    setup = setup_of(world({"integrator": integrator, "initial_state": "evolved"}))
    genome = np.random.default_rng(0).uniform(-0.5, 0.5, setup.genome_size)
    d, rows = setup.task.data, slice(0, setup.task.n_train)
    loss, _ = setup.controller.gradient_model("w").bptt(setup.controller.decode(genome[None]), d.inputs[rows],
                                                        d.targets[rows], d.weights[rows], d.lengths[rows], 0, 1, 1)
    fitness = Episode(setup, genome[None], setup.task.conditions(np.random.default_rng(0))).run().fitness[0]
    assert 1.0 - np.mean(fitness) == pytest.approx(loss / d.weights[rows].sum(), rel=1e-12)


def upsampled(x, y, w, lengths, m: int) -> tuple[np.ndarray, ...]:
    """The same continuous-time problem at dt / m: each input held for m steps, scored at the old ticks' ends."""
    wm = np.zeros((w.shape[0], w.shape[1] * m))
    wm[:, m - 1::m] = w
    return np.repeat(x, m, axis=1), np.repeat(y, m, axis=1), wm, lengths * m


def flat(grads: Any) -> np.ndarray:
    return np.concatenate([a.ravel() for a in grads])


ODE = {"hidden": 3, "topology": "full", **FREE}


def test_the_adjoints_loss_is_the_odes_at_the_fine_step() -> None:
    ctrl = CTRNN(CTRNNSpec(**ODE), 2, 2, 1.0)
    p, (x, y, w, lengths) = params_of(ctrl), data(5, t=6)
    total, _ = ctrl.adjoint_gradient(p, x, y, w, lengths, 0, 8)
    fine = ref_total(p, *upsampled(x, y, w, lengths, 8), 0, 1.0 / 8, "rk4", ctrl._first_out)
    assert total == pytest.approx(fine, rel=1e-12)


@pytest.mark.parametrize(("integrator", "order", "steps"), [("euler", 2.0, (4, 8, 16, 32)), ("rk4", 16.0, (1, 2, 4, 8))])
def test_discrete_gradients_converge_to_the_continuous_adjoint_at_their_order(integrator: str, order: float,
                                                                            steps: tuple[int, ...]) -> None:
    """Pearlmutter's costate at 64 RK4 steps a tick is the ODE's gradient (to ~1e-9); the gradient
    through the integrator's steps at dt = 1/m approaches it: error ratio 2 per halving under Euler
    (first order), 16 under RK4."""
    ctrl = CTRNN(CTRNNSpec(**ODE), 2, 2, 1.0)
    p, (x, y, w, lengths) = params_of(ctrl, 2), data(2, t=6)
    _, exact = ctrl.adjoint_gradient(p, x, y, w, lengths, 0, 64)
    assert np.linalg.norm(flat(ctrl.adjoint_gradient(p, x, y, w, lengths, 0, 32)[1]) - flat(exact)) \
        <= 1e-6 * np.linalg.norm(flat(exact))  # converged in its own step
    errors = []
    for m in steps:
        fine = CTRNN(CTRNNSpec(**ODE, integrator=integrator), 2, 2, 1.0 / m)
        _, g = fine.gradient_model("w").bptt(p, *upsampled(x, y, w, lengths, m), 0, 6 * m, 6 * m)
        errors.append(np.linalg.norm(flat(g) - flat(exact)) / np.linalg.norm(flat(exact)))
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all(np.abs(ratios / order - 1.0) < (0.1 if order == 2.0 else 0.35)), ratios
    assert ratios[-1] == pytest.approx(order, rel=0.12)


@pytest.mark.parametrize("optimizer", ["bptt", "adjoint"])
def test_a_short_run_reduces_the_loss_deterministically(optimizer: str) -> None:
    raw = world({"integrator": "rk4", "hidden": 6}, type=optimizer, epochs=10, batch=4,
                **({"substeps": 2} if optimizer == "adjoint" else {}))
    # Tomita 1 (1*), read at the end marker: the layered net's one-tick lag per layer is harmless there
    raw["task"] = {"type": "tomita", "grammar": 1, "train_strings": 40, "test_strings": 10}
    first = list(trainer(raw).epochs())
    again = list(trainer(raw).epochs())
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.genome, b.genome)
        assert a.loss == b.loss
    assert first[-1].loss < 0.2 * first[0].loss


@pytest.mark.parametrize(("raw", "words"), [
    (world({"bias_mode": "center_crossing"}), 'needs bias_mode = "evolved"'),
    ({**world({}, type="adjoint"), "controller": {"type": "elman", "hidden": 3}}, "needs a continuous-time network"),
    (world({}, type="rtrl"), "has no RTRL"),
    (world({}, type="adjoint", substeps=0), "substeps"),
])
def test_bad_set_ups_are_refused_in_one_line_naming_the_optimizer_table(raw: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError) as err:
        trainer(raw)
    assert str(err.value).startswith(WHERE) and words in str(err.value) and "\n" not in str(err.value)
