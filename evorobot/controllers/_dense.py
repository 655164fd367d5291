"""Dense-layer pieces of the discrete-time networks' numba kernels (Elman, Jordan, NARX, ...).

A discrete-time layer computes ``a = f(b + W x + U r)``: a bias, feed-forward weights ``W`` over
the layer's source ``x`` and, for the recurrent types, weights ``U`` over a recurrent source
``r`` (a context, a delay line, the layer's own previous activations). Weights are stored
``[target, source]`` so that each unit's sum runs over contiguous memory; sums run sequentially
over the sources (``W`` first), with the CTRNN's matrix-vector kernel, so results are those of a
plain loop. The helpers are inlined into each network's one-call-per-tick kernel; they take only
arrays and scalars and trust their inputs.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from evorobot.controllers._ctrnn_kernels import _matvec_add as matvec_add

__all__ = ["ACTIVATIONS", "SIGMOID", "TANH", "affine", "copy_into", "hidden_then_output", "layer", "matvec_add",
           "squash"]

#: Hidden-unit activation functions by name; a kernel receives the index (``TANH`` or ``SIGMOID``).
ACTIVATIONS = ("tanh", "sigmoid")
TANH, SIGMOID = 0, 1


@njit(cache=True, inline="always")
def affine(bias, w, x, acc):
    """acc[i] = bias[i] + sum_j w[i, j] x[j].  bias, acc : (n,); w : (n, m); x : (m,)."""
    for i in range(acc.shape[0]):
        acc[i] = bias[i]
    matvec_add(w, x, acc)


@njit(cache=True, inline="always")
def squash(acc, kind, a):
    """a = tanh(acc) (``kind == TANH``) or 1 / (1 + exp(-acc)) (``SIGMOID``), elementwise."""
    if kind == TANH:
        for i in range(a.shape[0]):
            a[i] = np.tanh(acc[i])
    else:
        for i in range(a.shape[0]):
            a[i] = 1.0 / (1.0 + np.exp(-acc[i]))


@njit(cache=True, inline="always")
def copy_into(src, dst):
    """dst[:] = src (same length)."""
    for i in range(dst.shape[0]):
        dst[i] = src[i]


@njit(cache=True, inline="always")
def layer(w, x, u, r, bias, kind, a, acc):
    """a = f(bias + w x + u r), f chosen by ``kind``; ``r`` may be ``a`` itself (its old values).

    w : (n, m); x : (m,); u : (n, k); r : (k,); bias, a : (n,); acc : (>= n,) scratch.
    """
    s = acc[:a.shape[0]]
    affine(bias, w, x, s)
    matvec_add(u, r, s)
    squash(s, kind, a)


@njit(cache=True, inline="always")
def hidden_then_output(w_in, x, w_rec, r, b_h, w_out, b_o, kind, h, y, acc):
    """One hidden layer over two sources, then a sigmoid output layer (Elman, Jordan, NARX).

    h = f(b_h + w_in x + w_rec r) with f chosen by ``kind``; y = sigmoid(b_o + w_out h).

    Parameters
    ----------
    w_in : (H, m); x : (m,); w_rec : (H, k); r : (k,); b_h : (H,)
    w_out : (n_out, H); b_o : (n_out,)
    h : (H,), y : (n_out,) receive the activations
    acc : (>= max(H, n_out),) scratch
    """
    layer(w_in, x, w_rec, r, b_h, kind, h, acc)
    s = acc[:y.shape[0]]
    affine(b_o, w_out, h, s)
    squash(s, SIGMOID, y)
