"""Gradients of the bidirectional (offline) and cascaded networks (brnn.py, cascaded.py, contract item 14),
and the plain-numpy BPTT of ``evorobot bench`` (evorobot/bench/gradient.py).

Checked against references written here in plain numpy: each network's loss over padded
sequences (its forward pass written out: the BRNN's two chains over the whole sequence, the
backward one starting at the sequence's own last element; Pollack's bilinear state update from
the fixed initial state), whose central finite differences must agree with the kernel's gradient
of every parameter class to 1e-6 relative, for both losses; truncated BPTT of the cascaded net
with a window as long as the sequence equals full BPTT, and BPTT(h; h') is the gradient of
Williams & Peng's (1990) cut loss; the offline BRNN refuses truncation (and the window mode any
gradient) in one line, also through the trainer; short runs of the trainer (Tomita by the cascaded
net, framewise labelling by the offline BRNN) reduce the loss;
the bench's numpy backward pass equals the Elman kernel's gradient to 1e-10.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from test_bptt import (
    act,
    assert_matches_differences,
    central_differences,
    data,
    params_of,
    ref_loss,
    trainer,
)

from evorobot.controllers.brnn import BRNN, BRNNSpec
from evorobot.controllers.cascaded import Cascaded, CascadedSpec
from evorobot.errors import ConfigError

WHERE = "w.toml [optimizer]"


def sig(a: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-a))


def brnn_loss(p: Any, x, y, w, lengths, loss: int, kind: str = "tanh") -> float:
    """Schuster & Paliwal's network over each whole sequence, plain numpy."""
    w_in_f, w_rec_f, b_f, w_in_b, w_rec_b, b_b, w_out_f, w_out_b, b_o = (a[0] for a in p)
    total = 0.0
    for r in range(x.shape[0]):
        n = lengths[r]
        f, g = np.zeros((n, b_f.size)), np.zeros((n, b_b.size))
        for t in range(n):
            f[t] = act(b_f + w_in_f @ x[r, t] + w_rec_f @ (f[t - 1] if t else 0 * b_f), kind)
        for t in range(n - 1, -1, -1):
            g[t] = act(b_b + w_in_b @ x[r, t] + w_rec_b @ (g[t + 1] if t < n - 1 else 0 * b_b), kind)
        for t in range(n):
            total += ref_loss(sig(b_o + w_out_f @ f[t] + w_out_b @ g[t]), y[r, t], w[r, t], loss)
    return total


