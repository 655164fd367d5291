"""The CTRNN family's loss gradients (controller contract item 14), beside its forward kernels.

BPTT through the integrator's discrete steps (:func:`gradient`, reusing :func:`advance`, the
episode's own step, and :func:`step_vjp`) and Pearlmutter's (1989) continuous-time adjoint
(:func:`adjoint`). Pearlmutter, B. A. (1989). Learning state space trajectories in recurrent
neural networks. Neural Computation 1(2): 263-269. Called by
:class:`evorobot.controllers.ctrnn.ContinuousNetwork`'s ``gradient_model`` and ``adjoint_gradient``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from evorobot.controllers._ctrnn_kernels import (
    RK4,
    advance,
    field,
    field_vjp,
    outputs,
    step_vjp,
)
from evorobot.controllers._dense import output_delta

__all__ = ["adjoint", "gradient"]


@njit(cache=True)
def _run(kind, tau, bias, gain, w, w_in, y0, x, length, dt, first, substeps, ys, outs):
    """One network (arrays with a batch axis of 1) from ``y0`` over one sequence ``x`` (T, n_in) by
    the forward kernel itself (:func:`advance`), each tick ``substeps`` steps of ``dt / substeps``:
    ``ys`` (length * substeps + 1, N) receives the state after every step (``ys[0] = y0``), ``outs``
    (T, n_out) the outputs at each tick's end. One step per tick is exactly the episode's run."""
    n = tau.shape[1]
    y, o = np.empty((1, n)), np.empty((1, n))
    y[0, :] = y0[0]
    outputs(gain, bias, y, o)
    ys[0, :] = y[0]
    h = dt / substeps
    q = 0
    for t in range(length):
        for _ in range(substeps):
            advance(kind, tau, bias, gain, w, w_in, y, o, x[t:t + 1], h, outs[t:t + 1], first)
            q += 1
            ys[q, :] = y[0]


@njit(cache=True)
def _output_errors(outs, ys, substeps, targets, weights, length, gain, bias, first, loss, inject, g_bias, g_gain, dz):
    """Loss of one sequence's outputs (``outs[t] = sigma(g (y + theta))`` of the motors at the end
    of tick t, state ``ys[(t + 1) substeps]``); ``inject[t]`` (N,) receives dL_t/dy there, and the
    outputs' direct dependence on bias and gain is added to ``g_bias``, ``g_gain``."""
    total = 0.0
    for t in range(length):
        total += output_delta(outs[t], targets[t], weights[t], loss, dz)
        y = ys[(t + 1) * substeps]
        for j in range(inject.shape[1]):
            inject[t, j] = 0.0
        for k in range(dz.shape[0]):
            j = first + k
            inject[t, j] = dz[k] * gain[j]
            g_bias[j] += dz[k] * gain[j]
            g_gain[j] += dz[k] * (y[j] + bias[j])
    return total


@njit(cache=True)
def gradient(kind, tau, bias, gain, w, w_in, y0, inputs, targets, weights, lengths, dt, first, loss, window, stride,
              g_tau, g_bias, g_gain, g_w, g_in, g_y0):
    """Summed loss of one network over R sequences (R, T, .) and its gradient, added to the ``g_*``
    (no batch axis): BPTT through the steps of integrator ``kind`` (:func:`step_vjp`, next to the
    forward kernels), truncated to BPTT(window; stride) as
    :func:`~evorobot.controllers._dense.recurrent_backward` is (Williams & Peng 1990: at the last
    tick of each block of ``stride`` ticks, the block's errors are carried back ``window`` ticks;
    ``y0`` gets the errors that reach tick 0)."""
    n_r, n_t, _ = inputs.shape
    n, n_o = tau.shape[1], targets.shape[2]
    ys, outs = np.zeros((n_t + 1, n)), np.zeros((n_t, n_o))
    inject, dz = np.zeros((n_t, n)), np.empty(n_o)
    lam, ybar, sc = np.empty(n), np.empty(n), np.empty((10, n))
    grads = (g_tau, g_bias, g_gain, g_w, g_in)
    total = 0.0
    for r in range(n_r):
        length = lengths[r]
        _run(kind, tau, bias, gain, w, w_in, y0, inputs[r], length, dt, first, 1, ys, outs)
        total += _output_errors(outs, ys, 1, targets[r], weights[r], length, gain[0], bias[0], first, loss, inject,
                                g_bias, g_gain, dz)
        start = 0
        while start < length:
            end = min(start + stride, length) - 1
            lo = max(0, end - window + 1)
            lam[:] = 0.0
            for t in range(end, lo - 1, -1):
                if t >= start:
                    for i in range(n):
                        lam[i] += inject[t, i]
                step_vjp(kind, tau[0], bias[0], gain[0], w[0], w_in[0], inputs[r, t], ys[t], dt, lam, ybar, grads,
                         sc)
                lam[:] = ybar
            if lo == 0:
                for i in range(n):
                    g_y0[i] += lam[i]
            start = end + 1
    return total


