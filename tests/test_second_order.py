"""Second-order network (Giles et al. 1992): a plain-loop reference, hand-built automata, the shell."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from netutil import random_params

from evorobot.controllers import CONTROLLERS
from evorobot.controllers.second_order import (
    SecondOrder,
    SecondOrderParams,
    SecondOrderSpec,
)
from evorobot.errors import ConfigError
from evorobot.spec import parse


def make(n_in: int = 7, n_out: int = 2, **kw: object) -> SecondOrder:
    return SecondOrder(SecondOrderSpec(**kw), n_in, n_out, 0.1)  # type: ignore[arg-type]


def reference_step(p: SecondOrderParams, b: int, s: list[float], x: list[float]) -> list[float]:
    """Giles et al.'s update, plain loops: S_i <- g(sum_jk W_ijk S_j I_k + b_i), I = x (+ constant 1)."""
    n, k_all = p.w.shape[1], p.w.shape[3]
    inputs = list(x) + [1.0] * (k_all - len(x))
    new = []
    for i in range(n):
        a = p.bias[b, i]
        for j in range(n):
            for k in range(k_all):
                a += p.w[b, i, j, k] * s[j] * inputs[k]
        new.append(1.0 / (1.0 + math.exp(-a)))
    return new


@pytest.mark.parametrize(("hidden", "constant_input", "n_out"), [(3, True, 2), (0, False, 1), (4, False, 3)])
def test_steps_match_a_plain_loop_reference(hidden: int, constant_input: bool, n_out: int) -> None:
    ctrl = make(n_out=n_out, hidden=hidden, constant_input=constant_input, weight_range=(-2.0, 2.0))
    p = random_params(ctrl, 4, seed=1)
    rng = np.random.default_rng(2)
    state = ctrl.init_state(p)
    out = np.empty((4, n_out))
    ref = [[1.0] + [0.0] * (ctrl.n_units - 1) for _ in range(4)]
    assert np.array_equal(state.s, ref)
    spread = []
    for _ in range(50):
        x = rng.uniform(0, 1, (4, 7))
        ctrl.step(p, state, x, 0.1, out)
        ref = [reference_step(p, b, ref[b], list(x[b])) for b in range(4)]
        np.testing.assert_allclose(state.s, ref, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(out, state.s[:, :n_out])
        spread.append(np.ptp(state.s))
    assert np.mean(spread) > 0.1  # the states do move: the comparison is not vacuous


def automaton(delta: list[list[int]], strength: float = 20.0) -> SecondOrderParams:
    """One state unit per automaton state, one-hot symbols: W_ijk = +H if delta[j][k] == i, else -H.

    With exactly one-hot S and I the net input of unit i is +-H, so S stays within sigma(-H) of
    one-hot; state 0 is the start state (S_0(0) = 1, Giles et al.) and is read out as motor 0.
    """
    n, k = len(delta), len(delta[0])
    w = np.full((1, n, n, k), -strength)
    for j in range(n):
        for a in range(k):
            w[0, delta[j][a], j, a] = strength
    return SecondOrderParams(w, np.zeros((1, n)))


@pytest.mark.parametrize(("delta", "accepts"), [
    ([[0, 1], [1, 0]], lambda bits: sum(bits) % 2 == 0),  # even parity
    ([[0, 1], [2, 0], [1, 2]], lambda bits: int("".join(map(str, bits)) or "0", 2) % 3 == 0),  # MSB first
])
def test_hand_set_network_runs_a_finite_automaton_exactly(delta, accepts) -> None:
    n = len(delta)
    ctrl = make(n_in=2, n_out=1, hidden=n - 1, constant_input=False)
    p = automaton(delta)
    assert p.w.shape == (1, ctrl.n_units, ctrl.n_units, 2)
    rng = np.random.default_rng(3)
    for _ in range(3):
        bits = rng.integers(0, 2, 5000).tolist()
        state, out, q = ctrl.init_state(p), np.empty((1, 1)), 0
        for t, bit in enumerate(bits):
            ctrl.step(p, state, np.eye(2)[bit][None, :], 0.1, out)
            q = delta[q][bit]
            assert (out[0, 0] > 0.99) == (q == 0) and (out[0, 0] < 0.01) == (q != 0), t
            assert np.argmax(state.s[0]) == q
            if t % 500 == 0 or t == len(bits) - 1:  # the automaton is the language's
                assert (q == 0) == accepts(bits[: t + 1])


def test_genome_describe_trace_and_registry() -> None:
    ctrl = make(hidden=3)
    assert ctrl.genome_size == 5 * 5 * 8 + 5 and make(constant_input=False).genome_size == 5 * 5 * 7 + 5
    p = random_params(ctrl, 2, seed=0)
    assert np.all(np.abs(p.w) <= 5.0) and p.w.flags.c_contiguous
    d = ctrl.describe(p, 1)
    json.dumps(d, allow_nan=False)
    assert d["units"] == ["m0", "m1", "h0", "h1", "h2"] and d["inputs"][-1] == "1"
    assert d["w"][3][1][7] == p.w[1, 3, 1, 7] and d["bias"] == p.bias[1].tolist()
    state = ctrl.init_state(p)
    assert ctrl.trace(state)["s"] is state.s
    assert CONTROLLERS["second_order"] is SecondOrder
    spec = parse(SecondOrderSpec, {"type": "second_order", "hidden": 2}, "w.toml [controller]", ignore=("type",))
    assert spec.hidden == 2
    with pytest.raises(ConfigError, match=r"w.toml \[controller\]: `hidden` must be >= 0"):
        parse(SecondOrderSpec, {"hidden": -1}, "w.toml [controller]")
    with pytest.raises(ConfigError, match="n_outputs >= 1"):
        make(n_out=0)
