"""Dense-layer pieces of the discrete-time networks' numba kernels (Elman, Jordan, NARX, ...).

A discrete-time layer computes ``a = f(b + W x + U r)``: a bias, feed-forward weights ``W`` over
the layer's source ``x`` and, for the recurrent types, weights ``U`` over a recurrent source
``r`` (a context, a delay line, the layer's own previous activations). Weights are stored
``[target, source]`` so that each unit's sum runs over contiguous memory; sums run sequentially
over the sources (``W`` first), with the CTRNN's matrix-vector kernel, so results are those of a
plain loop. The helpers are inlined into each network's one-call-per-tick kernel; they take only
arrays and scalars and trust their inputs.

The backward pieces (gradient training, :mod:`evorobot.training.gradient`) sit here too, next to
the forward ones they differentiate: :func:`dsquash` (the activation's derivative from its value),
:func:`output_delta` (the loss of a tick's logistic outputs and its derivative with respect to their
net inputs) and the two ways of carrying an error back through a recurrent layer
``a(t) = b + W_in x(t) + W_rec s(t - 1)``, ``s(t) = f(a(t))``: :func:`recurrent_backward` (BPTT,
full or truncated) and :func:`recurrent_rtrl` (RTRL). A network's gradient kernel runs its forward
pieces over a sequence, turns its outputs' errors into errors injected on the recurrent layer's net
inputs, and hands them to one of the two.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from evorobot.controllers._ctrnn_kernels import _matvec_add as matvec_add

__all__ = ["ACTIVATIONS", "BPTT", "CROSS_ENTROPY", "LOSSES", "RTRL", "SIGMOID", "SQUARED", "TANH", "add_flat", "affine",
           "copy_into", "dsquash", "hidden_then_output", "hidden_then_output_backward", "layer", "matvec_add", "output_delta", "recurrent_backward",
           "recurrent_gradient", "recurrent_rtrl", "recurrent_scratch", "squash"]

#: Hidden-unit activation functions by name; a kernel receives the index (``TANH`` or ``SIGMOID``).
ACTIVATIONS = ("tanh", "sigmoid")
TANH, SIGMOID = 0, 1
#: Losses of the gradient kernels by name; a kernel receives the index (``SQUARED`` or ``CROSS_ENTROPY``).
LOSSES = ("squared", "cross_entropy")
SQUARED, CROSS_ENTROPY = 0, 1
#: Gradient algorithms of the gradient kernels: back-propagation through time, real-time recurrent learning.
BPTT, RTRL = 0, 1


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


# --- backward pieces (gradient training) -----------------------------------------------------------


@njit(cache=True, inline="always")
def dsquash(a, kind):
    """Derivative of the activation ``kind`` at the net input whose activation is ``a``:
    ``1 - a^2`` (tanh) or ``a (1 - a)`` (sigmoid)."""
    if kind == TANH:
        return 1.0 - a * a
    return a * (1.0 - a)


@njit(cache=True, inline="always")
def output_delta(o, y, w, loss, d):
    """Loss of one tick's logistic outputs ``o`` against targets ``y`` at score weight ``w``, and
    ``d[k] = d(loss) / dz_k``, ``z`` the outputs' net inputs (``o = sigmoid(z)``).

    ``SQUARED``: ``w sum_k (o_k - y_k)^2``, ``d_k = 2 w (o_k - y_k) o_k (1 - o_k)``.
    ``CROSS_ENTROPY``: ``-w sum_k [y_k log o_k + (1 - y_k) log(1 - o_k)]`` (the logs floored at
    1e-300 where an output saturates), ``d_k = w (o_k - y_k)``. Returns the loss.
    """
    total = 0.0
    for k in range(o.shape[0]):
        e = o[k] - y[k]
        if w == 0.0:
            d[k] = 0.0
        elif loss == SQUARED:
            total += w * e * e
            d[k] = 2.0 * w * e * o[k] * (1.0 - o[k])
        else:
            total -= w * (y[k] * np.log(max(o[k], 1e-300)) + (1.0 - y[k]) * np.log(max(1.0 - o[k], 1e-300)))
            d[k] = w * e
    return total


@njit(cache=True, inline="always")
def hidden_then_output_backward(w_out, x, r, h, dz, kind, da, g_in, g_rec, g_b_h, g_out, g_b_o):
    """One tick of :func:`hidden_then_output` backwards, given ``dz`` (n_out,) the error at the
    output units' net inputs (from the loss and from later ticks): adds the tick's gradients to
    ``g_out``, ``g_b_o``, ``g_in``, ``g_rec``, ``g_b_h`` and leaves the error at the hidden
    units' net inputs in ``da`` (H,). ``x``, ``r``, ``h``: the tick's two sources and hidden layer."""
    n_o, n_h = w_out.shape
    for k in range(n_o):
        g_b_o[k] += dz[k]
        for j in range(n_h):
            g_out[k, j] += dz[k] * h[j]
    for j in range(n_h):
        e = 0.0
        for k in range(n_o):
            e += w_out[k, j] * dz[k]
        da[j] = e * dsquash(h[j], kind)
        g_b_h[j] += da[j]
        for i in range(x.shape[0]):
            g_in[j, i] += da[j] * x[i]
        for i in range(r.shape[0]):
            g_rec[j, i] += da[j] * r[i]


@njit(cache=True)
def recurrent_backward(w_rec, x, s, inject, length, kind, first_sigmoid, window, stride, g_in, g_rec, g_b, da,
                       da_next):
    """BPTT through ``a(t) = b + W_in x(t) + W_rec s(t - 1)``, ``s(t) = f(a(t))``, ``s(-1) = 0``, of
    one sequence; adds the gradients to ``g_in``, ``g_rec``, ``g_b``.

    Units ``j < first_sigmoid`` use activation ``kind``, the others the sigmoid. ``inject`` (T, n) is
    the error ``dL/da(t)`` that reaches the net inputs from tick t's own outputs (not through
    later ticks). Truncation (Williams & Peng 1990, BPTT(h; h')): the ticks are cut into blocks of
    ``stride`` (h') ticks; at a block's last tick, the errors injected in the block are carried
    back ``window`` (h) ticks, to ``max(0, last - window + 1)``; ``window >= stride``, and
    ``window = stride = length`` is full BPTT (Werbos 1990). Weights are not changed inside a
    sequence (the caller sums the gradients of a mini-batch).

    w_rec : (n, n); x : (T, m); s : (T, n) activations; g_in : (n, m); g_rec : (n, n); g_b : (n,);
    da, da_next : (n,) scratch.
    """
    n = s.shape[1]
    start = 0
    while start < length:
        end = min(start + stride, length) - 1
        for j in range(n):
            da_next[j] = 0.0
        for t in range(end, max(0, end - window + 1) - 1, -1):
            for j in range(n):
                acc = 0.0
                if t < end:
                    for i in range(n):
                        acc += w_rec[i, j] * da_next[i]
                da[j] = acc * dsquash(s[t, j], kind if j < first_sigmoid else SIGMOID)
                if t >= start:
                    da[j] += inject[t, j]
            for i in range(n):
                g_b[i] += da[i]
                for j in range(x.shape[1]):
                    g_in[i, j] += da[i] * x[t, j]
                if t > 0:
                    for j in range(n):
                        g_rec[i, j] += da[i] * s[t - 1, j]
            for j in range(n):
                da_next[j] = da[j]
        start = end + 1


@njit(cache=True)
def recurrent_rtrl(w_rec, x, s, inject, length, kind, first_sigmoid, g_in, g_rec, g_b, q, q_new, m, grad):
    """RTRL (Williams & Zipser 1989) through the layer of :func:`recurrent_backward`, one sequence:
    carries the sensitivities ``q[k, p] = da_k(t) / dtheta_p`` forward,

    ``q(t) = D(t) + W_rec diag(f'(a(t - 1))) q(t - 1)``, ``D`` the direct terms,

    and adds ``sum_t inject(t) . q(t)`` to ``g_in``, ``g_rec``, ``g_b``. With ``theta`` flat in the
    order ``W_in`` (n, m), ``W_rec`` (n, n), ``b`` (n,) (P parameters): O(n^2 P) = O(n^4)
    operations per tick.

    q, q_new, m : (n, P), grad : (P,) scratch.
    """
    n, n_x = s.shape[1], x.shape[1]
    n_p = q.shape[1]
    o_rec, o_b = n * n_x, n * n_x + n * n
    for p in range(n_p):
        grad[p] = 0.0
    for k in range(n):
        for p in range(n_p):
            q[k, p] = 0.0
    for t in range(length):
        if t > 0:
            for k in range(n):
                f = dsquash(s[t - 1, k], kind if k < first_sigmoid else SIGMOID)
                for p in range(n_p):
                    m[k, p] = f * q[k, p]
            for k in range(n):
                for p in range(n_p):
                    q_new[k, p] = 0.0
                for j in range(n):
                    wk = w_rec[k, j]
                    for p in range(n_p):
                        q_new[k, p] += wk * m[j, p]
        else:
            for k in range(n):
                for p in range(n_p):
                    q_new[k, p] = 0.0
        for k in range(n):
            for j in range(n_x):
                q_new[k, k * n_x + j] += x[t, j]
            if t > 0:
                for j in range(n):
                    q_new[k, o_rec + k * n + j] += s[t - 1, j]
            q_new[k, o_b + k] += 1.0
        for k in range(n):
            e = inject[t, k]
            if e != 0.0:
                for p in range(n_p):
                    grad[p] += e * q_new[k, p]
            for p in range(n_p):
                q[k, p] = q_new[k, p]
    add_flat(grad, g_in, g_rec, g_b)


@njit(cache=True)
def add_flat(grad, g_in, g_rec, g_b):
    """Add ``grad`` (P,), flat in :func:`recurrent_rtrl`'s order, to ``g_in``, ``g_rec``, ``g_b``."""
    n, n_x = g_in.shape
    for k in range(n):
        for j in range(n_x):
            g_in[k, j] += grad[k * n_x + j]
        for j in range(n):
            g_rec[k, j] += grad[n * n_x + k * n + j]
        g_b[k] += grad[n * n_x + n * n + k]


@njit(cache=True)
def recurrent_scratch(n, n_x, method):
    """Scratch arrays of :func:`recurrent_gradient` for ``n`` units over ``n_x`` inputs: ``da``,
    ``da_next`` (n,) of BPTT, and RTRL's ``q``, ``q_new``, ``m`` (n, P), ``grad`` (P,) (P = 0 for BPTT)."""
    n_p = n * (n_x + n + 1) if method != BPTT else 0
    return np.empty(n), np.empty(n), np.empty((n, n_p)), np.empty((n, n_p)), np.empty((n, n_p)), np.empty(n_p)


@njit(cache=True)
def recurrent_gradient(method, w_rec, x, s, inject, length, kind, first_sigmoid, window, stride, g_in, g_rec, g_b,
                       scratch):
    """Add one sequence's gradient of the recurrent layer to ``g_in``, ``g_rec``, ``g_b`` by
    :func:`recurrent_backward` (``method`` BPTT) or :func:`recurrent_rtrl` (RTRL; ``window`` and
    ``stride`` unused); ``scratch`` from :func:`recurrent_scratch`."""
    da, da_next, q, q_new, m, grad = scratch
    if method == BPTT:
        recurrent_backward(w_rec, x, s, inject, length, kind, first_sigmoid, window, stride, g_in, g_rec, g_b, da,
                           da_next)
    else:
        recurrent_rtrl(w_rec, x, s, inject, length, kind, first_sigmoid, g_in, g_rec, g_b, q, q_new, m, grad)
