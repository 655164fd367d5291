"""LSTM with forget gates: a plain-loop reference, a bit carried across 200 steps, the shell."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from netutil import random_params

from evorobot.controllers import CONTROLLERS
from evorobot.controllers.lstm import GATES, LSTM, LSTMParams, LSTMSpec
from evorobot.errors import ConfigError
from evorobot.spec import parse


def make(n_in: int = 7, n_out: int = 2, **kw: object) -> LSTM:
    return LSTM(LSTMSpec(**kw), n_in, n_out, 0.1)  # type: ignore[arg-type]


def sig(a: float) -> float:
    return 1.0 / (1.0 + math.exp(-a))


def reference_step(p: LSTMParams, b: int, c: list[float], h: list[float], x: list[float]) -> list[float]:
    """Gers et al.'s LSTM step in plain loops (c, h updated in place); returns the sigmoid readout."""
    z = list(x) + list(h)
    n_c = len(c)
    act = [[p.bias[b, q, i] + sum(p.w[b, q, i, k] * z[k] for k in range(len(z))) for i in range(n_c)]
           for q in range(4)]
    for i in range(n_c):
        gate_in, forget, gate_out = sig(act[0][i]), sig(act[1][i]), sig(act[2][i])
        c[i] = forget * c[i] + gate_in * math.tanh(act[3][i])
        h[i] = gate_out * math.tanh(c[i])
    return [sig(p.b_out[b, m] + sum(p.w_out[b, m, i] * h[i] for i in range(n_c))) for m in range(p.b_out.shape[1])]


@pytest.mark.parametrize(("cells", "n_in", "n_out"), [(4, 7, 2), (1, 0, 1), (6, 3, 3)])
def test_steps_match_a_plain_loop_reference(cells: int, n_in: int, n_out: int) -> None:
    ctrl = make(n_in=n_in, n_out=n_out, cells=cells, weight_range=(-2.0, 2.0), forget_bias_range=(0.0, 3.0))
    p = random_params(ctrl, 4, seed=1)
    rng = np.random.default_rng(2)
    state = ctrl.init_state(p)
    out = np.empty((4, n_out))
    c, h = [[0.0] * cells for _ in range(4)], [[0.0] * cells for _ in range(4)]
    for _ in range(50):
        x = rng.uniform(-1, 1, (4, n_in))
        ctrl.step(p, state, x, 0.1, out)
        ref_out = [reference_step(p, b, c[b], h[b], list(x[b])) for b in range(4)]
        np.testing.assert_allclose(state.c, c, rtol=0, atol=1e-12)
        np.testing.assert_allclose(state.h, h, rtol=0, atol=1e-12)
        np.testing.assert_allclose(out, ref_out, rtol=0, atol=1e-12)
    assert np.all(np.abs(state.c) > 1e-3) and np.ptp(out) > 0.05  # not vacuous
    assert np.all(p.bias[:, 1] >= 0.0) and np.any(p.bias[:, 0] < 0.0)  # the forget gates' own range


def latch(forget_bias: float) -> LSTMParams:
    """One cell by hand. Inputs: x0 the bit, x1 "store" (opens the input gate), x2 "recall" (opens
    the output gate). Cell input tanh(10 (2 x0 - 1)) = +-1; forget gate sigma(forget_bias)."""
    w = np.zeros((1, 4, 1, 4))
    bias = np.zeros((1, 4, 1))
    w[0, 0, 0, 1], bias[0, 0, 0] = 60.0, -30.0  # input gate: open only while storing
    bias[0, 1, 0] = forget_bias
    w[0, 2, 0, 2], bias[0, 2, 0] = 60.0, -30.0  # output gate: open only on recall
    w[0, 3, 0, 0], bias[0, 3, 0] = 20.0, -10.0  # cell input: +1 for bit 1, -1 for bit 0
    return LSTMParams(w, bias, np.full((1, 1, 1), 20.0), np.zeros((1, 1)))


def carry(p: LSTMParams, bit: int, steps: int = 200) -> tuple[np.ndarray, float]:
    """Store ``bit`` at t = 0, recall at t = ``steps``: the outputs of every tick and the final cell."""
    ctrl = make(n_in=3, n_out=1, cells=1)
    state, out, outs = ctrl.init_state(p), np.empty((1, 1)), []
    for t in range(steps + 1):
        x = np.array([[float(bit) if t == 0 else 0.0, 1.0 if t == 0 else 0.0, 1.0 if t == steps else 0.0]])
        ctrl.step(p, state, x, 0.1, out)
        outs.append(out[0, 0])
    return np.array(outs), float(state.c[0, 0])


@pytest.mark.parametrize("bit", [0, 1])
def test_hand_set_cell_carries_a_bit_across_200_steps(bit: int) -> None:
    outs, c = carry(latch(forget_bias=30.0), bit)
    assert np.all(np.abs(outs[:200] - 0.5) < 1e-6)  # the output gate hides the cell until recall
    assert (outs[200] > 0.999) if bit else (outs[200] < 0.001)
    assert abs(c - (1.0 if bit else -1.0)) < 1e-6


def test_without_the_forget_gate_held_open_the_bit_is_lost() -> None:
    (outs0, c0), (outs1, c1) = (carry(latch(forget_bias=-30.0), bit) for bit in (0, 1))
    assert abs(c0) < 1e-10 and abs(c1) < 1e-10
    assert abs(outs0[200] - outs1[200]) < 1e-9


def test_genome_describe_trace_and_registry() -> None:
    ctrl = make(cells=4)
    assert ctrl.genome_size == 4 * 4 * (7 + 4) + 4 * 4 + 2 * 4 + 2
    assert make(cells=4, forget_bias_range=(1.0, 1.0)).genome_size == ctrl.genome_size - 4  # fixed: no genes
    p = random_params(ctrl, 2, seed=0)
    d = ctrl.describe(p, 1)
    json.dumps(d, allow_nan=False)
    assert d["gates"] == list(GATES) and d["sources"][7] == "h0"
    assert d["w"][2][3][9] == p.w[1, 2, 3, 9] and d["w_out"] == p.w_out[1].tolist()
    state = ctrl.init_state(p)
    tr = ctrl.trace(state)
    assert tr["c"] is state.c and tr["h"] is state.h and tr["c"].shape == (2, 4)
    assert CONTROLLERS["lstm"] is LSTM
    spec = parse(LSTMSpec, {"type": "lstm", "cells": 2, "forget_bias_range": [0, 5]}, "w [controller]",
                 ignore=("type",))
    assert spec.cells == 2 and spec.forget_bias_range == (0.0, 5.0)
    with pytest.raises(ConfigError, match="`cells` must be >= 1"):
        parse(LSTMSpec, {"cells": 0}, "w [controller]")
