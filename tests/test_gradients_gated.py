"""Gradients of the LSTM, NARX and Jordan networks (contract item 14; lstm.py, narx.py, jordan.py).

Checked against references written here in plain numpy: each network's loss over padded
sequences (its forward pass written out from the papers' equations, as the module docstrings give
them), whose central finite differences must agree with the kernels' BPTT gradient of every
parameter class to 1e-6 relative, for both losses; truncated BPTT with a window as long as the
sequence equals full BPTT (and a short window differs); BPTT(h; h') is the exact gradient of
Williams & Peng's (1990) cut loss (each block's ticks computed from the state h ticks before the
block's end held fixed), by central differences of that loss; the kernels' loss is the
episode's; the kernels leave the forward pass as it was (a run by ``step`` gives the outputs the
gradient kernel scores); ``LSTM.hidden_errors`` is dL/dh(t) by central differences; a short BPTT
run of an LSTM on the adding problem reduces its loss, deterministically; a BPTT-trained network
of each type replays bit for bit through ``evorobot replay``; RTRL is refused in one line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_bptt import (
    WHERE,
    act,
    assert_matches_differences,
    central_differences,
    data,
    params_of,
    ref_loss,
    setup_of,
    trainer,
)

from evorobot.cli import main
from evorobot.controllers.jordan import Jordan, JordanSpec
from evorobot.controllers.lstm import LSTM, LSTMSpec
from evorobot.controllers.narx import NARX, NARXSpec
from evorobot.errors import ConfigError
from evorobot.training.run import train


def sig(a: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-a))


# --- plain-numpy steps: (params, x(t), state) -> (state, outputs) ------------------------------


def lstm_init(p: Any) -> tuple[np.ndarray, ...]:
    c = p.bias.shape[2]
    return np.zeros(c), np.zeros(c)


def lstm_step(p: Any, x: np.ndarray, state: tuple[np.ndarray, ...]) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Hochreiter & Schmidhuber (1997) with Gers et al.'s (2000) forget gate, one cell per block."""
    w, bias, w_out, b_out = (a[0] for a in p)
    c, h = state
    zz = np.concatenate([x, h])
    i, f, o = (sig(bias[q] + w[q] @ zz) for q in range(3))
    g = np.tanh(bias[3] + w[3] @ zz)
    c = f * c + i * g
    h = o * np.tanh(c)
    return (c, h), sig(b_out + w_out @ h)


def jordan_step_of(decay: float, kind: str) -> Any:
    def step(p: Any, x: np.ndarray, state: tuple[np.ndarray, ...]) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
        w_in, w_rec, b_h, w_out, b_o = (a[0] for a in p)
        c, y = state
        c = decay * c + y
        h = act(b_h + w_in @ x + w_rec @ c, kind)
        y = sig(b_o + w_out @ h)
        return (c, y), y
    return step


def jordan_init(p: Any) -> tuple[np.ndarray, ...]:
    n_o = p.b_o.shape[1]
    return np.zeros(n_o), np.zeros(n_o)


def narx_step_of(n_u: int, n_y: int, kind: str) -> Any:
    def step(p: Any, x: np.ndarray, state: tuple[np.ndarray, ...]) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
        """u(t) = [x(t), ..., x(t - n_u)], v(t) = [y(t - 1), ..., y(t - n_y)], newest first."""
        w_in, w_rec, b_h, w_out, b_o = (a[0] for a in p)
        xs, ys = state  # past inputs (n_u, n_in) and outputs (n_y, n_out), newest first
        u = np.concatenate([x[None], xs]).ravel()
        h = act(b_h + w_in @ u + w_rec @ ys.ravel(), kind)
        y = sig(b_o + w_out @ h)
        return (np.concatenate([x[None], xs])[:n_u], np.concatenate([y[None], ys])[:n_y]), y
    return step


def narx_init_of(n_u: int, n_y: int, n_in: int, n_out: int) -> Any:
    return lambda p: (np.zeros((n_u, n_in)), np.zeros((n_y, n_out)))


def sequence_loss(step: Any, init: Any, p: Any, x, y, w, lengths, loss: int) -> float:
    total = 0.0
    for r in range(x.shape[0]):
        s = init(p)
        for t in range(lengths[r]):
            s, o = step(p, x[r, t], s)
            total += ref_loss(o, y[r, t], w[r, t], loss)
    return total


