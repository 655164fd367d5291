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
t : bool
    ``w`` and ``w_in`` are given source-major, ``(B, N, N) [source, target]`` and
    ``(B, n_in, N) [input, target]`` (the transposes, C-contiguous): the sums then run with the
    targets in the inner loop, which vectorises across targets (see :func:`_sum_into`).

Both layouts compute every neuron's sum in the same order (input weights in order of ``k``,
then recurrent weights in order of ``j``) with the same operations, so they give the same bits;
the layout only decides which loop is innermost.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["EULER", "EXP_EULER", "KERNELS", "RK4", "SOURCE_MAJOR_N", "advance", "field", "field_vjp", "outputs",
           "step_vjp"]

#: Networks of this many neurons or more are stepped source-major (the shell stores their weights
#: so): below it the target-major loop of four targets at a time is as fast (N = 7, 10) and avoids
#: a transposed view per tick.
SOURCE_MAJOR_N = 16
#: From this many targets on, a source-major sum takes one source per pass over the targets: a
#: single linear stream through the weights, which the hardware prefetcher follows from DRAM
#: (several sources per pass read several short streams at once and stall; measured at N = 200).
STREAM_N = 64

# ---------------------------------------------------------------------------------------------
# Kernels: plain arrays and scalars only; loop over the batch inside; write in place.
# Sums run sequentially over sources (input weights first, then recurrent weights): target-major,
# four target neurons at a time for instruction-level parallelism; or source-major, every target's
# running sum updated source after source, the inner loop over targets vectorised by LLVM (no
# reduction is reordered: each lane is one target's own sum). No fastmath, so neither
# reassociation nor FMA contraction: the result is the same as a plain loop's, in either layout.


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


@njit(cache=True, inline="always")
def _drive(w, w_in, x, o, acc):
    """acc = W_in x + W o (input part summed first), one network's rows."""
    acc[:] = 0.0
    _matvec_add(w_in, x, acc)
    _matvec_add(w, o, acc)


# The step kernels index every batched array by network (``w[b, i, j]``) rather than take
# per-network views (``w[b]``): the views cost about a quarter of the Euler step at N = 7
# (measured). ``_matvec_add``, ``_sigma_row`` and ``_drive`` (one network's rows) serve the
# gradient kernels and the dense controllers. ``error_model="numpy"``: no zero-divisor check
# (tau > 0 and 1 + e^x > 0 by construction; a check's exception path keeps LLVM from vectorising
# the state update), the quotients themselves are the same.


@njit(cache=True, inline="always")
def _sum_into(a, b, x, r, acc, t):
    """acc[i] += sum_j a[b, i, j] * x[r, j], summed in order of j.

    ``t``: ``a[b]`` is given source-major (``a[b, j, i]``): every target's running sum is updated
    source after source, the loop over targets innermost (vectorised), four sources per pass
    while the weights fit in cache, one per pass (a single prefetchable stream) from
    :data:`STREAM_N` targets on. Otherwise four targets at a time, each over its sources.
    """
    if t:
        m, n = a.shape[1], a.shape[2]
        j = 0
        if n < STREAM_N:
            while j + 4 <= m:
                x0, x1, x2, x3 = x[r, j], x[r, j + 1], x[r, j + 2], x[r, j + 3]
                for i in range(n):
                    acc[i] = (((acc[i] + a[b, j, i] * x0) + a[b, j + 1, i] * x1)
                              + a[b, j + 2, i] * x2) + a[b, j + 3, i] * x3
                j += 4
        while j < m:
            xj = x[r, j]
            for i in range(n):
                acc[i] += a[b, j, i] * xj
            j += 1
    else:
        n, m = a.shape[1], a.shape[2]
        i = 0
        while i + 4 <= n:
            s0, s1, s2, s3 = acc[i], acc[i + 1], acc[i + 2], acc[i + 3]
            for j in range(m):
                xj = x[r, j]
                s0 += a[b, i, j] * xj
                s1 += a[b, i + 1, j] * xj
                s2 += a[b, i + 2, j] * xj
                s3 += a[b, i + 3, j] * xj
            acc[i], acc[i + 1], acc[i + 2], acc[i + 3] = s0, s1, s2, s3
            i += 4
        while i < n:
            s = acc[i]
            for j in range(m):
                s += a[b, i, j] * x[r, j]
            acc[i] = s
            i += 1


@njit(cache=True, inline="always")
def _drive_b(w, w_in, x, o, b, acc, t):
    """acc = W_in x + W o of network ``b`` (input part summed first)."""
    for i in range(acc.shape[0]):
        acc[i] = 0.0
    _sum_into(w_in, b, x, b, acc, t)
    _sum_into(w, b, o, b, acc, t)


