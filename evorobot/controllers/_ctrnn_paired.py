"""Step kernels of the continuous-time networks with mirror-paired sums (issue 21, exact mirror trials).

Mirror-paired sums (``[controller] paired_sums``, symmetric genomes only; issue 21):
:data:`PAIRED` holds step kernels, one per integrator, that sum each neuron's terms in mirror
pairs instead, in the order of :func:`mirror_pairs`: the input part over ``(t_k + t_{R-1-k})``,
``k < R/2`` in order of ``k``, the middle term (odd ``R``) first; then the recurrent part over
``(t_j + t_{m(j)})``, ``j < m(j)`` in order of ``j``, a fixed point ``j = m(j)`` as a single term
in its place. In the mirror image of a trial (inputs reversed, neuron ``i`` -> ``m(i)``) neuron
``m(i)`` sees the same pairs with their two terms swapped, and IEEE addition commutes: it
gets neuron ``i``'s value bit for bit. Any layout gives the same bits (Euler and exponential
Euler take a batch-minor loop for batch-minor arrays, RK4 and other layouts plain ``[b, i, j]``
indexing); other bits than the plain order's, so an option, off by default.

The kernels' arguments are those of :data:`evorobot.controllers._ctrnn_kernels.KERNELS` with the pair
orders ``in_pairs``, ``rec_pairs`` in place of ``t``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from evorobot.controllers._ctrnn_kernels import _batch_minor, _inputs_bm, _outputs_bm, _sigma_bm, _sigma_into

__all__ = ["PAIRED", "mirror_pairs"]


def mirror_pairs(perm: np.ndarray, fixed_first: bool) -> np.ndarray:
    """The pair order of a mirror-paired sum over indices ``0 .. n-1`` under the involution ``perm``:
    ``(P, 2)`` int64 rows ``(j, perm[j])`` for ``j < perm[j]`` in order of ``j``, and ``(j, -1)``
    for each fixed point ``j = perm[j]``, placed first (``fixed_first``: the inputs' middle term)
    or in its place in the order of ``j`` (the neurons)."""
    perm = np.asarray(perm, dtype=np.int64)
    if not np.array_equal(perm[perm], np.arange(perm.size)):
        raise ValueError("a mirror map must be an involution")
    fixed = [(j, -1) for j in range(perm.size) if perm[j] == j]
    rows = [(j, int(perm[j])) if perm[j] != j else (j, -1) for j in range(perm.size) if j <= perm[j]]
    if fixed_first:
        rows = fixed + [r for r in rows if r[1] >= 0]
    return np.array(rows, dtype=np.int64).reshape(-1, 2)


@njit(cache=True, inline="always")
def _paired_sum(s, a, b, i, x, r, pairs):
    """s + sum over ``pairs`` of ``(a[b, i, j] x[r, j] + a[b, i, l] x[r, l])`` (``l`` = -1: the single
    term ``a[b, i, j] x[r, j]``), added pair after pair in the rows' order."""
    for p in range(pairs.shape[0]):
        j, l = pairs[p, 0], pairs[p, 1]
        t = a[b, i, j] * x[r, j]
        if l >= 0:
            t = t + a[b, i, l] * x[r, l]
        s = s + t
    return s


@njit(cache=True, inline="always")
def _paired_sum_bm(a, i, x, pairs, acc):
    """Batch-minor :func:`_paired_sum`: acc[0, b] += the pairs of target ``i`` for every network b
    (``a`` (m, N, B) [source, target, network], ``x`` (m, B)), the networks innermost."""
    n_b = acc.shape[1]
    for p in range(pairs.shape[0]):
        j, l = pairs[p, 0], pairs[p, 1]
        if l >= 0:
            for b in range(n_b):
                acc[0, b] = acc[0, b] + (a[j, i, b] * x[j, b] + a[l, i, b] * x[l, b])
        else:
            for b in range(n_b):
                acc[0, b] = acc[0, b] + a[j, i, b] * x[j, b]


@njit(cache=True, inline="always")
def _paired_drive_bm(w, w_in, xt, o, i, in_pairs, rec_pairs, acc):
    for b in range(acc.shape[1]):
        acc[0, b] = 0.0
    _paired_sum_bm(w_in, i, xt, in_pairs, acc)
    _paired_sum_bm(w, i, o, rec_pairs, acc)


@njit(cache=True, error_model="numpy")
def _paired_euler_bm(tau, bias, gain, w, w_in, y, o, x, dt, out, first, in_pairs, rec_pairs, exp_euler):
    n, n_b = y.shape
    xt = _inputs_bm(x)
    acc, z = np.empty((1, n_b)), np.empty((1, n_b))
    for i in range(n):
        _paired_drive_bm(w, w_in, xt, o, i, in_pairs, rec_pairs, acc)
        if exp_euler:
            for b in range(n_b):
                z[0, b] = np.exp(-dt / tau[i, b])
            for b in range(n_b):
                a = acc[0, b]
                y[i, b] = a + (y[i, b] - a) * z[0, b]
        else:
            for b in range(n_b):
                y[i, b] += dt / tau[i, b] * (acc[0, b] - y[i, b])
    _sigma_bm(gain, bias, y, o, z)
    _outputs_bm(o, first, out)


@njit(cache=True, error_model="numpy")
def _paired_euler(tau, bias, gain, w, w_in, y, o, x, dt, out, first, in_pairs, rec_pairs):
    if _batch_minor(tau, bias, gain, w, w_in, y, o):  # compile-time constant
        _paired_euler_bm(tau.T, bias.T, gain.T, w.T, w_in.T, y.T, o.T, x, dt, out, first, in_pairs, rec_pairs, False)
        return
    n_b, n = y.shape
    for b in range(n_b):
        for i in range(n):  # all states from the previous outputs (Beer's EulerStep) ...
            a = _paired_sum(_paired_sum(0.0, w_in, b, i, x, b, in_pairs), w, b, i, o, b, rec_pairs)
            y[b, i] += dt / tau[b, i] * (a - y[b, i])
        _sigma_into(gain, bias, b, y, b, o)  # ... then all outputs
        for k in range(out.shape[1]):
            out[b, k] = o[b, first + k]


@njit(cache=True, error_model="numpy")
def _paired_exp_euler(tau, bias, gain, w, w_in, y, o, x, dt, out, first, in_pairs, rec_pairs):
    if _batch_minor(tau, bias, gain, w, w_in, y, o):  # compile-time constant
        _paired_euler_bm(tau.T, bias.T, gain.T, w.T, w_in.T, y.T, o.T, x, dt, out, first, in_pairs, rec_pairs, True)
        return
    n_b, n = y.shape
    for b in range(n_b):
        for i in range(n):
            a = _paired_sum(_paired_sum(0.0, w_in, b, i, x, b, in_pairs), w, b, i, o, b, rec_pairs)
            y[b, i] = a + (y[b, i] - a) * np.exp(-dt / tau[b, i])
        _sigma_into(gain, bias, b, y, b, o)
        for k in range(out.shape[1]):
            out[b, k] = o[b, first + k]


@njit(cache=True, error_model="numpy")
def _paired_rk4(tau, bias, gain, w, w_in, y, o, x, dt, out, first, in_pairs, rec_pairs):
    n_b, n = y.shape
    ext, rtau, ksum = np.empty(n), np.empty(n), np.empty(n)
    ys, os = np.empty((1, n)), np.empty((1, n))  # staged states and outputs, row 0
    for b in range(n_b):
        for i in range(n):
            ext[i] = _paired_sum(0.0, w_in, b, i, x, b, in_pairs)
            rtau[i] = 1.0 / tau[b, i]
        for i in range(n):  # k1 = f(y), from the current outputs
            k = (_paired_sum(ext[i], w, b, i, o, b, rec_pairs) - y[b, i]) * rtau[i]
            ksum[i] = k
            ys[0, i] = y[b, i] + 0.5 * dt * k
        for stage in range(3):  # k2, k3, k4 from the staged states ys
            _sigma_into(gain, bias, b, ys, 0, os)
            for i in range(n):
                k = (_paired_sum(ext[i], w, b, i, os, 0, rec_pairs) - ys[0, i]) * rtau[i]
                if stage < 2:
                    ksum[i] += 2.0 * k
                    ys[0, i] = y[b, i] + (0.5 * dt if stage == 0 else dt) * k
                else:
                    ksum[i] += k
        for i in range(n):
            y[b, i] += dt / 6.0 * ksum[i]
        _sigma_into(gain, bias, b, y, b, o)
        for i in range(out.shape[1]):
            out[b, i] = o[b, first + i]


#: Step kernels with mirror-paired sums (``paired_sums``), by integrator: the arguments of
#: :data:`KERNELS`' with the pair orders ``in_pairs``, ``rec_pairs`` (:func:`mirror_pairs`) in place of ``t``.
PAIRED = {"euler": _paired_euler, "rk4": _paired_rk4, "exp_euler": _paired_exp_euler}
