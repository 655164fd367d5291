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

Batch-minor (small networks, :data:`SOURCE_MAJOR_N`): when ``tau, bias, gain, w, w_in, y, o`` are
all F-contiguous, i.e. the full transposes (``.T``) of C-contiguous ``(N, B)``, ``(N, N, B)``
``[source, target, network]`` and ``(n_in, N, B)`` arrays, the step kernels take the batch-minor
loop (decided at compile time from the array types, :func:`_batch_minor`): targets and sources
outside, the networks innermost over contiguous rows, so that each SIMD lane is one network's own
sum (vectorised across networks, the only long axis at N = 7).

Every layout computes every neuron's sum in the same order (input weights in order of ``k``,
then recurrent weights in order of ``j``) with the same operations, so they give the same bits;
the layout only decides which loop is innermost.

Mirror-paired sums (``[controller] paired_sums``) are in :mod:`evorobot.controllers._ctrnn_paired`.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.extending import overload

__all__ = ["EULER", "EXP_EULER", "KERNELS", "RK4", "SOURCE_MAJOR_N", "advance", "field", "field_vjp", "outputs",
           "step_vjp"]

#: Networks of this many neurons or more are stepped source-major (the shell stores their weights
#: so); below it batch-minor (the shell stores every parameter and state so): 1.58x the
#: target-major loop at N = 7, 1.36x at N = 12, 1.13x at N = 16 (B = 256), even from N = 20 on and
#: behind source-major from N = 50 on (measured, Euler).
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


# -- batch-minor: the networks innermost ------------------------------------------------------
# Arrays are the C-contiguous bases: tau, bias, gain, y, o (N, B); w (N, N, B) [source, target];
# w_in (n_in, N, B) [input, target]. The loops over networks are vectorised by LLVM, one network
# per lane, each lane's operations those of the network's own scalar loop (no fastmath: no
# reassociation, no FMA contraction); exp is still called once per element (libm's exp).


def _batch_minor(tau, bias, gain, w, w_in, y, o):  # pragma: no cover - replaced in compiled code
    """Whether the step kernels take the batch-minor loop: every array F-contiguous (numba layout 'F')."""
    return all(a.flags.f_contiguous and not a.flags.c_contiguous for a in (tau, bias, gain, w, w_in, y, o))


@overload(_batch_minor)
def _batch_minor_typed(tau, bias, gain, w, w_in, y, o):
    bm = all(getattr(a, "layout", "") == "F" for a in (tau, bias, gain, w, w_in, y, o))
    return lambda tau, bias, gain, w, w_in, y, o: bm


@njit(cache=True, inline="always")
def _sum_bm(a, i, x, acc, r):
    """acc[r, b] += sum_j a[j, i, b] * x[j, b] for every network b, summed in order of j."""
    m, n_b = a.shape[0], a.shape[2]
    j = 0
    while j + 4 <= m:
        for b in range(n_b):
            acc[r, b] = (((acc[r, b] + a[j, i, b] * x[j, b]) + a[j + 1, i, b] * x[j + 1, b])
                         + a[j + 2, i, b] * x[j + 2, b]) + a[j + 3, i, b] * x[j + 3, b]
        j += 4
    while j < m:
        for b in range(n_b):
            acc[r, b] += a[j, i, b] * x[j, b]
        j += 1


@njit(cache=True, inline="always")
def _inputs_bm(x):
    """The inputs (B, n_in) as a fresh (n_in, B) array."""
    n_b, m = x.shape
    xt = np.empty((m, n_b))
    for b in range(n_b):
        for k in range(m):
            xt[k, b] = x[b, k]
    return xt


@njit(cache=True, inline="always")
def _drive_bm(w, w_in, xt, o, i, acc):
    """acc[0] = W_in x + W o of target ``i`` for every network (input part summed first)."""
    for b in range(acc.shape[1]):
        acc[0, b] = 0.0
    _sum_bm(w_in, i, xt, acc, 0)
    _sum_bm(w, i, o, acc, 0)


@njit(cache=True, inline="always")
def _sigma_bm(gain, bias, y, o, z):
    """o = sigma(g (y + theta)), (N, B) arrays; ``z`` (1, B) scratch. The exps in their own loop
    (scalar libm calls) leave the arithmetic around them vectorised."""
    n, n_b = y.shape
    for i in range(n):
        for b in range(n_b):
            z[0, b] = -gain[i, b] * (y[i, b] + bias[i, b])
        for b in range(n_b):
            z[0, b] = np.exp(z[0, b])
        for b in range(n_b):
            o[i, b] = 1.0 / (1.0 + z[0, b])