@njit(cache=True, inline="always")
def _sigma_into(gain, bias, b, y, r, o):
    """o[r, i] = sigma(g_i (y[r, i] + theta_i)) with the parameters of network ``b``."""
    for i in range(y.shape[1]):
        o[r, i] = 1.0 / (1.0 + np.exp(-gain[b, i] * (y[r, i] + bias[b, i])))


@njit(cache=True)
def outputs(gain, bias, y, o):
    """o = sigma(g (y + theta)) for every network of the batch, in place."""
    for b in range(y.shape[0]):
        _sigma_into(gain, bias, b, y, b, o)


@njit(cache=True, error_model="numpy")
def _euler_step(tau, bias, gain, w, w_in, y, o, x, dt, out, first, t):
    n_b, n = y.shape
    acc = np.empty(n)
    for b in range(n_b):
        _drive_b(w, w_in, x, o, b, acc, t)
        for i in range(n):  # all states from the previous outputs (Beer's EulerStep) ...
            y[b, i] += dt / tau[b, i] * (acc[i] - y[b, i])
        _sigma_into(gain, bias, b, y, b, o)  # ... then all outputs
        for k in range(out.shape[1]):
            out[b, k] = o[b, first + k]


@njit(cache=True, error_model="numpy")
def _exp_euler_step(tau, bias, gain, w, w_in, y, o, x, dt, out, first, t):
    n_b, n = y.shape
    acc = np.empty(n)
    for b in range(n_b):
        _drive_b(w, w_in, x, o, b, acc, t)
        for i in range(n):
            a = acc[i]
            y[b, i] = a + (y[b, i] - a) * np.exp(-dt / tau[b, i])
        _sigma_into(gain, bias, b, y, b, o)
        for k in range(out.shape[1]):
            out[b, k] = o[b, first + k]


@njit(cache=True, error_model="numpy")
def _rk4_step(tau, bias, gain, w, w_in, y, o, x, dt, out, first, t):
    n_b, n = y.shape
    # separate allocations (not rows of one array) let LLVM see that they do not alias
    ext, acc, rtau, ksum = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    ys, os = np.empty((1, n)), np.empty((1, n))  # staged states and outputs, row 0
    for b in range(n_b):
        for i in range(n):
            ext[i] = 0.0
            rtau[i] = 1.0 / tau[b, i]
        _sum_into(w_in, b, x, b, ext, t)
        for i in range(n):
            acc[i] = ext[i]
        _sum_into(w, b, o, b, acc, t)  # k1 = f(y), from the current outputs
        for i in range(n):
            k = (acc[i] - y[b, i]) * rtau[i]
            ksum[i] = k
            ys[0, i] = y[b, i] + 0.5 * dt * k
        for stage in range(3):  # k2, k3, k4 from the staged states ys
            _sigma_into(gain, bias, b, ys, 0, os)
            for i in range(n):
                acc[i] = ext[i]
            _sum_into(w, b, os, 0, acc, t)
            for i in range(n):
                k = (acc[i] - ys[0, i]) * rtau[i]
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


KERNELS = {"euler": _euler_step, "rk4": _rk4_step, "exp_euler": _exp_euler_step}
#: Indices of the integrators (the order of :data:`KERNELS`) for the gradient kernels.
EULER, RK4, EXP_EULER = 0, 1, 2


@njit(cache=True)
def advance(kind, tau, bias, gain, w, w_in, y, o, x, dt, out, first):
    """One step of the integrator ``kind`` (EULER, RK4 or EXP_EULER): the forward kernel itself
    (weights target-major)."""
    if kind == EULER:
        _euler_step(tau, bias, gain, w, w_in, y, o, x, dt, out, first, False)
    elif kind == RK4:
        _rk4_step(tau, bias, gain, w, w_in, y, o, x, dt, out, first, False)
    else:
        _exp_euler_step(tau, bias, gain, w, w_in, y, o, x, dt, out, first, False)


# ---------------------------------------------------------------------------------------------
# Backward pieces (gradient training): vector-Jacobian products of one network's step, without
# the batch axis. ``grads`` is the tuple (g_tau, g_bias, g_gain, g_w, g_in) of (N,), (N,), (N,),
# (N, N), (N, n_in) arrays the parameter gradients are added to; ``sc`` (10, N) scratch.


@njit(cache=True, inline="always")
def _drive_vjp(w, gain, bias, o, yv, x, abar, c, ybar, u, grads):
    """Cotangent ``abar`` of the drive ``W o(y) + W_in x`` at state ``yv`` (outputs ``o``):
    ``ybar += (d drive / dy)^T abar``; the parameters' gradients ``+= c (d drive / dp)^T abar``."""
    _, g_bias, g_gain, g_w, g_in = grads
    n = yv.shape[0]
    for j in range(n):
        u[j] = 0.0
    for i in range(n):
        ai = abar[i]
        if ai != 0.0:
            for j in range(n):
                u[j] += w[i, j] * ai
            if c != 0.0:
                ca = c * ai
                for j in range(n):
                    g_w[i, j] += ca * o[j]
                for k in range(x.shape[0]):
                    g_in[i, k] += ca * x[k]
    for j in range(n):
        s = u[j] * o[j] * (1.0 - o[j])
        ybar[j] += s * gain[j]
        if c != 0.0:
            g_bias[j] += c * s * gain[j]
            g_gain[j] += c * s * (yv[j] + bias[j])


