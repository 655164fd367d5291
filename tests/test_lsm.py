"""Liquid state machine (Maass, Natschläger & Markram 2002): the LIF f-I curve, the dynamic synapse's
steady state, the connectivity statistics, a plain-numpy substep, the shell."""

from __future__ import annotations

import math

import numpy as np
import pytest
from ctrlutil import make, roll

from evorobot.controllers import CONTROLLERS
from evorobot.controllers._lsm_kernels import (
    DECAY_E,
    DECAY_I,
    DECAY_M,
    DECAY_X,
    I_BG,
    MAX_RATE,
    POISSON,
    R_IN,
    V_RESET,
    V_TH,
    H,
    Liquid,
    advance,
    fresh_state,
)
from evorobot.controllers.lsm import LSM, LSMSpec, build_liquid
from evorobot.errors import ConfigError

TAU_M, V_THR, V_RST = 30e-3, 15.0, 13.5


def run_counting(liq: Liquid, current: float, ticks: int) -> tuple[int, object]:
    """Drive every neuron of ``liq`` (current mode, gain 1) with ``current`` nA for ``ticks`` ticks;
    return the spike count of neuron 0 (read from an unleaky readout filter) and the final state."""
    state = fresh_state(liq, 1)
    n_in = liq.in_mask.shape[0]
    inputs, gain = np.full((1, n_in), current), np.ones((1, n_in))
    w_out, b_out, out = np.zeros((1, 1, liq.n_neurons)), np.zeros((1, 1)), np.empty((1, 1))
    for _ in range(ticks):
        advance(liq, state, inputs, gain, np.zeros((1, 0, 0)), w_out, b_out, out)
    return round(float(state.x[0, 0])), state


def lone_neurons(substep_ms: float, inhibitory: bool) -> Liquid:
    """Two unconnected neurons (C = 0), no background current, both driven by sensor 0, reset
    potential as initial potential, an unleaky readout filter (x counts spikes); 1 s ticks."""
    spec = LSMSpec(grid=(2.0, 1.0, 1.0), c=(0.0, 0.0, 0.0, 0.0), inhibitory_fraction=1.0 if inhibitory else 0.0,
                   i_background=0.0, v_init=(V_RST, V_RST), input_fraction=1.0, substep=substep_ms,
                   time_scale=1000.0, tau_readout=1e15)
    liq = build_liquid(spec, 1, round(1000.0 / substep_ms))
    assert liq.syn_a.shape == (0,)
    return liq


@pytest.mark.parametrize("inhibitory", [False, True])
@pytest.mark.parametrize("ri", [15.5, 16.0, 20.0, 30.0, 60.0])
def test_lif_f_i_curve_matches_the_closed_form(ri: float, inhibitory: bool) -> None:
    """With constant ``I`` (``R I > V_th``) and no synaptic input, the neuron leaves the reset
    potential (13.5 mV above a rest of 0) after its refractory period, charges as
    ``V(t) = R I + (V_reset - R I) exp(-t / tau_m)`` and reaches 15 mV after
    ``tau_m ln((R I - V_reset) / (R I - V_th))``: ``f = 1 / (t_ref + tau_m ln(...))``. Measured over 20 s
    with a 0.01 ms substep, where the threshold crossing is late by less than one substep."""
    t_ref = 2e-3 if inhibitory else 3e-3
    f = 1.0 / (t_ref + TAU_M * math.log((ri - V_RST) / (ri - V_THR)))
    count, _ = run_counting(lone_neurons(0.01, inhibitory), ri, ticks=20)  # R = 1 MOhm: I (nA) = R I (mV)
    assert count / 20.0 == pytest.approx(f, rel=0.01)
    below, _ = run_counting(lone_neurons(0.01, inhibitory), V_THR - 0.01, ticks=2)
    assert below == 0  # R I < V_th: V tends to R I and never fires


