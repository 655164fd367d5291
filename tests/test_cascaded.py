"""Sequential cascaded network (Pollack 1991): a plain-loop reference of the context and function
networks, the algebra that relates it to the second-order network, a hand-set automaton, the shell."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from ctrlutil import genomes, make

from evorobot.controllers import CONTROLLERS
from evorobot.controllers.cascaded import Cascaded, CascadedParams, CascadedState
from evorobot.controllers.second_order import (
    SecondOrder,
    SecondOrderParams,
)
from evorobot.errors import ConfigError
from evorobot.spec import parse


def reference_step(w: np.ndarray, z: list[float], y: list[float]) -> list[float]:
    """Pollack's two networks in plain loops: the context network makes the function network's
    weights W_ij = sum_k w_ijk z_k + w_ij0 (bias state last); the function network maps the input
    (bias input last) to the new state z_i = g(sum_j W_ij y_j + W_i0)."""
    n, n_j, _ = w.shape
    weights = [[sum(w[i, j, k] * z[k] for k in range(n)) + w[i, j, n] for j in range(n_j)] for i in range(n)]
    return [1.0 / (1.0 + math.exp(-(sum(weights[i][j] * y[j] for j in range(n_j - 1)) + weights[i][n_j - 1])))
            for i in range(n)]


@pytest.mark.parametrize(("hidden", "n_out", "z0"), [(3, 2, 0.5), (0, 1, 0.0), (4, 3, 0.9)])
def test_steps_match_a_plain_loop_of_the_context_and_function_networks(hidden: int, n_out: int, z0: float) -> None:
    ctrl = make(Cascaded, n_in=5, n_out=n_out, hidden=hidden, initial_state=z0, weight_range=[-2, 2])
    p = ctrl.decode(genomes(ctrl, 4, seed=1))
    assert p.w.shape == (4, n_out + hidden, 6, n_out + hidden + 1)
    state = ctrl.init_state(p)
    ref = [[z0] * ctrl.n_units for _ in range(4)]
    np.testing.assert_array_equal(state.z, ref)
    out = np.empty((4, n_out))
    rng = np.random.default_rng(2)
    spread = []
    for _ in range(40):
        x = rng.uniform(0, 1, (4, 5))
        ctrl.step(p, state, x, 0.1, out)
        ref = [reference_step(p.w[b], ref[b], list(x[b])) for b in range(4)]
        np.testing.assert_allclose(state.z, ref, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(out, state.z[:, :n_out])
        spread.append(np.ptp(state.z))
    assert np.mean(spread) > 0.1


def test_without_first_order_input_terms_it_is_a_second_order_network() -> None:
    """w_ij(bias state) = 0 for every real input j leaves sum_jk w_ijk y_j z_k + sum_k w_i,bias,k z_k
    + w_i,bias,bias: Giles et al.'s net with a constant input, W[i, k, j] = w[i, j, k], b_i = w[i, J, N]."""
    n_in, n_out, hidden = 3, 2, 2
    casc = make(Cascaded, n_in=n_in, n_out=n_out, hidden=hidden)
    so = make(SecondOrder, n_in=n_in, n_out=n_out, hidden=hidden, constant_input=True)
    n = casc.n_units
    w = casc.decode(genomes(casc, 3, seed=3)).w.copy()
    w[:, :, :n_in, n] = 0.0
    sp = SecondOrderParams(np.ascontiguousarray(w[:, :, :, :n].transpose(0, 1, 3, 2)), w[:, :, n_in, n].copy())
    s_c, s_s = CascadedState(so.init_state(sp).s.copy()), so.init_state(sp)
    o_c, o_s = np.empty((3, n_out)), np.empty((3, n_out))
    xs = np.random.default_rng(4).uniform(0, 1, (30, 3, n_in))
    for x in xs:
        casc.step(CascadedParams(w), s_c, x, 1.0, o_c)
        so.step(sp, s_s, x, 1.0, o_s)
        np.testing.assert_allclose(s_c.z, s_s.s, rtol=0, atol=1e-12)
    w[:, :, :n_in, n] = 0.5  # the first-order input terms are what Pollack's form adds
    casc.step(CascadedParams(w), s_c, xs[0], 1.0, o_c)
    so.step(sp, s_s, xs[0], 1.0, o_s)
    assert np.all(np.abs(s_c.z - s_s.s) > 1e-6)


def test_hand_set_network_runs_parity_exactly() -> None:
    """One state unit per automaton state; the context network selects, by the one-hot state, a
    function network whose one-hot input picks the next state: w_ijk = +H if delta[k][j] == i."""
    delta, strength = [[0, 1], [1, 0]], 20.0
    ctrl = make(Cascaded, n_in=2, n_out=1, hidden=1)
    w = np.zeros((1, 2, 3, 3))
    for k in range(2):
        for j in range(2):
            for i in range(2):
                w[0, i, j, k] = strength if delta[k][j] == i else -strength
    p, state, out = CascadedParams(w), CascadedState(np.array([[1.0, 0.0]])), np.empty((1, 1))
    bits = np.random.default_rng(5).integers(0, 2, 3000)
    for t, bit in enumerate(bits):
        ctrl.step(p, state, np.eye(2)[bit][None, :], 1.0, out)
        assert (out[0, 0] > 0.99) == (bits[: t + 1].sum() % 2 == 0)


def test_genome_describe_trace_settings_and_registry() -> None:
    ctrl = make(Cascaded, hidden=3)
    assert ctrl.genome_size == 5 * 8 * 6
    p = ctrl.decode(genomes(ctrl, 2, seed=0))
    assert np.all(np.abs(p.w) <= 5.0) and p.w.flags.c_contiguous
    d = ctrl.describe(p, 1)
    json.dumps(d, allow_nan=False)
    assert d["units"] == ["m0", "m1", "h0", "h1", "h2"] and d["inputs"][-1] == "1" and len(d["inputs"]) == 8
    assert d["w"][3][1][5] == p.w[1, 3, 1, 5]
    state = ctrl.init_state(p)
    assert ctrl.trace(state)["z"] is state.z and np.all(state.z == 0.5)
    assert CONTROLLERS["cascaded"] is Cascaded
    groups = ctrl.gene_groups()
    assert len(groups) == 5 and np.array_equal(np.sort(np.concatenate(groups)), np.arange(ctrl.genome_size))
    with pytest.raises(ConfigError, match=r"w.toml \[controller\]: `initial_state` must be <= 1"):
        parse(Cascaded.Spec, {"initial_state": 1.5}, "w.toml [controller]")
    with pytest.raises(ConfigError, match="n_outputs >= 1"):
        make(Cascaded, n_out=0)