@njit(cache=True, inline="always")
def field(tau, bias, gain, w, w_in, x, yv, o, acc, f):
    """f = (W o + W_in x - y) / tau at state ``yv`` (o = sigma(g (y + theta)) written to ``o``,
    the drive to ``acc``)."""
    _sigma_row(gain, bias, yv, o)
    _drive(w, w_in, x, o, acc)
    for i in range(yv.shape[0]):
        f[i] = (acc[i] - yv[i]) / tau[i]


@njit(cache=True)
def field_vjp(tau, bias, gain, w, w_in, x, yv, kbar, c, ybar, grads, sc):
    """Vector-Jacobian product of the vector field ``f(y) = (W o(y) + W_in x - y) / tau`` at state
    ``yv`` with cotangent ``kbar``: ``ybar += (df/dy)^T kbar`` and, unless ``c`` is 0, the
    parameters' gradients ``+= c (df/dp)^T kbar``."""
    o, acc, f, a, u = sc[0], sc[1], sc[2], sc[3], sc[4]
    field(tau, bias, gain, w, w_in, x, yv, o, acc, f)
    g_tau = grads[0]
    for i in range(yv.shape[0]):
        a[i] = kbar[i] / tau[i]
        ybar[i] -= a[i]
        if c != 0.0:
            g_tau[i] -= c * a[i] * f[i]
    _drive_vjp(w, gain, bias, o, yv, x, a, c, ybar, u, grads)


@njit(cache=True)
def step_vjp(kind, tau, bias, gain, w, w_in, x, y, dt, lam, ybar, grads, sc):
    """Back through one step of the integrator ``kind`` from state ``y`` (input ``x``): ``lam`` is
    dL/dy after the step; ``ybar`` receives dL/dy before it, and the parameters' gradients are
    added to ``grads``. The stages are recomputed from ``y`` as the forward kernel computes them."""
    n = y.shape[0]
    for i in range(n):
        ybar[i] = lam[i]
    if kind == EULER:  # y' = y + dt f(y)
        kb = sc[5]
        for i in range(n):
            kb[i] = dt * lam[i]
        field_vjp(tau, bias, gain, w, w_in, x, y, kb, 1.0, ybar, grads, sc)
    elif kind == EXP_EULER:  # y' = A + (y - A) E, A = W o(y) + W_in x, E = exp(-dt / tau)
        o, acc, ab, u = sc[0], sc[1], sc[5], sc[4]
        _sigma_row(gain, bias, y, o)
        _drive(w, w_in, x, o, acc)
        g_tau = grads[0]
        for i in range(n):
            e = np.exp(-dt / tau[i])
            ybar[i] = lam[i] * e
            ab[i] = lam[i] * (1.0 - e)
            g_tau[i] += lam[i] * (y[i] - acc[i]) * e * dt / (tau[i] * tau[i])
        _drive_vjp(w, gain, bias, o, y, x, ab, 1.0, ybar, u, grads)
    else:  # classic RK4: stages Y1 = y, Y2 = y + dt/2 k1, Y3 = y + dt/2 k2, Y4 = y + dt k3
        o, acc, f = sc[0], sc[1], sc[2]
        y2, y3, y4, kb, yb = sc[5], sc[6], sc[7], sc[8], sc[9]
        field(tau, bias, gain, w, w_in, x, y, o, acc, f)
        for i in range(n):
            y2[i] = y[i] + 0.5 * dt * f[i]
        field(tau, bias, gain, w, w_in, x, y2, o, acc, f)
        for i in range(n):
            y3[i] = y[i] + 0.5 * dt * f[i]
        field(tau, bias, gain, w, w_in, x, y3, o, acc, f)
        for i in range(n):
            y4[i] = y[i] + dt * f[i]
        # y' = y + dt/6 (k1 + 2 k2 + 2 k3 + k4): back through k4, k3, k2, k1 in turn
        for i in range(n):
            kb[i] = dt / 6.0 * lam[i]
        for stage, (ys, back) in enumerate(((y4, dt), (y3, 0.5 * dt), (y2, 0.5 * dt))):
            for i in range(n):
                yb[i] = 0.0
            field_vjp(tau, bias, gain, w, w_in, x, ys, kb, 1.0, yb, grads, sc)
            for i in range(n):
                ybar[i] += yb[i]
                kb[i] = (dt / 3.0 if stage < 2 else dt / 6.0) * lam[i] + back * yb[i]
        field_vjp(tau, bias, gain, w, w_in, x, y, kb, 1.0, ybar, grads, sc)
