"""Fully recurrent network (Williams & Zipser 1989): reference loop, no masked connection."""

import numpy as np
import pytest
from ctrlutil import ACTIVATION, dot, genomes, make, roll, sigmoid

from evorobot.controllers.fully_recurrent import FullyRecurrent


def reference(p, b: int, xs: np.ndarray, hidden: int, f) -> np.ndarray:
    """Unit outputs (T, n) of network ``b``: y(t+1) = f(b + W_in x(t) + W y(t)), y(0) = 0."""
    n = p.bias.shape[1]
    y = [0.0] * n
    ys = []
    for x in xs:
        s = [p.bias[b, i] + dot(p.w_in[b, i], x) + dot(p.w[b, i], y) for i in range(n)]
        y = [f(s[i]) if i < hidden else sigmoid(s[i]) for i in range(n)]
        ys.append(y)
    return np.array(ys)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
@pytest.mark.parametrize("hidden", [0, 4])
def test_matches_a_plain_loop_of_williams_and_zipsers_update(activation: str, hidden: int) -> None:
    ctrl = make(FullyRecurrent, hidden=hidden, activation=activation, weight_range=[-2, 2], bias_range=[-1, 1])
    p = ctrl.decode(genomes(ctrl, 3, seed=1))
    xs = np.random.default_rng(2).uniform(0, 1, (3, 50, 7))
    outs, tr = roll(ctrl, p, xs)
    for b in range(3):
        ys = reference(p, b, xs[b], hidden, ACTIVATION[activation])
        np.testing.assert_allclose(tr["y"][:, b], ys, rtol=0, atol=1e-12)
        np.testing.assert_allclose(outs[:, b], ys[:, hidden:], rtol=0, atol=1e-12)  # outputs: the last units
    assert np.min(np.ptp(tr["y"], axis=0)) > 1e-3  # every unit moves: the comparison is not between constants


def test_every_pair_of_units_and_every_input_has_its_own_gene() -> None:
    ctrl = make(FullyRecurrent, hidden=3)
    n = 5
    assert ctrl.genome_size == n * n + n * 7 + n
    genes = np.concatenate([ctrl.layout.entry_genes(name).ravel() for name in ("w_in", "w", "bias")])
    np.testing.assert_array_equal(np.sort(genes), np.arange(ctrl.genome_size))  # no mask, no sharing
    p = ctrl.decode(np.ones((1, ctrl.genome_size)))
    assert np.all(p.w == 5.0) and np.all(p.w_in == 5.0) and np.all(p.bias == 5.0)


def test_every_weight_influences_the_outputs() -> None:
    """Perturbing any single gene (a unit->unit weight of any pair, an input weight, a bias) changes
    the motor outputs: nothing is masked and the output units are wired like any other."""
    ctrl = make(FullyRecurrent, hidden=3, weight_range=[-2, 2], bias_range=[-1, 1])
    base = genomes(ctrl, 1, seed=3)
    xs = np.random.default_rng(4).uniform(0, 1, (1, 20, 7))
    ref, _ = roll(ctrl, ctrl.decode(base), xs)
    unchanged = []
    for g in range(ctrl.genome_size):
        other = base.copy()
        other[0, g] += 0.3 if other[0, g] < 0.5 else -0.3
        outs, _ = roll(ctrl, ctrl.decode(other), xs)
        if np.array_equal(outs, ref):
            unchanged.append(ctrl.layout.labels()[g])
    assert unchanged == []


def test_output_units_feed_back_into_every_unit() -> None:
    ctrl = make(FullyRecurrent, hidden=3)
    p = ctrl.decode(genomes(ctrl, 1, seed=5))
    state = ctrl.init_state(p)
    state.y[0, 3:] = [0.2, 0.9]  # set only the output units' previous values
    out = np.empty((1, 2))
    ctrl.step(p, state, np.zeros((1, 7)), 0.1, out)
    expected = [(np.tanh if i < 3 else lambda v: 1 / (1 + np.exp(-v)))(p.bias[0, i] + p.w[0, i, 3:] @ [0.2, 0.9])
                for i in range(5)]
    np.testing.assert_allclose(state.y[0], expected, rtol=0, atol=1e-14)