@njit(cache=True)
def adjoint(tau, bias, gain, w, w_in, y0, inputs, targets, weights, lengths, dt, first, loss, substeps,
             g_tau, g_bias, g_gain, g_w, g_in, g_y0):
    """Pearlmutter's (1989) continuous-time adjoint, one network over R sequences.

    The state ``y(s)`` solves ``dy/ds = f(y) = (W o(y) + W_in x(s) - y) / tau`` with ``x`` held
    over each tick of length ``dt``, by RK4 with ``substeps`` steps ``h`` per tick (the forward
    kernel); the loss is read at the ticks' ends. The costate ``z = dL/dy(s)`` solves, backward
    from ``z(T) = 0``, ``dz/ds = -(df/dy)^T z``, jumping by ``dL_t/dy`` at the end of each tick
    t (Pearlmutter's eq. for ``z`` with point errors in place of his error integral), by RK4 on
    the same grid, the state at the midpoints by cubic Hermite interpolation of the stored steps
    (fourth order, as RK4); then ``dL/dp = int z^T df/dp ds`` by Simpson's rule on each step
    (the costate's midpoint also Hermite) and ``dL/dy0 = z(0)``."""
    n_r, n_t, _ = inputs.shape
    n, n_o, m = tau.shape[1], targets.shape[2], substeps
    h = dt / m
    tb, bb, gb, wb, ib = tau[0], bias[0], gain[0], w[0], w_in[0]
    ys, outs = np.zeros((n_t * m + 1, n)), np.zeros((n_t, n_o))
    inject, dz = np.zeros((n_t, n)), np.empty(n_o)
    sc = np.empty((10, n))
    fa, fb, ym, v = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    k1, k2, k3, k4, za, ja, zm, z = (np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n),
                                     np.empty(n), np.empty(n))
    grads = (g_tau, g_bias, g_gain, g_w, g_in)
    total = 0.0
    for r in range(n_r):
        length = lengths[r]
        _run(RK4, tau, bias, gain, w, w_in, y0, inputs[r], length, dt, first, m, ys, outs)
        total += _output_errors(outs, ys, m, targets[r], weights[r], length, gb, bb, first, loss, inject, g_bias,
                                g_gain, dz)
        z[:] = 0.0
        for q in range(length * m, 0, -1):
            if q % m == 0:
                for i in range(n):
                    z[i] += inject[q // m - 1, i]
            x = inputs[r, (q - 1) // m]
            ya, yb = ys[q - 1], ys[q]
            field(tb, bb, gb, wb, ib, x, ya, sc[0], sc[1], fa)
            field(tb, bb, gb, wb, ib, x, yb, sc[0], sc[1], fb)
            for i in range(n):
                ym[i] = 0.5 * (ya[i] + yb[i]) + h / 8.0 * (fa[i] - fb[i])
                k1[i], k2[i], k3[i], k4[i], ja[i] = 0.0, 0.0, 0.0, 0.0, 0.0
            field_vjp(tb, bb, gb, wb, ib, x, yb, z, h / 6.0, k1, grads, sc)  # k1 = J(yb)^T z; Simpson's end
            for i in range(n):
                v[i] = z[i] + 0.5 * h * k1[i]
            field_vjp(tb, bb, gb, wb, ib, x, ym, v, 0.0, k2, grads, sc)
            for i in range(n):
                v[i] = z[i] + 0.5 * h * k2[i]
            field_vjp(tb, bb, gb, wb, ib, x, ym, v, 0.0, k3, grads, sc)
            for i in range(n):
                v[i] = z[i] + h * k3[i]
            field_vjp(tb, bb, gb, wb, ib, x, ya, v, 0.0, k4, grads, sc)
            for i in range(n):
                za[i] = z[i] + h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])
            field_vjp(tb, bb, gb, wb, ib, x, ya, za, h / 6.0, ja, grads, sc)  # J(ya)^T za; Simpson's start
            for i in range(n):
                zm[i] = 0.5 * (za[i] + z[i]) + h / 8.0 * (k1[i] - ja[i])
                v[i] = 0.0
            field_vjp(tb, bb, gb, wb, ib, x, ym, zm, 4.0 * h / 6.0, v, grads, sc)  # Simpson's midpoint
            z[:] = za
        for i in range(n):
            g_y0[i] += z[i]
    return total

