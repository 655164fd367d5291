"""``evorobot bench``'s gradient measurement: BPTT of an Elman net against plain numpy.

Sequences per second through the Elman network's loss-and-gradient kernel (contract item 14,
:func:`evorobot.controllers.elman._gradient`: forward pass, output errors and full BPTT through
the context) for a net of ``HIDDEN`` = 32 hidden units, one input and one output, on sequences of
``LENGTH`` = 100 ticks, every tick scored with the squared error, ``SEQUENCES`` = 16 sequences per
call (a mini-batch). The baseline is :func:`numpy_bptt`, the same forward and backward pass
written here in plain numpy, one tick at a time with vector-matrix products, timed in the same
run two ways: one sequence at a time (the kernel's own order: ``bptt.elman.h32.t100``) and over
the mini-batch's sequences at once, each tick a matrix-matrix product
(``bptt.elman.h32.t100.batched``, numpy's best case). ``tests/test_gradients_bidir.py`` checks
that :func:`numpy_bptt` computes the kernel's loss and gradient to 1e-10.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evorobot._types import FloatArray
from evorobot.bench.measure import Row, best_time, calls_for, row

__all__ = ["HIDDEN", "LENGTH", "SEQUENCES", "bench_gradient", "elman_problem", "numpy_bptt"]

HIDDEN, LENGTH, SEQUENCES = 32, 100, 16


def elman_problem(hidden: int = HIDDEN, length: int = LENGTH, sequences: int = SEQUENCES,
                  seed: int = 0) -> tuple[Any, Any, FloatArray, FloatArray, FloatArray, Any]:
    """An Elman net of ``hidden`` units (1 input, 1 output, tanh), parameters from ``seed``, and
    ``sequences`` random bit sequences of ``length`` with random bit targets, every tick scored
    (weight 1): ``(controller, params, x, y, w, lengths)``."""
    from evorobot.controllers.elman import Elman, ElmanSpec

    ctrl = Elman(ElmanSpec(hidden=hidden), 1, 1, 1.0)
    rng = np.random.default_rng(seed)
    params = ctrl.decode(rng.uniform(-0.3, 0.3, (1, ctrl.genome_size)))
    x = rng.integers(0, 2, (sequences, length, 1)).astype(np.float64)
    y = rng.integers(0, 2, (sequences, length, 1)).astype(np.float64)
    w = np.ones((sequences, length))
    return ctrl, params, x, y, w, np.full(sequences, length, dtype=np.int64)


def numpy_bptt(params: Any, x: FloatArray, y: FloatArray, w: FloatArray) -> tuple[float, dict[str, FloatArray]]:
    """Squared-error loss of one tanh Elman net over R full-length sequences (R, T, .) and its
    gradient by full BPTT, plain numpy, vectorised over the R sequences (R = 1: one sequence).

    Forward ``h(t) = tanh(b_h + W_in x(t) + W_rec h(t - 1))``, ``o(t) = sigmoid(b_o + W_out h(t))``;
    loss ``sum w (o - y)^2``; backward ``da(t) = (W_out^T dz(t) + W_rec^T da(t + 1)) (1 - h(t)^2)``.
    """
    w_in, w_rec, b_h, w_out, b_o = (a[0] for a in params)
    n_r, n_t, _ = x.shape
    h = np.zeros((n_t + 1, n_r, b_h.size))  # h[t + 1] is tick t's hidden layer; h[0] = 0
    o = np.empty((n_t, n_r, b_o.size))
    for t in range(n_t):
        h[t + 1] = np.tanh(b_h + x[:, t] @ w_in.T + h[t] @ w_rec.T)
        o[t] = 1.0 / (1.0 + np.exp(-(b_o + h[t + 1] @ w_out.T)))
    yt, wt = y.transpose(1, 0, 2), w.T[:, :, None]
    e = o - yt
    loss = float(np.sum(wt * e * e))
    dz = 2.0 * wt * e * o * (1.0 - o)  # (T, R, n_out)
    g = {"w_in": np.zeros_like(w_in), "w_rec": np.zeros_like(w_rec), "b_h": np.zeros_like(b_h),
         "w_out": np.einsum("trk,trj->kj", dz, h[1:]), "b_o": dz.sum(axis=(0, 1))}
    da = np.zeros((n_r, b_h.size))
    for t in range(n_t - 1, -1, -1):
        da = (dz[t] @ w_out + da @ w_rec) * (1.0 - h[t + 1] ** 2)
        g["w_in"] += da.T @ x[:, t]
        g["w_rec"] += da.T @ h[t]
        g["b_h"] += da.sum(axis=0)
    return loss, g


def bench_gradient(quick: bool) -> list[Row]:
    """BPTT sequences per second of the Elman kernel against :func:`numpy_bptt`, two ways."""
    target, repeats = (0.01, 2) if quick else (0.3, 5)
    ctrl, params, x, y, w, lengths = elman_problem()
    bptt = ctrl.gradient_model("bench").bptt

    def kernel() -> None:
        bptt(params, x, y, w, lengths, 0, LENGTH, LENGTH)

    def one_at_a_time() -> None:
        for r in range(SEQUENCES):
            numpy_bptt(params, x[r:r + 1], y[r:r + 1], w[r:r + 1])

    def batched() -> None:
        numpy_bptt(params, x, y, w)

    rate = {}
    for name, fn in (("kernel", kernel), ("single", one_at_a_time), ("batched", batched)):
        fn()  # compile / load from cache
        n = calls_for(fn, target)
        rate[name] = n * SEQUENCES / best_time(fn, n, repeats)
    tag = f"bptt.elman.h{HIDDEN}.t{LENGTH}"
    return [row(tag, rate["kernel"], "sequences/s", rate["single"], rate["kernel"] / rate["single"]),
            row(f"{tag}.batched", rate["kernel"], "sequences/s", rate["batched"], rate["kernel"] / rate["batched"])]
