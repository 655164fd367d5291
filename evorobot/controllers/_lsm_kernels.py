"""The liquid of the liquid state machine (:mod:`evorobot.controllers.lsm`): its seeded construction
(numpy) and the kernel that advances a batch of liquids and their readouts by one controller tick.

Units: mV, nA, MOhm (so ``R I`` is in mV), seconds. The liquid is one circuit shared by every network
of the batch (:class:`Liquid`); each network has its own :class:`LiquidState` rows and readout.

One substep of length ``h`` of one liquid, in this order (the numpy reference in
``tests/test_lsm.py`` follows the same order):

1. synaptic current that arrives now (queued by a spike ``delay`` substeps ago) jumps into the
   excitatory or inhibitory current of its target, ``I_e`` or ``I_i``;
2. a neuron in its refractory period stays at ``V_reset`` and counts one substep down; any other
   integrates ``tau_m dV/dt = -V + R (I_e + I_i + I_b + I_inj)`` exactly over ``h`` with the
   currents held at their values at the start of the substep (exponential Euler, as CSIM, the
   authors' simulator), and fires when ``V >= V_thresh``: ``V <- V_reset`` (rest is 0 mV, so
   ``V_reset`` is above rest) and it is refractory for the next ``t_ref / h`` substeps;
3. the currents decay, ``I_e *= exp(-h / tau_e)``, ``I_i *= exp(-h / tau_i)`` (exponential
   postsynaptic currents); the readout's filtered spike trains decay, ``x *= exp(-h / tau_x)``;
4. every spike (of a liquid neuron, or of an input channel in Poisson mode) adds 1 to its neuron's
   ``x`` and runs its outgoing dynamic synapses (Markram et al. 1998): at the n-th spike, ``Delta``
   after the previous one,
   ``u_n = U + u_{n-1} (1 - U) exp(-Delta / F)``, ``R_n = 1 + (R_{n-1} - u_{n-1} R_{n-1} - 1) exp(-Delta / D)``
   (``u_1 = U``, ``R_1 = 1``), and queues the amplitude ``A u_n R_n`` for its target ``delay``
   substeps later (``delay >= 1``).

So a neuron driven by a constant current ``I`` (``R I > V_thresh``) and nothing else fires with the
interspike interval ``t_ref + ceil(T / h) h``, ``T = tau_m ln((R I - V_reset) / (R I - V_thresh))``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from evorobot._types import BoolArray, FloatArray, IntArray

__all__ = ["CURRENT", "POISSON", "Liquid", "LiquidState", "advance", "connection_probability", "grid_positions"]

CURRENT, POISSON = 0, 1
#: Indices into :attr:`Liquid.consts`.
H, DECAY_M, DECAY_E, DECAY_I, DECAY_X, V_TH, V_RESET, R_IN, I_BG, MAX_RATE = range(10)
#: Type pairs (presynaptic, postsynaptic) in the order of the per-pair settings: index 2 * pre_inh + post_inh.
PAIRS = ("EE", "EI", "IE", "II")


class Liquid(NamedTuple):
    """One liquid circuit, shared by the batch.

    Attributes
    ----------
    n_sub : int
        Substeps per controller tick.
    mode : int
        :data:`CURRENT` (sensors inject currents) or :data:`POISSON` (sensors set input spike rates).
    consts : FloatArray, shape (10,)
        ``h`` (s), the decay factors over ``h`` of the membrane, the excitatory and inhibitory
        currents and the readout filter, ``V_thresh``, ``V_reset`` (mV), ``R`` (MOhm), ``I_b`` (nA),
        the Poisson mode's top rate (Hz); indexed by the module constants ``H`` .. ``MAX_RATE``.
    pos : FloatArray, shape (N, 3)
        Grid position of each neuron.
    inhibitory : BoolArray, shape (N,)
    t_ref : IntArray, shape (N,)
        Refractory period of each neuron in substeps.
    v_init : FloatArray, shape (N,)
        Membrane potential at the start of every trial (mV).
    in_mask : FloatArray, shape (n_in, N)
        1 where sensor ``k`` drives neuron ``n`` (current mode: ``I_inj[n] = sum_k mask[k, n] g_k s_k``).
    syn_ptr : IntArray, shape (N + n_syn_in + 1,)
        Synapses sorted by presynaptic source (liquid neurons, then Poisson input channels), CSR:
        source ``p``'s synapses are ``syn_ptr[p]:syn_ptr[p + 1]``.
    syn_post, syn_inh, syn_delay : IntArray, shape (S,)
        Target neuron, current channel (1: inhibitory, decays with ``tau_i``), delay in substeps.
    syn_a, syn_u, syn_d, syn_f : FloatArray, shape (S,)
        Scale ``A`` (nA, negative if inhibitory), use ``U``, depression and facilitation time
        constants ``D``, ``F`` (s).
    ring_len : int
        Length of the queue of delayed currents (longest delay + 1).
    """

    n_sub: int
    mode: int
    consts: FloatArray
    pos: FloatArray
    inhibitory: BoolArray
    t_ref: IntArray
    v_init: FloatArray
    in_mask: FloatArray
    syn_ptr: IntArray
    syn_post: IntArray
    syn_inh: IntArray
    syn_delay: IntArray
    syn_a: FloatArray
    syn_u: FloatArray
    syn_d: FloatArray
    syn_f: FloatArray
    ring_len: int

    @property
    def n_neurons(self) -> int:
        return int(self.v_init.shape[0])


class LiquidState(NamedTuple):
    """State of B liquids: membrane ``v``, currents ``i_e``, ``i_i``, filtered spike trains ``x``
    (B, N); refractory substeps left ``ref`` (B, N); queued currents ``ring`` (B, ring_len, N, 2);
    per-synapse ``u``, ``r`` and time of the last presynaptic spike ``last`` (B, S); substeps done
    ``clock`` (B,)."""

    v: FloatArray
    i_e: FloatArray
    i_i: FloatArray
    x: FloatArray
    ref: IntArray
    ring: FloatArray
    u: FloatArray
    r: FloatArray
    last: FloatArray
    clock: IntArray


def grid_positions(shape: tuple[int, int, int]) -> FloatArray:
    """Integer points of an ``nx x ny x nz`` column, (N, 3), the first axis slowest."""
    return np.indices(shape).reshape(3, -1).T.astype(np.float64)


def connection_probability(pos: FloatArray, inhibitory: BoolArray, c: FloatArray, lam: float) -> FloatArray:
    """``P[a, b] = C[type(a, b)] exp(-(D(a, b) / lambda)^2)``, no self-connections, (N, N) ``[pre, post]``.

    ``c`` holds C for EE, EI, IE, II (pre, post).
    """
    d2 = ((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1)
    pair = 2 * inhibitory[:, None].astype(np.int64) + inhibitory[None, :].astype(np.int64)
    p = np.asarray(c)[pair] * np.exp(-d2 / lam**2)
    np.fill_diagonal(p, 0.0)
    return p


def fresh_state(liq: Liquid, batch: int) -> LiquidState:
    """The state every trial starts from: ``V = v_init``, no current, no queued spike, ``u = U``,
    ``R = 1``, no earlier spike (``last`` far in the past, so the first spike has ``u_1 = U``, ``R_1 = 1``)."""
    n, s = liq.n_neurons, liq.syn_a.shape[0]
    return LiquidState(
        v=np.repeat(liq.v_init[None, :], batch, axis=0),
        i_e=np.zeros((batch, n)), i_i=np.zeros((batch, n)), x=np.zeros((batch, n)),
        ref=np.zeros((batch, n), dtype=np.int64), ring=np.zeros((batch, liq.ring_len, n, 2)),
        u=np.repeat(liq.syn_u[None, :], batch, axis=0), r=np.ones((batch, s)),
        last=np.full((batch, s), -1e30), clock=np.zeros(batch, dtype=np.int64))


@njit(cache=True)
def _fire(p, t, slot0, ring_len, syn_ptr, syn_post, syn_inh, syn_delay, syn_a, syn_u, syn_d, syn_f,
          u, r, last, ring):
    """Presynaptic spike of source ``p`` at time ``t``: its dynamic synapses queue their currents."""
    for s in range(syn_ptr[p], syn_ptr[p + 1]):
        dt = t - last[s]
        uu = syn_u[s] + u[s] * (1.0 - syn_u[s]) * np.exp(-dt / syn_f[s])
        rr = 1.0 + (r[s] - u[s] * r[s] - 1.0) * np.exp(-dt / syn_d[s])
        u[s] = uu
        r[s] = rr
        last[s] = t
        ring[(slot0 + syn_delay[s]) % ring_len, syn_post[s], syn_inh[s]] += syn_a[s] * uu * rr


@njit(cache=True)
def _advance(n_sub, mode, consts, t_ref, in_mask, syn_ptr, syn_post, syn_inh, syn_delay, syn_a, syn_u,
             syn_d, syn_f, inputs, in_gain, uniforms, w_out, b_out,
             v, i_e, i_i, x, ref, ring, u, r, last, clock, out):
    """Advance B liquids ``n_sub`` substeps, then their readouts ``out = sigmoid(b_out + w_out x)``.

    inputs, in_gain : (B, n_in); uniforms : (Bu, n_sub, n_in) in [0, 1), Bu = B or 1 (shared), read in
    Poisson mode only (a spike of channel k in a substep iff uniform < rate_k h); w_out (B, n_out, N),
    b_out (B, n_out); state arrays as :class:`LiquidState`; out (B, n_out).
    """
    h, dm, de, di, dx = consts[H], consts[DECAY_M], consts[DECAY_E], consts[DECAY_I], consts[DECAY_X]
    v_th, v_reset, r_in, i_bg, max_rate = consts[V_TH], consts[V_RESET], consts[R_IN], consts[I_BG], consts[MAX_RATE]
    n_b, n = v.shape
    n_in = inputs.shape[1]
    ring_len = ring.shape[1]
    i_inj = np.empty(n)
    rate_h = np.empty(n_in)
    spiked = np.empty(n, np.int64)
    for b in range(n_b):
        vb, ieb, iib, xb, refb, ringb = v[b], i_e[b], i_i[b], x[b], ref[b], ring[b]
        ub, rb, lastb = u[b], r[b], last[b]
        if mode == CURRENT:
            for j in range(n):
                acc = i_bg
                for k in range(n_in):
                    acc += in_mask[k, j] * in_gain[b, k] * inputs[b, k]
                i_inj[j] = acc
        else:
            for j in range(n):
                i_inj[j] = i_bg
            for k in range(n_in):
                rate_h[k] = max_rate * min(max(inputs[b, k], 0.0), 1.0) * h
        bu = b if uniforms.shape[0] > 1 else 0
        for step in range(n_sub):
            slot = clock[b] % ring_len
            t = clock[b] * h
            n_spk = 0
            for j in range(n):
                ieb[j] += ringb[slot, j, 0]
                iib[j] += ringb[slot, j, 1]
                ringb[slot, j, 0] = 0.0
                ringb[slot, j, 1] = 0.0
                if refb[j] > 0:
                    refb[j] -= 1
                else:
                    v_inf = r_in * (ieb[j] + iib[j] + i_inj[j])
                    vb[j] = v_inf + (vb[j] - v_inf) * dm
                    if vb[j] >= v_th:
                        vb[j] = v_reset
                        refb[j] = t_ref[j]
                        spiked[n_spk] = j
                        n_spk += 1
                ieb[j] *= de
                iib[j] *= di
                xb[j] *= dx
            for q in range(n_spk):
                j = spiked[q]
                xb[j] += 1.0
                _fire(j, t, slot, ring_len, syn_ptr, syn_post, syn_inh, syn_delay, syn_a, syn_u, syn_d, syn_f,
                      ub, rb, lastb, ringb)
            if mode != CURRENT:
                for k in range(n_in):
                    if uniforms[bu, step, k] < rate_h[k]:
                        _fire(n + k, t, slot, ring_len, syn_ptr, syn_post, syn_inh, syn_delay, syn_a, syn_u,
                              syn_d, syn_f, ub, rb, lastb, ringb)
            clock[b] += 1
        for m in range(out.shape[1]):
            acc = b_out[b, m]
            for j in range(n):
                acc += w_out[b, m, j] * xb[j]
            out[b, m] = 1.0 / (1.0 + np.exp(-acc))


def advance(liq: Liquid, state: LiquidState, inputs: FloatArray, in_gain: FloatArray, uniforms: FloatArray,
            w_out: FloatArray, b_out: FloatArray, out: FloatArray) -> None:
    """One controller tick of B liquids in place (one kernel call); the readouts to ``out``."""
    _advance(liq.n_sub, liq.mode, liq.consts, liq.t_ref, liq.in_mask, liq.syn_ptr, liq.syn_post, liq.syn_inh,
             liq.syn_delay, liq.syn_a, liq.syn_u, liq.syn_d, liq.syn_f, inputs, in_gain, uniforms, w_out, b_out,
             state.v, state.i_e, state.i_i, state.x, state.ref, state.ring, state.u, state.r, state.last,
             state.clock, out)