def cascaded_step(p: Any, x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pollack's update written as the bilinear form: z_i = g(sum_jk w_ijk yb_j zb_k)."""
    wt = p[0][0]
    z = sig(np.einsum("ijk,j,k->i", wt, np.append(x, 1.0), np.append(z, 1.0)))
    return z, z[:2]


def cascaded_loss(p: Any, x, y, w, lengths, loss: int, z0: float = 0.5) -> float:
    total = 0.0
    for r in range(x.shape[0]):
        z = np.full(p[0].shape[1], z0)
        for t in range(lengths[r]):
            z, o = cascaded_step(p, x[r, t], z)
            total += ref_loss(o, y[r, t], w[r, t], loss)
    return total


NETS = {
    "brnn_tanh": (lambda: BRNN(BRNNSpec(forward=3, backward=4, mode="offline"), 2, 2, 1.0),
                  lambda p, *a: brnn_loss(p, *a, kind="tanh")),
    "brnn_sigmoid": (lambda: BRNN(BRNNSpec(forward=2, backward=3, mode="offline", activation="sigmoid"), 2, 2, 1.0),
                     lambda p, *a: brnn_loss(p, *a, kind="sigmoid")),
    "cascaded": (lambda: Cascaded(CascadedSpec(hidden=2), 2, 2, 1.0), cascaded_loss),
    "cascaded_z0": (lambda: Cascaded(CascadedSpec(hidden=1, initial_state=0.2), 2, 2, 1.0),
                    lambda p, *a: cascaded_loss(p, *a, z0=0.2)),
}


@pytest.mark.parametrize("loss", [0, 1], ids=["squared", "cross_entropy"])
@pytest.mark.parametrize("net", sorted(NETS))
def test_bptt_gradient_of_every_parameter_class_matches_central_differences(net: str, loss: int) -> None:
    make, reference = NETS[net]
    ctrl = make()
    p = params_of(ctrl)
    x, y, w, lengths = data()
    t = x.shape[1]
    total, grads = ctrl.gradient_model("w").bptt(p, x, y, w, lengths, loss, t, t)
    assert total == pytest.approx(reference(p, x, y, w, lengths, loss), rel=1e-12)
    assert_matches_differences(lambda q: reference(q, x, y, w, lengths, loss), p, grads)


@pytest.mark.parametrize("net", ["brnn_tanh", "cascaded"])
def test_the_kernels_loss_is_the_controllers_own_forward_pass(net: str) -> None:
    """The gradient kernel's loss is that of the outputs the controller emits tick by tick."""
    ctrl = NETS[net][0]()
    x, y, w, lengths = data(2)
    p1 = params_of(ctrl, 4)
    n = x.shape[0]
    params = type(p1)(*(np.repeat(a, n, axis=0) for a in p1))
    state = ctrl.init_state(params)
    if ctrl.offline:
        state = ctrl.begin_sequences(params, state, x, lengths)
    out, total = np.empty((n, 2)), 0.0
    for t in range(x.shape[1]):
        ctrl.step(params, state, np.ascontiguousarray(x[:, t]), 1.0, out)
        total += sum(ref_loss(out[r], y[r, t], w[r, t], 0) for r in range(n) if t < lengths[r])
    loss, _ = ctrl.gradient_model("w").bptt(p1, x, y, w, lengths, 0, x.shape[1], x.shape[1])
    assert loss == pytest.approx(total, rel=1e-13)


def test_cascaded_truncated_bptt_with_a_full_window_is_full_bptt() -> None:
    ctrl = NETS["cascaded"][0]()
    p, (x, y, w, lengths) = params_of(ctrl), data(3)
    t = x.shape[1]
    model = ctrl.gradient_model("w")
    full = model.bptt(p, x, y, w, lengths, 0, t, t)
    for stride in (1, 3, t):
        loss, grads = model.bptt(p, x, y, w, lengths, 0, t, stride)
        assert loss == full[0]
        np.testing.assert_allclose(grads.w, full[1].w, rtol=1e-12, atol=1e-14)
    short = model.bptt(p, x, y, w, lengths, 0, 2, 2)[1]
    assert not np.allclose(short.w, full[1].w, rtol=1e-3)


@pytest.mark.parametrize(("window", "stride"), [(4, 4), (5, 2), (3, 1), (1, 1)])
def test_cascaded_truncated_bptt_is_the_gradient_of_williams_and_pengs_cut_loss(window: int, stride: int) -> None:
    """BPTT(h; h') by definition: each block of h' ticks ending at e computed from the state of
    tick e - h held fixed (recorded with the unperturbed parameters; z0 before the sequence)."""
    ctrl = NETS["cascaded"][0]()
    p, (x, y, w, lengths) = params_of(ctrl, 7, 0.8), data(7)
    n_units = p.w.shape[1]
    states = np.zeros((x.shape[0], x.shape[1], n_units))
    for r in range(x.shape[0]):
        z = np.full(n_units, 0.5)
        for t in range(lengths[r]):
            z, _ = cascaded_step(p, x[r, t], z)
            states[r, t] = z

    def cut(q: Any) -> float:
        total = 0.0
        for r in range(x.shape[0]):
            start = 0
            while start < lengths[r]:
                end = min(start + stride, lengths[r]) - 1
                first = max(0, end - window + 1)
                z = states[r, first - 1] if first > 0 else np.full(n_units, 0.5)
                for t in range(first, end + 1):
                    z, o = cascaded_step(q, x[r, t], z)
                    if t >= start:
                        total += ref_loss(o, y[r, t], w[r, t], 0)
                start = end + 1
        return total

    _, grads = ctrl.gradient_model("w").bptt(p, x, y, w, lengths, 0, window, stride)
    fd = central_differences(cut, p, "w")
    assert np.linalg.norm(grads.w - fd) <= 1e-6 * np.linalg.norm(fd)


def test_offline_brnn_refuses_truncation_and_the_window_mode_has_no_gradient() -> None:
    ctrl = NETS["brnn_tanh"][0]()
    p, (x, y, w, lengths) = params_of(ctrl), data()
    model = ctrl.gradient_model(WHERE)
    assert model.rtrl is None and model.units == 7
    with pytest.raises(ConfigError) as err:
        model.bptt(p, x, y, w, lengths, 0, 5, 5)
    assert str(err.value).startswith(WHERE + ": ") and "\n" not in str(err.value) and "truncat" in str(err.value)
    with pytest.raises(ConfigError) as err:
        BRNN(BRNNSpec(), 2, 2, 1.0).gradient_model(WHERE)
    assert str(err.value).startswith(WHERE + ": ") and "offline" in str(err.value)


def tomita_world(**optimizer: Any) -> dict[str, Any]:
    return {"experiment": {"seed": 2}, "simulation": {"dt": 1.0},
            "task": {"type": "tomita", "grammar": 4, "train_strings": 100, "test_strings": 20},
            "controller": {"type": "cascaded", "hidden": 3},
            "optimizer": {"type": "bptt", "epochs": 20, "batch": 8, "learning_rate": 0.1, "loss": "cross_entropy",
                          **optimizer}}


def test_a_short_tomita_run_of_the_cascaded_net_reduces_the_loss_deterministically() -> None:
    first = list(trainer(tomita_world()).epochs())
    again = list(trainer(tomita_world()).epochs())
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.genome, b.genome)
    assert first[-1].loss < 0.1 * first[0].loss  # cross-entropy; about ln 2 at the start