@njit(cache=True, inline="always")
def _outputs_bm(o, first, out):
    for b in range(out.shape[0]):
        for k in range(out.shape[1]):
            out[b, k] = o[first + k, b]


@njit(cache=True, error_model="numpy")
def _euler_bm(tau, bias, gain, w, w_in, y, o, x, dt, out, first):
    n, n_b = y.shape
    xt = _inputs_bm(x)
    acc, z = np.empty((1, n_b)), np.empty((1, n_b))
    for i in range(n):  # all states from the previous outputs (Beer's EulerStep) ...
        _drive_bm(w, w_in, xt, o, i, acc)
        for b in range(n_b):
            y[i, b] += dt / tau[i, b] * (acc[0, b] - y[i, b])
    _sigma_bm(gain, bias, y, o, z)  # ... then all outputs
    _outputs_bm(o, first, out)


@njit(cache=True, error_model="numpy")
def _exp_euler_bm(tau, bias, gain, w, w_in, y, o, x, dt, out, first):
    n, n_b = y.shape
    xt = _inputs_bm(x)
    acc, z = np.empty((1, n_b)), np.empty((1, n_b))
    for i in range(n):
        _drive_bm(w, w_in, xt, o, i, acc)
        for b in range(n_b):
            z[0, b] = -dt / tau[i, b]
        for b in range(n_b):
            z[0, b] = np.exp(z[0, b])
        for b in range(n_b):
            a = acc[0, b]
            y[i, b] = a + (y[i, b] - a) * z[0, b]
    _sigma_bm(gain, bias, y, o, z)
    _outputs_bm(o, first, out)


@njit(cache=True, error_model="numpy")
def _rk4_bm(tau, bias, gain, w, w_in, y, o, x, dt, out, first):
    n, n_b = y.shape
    xt = _inputs_bm(x)
    ext, rtau, ksum = np.empty((n, n_b)), np.empty((n, n_b)), np.empty((n, n_b))
    ys, os = np.empty((n, n_b)), np.empty((n, n_b))  # staged states and outputs
    acc, z = np.empty((1, n_b)), np.empty((1, n_b))
    for i in range(n):
        for b in range(n_b):
            ext[i, b] = 0.0
            rtau[i, b] = 1.0 / tau[i, b]
        _sum_bm(w_in, i, xt, ext, i)
        for b in range(n_b):
            acc[0, b] = ext[i, b]
        _sum_bm(w, i, o, acc, 0)  # k1 = f(y), from the current outputs
        for b in range(n_b):
            k = (acc[0, b] - y[i, b]) * rtau[i, b]
            ksum[i, b] = k
            ys[i, b] = y[i, b] + 0.5 * dt * k
    for stage in range(3):  # k2, k3, k4 from the staged states ys
        _sigma_bm(gain, bias, ys, os, z)
        h = 0.5 * dt if stage == 0 else dt
        for i in range(n):
            for b in range(n_b):
                acc[0, b] = ext[i, b]
            _sum_bm(w, i, os, acc, 0)
            for b in range(n_b):
                k = (acc[0, b] - ys[i, b]) * rtau[i, b]
                if stage < 2:
                    ksum[i, b] += 2.0 * k
                    ys[i, b] = y[i, b] + h * k
                else:
                    ksum[i, b] += k
    for i in range(n):
        for b in range(n_b):
            y[i, b] += dt / 6.0 * ksum[i, b]
    _sigma_bm(gain, bias, y, o, z)
    _outputs_bm(o, first, out)


# -- the step kernels: any layout -------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def _euler_step(tau, bias, gain, w, w_in, y, o, x, dt, out, first, t):
    if _batch_minor(tau, bias, gain, w, w_in, y, o):  # compile-time constant
        _euler_bm(tau.T, bias.T, gain.T, w.T, w_in.T, y.T, o.T, x, dt, out, first)
        return
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
    if _batch_minor(tau, bias, gain, w, w_in, y, o):  # compile-time constant
        _exp_euler_bm(tau.T, bias.T, gain.T, w.T, w_in.T, y.T, o.T, x, dt, out, first)
        return
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
    if _batch_minor(tau, bias, gain, w, w_in, y, o):  # compile-time constant
        _rk4_bm(tau.T, bias.T, gain.T, w.T, w_in.T, y.T, o.T, x, dt, out, first)
        return
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
