"""Elman network (Elman 1990): reference loop, the context is the previous hidden layer."""

import numpy as np
import pytest
from ctrlutil import ACTIVATION, dot, genomes, make, roll, sigmoid

from evorobot.controllers.elman import Elman


def reference(p, b: int, xs: np.ndarray, f) -> tuple[np.ndarray, np.ndarray]:
    """Hidden layers (T, H) and outputs (T, n_out) of network ``b``, in plain loops."""
    n_h, n_o = p.b_h.shape[1], p.b_o.shape[1]
    h = [0.0] * n_h
    hs, ys = [], []
    for x in xs:
        context = list(h)
        h = [f(p.b_h[b, i] + dot(p.w_in[b, i], x) + dot(p.w_rec[b, i], context)) for i in range(n_h)]
        ys.append([sigmoid(p.b_o[b, k] + dot(p.w_out[b, k], h)) for k in range(n_o)])
        hs.append(h)
    return np.array(hs), np.array(ys)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_matches_a_plain_loop_of_elmans_network(activation: str) -> None:
    ctrl = make(Elman, n_out=3, hidden=6, activation=activation, weight_range=[-2, 2], bias_range=[-1, 1])
    p = ctrl.decode(genomes(ctrl, 3, seed=1))
    xs = np.random.default_rng(2).uniform(0, 1, (3, 50, 7))
    outs, tr = roll(ctrl, p, xs)
    for b in range(3):
        hs, ys = reference(p, b, xs[b], ACTIVATION[activation])
        np.testing.assert_allclose(tr["h"][:, b], hs, rtol=0, atol=1e-12)
        np.testing.assert_allclose(outs[:, b], ys, rtol=0, atol=1e-12)
    assert np.min(np.ptp(tr["h"], axis=0)) > 1e-3 and np.min(np.ptp(outs, axis=0)) > 1e-3


def test_gene_count() -> None:
    h, n_in, n_out = 6, 7, 3
    assert make(Elman, n_out=n_out, hidden=h).genome_size == h * n_in + h * h + h + n_out * h + n_out


def test_context_is_a_copy_of_the_previous_hidden_layer() -> None:
    ctrl = make(Elman, hidden=5)
    p = ctrl.decode(genomes(ctrl, 4, seed=3))
    _, tr = roll(ctrl, p, np.random.default_rng(4).uniform(0, 1, (4, 30, 7)))
    assert np.all(tr["context"][0] == 0.0)  # nothing before the trial
    np.testing.assert_array_equal(tr["context"][1:], tr["h"][:-1])  # one to one, weight 1, bit for bit
    assert np.min(np.ptp(tr["h"], axis=0)) > 1e-3


def test_the_context_is_the_only_memory() -> None:
    """With the context weights at 0 the same input always gives the same output; with them, the
    output also depends on what came before."""
    ctrl = make(Elman, hidden=5)
    g = genomes(ctrl, 2, seed=5)
    rec = ctrl.layout.entry_genes("w_rec").ravel()
    g[1, rec] = 0.0  # gene 0 is the middle of a symmetric range: weight exactly 0
    p = ctrl.decode(g)
    assert np.all(p.w_rec[1] == 0.0) and np.all(p.w_rec[0] != 0.0)
    x = np.random.default_rng(6).uniform(0, 1, (1, 7))
    xs = np.concatenate([x, np.random.default_rng(7).uniform(0, 1, (1, 7)), x])[None].repeat(2, axis=0)
    outs, _ = roll(ctrl, p, xs)
    np.testing.assert_array_equal(outs[0, 1], outs[2, 1])  # memoryless
    assert not np.allclose(outs[0, 0], outs[2, 0], rtol=0, atol=1e-9)  # remembers
