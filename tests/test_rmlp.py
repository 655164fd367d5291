"""Recurrent multilayer perceptron (Puskorius & Feldkamp 1994): reference loop, cascade, output feedback."""

import numpy as np
import pytest
from ctrlutil import ACTIVATION, dot, genomes, make, roll, sigmoid

from evorobot.controllers.rmlp import RMLP


def reference(p, b: int, xs: np.ndarray, f) -> list[np.ndarray]:
    """Activations (T, n_l) of each layer of network ``b``: a_l(t) = f_l(b_l + W_l a_{l-1}(t) + R_l a_l(t-1))."""
    layers = [(p.w1, p.r1, p.b1, f), (p.w2, p.r2, p.b2, f), (p.w3, p.r3, p.b3, sigmoid)]
    acts = [[0.0] * bias.shape[1] for _, _, bias, _ in layers]
    hist: list[list[list[float]]] = [[], [], []]
    for x in xs:
        below = list(x)
        for k, (w, r, bias, fk) in enumerate(layers):
            acts[k] = [fk(bias[b, i] + dot(w[b, i], below) + dot(r[b, i], acts[k])) for i in range(bias.shape[1])]
            hist[k].append(acts[k])
            below = acts[k]
    return [np.array(h) for h in hist]


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_matches_a_plain_loop_of_the_rmlp(activation: str) -> None:
    ctrl = make(RMLP, n_out=3, hidden1=5, hidden2=4, activation=activation, weight_range=[-2, 2],
                bias_range=[-1, 1])
    p = ctrl.decode(genomes(ctrl, 3, seed=1))
    xs = np.random.default_rng(2).uniform(0, 1, (3, 50, 7))
    outs, tr = roll(ctrl, p, xs)
    for b in range(3):
        h1, h2, o = reference(p, b, xs[b], ACTIVATION[activation])
        np.testing.assert_allclose(tr["h1"][:, b], h1, rtol=0, atol=1e-12)
        np.testing.assert_allclose(tr["h2"][:, b], h2, rtol=0, atol=1e-12)
        np.testing.assert_allclose(outs[:, b], o, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(tr["o"], outs)
    assert np.min(np.ptp(outs, axis=0)) > 1e-3


def test_layers_are_cascaded() -> None:
    ctrl = make(RMLP, hidden1=5, hidden2=4)
    shapes = {b.name: b.shape for b in ctrl.layout.blocks}
    assert shapes == {"w1": (5, 7), "r1": (5, 5), "b1": (5,), "w2": (4, 5), "r2": (4, 4), "b2": (4,),
                      "w3": (2, 4), "r3": (2, 2), "b3": (2,)}  # no layer-skipping or downward weights
    assert ctrl.genome_size == sum(int(np.prod(s)) for s in shapes.values())
    p = ctrl.decode(genomes(ctrl, 1, seed=3))
    xs = np.random.default_rng(4).uniform(0, 1, (1, 10, 7))

    def step_from(state, x):  # one step from a copy of ``state``
        s = type(state)(*(a.copy() for a in state))
        ctrl.step(p, s, x, 0.1, np.empty((1, 2)))
        return s

    state = ctrl.init_state(p)
    for t in range(10):
        ctrl.step(p, state, xs[:, t], 0.1, np.empty((1, 2)))
    x = xs[:, 0]
    base = step_from(state, x)
    other_h2 = state._replace(h2=state.h2 + 0.3)
    moved = step_from(other_h2, x)  # the second layer's past reaches up, never down
    np.testing.assert_array_equal(moved.h1, base.h1)
    assert not np.any(moved.h2 == base.h2) and not np.any(moved.o == base.o)
    moved = step_from(state, x + 0.3)  # the input reaches every layer within the tick
    assert not np.any(moved.h1 == base.h1) and not np.any(moved.h2 == base.h2) and not np.any(moved.o == base.o)


def test_the_output_layer_feeds_back_on_itself() -> None:
    ctrl = make(RMLP)
    g = genomes(ctrl, 2, seed=5)
    g[1, ctrl.layout.entry_genes("r3").ravel()] = 0.0  # network 1: no output feedback (weights exactly 0)
    p = ctrl.decode(g)
    assert np.all(p.r3[0] != 0.0) and np.all(p.r3[1] == 0.0)
    state = ctrl.init_state(p)
    x = np.random.default_rng(6).uniform(0, 1, (2, 7))
    a, b = np.empty((2, 2)), np.empty((2, 2))
    ctrl.step(p, ctrl.init_state(p), x, 0.1, a)
    state.o[:] = [[0.9, 0.1], [0.9, 0.1]]  # only the outputs' previous values differ
    ctrl.step(p, state, x, 0.1, b)
    assert np.all(a[0] != b[0])  # each output unit hears the output layer's past
    np.testing.assert_array_equal(a[1], b[1])  # ... through r3 and nothing else
