"""Liquid state machine, LSM (Maass, Natschläger & Markram 2002), batched.

Maass, W., Natschläger, T. & Markram, H. (2002). Real-time computing without stable states: a new
framework for neural computation based on perturbations. Neural Computation 14(11): 2531-2560.
Markram, H., Wang, Y. & Tsodyks, M. (1998). Differential signaling via the same axon of neocortical
pyramidal neurons. PNAS 95(9): 5323-5328 (the dynamic synapses).

The liquid is the paper's: leaky integrate-and-fire neurons with refractory periods on the integer
points of a ``grid`` column (15 x 3 x 3 = 135), 20 % of them inhibitory (chosen at random, exactly
``round(0.2 N)``), a synapse from ``a`` to ``b`` with probability ``C exp(-(D(a, b) / lambda)^2)``
(``lambda = 2``; ``C`` 0.3 EE, 0.2 EI, 0.4 IE, 0.1 II; no self-connections), dynamic synapses
(Markram et al. 1998) whose ``U``, ``D``, ``F`` are Gaussian around the per-pair means
(0.5, 1.1 s, 0.05 s EE; 0.05, 0.125 s, 1.2 s EI; 0.25, 0.7 s, 0.02 s IE; 0.32, 0.144 s, 0.06 s II)
with SD 50 % of the mean, and whose scale ``A`` is Gamma distributed with SD 100 % of the mean
(30 nA EE, 60 EI, -19 IE, -19 II), exponential postsynaptic currents (``tau_s`` 3 ms excitatory,
6 ms inhibitory), delays 1.5 ms EE and 0.8 ms otherwise; membrane time constant 30 ms, threshold
15 mV, reset 13.5 mV (above a rest of 0), refractory 3 ms (E) and 2 ms (I), input resistance
1 MOhm, background current 13.5 nA, initial potentials uniform in [13.5, 15] mV. Every number is a
setting; all the random draws come from ``seed``, so the liquid, fixed as in the paper (only the
readout learns), is the same circuit for every network of the batch and in every replay. The
substep order is in :mod:`evorobot.controllers._lsm_kernels`.

Readout: the liquid state is the vector of every neuron's spike train filtered by
``exp(-t / 30 ms)`` (``x``, one per spike, the paper's low-pass filter), and motor ``m`` is
``sigmoid(b_m + sum_n W_mn x_n)`` in [0, 1]; ``W`` (``readout_range``) and ``b`` (``bias_range``)
are the genes.

Adapted to make it a controller, and why:

- Time. The liquid runs on its own substep ``substep`` (ms of liquid time) inside each controller
  tick, and one world second is ``time_scale`` ms of liquid time: a tick of ``dt`` world seconds is
  ``dt * time_scale / substep`` substeps (it must be a whole number; the default 25 ms per world
  second gives 50 substeps for the sequence worlds' dt = 1, 5 for dt = 0.1, 1 for dt = 0.02).
  The paper's liquid time is real time; a robot's world second compressed into 25 ms keeps the
  per-tick cost low and puts a few ticks of history into the 30 ms filter.
- Inputs. ``input = "current"`` (default): each sensor drives its own random subset of
  ``input_fraction`` of the neurons (the paper: 30 %) with an injected current ``g_k s_k`` (nA)
  proportional to its continuous value ``s_k``, held over the tick; the gains ``g_k``
  (``input_gain_range``; a single-point range fixes them) are genes, the "input scaling".
  ``input = "poisson"``: as the paper, spike trains: sensor ``k`` is a Poisson spike train of rate
  ``max_rate * clip(s_k, 0, 1)`` that reaches its neurons through dynamic synapses of the EE (onto
  E) or EI (onto I) kind with ``A`` of mean 18 nA (onto E) or 9 nA (onto I), delays as from an
  excitatory neuron; the random numbers come from a generator seeded from ``seed`` anew in every
  trial and are shared by the networks of a batch (common random numbers).
- Delays are whole substeps (rounded, at least one): 1.5 ms and 0.8 ms become 3 and 2 substeps at
  the default 0.5 ms.
- Synapse parameters drawn outside (0, 2 mean) (``U`` also above 1) are drawn again, uniform in
  (0, 2 mean) (capped at 1 for ``U``), so that no draw is negative.
- The readout is evolved instead of trained by linear regression, and squashed into [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np

from evorobot._types import FloatArray, IntArray
from evorobot.controllers._blockshell import BlockController
from evorobot.controllers._lsm_kernels import (
    CURRENT,
    POISSON,
    Liquid,
    LiquidState,
    advance,
    connection_probability,
    fresh_state,
    grid_positions,
)
from evorobot.errors import ConfigError
from evorobot.genome import Block
from evorobot.spec import Floats, Range, setting

__all__ = ["LSM", "LSMParams", "LSMSpec", "LSMState", "build_liquid"]

INPUTS = ("current", "poisson")


@dataclass(frozen=True)
class LSMSpec:
    """Settings of a liquid state machine (``[controller]``, less ``type``); defaults are Maass et al.'s.

    Per-pair settings list EE, EI, IE, II (presynaptic type first). Times in ms except the dynamic
    synapses' ``D`` and ``F``, in seconds as the paper gives them.
    """

    seed: int = setting(1, ge=0, doc="seed of the liquid (types, connections, synapses, initial potentials, inputs)")
    grid: Floats = setting((15.0, 3.0, 3.0), doc="column of neurons on integer points, [nx, ny, nz]")
    inhibitory_fraction: float = setting(0.2, ge=0, le=1, doc="fraction of inhibitory neurons")
    lam: float = setting(2.0, gt=0, doc="lambda: connection length scale, in grid units")
    c: Floats = setting((0.3, 0.2, 0.4, 0.1), doc="connection factor C per pair EE, EI, IE, II, in [0, 1]")
    u_mean: Floats = setting((0.5, 0.05, 0.25, 0.32), doc="mean use U per pair, in (0, 1]")
    d_mean: Floats = setting((1.1, 0.125, 0.7, 0.144), doc="mean depression time constant D (s) per pair")
    f_mean: Floats = setting((0.05, 1.2, 0.02, 0.06), doc="mean facilitation time constant F (s) per pair")
    udf_sd: float = setting(0.5, ge=0, doc="SD of U, D, F as a fraction of their means (Gaussian)")
    a_mean: Floats = setting((30.0, 60.0, -19.0, -19.0), doc="mean synaptic scale A (nA) per pair (> 0 from E, < 0 from I)")
    a_sd: float = setting(1.0, gt=0, doc="SD of |A| as a fraction of its mean (Gamma)")
    a_input: Floats = setting((18.0, 9.0), doc="mean A (nA) of input synapses onto E and onto I (poisson input)")
    tau_m: float = setting(30.0, gt=0, doc="membrane time constant (ms)")
    v_thresh: float = setting(15.0, doc="firing threshold (mV above rest)")
    v_reset: float = setting(13.5, doc="reset potential (mV above rest)")
    v_init: Range = setting((13.5, 15.0), doc="initial membrane potentials, uniform in this range (mV)")
    t_ref: Floats = setting((3.0, 2.0), doc="absolute refractory period of E and of I neurons (ms)")
    r_in: float = setting(1.0, gt=0, doc="input resistance (MOhm)")
    i_background: float = setting(13.5, doc="constant background current of every neuron (nA)")
    tau_syn: Floats = setting((3.0, 6.0), doc="decay time constants of excitatory and inhibitory synaptic currents (ms)")
    delay: Floats = setting((1.5, 0.8), doc="synaptic delays EE and of every other pair (ms)")
    tau_readout: float = setting(30.0, gt=0, doc="time constant of the readout's spike-train filter (ms)")
    substep: float = setting(0.5, gt=0, doc="liquid integration step (ms of liquid time)")
    time_scale: float = setting(25.0, gt=0, doc="ms of liquid time per world second (a tick is dt * time_scale ms)")
    input: str = setting("current", choices=INPUTS, doc="sensors as injected currents, or as Poisson spike trains")
    input_fraction: float = setting(0.3, gt=0, le=1, doc="fraction of the neurons each sensor drives")
    input_gain_range: Range = setting((0.0, 20.0), doc="range of the per-sensor current gains g_k (nA per unit; current input)")
    max_rate: float = setting(100.0, gt=0, doc="input spike rate (Hz) of a sensor reading 1 (poisson input)")
    readout_range: Range = setting((-5.0, 5.0), doc="range of the readout weights W")
    bias_range: Range = setting((-5.0, 5.0), doc="range of the readout biases b")

    def validate(self, where: str) -> None:
        """Cross-key checks (called by :func:`evorobot.spec.parse`)."""
        if len(self.grid) != 3 or any(g < 1 or g != int(g) for g in self.grid):
            raise ConfigError(f"{where}: `grid` must be three whole numbers >= 1, got {list(self.grid)}")
        for key in ("c", "u_mean", "d_mean", "f_mean", "a_mean"):
            if len(getattr(self, key)) != 4:
                raise ConfigError(f"{where}: `{key}` must list 4 values (EE, EI, IE, II), got {list(getattr(self, key))}")
        if not all(0 <= c <= 1 for c in self.c):
            raise ConfigError(f"{where}: `c` must lie in [0, 1], got {list(self.c)}")
        if not all(0 < u <= 1 for u in self.u_mean):
            raise ConfigError(f"{where}: `u_mean` must lie in (0, 1], got {list(self.u_mean)}")
        for key in ("a_input", "t_ref", "tau_syn", "delay"):
            if len(getattr(self, key)) != 2:
                raise ConfigError(f"{where}: `{key}` must list 2 values, got {list(getattr(self, key))}")
        for key in ("d_mean", "f_mean", "tau_syn", "t_ref", "a_input"):
            if not all(v > 0 for v in getattr(self, key)):
                raise ConfigError(f"{where}: `{key}` must be > 0, got {list(getattr(self, key))}")
        if not (self.a_mean[0] > 0 and self.a_mean[1] > 0 and self.a_mean[2] < 0 and self.a_mean[3] < 0):
            raise ConfigError(f"{where}: `a_mean` must be > 0 from E (EE, EI) and < 0 from I (IE, II), "
                              f"got {list(self.a_mean)}")
        if not min(self.delay) >= 0:
            raise ConfigError(f"{where}: `delay` must be >= 0, got {list(self.delay)}")
        if not self.v_reset < self.v_thresh:
            raise ConfigError(f"{where}: `v_reset` must be below `v_thresh`, got {self.v_reset} >= {self.v_thresh}")
        if not self.v_init[1] <= self.v_thresh:
            raise ConfigError(f"{where}: `v_init` must lie below `v_thresh` {self.v_thresh}, got {list(self.v_init)}")


def _positive(rng: np.random.Generator, mean: FloatArray, sd: float, cap: float) -> FloatArray:
    """Gaussian draws ``N(mean, (sd mean)^2)``; those outside ``(0, min(2 mean, cap)]`` drawn again, uniform there."""
    hi = np.minimum(2.0 * mean, cap)
    v = rng.normal(mean, sd * mean)
    bad = (v <= 0) | (v > hi)
    v[bad] = (1.0 - rng.random(int(bad.sum()))) * hi[bad]  # uniform in (0, hi]
    return v


def _gamma(rng: np.random.Generator, mean: FloatArray, sd: float) -> FloatArray:
    """Gamma draws of mean ``|mean|`` and SD ``sd |mean|``, with the sign of ``mean``."""
    shape = 1.0 / sd**2
    return np.sign(mean) * rng.gamma(shape, np.abs(mean) / shape)


def n_substeps(spec: LSMSpec, dt: float, where: str) -> int:
    """Substeps per tick of ``dt`` world seconds: ``dt * time_scale / substep``, a whole number >= 1."""
    ratio = dt * spec.time_scale / spec.substep
    n = round(ratio)
    if n < 1 or abs(ratio - n) > 1e-6 * max(1.0, ratio):
        raise ConfigError(f"{where}: dt * time_scale / substep must be a whole number >= 1 (substeps per tick), "
                          f"got {dt} * {spec.time_scale} / {spec.substep} = {ratio:g}")
    return int(n)


def build_liquid(spec: LSMSpec, n_inputs: int, n_sub: int) -> Liquid:
    """The seeded liquid of ``spec`` for ``n_inputs`` sensors and ``n_sub`` substeps per tick.

    Draws, in this order, from ``default_rng(seed)``: the inhibitory neurons, the initial
    potentials, the connections, ``U``, ``D``, ``F``, ``A`` of every synapse; then each sensor's
    neurons and (Poisson input) its synapses. The circuit does not depend on ``n_inputs``.
    """
    rng = np.random.default_rng(spec.seed)
    h = spec.substep * 1e-3
    pos = grid_positions(tuple(int(g) for g in spec.grid))  # type: ignore[arg-type]
    n = pos.shape[0]
    inhibitory = np.zeros(n, dtype=bool)
    inhibitory[rng.permutation(n)[:round(spec.inhibitory_fraction * n)]] = True
    v_init = rng.uniform(spec.v_init[0], spec.v_init[1], n)
    p = connection_probability(pos, inhibitory, np.array(spec.c), spec.lam)
    pre, post = np.nonzero(rng.random((n, n)) < p)  # sorted by pre: CSR rows
    pair = 2 * inhibitory[pre] + inhibitory[post]
    n_ref = np.maximum(np.rint(np.array(spec.t_ref) / spec.substep), 0).astype(np.int64)
    n_delay = np.maximum(np.rint(np.array(spec.delay) / spec.substep), 1).astype(np.int64)

    def synapses(kind: IntArray) -> tuple[FloatArray, ...]:
        u = _positive(rng, np.array(spec.u_mean)[kind], spec.udf_sd, 1.0)
        d = _positive(rng, np.array(spec.d_mean)[kind], spec.udf_sd, np.inf)
        f = _positive(rng, np.array(spec.f_mean)[kind], spec.udf_sd, np.inf)
        return u, d, f

    u, d, f = synapses(pair)
    a = _gamma(rng, np.array(spec.a_mean)[pair], spec.a_sd)
    delay = np.where(pair == 0, n_delay[0], n_delay[1])
    inh_channel = inhibitory[pre].astype(np.int64)
    counts = np.bincount(pre, minlength=n)

    k_in = max(1, round(spec.input_fraction * n))
    in_mask = np.zeros((n_inputs, n))
    for k in range(n_inputs):
        in_mask[k, rng.permutation(n)[:k_in]] = 1.0
    mode = CURRENT if spec.input == "current" else POISSON
    if mode == POISSON:
        src, tgt = np.nonzero(in_mask)
        kind = inhibitory[tgt].astype(np.int64)  # an input is excitatory: EE onto E, EI onto I
        ui, di, fi = synapses(kind)
        ai = _gamma(rng, np.array(spec.a_input)[kind], spec.a_sd)
        post = np.concatenate([post, tgt])
        u, d, f, a = (np.concatenate(z) for z in ((u, ui), (d, di), (f, fi), (a, ai)))
        delay = np.concatenate([delay, np.where(kind == 0, n_delay[0], n_delay[1])])
        inh_channel = np.concatenate([inh_channel, np.zeros(len(tgt), dtype=np.int64)])
        counts = np.concatenate([counts, np.bincount(src, minlength=n_inputs)])
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    taus = np.array([spec.tau_m, spec.tau_syn[0], spec.tau_syn[1], spec.tau_readout]) * 1e-3
    consts = np.array([h, *np.exp(-h / taus), spec.v_thresh, spec.v_reset, spec.r_in, spec.i_background,
                       spec.max_rate])
    return Liquid(
        n_sub=n_sub, mode=mode, consts=consts, pos=pos, inhibitory=inhibitory,
        t_ref=np.where(inhibitory, n_ref[1], n_ref[0]).astype(np.int64), v_init=v_init, in_mask=in_mask,
        syn_ptr=ptr, syn_post=post.astype(np.int64), syn_inh=inh_channel, syn_delay=delay.astype(np.int64),
        syn_a=a, syn_u=u, syn_d=d, syn_f=f, ring_len=int(delay.max(initial=1)) + 1)


class LSMParams(NamedTuple):
    """Decoded parameters of B networks: readout ``w_out`` (B, n_out, N), ``b_out`` (B, n_out), and
    the sensors' current gains ``in_gain`` (B, n_in) (1 with Poisson input)."""

    w_out: FloatArray
    b_out: FloatArray
    in_gain: FloatArray


