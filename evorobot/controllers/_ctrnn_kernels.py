"""Numba kernels of the continuous-time networks (CTRNN, MTRNN, hierarchical): one call per tick.

Each kernel advances B networks of N neurons one step in place (Beer 1995)::

    tau_i dy_i/dt = -y_i + sum_j w[i, j] o_j + sum_k w_in[i, k] x_k,   o_j = sigma(g_j (y_j + theta_j))

and writes the outputs of neurons ``first .. first + n_out`` to ``out``. They take only arrays and
scalars and trust their inputs (the shell in :mod:`evorobot.controllers.ctrnn` validates).

Parameters common to every step kernel
--------------------------------------
tau, bias, gain : (B, N) float64
w : (B, N, N) float64, ``[target, source]``; absent connections are zeros (any mask works)
w_in : (B, N, n_in) float64, ``[target, input]``
y, o : (B, N) float64, states and outputs, updated in place (``o`` must be sigma(g (y + theta)))
x : (B, n_in) float64, inputs held constant over the step
dt : float
out : (B, n_out) float64, receives ``o[:, first:first + n_out]``
first : int
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["KERNELS", "outputs"]

# ---------------------------------------------------------------------------------------------
# Kernels: plain arrays and scalars only; loop over the batch inside; write in place.
# Sums run sequentially over sources (input weights first, then recurrent weights), four target
# neurons at a time for instruction-level parallelism; no fastmath, so the result is the same as
# a plain loop's.


@njit(cache=True, inline="always")
def _matvec_add(a, x, acc):
    """acc[i] += sum_j a[i, j] * x[j], summed in order of j."""
    n, m = a.shape
    i = 0
    while i + 4 <= n:
        s0, s1, s2, s3 = acc[i], acc[i + 1], acc[i + 2], acc[i + 3]
        for j in range(m):
            xj = x[j]
            s0 += a[i, j] * xj
            s1 += a[i + 1, j] * xj
            s2 += a[i + 2, j] * xj
            s3 += a[i + 3, j] * xj
        acc[i], acc[i + 1], acc[i + 2], acc[i + 3] = s0, s1, s2, s3
        i += 4
    while i < n:
        s = acc[i]
        for j in range(m):
            s += a[i, j] * x[j]
        acc[i] = s
        i += 1


@njit(cache=True, inline="always")
def _sigma_row(gain, bias, y, o):
    for i in range(y.shape[0]):
        o[i] = 1.0 / (1.0 + np.exp(-gain[i] * (y[i] + bias[i])))


@njit(cache=True)
def outputs(gain, bias, y, o):
    """o = sigma(g (y + theta)) for every network of the batch, in place."""
    for b in range(y.shape[0]):
        _sigma_row(gain[b], bias[b], y[b], o[b])


@njit(cache=True, inline="always")
def _drive(w, w_in, x, o, acc):
    """acc = W_in x + W o (input part summed first)."""
    acc[:] = 0.0
    _matvec_add(w_in, x, acc)
    _matvec_add(w, o, acc)


@njit(cache=True)
def _euler_step(tau, bias, gain, w, w_in, y, o, x, dt, out, first):
    n_b, n = y.shape
    acc = np.empty(n)
    for b in range(n_b):
        yb, ob = y[b], o[b]
        _drive(w[b], w_in[b], x[b], ob, acc)
        for i in range(n):  # all states from the previous outputs (Beer's EulerStep) ...
            yb[i] += dt / tau[b, i] * (acc[i] - yb[i])
        _sigma_row(gain[b], bias[b], yb, ob)  # ... then all outputs
        for k in range(out.shape[1]):
            out[b, k] = ob[first + k]


@njit(cache=True)
def _exp_euler_step(tau, bias, gain, w, w_in, y, o, x, dt, out, first):
    n_b, n = y.shape
    acc = np.empty(n)
    for b in range(n_b):
        yb, ob = y[b], o[b]
        _drive(w[b], w_in[b], x[b], ob, acc)
        for i in range(n):
            a = acc[i]
            yb[i] = a + (yb[i] - a) * np.exp(-dt / tau[b, i])
        _sigma_row(gain[b], bias[b], yb, ob)
        for k in range(out.shape[1]):
            out[b, k] = ob[first + k]


@njit(cache=True)
def _rk4_step(tau, bias, gain, w, w_in, y, o, x, dt, out, first):
    n_b, n = y.shape
    # separate allocations (not rows of one array) let LLVM see that they do not alias
    ext, acc, ys, os = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    rtau, ksum = np.empty(n), np.empty(n)
    for b in range(n_b):
        yb, ob, wb, gb, bb = y[b], o[b], w[b], gain[b], bias[b]
        for i in range(n):
            ext[i] = 0.0
            rtau[i] = 1.0 / tau[b, i]
        _matvec_add(w_in[b], x[b], ext)
        for i in range(n):
            acc[i] = ext[i]
        _matvec_add(wb, ob, acc)  # k1 = f(y), from the current outputs
        for i in range(n):
            k = (acc[i] - yb[i]) * rtau[i]
            ksum[i] = k
            ys[i] = yb[i] + 0.5 * dt * k
        for stage in range(3):  # k2, k3, k4 from the staged states ys
            _sigma_row(gb, bb, ys, os)
            for i in range(n):
                acc[i] = ext[i]
            _matvec_add(wb, os, acc)
            for i in range(n):
                k = (acc[i] - ys[i]) * rtau[i]
                if stage < 2:
                    ksum[i] += 2.0 * k
                    ys[i] = yb[i] + (0.5 * dt if stage == 0 else dt) * k
                else:
                    ksum[i] += k
        for i in range(n):
            yb[i] += dt / 6.0 * ksum[i]
        _sigma_row(gb, bb, yb, ob)
        for i in range(out.shape[1]):
            out[b, i] = ob[first + i]

KERNELS = {"euler": _euler_step, "rk4": _rk4_step, "exp_euler": _exp_euler_step}
