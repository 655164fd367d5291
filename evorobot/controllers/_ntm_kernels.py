"""Numba kernels of the neural Turing machine (Graves, Wayne & Danihelka 2014): one call per tick.

Addressing, per head (Graves et al. 2014, section 3.3, eqs. 5-9), given the memory ``mem``
(N, M) and the head's previous weighting ``w_prev`` (N,)::

    w_c(i) = softmax_i( beta K(k, mem_i) ),   K(u, v) = u.v / (|u| |v| + EPS)     content
    w_g    = g w_c + (1 - g) w_prev                                               interpolation
    w~(i)  = sum_{d in -1, 0, +1} w_g((i - d) mod N) s(d)                         shift
    w(i)   = w~(i)^gamma / sum_j w~(j)^gamma                                      sharpening

Writing (eqs. 3-4), every write head ``h``: ``mem_i <- mem_i * (1 - w_h(i) e_h)`` for all heads,
then ``mem_i <- mem_i + w_h(i) a_h``. Reading (eq. 2): ``r = sum_i w(i) mem_i``.

Head output layout (rows of the controller's output layer, after the motor rows; write heads
first, then read heads), squashed as::

    key k (M): tanh    beta: softplus    g: sigmoid    s (3, shifts -1, 0, +1): softmax
    gamma: 1 + softplus    [write heads only] erase e (M): sigmoid    add a (M): tanh
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["EPS", "address", "ntm_step"]

#: Guards the cosine similarity against zero vectors (an all-zero memory row compares as 0).
EPS = 1e-8


@njit(cache=True, inline="always")
def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


@njit(cache=True, inline="always")
def _softplus(a):
    return max(a, 0.0) + np.log1p(np.exp(-abs(a)))


@njit(cache=True)
def address(mem, key, beta, g, shift, gamma, w_prev, w, wc):
    """Graves' addressing of one head: the new weighting into ``w`` (N,).

    mem : (N, M); key : (M,); beta >= 0; g in [0, 1]; shift : (3,) weights of offsets -1, 0, +1
    (summing to 1); gamma >= 1; w_prev : (N,), read before ``w`` is written (they may alias);
    wc : (N,) scratch.
    """
    n, m = mem.shape
    kn = 0.0
    for j in range(m):
        kn += key[j] * key[j]
    kn = np.sqrt(kn)
    top = -np.inf
    for i in range(n):
        dot = 0.0
        mn = 0.0
        for j in range(m):
            dot += key[j] * mem[i, j]
            mn += mem[i, j] * mem[i, j]
        wc[i] = beta * dot / (kn * np.sqrt(mn) + EPS)
        top = max(top, wc[i])
    total = 0.0
    for i in range(n):
        wc[i] = np.exp(wc[i] - top)
        total += wc[i]
    for i in range(n):
        wc[i] = g * (wc[i] / total) + (1.0 - g) * w_prev[i]
    top = 0.0
    for i in range(n):
        v = shift[0] * wc[(i + 1) % n] + shift[1] * wc[i] + shift[2] * wc[(i - 1) % n]
        w[i] = v
        top = max(top, v)
    total = 0.0
    for i in range(n):  # scaled by the maximum first, so that a large gamma cannot underflow to 0 / 0
        w[i] = (w[i] / top) ** gamma
        total += w[i]
    for i in range(n):
        w[i] /= total


@njit(cache=True)
def _head(o, base, m, key, shift):
    """Squash one head's raw rows ``o[base:]`` into key and shift; return (beta, g, gamma)."""
    for j in range(m):
        key[j] = np.tanh(o[base + j])
    beta = _softplus(o[base + m])
    g = _sigmoid(o[base + m + 1])
    top = max(o[base + m + 2], max(o[base + m + 3], o[base + m + 4]))
    total = 0.0
    for d in range(3):
        shift[d] = np.exp(o[base + m + 2 + d] - top)
        total += shift[d]
    for d in range(3):
        shift[d] /= total
    return beta, g, 1.0 + _softplus(o[base + m + 5])


@njit(cache=True)
def ntm_step(w_h, b_h, w_o, b_o, h, mem, reads, weights, x, out):
    """One tick of B NTMs in place.

    w_h : (B, H, n_in + R M [+ H]) hidden-layer weights over ``[x, previous reads, previous h]``
    (the last H columns only for a recurrent controller); b_h : (B, H); w_o : (B, P, H) and
    b_o : (B, P) the linear output layer (motor rows, then write heads, then read heads);
    h : (B, H); mem : (B, N, M); reads : (B, R, M); weights : (B, W + R, N) each head's last
    weighting (write heads first); x : (B, n_in); out : (B, n_out), sigmoid of the motor rows.
    """
    n_b, n_h, n_z = w_h.shape
    n_p = w_o.shape[1]
    _, n_r, m = reads.shape
    n_w = weights.shape[1] - n_r
    n_in, n_out = x.shape[1], out.shape[1]
    z = np.empty(n_z)
    o = np.empty(n_p)
    key, shift, vec, scratch = np.empty(m), np.empty(3), np.empty(m), np.empty(mem.shape[1])
    for b in range(n_b):
        hb, mb, wb = h[b], mem[b], weights[b]
        for k in range(n_in):
            z[k] = x[b, k]
        for r in range(n_r):
            for j in range(m):
                z[n_in + r * m + j] = reads[b, r, j]
        for k in range(n_in + n_r * m, n_z):
            z[k] = hb[k - n_in - n_r * m]
        for i in range(n_h):
            acc = b_h[b, i]
            for k in range(n_z):
                acc += w_h[b, i, k] * z[k]
            hb[i] = np.tanh(acc)
        for p in range(n_p):
            acc = b_o[b, p]
            for i in range(n_h):
                acc += w_o[b, p, i] * hb[i]
            o[p] = acc
        for k in range(n_out):
            out[b, k] = _sigmoid(o[k])
        for q in range(n_w):  # write weightings from the memory before this tick's writes
            beta, g, gamma = _head(o, n_out + q * (3 * m + 6), m, key, shift)
            address(mb, key, beta, g, shift, gamma, wb[q], wb[q], scratch)
        for q in range(n_w):
            base = n_out + q * (3 * m + 6) + m + 6
            for j in range(m):
                vec[j] = _sigmoid(o[base + j])
            for i in range(mb.shape[0]):
                for j in range(m):
                    mb[i, j] *= 1.0 - wb[q, i] * vec[j]
        for q in range(n_w):
            base = n_out + q * (3 * m + 6) + 2 * m + 6
            for j in range(m):
                vec[j] = np.tanh(o[base + j])
            for i in range(mb.shape[0]):
                for j in range(m):
                    mb[i, j] += wb[q, i] * vec[j]
        for r in range(n_r):  # read heads address and read the memory after the writes
            beta, g, gamma = _head(o, n_out + n_w * (3 * m + 6) + r * (m + 6), m, key, shift)
            address(mb, key, beta, g, shift, gamma, wb[n_w + r], wb[n_w + r], scratch)
            for j in range(m):
                acc = 0.0
                for i in range(mb.shape[0]):
                    acc += wb[n_w + r, i] * mb[i, j]
                reads[b, r, j] = acc