def synapse_liquid(u: float, d: float, f: float, a: float) -> Liquid:
    """Neuron 0 driven to fire regularly, one dynamic synapse 0 -> 1 (U, D, F, A), neuron 1 undriven."""
    liq = lone_neurons(0.01, False)
    return liq._replace(in_mask=np.array([[1.0, 0.0]]), syn_ptr=np.array([0, 1, 1]), syn_post=np.array([1]),
                        syn_inh=np.array([0]), syn_delay=np.array([3]), syn_a=np.array([a]),
                        syn_u=np.array([u]), syn_d=np.array([d]), syn_f=np.array([f]), ring_len=4)


@pytest.mark.parametrize(("u", "d", "f"), [(0.5, 1.1, 0.05), (0.05, 0.125, 1.2), (0.25, 0.7, 0.02), (0.32, 0.144, 0.06)])
def test_dynamic_synapse_reaches_the_markram_tsodyks_steady_state(u: float, d: float, f: float) -> None:
    """Under a regular presynaptic train of interval ``Delta`` the recursion

        u_{n+1} = U + u_n (1 - U) e_F,    R_{n+1} = 1 + (R_n - u_n R_n - 1) e_D,
        e_F = exp(-Delta / F),            e_D = exp(-Delta / D),

    is a contraction (factors ``(1 - U) e_F`` and ``(1 - u*) e_D`` < 1) whose fixed point solves
    ``u* = U + u* (1 - U) e_F`` and ``R* = 1 + (R* (1 - u*) - 1) e_D``:

        u* = U / (1 - (1 - U) e_F),       R* = (1 - e_D) / (1 - (1 - u*) e_D),

    and the steady amplitude is ``A u* R*``. The train is neuron 0's (R I = 16 mV: Delta = 3 ms +
    ceil(27.49 ms / h) h, about 30.5 ms, so 656 spikes in 20 s, enough for the slowest contraction,
    0.93 per spike for the facilitating EI synapse, to reach 1e-9 many times over). Its first spike
    gives ``u_1 = U``, ``R_1 = 1``: the amplitude ``A U`` arrives 3 substeps later."""
    h = 1e-5
    delta = 3e-3 + math.ceil(TAU_M * math.log(2.5) / h - 1e-9) * h
    e_f, e_d = math.exp(-delta / f), math.exp(-delta / d)
    u_star = u / (1 - (1 - u) * e_f)
    r_star = (1 - e_d) / (1 - (1 - u_star) * e_d)
    liq = synapse_liquid(u, d, f, a=1e-3)
    count, state = run_counting(liq, 16.0, ticks=20)
    assert count == math.floor((20.0 - (delta - 3e-3)) / delta + 1e-9) + 1  # the train is regular
    assert state.u[0, 0] == pytest.approx(u_star, abs=1e-9)
    assert state.r[0, 0] == pytest.approx(r_star, abs=1e-9)
    assert state.u[0, 0] * state.r[0, 0] * 1e-3 == pytest.approx(1e-3 * u_star * r_star, abs=1e-12)

    # the first spike: u_1 = U, R_1 = 1, A U queued for 3 substeps later
    first = liq._replace(n_sub=round((delta - 3e-3) / h))  # exactly up to the first spike
    state = fresh_state(first, 1)
    out = np.empty((1, 1))
    args = (np.full((1, 1), 16.0), np.ones((1, 1)), np.zeros((1, 0, 0)), np.zeros((1, 1, 2)), np.zeros((1, 1)), out)
    advance(first, state, *args)
    assert state.x[0, 0] == 1.0 and state.u[0, 0] == u and state.r[0, 0] == 1.0
    assert state.ring[0, (first.n_sub - 1 + 3) % 4, 1, 0] == pytest.approx(1e-3 * u, rel=1e-15)