NETS = {
    "lstm": (lambda: LSTM(LSTMSpec(cells=3), 2, 2, 1.0), lstm_step, lstm_init),
    "jordan_tanh": (lambda: Jordan(JordanSpec(hidden=3, decay=0.6), 2, 2, 1.0), jordan_step_of(0.6, "tanh"),
                    jordan_init),
    "jordan_sigmoid": (lambda: Jordan(JordanSpec(hidden=3, decay=0.0, activation="sigmoid"), 2, 2, 1.0),
                       jordan_step_of(0.0, "sigmoid"), jordan_init),
    "narx_tanh": (lambda: NARX(NARXSpec(hidden=3, input_delays=2, output_delays=3), 2, 2, 1.0),
                  narx_step_of(2, 3, "tanh"), narx_init_of(2, 3, 2, 2)),
    "narx_sigmoid": (lambda: NARX(NARXSpec(hidden=3, input_delays=0, output_delays=1, activation="sigmoid"), 2, 2,
                                  1.0), narx_step_of(0, 1, "sigmoid"), narx_init_of(0, 1, 2, 2)),
}


def reference_of(net: str, loss: int) -> Any:
    _, step, init = NETS[net]
    return lambda p, x, y, w, lengths: sequence_loss(step, init, p, x, y, w, lengths, loss)


@pytest.mark.parametrize("loss", [0, 1], ids=["squared", "cross_entropy"])
@pytest.mark.parametrize("net", sorted(NETS))
def test_bptt_gradient_of_every_parameter_class_matches_central_differences(net: str, loss: int) -> None:
    ctrl = NETS[net][0]()
    p = params_of(ctrl, 1, 0.6)
    x, y, w, lengths = data()
    t = x.shape[1]
    reference = reference_of(net, loss)
    total, grads = ctrl.gradient_model("w").bptt(p, x, y, w, lengths, loss, t, t)
    assert total == pytest.approx(reference(p, x, y, w, lengths), rel=1e-12)
    assert_matches_differences(lambda q: reference(q, x, y, w, lengths), p, grads)