def test_the_bench_numpy_bptt_is_the_elman_kernels_gradient() -> None:
    from evorobot.bench.gradient import elman_problem, numpy_bptt

    ctrl, params, x, y, w, lengths = elman_problem(hidden=6, length=30, sequences=4, seed=3)
    t = x.shape[1]
    loss, grads = ctrl.gradient_model("w").bptt(params, x, y, w, lengths, 0, t, t)
    ref_total, ref = numpy_bptt(params, x, y, w)
    assert ref_total == pytest.approx(loss, rel=1e-10)
    for name in params._fields:
        a, b = getattr(grads, name)[0], ref[name]
        assert np.max(np.abs(a - b)) <= 1e-10 * max(1.0, np.max(np.abs(a))), name
        assert np.max(np.abs(a)) > 1e-3, name


def framewise_world(**optimizer: Any) -> dict[str, Any]:
    return {"experiment": {"seed": 1}, "simulation": {"dt": 1.0},
            "task": {"type": "framewise", "frames": 40, "train_sequences": 6, "test_sequences": 2, "delay": 0},
            "controller": {"type": "brnn", "mode": "offline", "forward": 3, "backward": 3},
            "optimizer": {"type": "bptt", "epochs": 25, "batch": 2, "learning_rate": 0.05, "loss": "cross_entropy",
                          **optimizer}}


def test_the_trainer_trains_the_offline_brnn_and_refuses_its_truncation_in_one_line() -> None:
    epochs = list(trainer(framewise_world()).epochs())
    assert epochs[-1].loss < 0.6 * epochs[0].loss  # cross-entropy: ln 2 = 0.69 at the start
    with pytest.raises(ConfigError) as err:
        next(trainer(framewise_world(truncation=5)).epochs())
    message = str(err.value)
    assert message.startswith(WHERE + ": ") and "\n" not in message and "truncation = 5" in message