def test_connectivity_statistics_agree_with_the_settings() -> None:
    """On a 20 x 10 x 10 column (2000 neurons, 4 million ordered pairs) the inhibitory count is
    exactly round(0.2 N), and in every bin of (type pair, squared distance <= 9) with at least 200
    pairs the number of synapses agrees with the binomial expectation ``n C exp(-d^2 / lambda^2)``
    within 4.5 SD (56 bins: a false alarm has probability < 4e-4); so do all bins together within
    4 SD. A wrong kernel (``exp(-D / lambda)``, swapped EI / IE, a missing factor C) misses by tens of SD."""
    spec = LSMSpec(grid=(20.0, 10.0, 10.0), seed=3)
    liq = build_liquid(spec, 0, 1)
    n = liq.n_neurons
    inh = liq.inhibitory
    assert inh.sum() == round(0.2 * n)
    pre = np.repeat(np.arange(n), np.diff(liq.syn_ptr))
    post = liq.syn_post
    assert np.all(pre != post)
    d2 = ((liq.pos[:, None, :] - liq.pos[None, :, :]) ** 2).sum(-1).round().astype(int)
    pair = 2 * inh[:, None].astype(int) + inh[None, :].astype(int)
    connected = np.zeros((n, n), dtype=bool)
    connected[pre, post] = True
    total_obs = total_exp = total_var = 0.0
    bins = 0
    for k, c in enumerate(spec.c):
        for r2 in range(1, 10):
            sel = (pair == k) & (d2 == r2)
            m = int(sel.sum())
            if m < 200:
                continue
            p = c * math.exp(-r2 / spec.lam**2)
            obs = int(connected[sel].sum())
            assert abs(obs - m * p) <= 4.5 * math.sqrt(m * p * (1 - p)), (k, r2, obs, m * p)
            bins += 1
            total_obs, total_exp, total_var = total_obs + obs, total_exp + m * p, total_var + m * p * (1 - p)
    assert bins >= 20
    assert abs(total_obs - total_exp) <= 4 * math.sqrt(total_var)


def test_synapse_parameters_follow_their_distributions() -> None:
    """``U``, ``D``, ``F`` (Gaussian, SD 50 %, redrawn uniformly within (0, 2 mean): symmetric about
    the mean, so the mean is kept) and ``A`` (Gamma, SD 100 % of the mean, sign by the presynaptic
    type) have the per-pair means of the settings within 4.5 standard errors."""
    spec = LSMSpec(grid=(20.0, 10.0, 10.0), seed=4)
    liq = build_liquid(spec, 0, 1)
    inh = liq.inhibitory
    pre = np.repeat(np.arange(liq.n_neurons), np.diff(liq.syn_ptr))
    pair = 2 * inh[pre] + inh[liq.syn_post]
    for values, means, cv in ((liq.syn_u, spec.u_mean, 0.5), (liq.syn_d, spec.d_mean, 0.5),
                              (liq.syn_f, spec.f_mean, 0.5), (liq.syn_a, spec.a_mean, 1.0)):
        for k in range(4):
            v = values[pair == k]
            assert len(v) > 200
            assert np.all(np.sign(v) == np.sign(means[k]))
            assert abs(v.mean() - means[k]) <= 4.5 * cv * abs(means[k]) / math.sqrt(len(v)), (k, means[k])
    assert np.all(liq.syn_u <= 1.0)
    assert np.std(liq.syn_a[pair == 0]) == pytest.approx(30.0, rel=0.1)  # Gamma with SD = mean