@pytest.mark.parametrize("net", sorted(NETS))
def test_truncated_bptt_with_a_window_as_long_as_the_sequence_is_full_bptt(net: str) -> None:
    ctrl = NETS[net][0]()
    p, (x, y, w, lengths) = params_of(ctrl, 2, 0.8), data(3)
    t = x.shape[1]
    model = ctrl.gradient_model("w")
    assert model.rtrl is None
    full = model.bptt(p, x, y, w, lengths, 0, t, t)
    for stride in (1, 3, t):  # BPTT(T; h'): every block's errors reach the first tick
        loss, grads = model.bptt(p, x, y, w, lengths, 0, t, stride)
        assert loss == full[0]
        for a, b in zip(grads, full[1], strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    short = model.bptt(p, x, y, w, lengths, 0, 2, 2)[1]  # a short window does cut the gradient
    assert not np.allclose(short[1], full[1][1], rtol=1e-3)


def truncated_reference(step: Any, init: Any, p: Any, x, y, w, lengths, window: int, stride: int,
                        states: list[list[Any]]) -> float:
    """BPTT(window; stride) by definition, a loss whose plain gradient it is: for each block of
    ``stride`` ticks ending at tick e, the loss of the block's ticks computed from the state after
    tick e - window held fixed (``states[r][t]``, recorded with the unperturbed parameters; the
    fresh state before the sequence)."""
    total = 0.0
    for r in range(x.shape[0]):
        start = 0
        while start < lengths[r]:
            end = min(start + stride, lengths[r]) - 1
            first = max(0, end - window + 1)
            s = states[r][first - 1] if first > 0 else init(p)
            for t in range(first, end + 1):
                s, o = step(p, x[r, t], s)
                if t >= start:
                    total += ref_loss(o, y[r, t], w[r, t], 0)
            start = end + 1
    return total


@pytest.mark.parametrize(("window", "stride"), [(4, 4), (5, 2), (3, 1), (6, 3)])
@pytest.mark.parametrize("net", ["lstm", "jordan_tanh", "narx_tanh"])
def test_truncated_bptt_is_the_gradient_of_williams_and_pengs_cut_loss(net: str, window: int, stride: int) -> None:
    make, step, init = NETS[net]
    ctrl = make()
    p, (x, y, w, lengths) = params_of(ctrl, 7, 0.8), data(7)
    states = []
    for r in range(x.shape[0]):
        s, row = init(p), []
        for t in range(lengths[r]):
            s, _ = step(p, x[r, t], s)
            row.append(s)
        states.append(row)
    _, grads = ctrl.gradient_model("w").bptt(p, x, y, w, lengths, 0, window, stride)
    for name in p._fields:
        fd = central_differences(lambda q: truncated_reference(step, init, q, x, y, w, lengths, window, stride,
                                                               states), p, name)
        assert np.linalg.norm(getattr(grads, name) - fd) <= 1e-6 * np.linalg.norm(fd), name


@pytest.mark.parametrize("net", sorted(NETS))
def test_the_gradient_kernels_score_the_outputs_of_the_controllers_own_step(net: str) -> None:
    """The forward pass the gradient kernels record is ``step``'s, bit for bit: a target equal to
    ``step``'s output at one scored tick gives a zero loss and a zero gradient there."""
    ctrl = NETS[net][0]()
    p, (x, _, _, lengths) = params_of(ctrl, 4, 0.8), data(4)
    outs = np.zeros(x.shape[:2] + (2,))
    for r in range(x.shape[0]):
        state, o = ctrl.init_state(p), np.zeros((1, 2))
        for t in range(lengths[r]):
            ctrl.step(p, state, x[r, t][None], 1.0, o)
            outs[r, t] = o[0]
    w = np.zeros(x.shape[:2])
    w[np.arange(3), lengths - 1] = 1.0
    loss, grads = ctrl.gradient_model("w").bptt(p, x, outs, w, lengths, 0, x.shape[1], x.shape[1])
    assert loss == 0.0
    assert all(not np.any(g) for g in grads)
    loss, _ = ctrl.gradient_model("w").bptt(p, x, outs + 0.1, w, lengths, 0, x.shape[1], x.shape[1])
    assert loss == pytest.approx(3 * 2 * 0.01, rel=1e-12)


def test_lstm_hidden_errors_are_the_derivatives_of_the_loss_by_each_ticks_cell_outputs() -> None:
    """``hidden_errors`` (the vanishing-gradient plot's quantity) against central differences of
    the loss with a perturbation added to h(t) after tick t (plain numpy)."""
    ctrl = LSTM(LSTMSpec(cells=3), 2, 2, 1.0)
    p, (x, y, w, lengths) = params_of(ctrl, 5, 0.8), data(5)
    seen = ctrl.hidden_errors(p, x, y, w, lengths, 0)

    def loss_with(r: int, t0: int, i: int, eps: float) -> float:
        total, (c, h) = 0.0, lstm_init(p)
        for t in range(lengths[r]):
            (c, h), _ = lstm_step(p, x[r, t], (c, h))
            if t == t0:
                h = h.copy()
                h[i] += eps
            total += ref_loss(sig(p.b_out[0] + p.w_out[0] @ h), y[r, t], w[r, t], 0)
        return total

    fd = np.zeros_like(seen)
    for r, t, i in np.ndindex(seen.shape):
        if t < lengths[r]:
            fd[r, t, i] = (loss_with(r, t, i, 1e-6) - loss_with(r, t, i, -1e-6)) / 2e-6
    assert np.linalg.norm(seen - fd) <= 1e-6 * np.linalg.norm(fd)
    assert np.all(seen[2, lengths[2]:] == 0.0)


def adding_world(**optimizer: Any) -> dict[str, Any]:
    return {"experiment": {"seed": 2}, "simulation": {"dt": 1.0},
            "task": {"type": "adding", "length": 22, "train_pool": 1000, "trials": 20, "test_sequences": 10},
            "controller": {"type": "lstm", "cells": 3, "forget_bias_range": [0.0, 5.0]},
            "optimizer": {"type": "bptt", "epochs": 6, "batch": 16, "learning_rate": 0.02, **optimizer}}


def test_bptt_trains_an_lstm_on_a_short_adding_problem_deterministically() -> None:
    """The trainer on the adding problem (T = 22): the MSE at the last tick falls from the constant
    predictor's (Var(target), about 0.04) to a fraction of it within six epochs, the same twice."""
    first = [e.loss for e in trainer(adding_world()).epochs()]
    assert first == [e.loss for e in trainer(adding_world()).epochs()]
    assert first[0] > 0.01 and first[-1] < 0.2 * first[0], first


@pytest.mark.parametrize("net", ["lstm", "jordan", "narx"])
def test_rtrl_is_refused_for_the_gated_and_output_fed_networks_in_one_line(net: str) -> None:
    raw = adding_world(type="rtrl")
    raw["controller"] = {"type": net}
    with pytest.raises(ConfigError) as err:
        trainer(raw)
    message = str(err.value)
    assert message.startswith(WHERE + ": ") and "\n" not in message and "has no RTRL" in message


@pytest.mark.parametrize("net", ["lstm", "jordan", "narx"])
def test_a_bptt_trained_network_replays_bit_for_bit(net: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = adding_world(epochs=2, truncation=8, stride=4)
    if net != "lstm":
        raw["controller"] = {"type": net, "hidden": 3}
    summary = train(setup_of(raw), tmp_path / "run", ["test"], stream=None)
    assert summary.generations == 2
    assert main(["replay", str(tmp_path / "run"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    champion = json.loads((tmp_path / "run" / "champion.json").read_text())
    assert doc["matches_stored"] is True and doc["fitness"] == champion["fitness"]