class LSMState(NamedTuple):
    """State of B networks: the liquids' :class:`LiquidState` and the trial's input random numbers."""

    liquid: LiquidState
    rng: np.random.Generator


class LSM(BlockController):
    """Batched liquid state machine of Maass et al. (2002) with an evolved readout; see the module docstring."""

    name: ClassVar[str] = "lsm"
    Spec: ClassVar[type] = LSMSpec
    Params: ClassVar[type] = LSMParams

    def __init__(self, spec: LSMSpec, n_inputs: int, n_outputs: int, dt: float, where: str = "[controller]") -> None:
        self._where = where
        super().__init__(spec, n_inputs, n_outputs, dt, where)

    def _blocks(self, spec: LSMSpec) -> list[Block]:
        self.liquid = build_liquid(spec, self.n_inputs, n_substeps(spec, self.dt, self._where))
        gain = spec.input_gain_range if spec.input == "current" else (1.0, 1.0)
        return [Block("w_out", (self.n_outputs, self.liquid.n_neurons), *spec.readout_range),
                Block("b_out", (self.n_outputs,), *spec.bias_range),
                Block("in_gain", (self.n_inputs,), *gain)]

    def gene_groups(self) -> tuple[IntArray, ...]:
        """One group per motor unit: its readout weights and bias; then the input gains (the rest).
        The liquid has no genes."""
        return self.layout.groups({"w_out": 0, "b_out": 0})

    def labels(self) -> dict[str, Any]:
        return {"inhibitory": [int(i) for i in np.flatnonzero(self.liquid.inhibitory)],
                "synapses": int(self.liquid.syn_a.shape[0])}

    def init_state(self, params: LSMParams) -> LSMState:
        """The liquid's initial state for every network, and the input generator seeded anew."""
        rng = np.random.default_rng([self.spec.seed, 1])
        return LSMState(fresh_state(self.liquid, params.w_out.shape[0]), rng)

    def step(self, params: LSMParams, state: LSMState, inputs: FloatArray, dt: float, out: FloatArray) -> None:
        """One tick (``n_sub`` liquid substeps) of every network in place; the readouts to ``out``."""
        liq = self.liquid
        if liq.mode == POISSON:
            uniforms = state.rng.random((1, liq.n_sub, self.n_inputs))
        else:
            uniforms = _NO_UNIFORMS
        advance(liq, state.liquid, inputs, params.in_gain, uniforms, params.w_out, params.b_out, out)

    def trace(self, state: LSMState) -> dict[str, FloatArray]:
        """Filtered spike trains ``x`` and membrane potentials ``v`` (mV), (B, N) each."""
        return {"x": state.liquid.x, "v": state.liquid.v}


_NO_UNIFORMS = np.zeros((1, 0, 0))