def reference_substep(liq: Liquid, st: dict, i_ext: np.ndarray, in_spikes: np.ndarray) -> None:
    """One substep of one liquid, plain numpy and loops, in place (the order of the kernel's docstring)."""
    c = liq.consts
    h, n = c[H], liq.n_neurons
    slot = st["clock"] % liq.ring_len
    t = st["clock"] * h
    st["i_e"] += st["ring"][slot, :, 0]
    st["i_i"] += st["ring"][slot, :, 1]
    st["ring"][slot] = 0.0
    spikes = []
    for j in range(n):
        if st["ref"][j] > 0:
            st["ref"][j] -= 1
            continue
        v_inf = c[R_IN] * (st["i_e"][j] + st["i_i"][j] + i_ext[j])
        st["v"][j] = v_inf + (st["v"][j] - v_inf) * math.exp(-h / TAU_M)
        if st["v"][j] >= c[V_TH]:
            st["v"][j] = c[V_RESET]
            st["ref"][j] = liq.t_ref[j]
            spikes.append(j)
    st["i_e"] *= math.exp(-h / 3e-3)
    st["i_i"] *= math.exp(-h / 6e-3)
    st["x"] *= math.exp(-h / 30e-3)
    st["x"][spikes] += 1.0
    for p in spikes + [n + k for k in np.flatnonzero(in_spikes)]:
        for s in range(liq.syn_ptr[p], liq.syn_ptr[p + 1]):
            gap = t - st["last"][s]
            u = liq.syn_u[s] + st["u"][s] * (1 - liq.syn_u[s]) * math.exp(-gap / liq.syn_f[s])
            r = 1 + (st["r"][s] - st["u"][s] * st["r"][s] - 1) * math.exp(-gap / liq.syn_d[s])
            st["u"][s], st["r"][s], st["last"][s] = u, r, t
            st["ring"][(slot + liq.syn_delay[s]) % liq.ring_len, liq.syn_post[s], liq.syn_inh[s]] += liq.syn_a[s] * u * r
    st["clock"] += 1


@pytest.mark.parametrize("mode", ["current", "poisson"])
def test_kernel_substep_matches_a_plain_numpy_reference(mode: str) -> None:
    ctrl = make(LSM, n_in=3, n_out=2, dt=1.0, substep=0.5, time_scale=0.5, input=mode)  # one substep a tick
    liq = ctrl.liquid
    assert liq.n_sub == 1 and liq.consts[DECAY_M] == math.exp(-0.5 / 30)
    assert (liq.consts[DECAY_E], liq.consts[DECAY_I], liq.consts[DECAY_X]) == tuple(math.exp(-0.5 / t) for t in (3, 6, 30))
    rng = np.random.default_rng(5)
    b = 3
    params = ctrl.decode(rng.uniform(-1, 1, (b, ctrl.genome_size)))
    state = ctrl.init_state(params).liquid
    n, s = liq.n_neurons, liq.syn_a.shape[0]
    state.v[:] = rng.uniform(10, 16, (b, n))
    state.i_e[:] = rng.uniform(0, 3, (b, n))
    state.i_i[:] = rng.uniform(-3, 0, (b, n))
    state.x[:] = rng.uniform(0, 2, (b, n))
    state.ref[:] = rng.integers(0, 3, (b, n)) * (rng.random((b, n)) < 0.3)
    state.ring[:] = rng.uniform(-1, 1, state.ring.shape)
    state.u[:] = rng.uniform(0, 1, (b, s))
    state.r[:] = rng.uniform(0, 1, (b, s))
    state.last[:] = -rng.uniform(0, 0.2, (b, s))
    state.clock[:] = rng.integers(0, 10, b)
    ref = [{k: getattr(state, k)[i].copy() for k in state._fields} for i in range(b)]
    spikes_seen = 0
    for _ in range(6):
        inputs = rng.uniform(-0.5, 1.5, (b, 3))
        uniforms = rng.random((b, 1, 3)) * 0.3  # rate_h = 100 Hz * 0.5 ms = 0.05 at most: some spikes
        out = np.empty((b, 2))
        advance(liq, state, inputs, params.in_gain, uniforms, params.w_out, params.b_out, out)
        for i in range(b):
            if liq.mode == POISSON:
                i_ext = np.full(n, liq.consts[I_BG])
                in_spk = uniforms[i, 0] < liq.consts[MAX_RATE] * np.clip(inputs[i], 0, 1) * liq.consts[H]
            else:
                i_ext = liq.consts[I_BG] + (params.in_gain[i] * inputs[i]) @ liq.in_mask
                in_spk = np.zeros(3, dtype=bool)
            before = ref[i]["x"].copy()
            reference_substep(liq, ref[i], i_ext, in_spk)
            spikes_seen += int(np.sum(ref[i]["x"] - before * math.exp(-0.5 / 30) > 0.5)) + int(in_spk.sum())
            for k in state._fields:
                np.testing.assert_allclose(getattr(state, k)[i], ref[i][k], rtol=1e-12, atol=1e-12, err_msg=k)
            expect = 1 / (1 + np.exp(-(params.b_out[i] + params.w_out[i] @ ref[i]["x"])))
            np.testing.assert_allclose(out[i], expect, rtol=1e-12)
    assert spikes_seen > 20  # the synapse code ran


