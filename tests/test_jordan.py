"""Jordan network (Jordan 1986): reference loop, the context follows the outputs."""

import numpy as np
import pytest
from ctrlutil import ACTIVATION, dot, genomes, make, roll, sigmoid

from evorobot.controllers.jordan import Jordan
from evorobot.errors import ConfigError


def reference(p, b: int, xs: np.ndarray, f, decay: float) -> tuple[np.ndarray, np.ndarray]:
    """Contexts (T, n_out) and outputs (T, n_out) of network ``b``, in plain loops."""
    n_h, n_o = p.b_h.shape[1], p.b_o.shape[1]
    c, y = [0.0] * n_o, [0.0] * n_o
    cs, ys = [], []
    for x in xs:
        c = [decay * c[k] + y[k] for k in range(n_o)]
        h = [f(p.b_h[b, i] + dot(p.w_in[b, i], x) + dot(p.w_rec[b, i], c)) for i in range(n_h)]
        y = [sigmoid(p.b_o[b, k] + dot(p.w_out[b, k], h)) for k in range(n_o)]
        cs.append(c)
        ys.append(y)
    return np.array(cs), np.array(ys)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
@pytest.mark.parametrize("decay", [0.0, 0.5, 0.9])
def test_matches_a_plain_loop_of_jordans_network(activation: str, decay: float) -> None:
    ctrl = make(Jordan, n_out=3, hidden=4, decay=decay, activation=activation, weight_range=[-2, 2],
                bias_range=[-1, 1])
    p = ctrl.decode(genomes(ctrl, 3, seed=1))
    xs = np.random.default_rng(2).uniform(0, 1, (3, 50, 7))
    outs, tr = roll(ctrl, p, xs)
    for b in range(3):
        cs, ys = reference(p, b, xs[b], ACTIVATION[activation], decay)
        np.testing.assert_allclose(tr["context"][:, b], cs, rtol=0, atol=1e-12)
        np.testing.assert_allclose(outs[:, b], ys, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(tr["o"], outs)
    assert np.min(np.ptp(outs, axis=0)) > 1e-3


def test_gene_count() -> None:
    h, n_in, n_out = 4, 7, 3
    assert make(Jordan, n_out=n_out, hidden=h).genome_size == h * n_in + h * n_out + h + n_out * h + n_out


@pytest.mark.parametrize("decay", [0.0, 0.3, 0.95])
def test_context_is_a_fading_sum_of_past_outputs(decay: float) -> None:
    """c(t) = decay c(t-1) + y(t-1), that is c(t) = sum_{k >= 1} decay^(k-1) y(t-k)."""
    ctrl = make(Jordan, hidden=5, decay=decay)
    p = ctrl.decode(genomes(ctrl, 4, seed=3))
    outs, tr = roll(ctrl, p, np.random.default_rng(4).uniform(0, 1, (4, 40, 7)))
    c = tr["context"]
    assert np.all(c[0] == 0.0)
    np.testing.assert_array_equal(c[1:], decay * c[:-1] + outs[:-1])  # the recursion, bit for bit
    for t in range(40):
        closed = sum(decay ** (k - 1) * outs[t - k] for k in range(1, t + 1)) if t else 0.0
        np.testing.assert_allclose(c[t], closed, rtol=1e-12, atol=1e-15)
    assert np.all(c <= 1.0 / (1.0 - decay)) and np.ptp(outs, axis=0).max() > 0.5


@pytest.mark.parametrize("decay", [1.0, 1.5, -0.1])
def test_decay_outside_zero_one(decay: float) -> None:
    with pytest.raises(ConfigError, match=r"test \[controller\]: `decay` must be"):
        make(Jordan, decay=decay)