def test_poisson_input_is_replayed_and_shared_by_the_batch() -> None:
    """Poisson input draws its random numbers from ``seed`` anew each trial, the same for every
    network of a batch: a network alone equals itself in a batch, and a second trial equals the first."""
    ctrl = make(LSM, n_in=2, n_out=1, dt=1.0, input="poisson")
    params = ctrl.decode(np.random.default_rng(0).uniform(-1, 1, (3, ctrl.genome_size)))
    xs = np.random.default_rng(1).uniform(0.1, 0.5, (3, 20, 2))
    outs, traces = roll(ctrl, params, xs)
    again, _ = roll(ctrl, params, xs)
    np.testing.assert_array_equal(outs, again)
    alone, _ = roll(ctrl, ctrl.decode(np.random.default_rng(0).uniform(-1, 1, (3, ctrl.genome_size))[1:2]), xs[1:2])
    np.testing.assert_array_equal(outs[:, 1:2], alone)
    assert traces["x"].max() > 0  # the inputs did make the liquid fire


def test_the_liquid_is_fixed_by_its_seed_and_only_the_readout_is_genes() -> None:
    a, b = make(LSM), make(LSM)
    for x, y in zip(a.liquid, b.liquid):
        np.testing.assert_array_equal(x, y)
    assert a.genome_size == 2 * 135 + 2 + 7  # readout weights and biases, input gains
    assert make(LSM, input_gain_range=[5.0, 5.0]).genome_size == 2 * 135 + 2
    c = make(LSM, seed=2)
    assert c.liquid.syn_a.shape != a.liquid.syn_a.shape or not np.array_equal(c.liquid.syn_a, a.liquid.syn_a)
    assert make(LSM, n_in=3).liquid.syn_a.tolist() == a.liquid.syn_a.tolist()  # not the agent's sizes
    assert CONTROLLERS["lsm"] is LSM
    groups = a.gene_groups()
    assert np.array_equal(np.sort(np.concatenate(groups)), np.arange(a.genome_size)) and len(groups) == 3


@pytest.mark.parametrize(("settings", "dt", "match"), [
    ({"time_scale": 30.0}, 0.02, "whole number"),
    ({"substep": 0.3}, 0.1, "whole number"),
    ({"grid": [15, 3]}, 0.1, "grid"),
    ({"grid": [15, 3, 2.5]}, 0.1, "grid"),
    ({"c": [0.3, 0.2, 0.4]}, 0.1, "`c` must list 4"),
    ({"c": [0.3, 0.2, 1.4, 0.1]}, 0.1, "`c` must lie"),
    ({"u_mean": [0.5, 0.0, 0.25, 0.32]}, 0.1, "u_mean"),
    ({"a_mean": [30, 60, 19, -19]}, 0.1, "a_mean"),
    ({"v_reset": 16.0}, 0.1, "v_reset"),
    ({"tau_syn": [3.0, 0.0]}, 0.1, "tau_syn"),
    ({"input": "spikes"}, 0.1, "input"),
])
def test_bad_settings_are_one_line_config_errors(settings: dict, dt: float, match: str) -> None:
    with pytest.raises(ConfigError, match=match) as err:
        make(LSM, dt=dt, **settings)
    assert "\n" not in str(err.value) and "[controller]: " in str(err.value)
