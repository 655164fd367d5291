"""Hopfield network, discrete (Hopfield 1982) or continuous (Hopfield 1984), batched.

Hopfield, J. J. (1982). Neural networks and physical systems with emergent collective
computational abilities. PNAS 79(8): 2554-2558. Hopfield, J. J. (1984). Neurons with graded
response have collective computational properties like those of two-state neurons. PNAS 81(10):
3088-3092.

``N = n_outputs + hidden`` units, symmetric weights ``T`` with a zero diagonal, and an external
field ``I = W_in x + b`` from the sensors ``x`` (``b`` plays the role of minus Hopfield's
threshold ``U``). ``mode`` chooses the units:

- ``"discrete"`` (1982): bipolar states ``s_i`` in {-1, +1}; an update of unit ``i`` sets
  ``s_i = sgn(sum_j T_ij s_j + I_i)`` and keeps ``s_i`` where the net input is exactly 0. Updates
  are asynchronous, one unit at a time; a sweep updates every unit once, in index order
  (``order = "fixed"``) or in a random order (``order = "random"``): a table of
  :data:`ORDER_TABLE` permutations is drawn once from ``order_seed`` and the k-th sweep of a
  trial uses permutation ``k mod ORDER_TABLE``. Energy (non-increasing under asynchronous updates
  when ``T`` is symmetric with a zero diagonal and ``I`` is fixed)::

      E = -1/2 sum_ij T_ij s_i s_j - sum_i I_i s_i

- ``"continuous"`` (1984): graded potentials ``u_i`` and outputs ``V_i = g(u_i) = tanh(gain u_i)``
  obeying ``C du_i/dt = -u_i / R + sum_j T_ij V_j + I_i``, integrated by forward Euler in
  simulation time: ``relaxations`` steps of ``h = dt / relaxations`` per tick (the settings must
  keep ``h <= R C``). Energy (non-increasing along the trajectory for symmetric ``T``, small ``h``)::

      E = -1/2 sum_ij T_ij V_i V_j - sum_i I_i V_i + 1/R sum_i int_0^{V_i} g^{-1}(v) dv,
      int_0^V g^{-1} = (V atanh V + 1/2 ln(1 - V^2)) / gain

:func:`discrete_energy` and :func:`continuous_energy` compute both (the latter from ``u``).

As a controller (what was adapted, and why). Hopfield's networks are memories that relax to a
fixed point from a starting state; an agent needs a map from a stream of sensor readings to
motor commands, so:

- the weights are genes: ``T`` (only its upper triangle takes genes, the lower is its mirror and
  the diagonal is 0, so every genome is a Hopfield network), ``W_in`` (N, n_inputs) and ``b``;
- every tick the sensors set the field ``I``, then the network relaxes ``relaxations`` times
  (discrete: full asynchronous sweeps; continuous: Euler steps) from where it was: the state
  persists from tick to tick (it is the network's memory) and is reset at the start of a trial
  (discrete ``s = -1``, continuous ``u = 0``);
- units ``0 .. n_outputs - 1`` are the motor units, read as ``(s + 1) / 2`` in [0, 1] (``V``
  in the continuous mode);
- ``cue = "initial_state"`` lets a corrupted pattern be the starting state, as in Hopfield's
  recall experiments: on the first tick of a trial, before relaxing, unit ``i`` (for ``i <
  min(N, n_inputs)``) is set to +1 where sensor ``i`` exceeds ``cue_threshold`` and -1 elsewhere
  (continuous: ``u_i = +-1``); with ``cue = "field"`` (default) the sensors act only through ``I``.

Hebbian storage (:meth:`Hopfield.hebbian_genome`): ``T = (1/K) sum_mu xi^mu xi^mu^T`` with a zero
diagonal for patterns ``xi`` of ``K <= N`` units (stored on units ``0 .. K - 1``), ``W_in = 0`` and
``b = 0``; with ``cue = "initial_state"`` such a network completes a corrupted pattern as
Hopfield's does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import numpy as np
import numpy.typing as npt
from numba import njit

from evorobot._types import FloatArray, IntArray
from evorobot.controllers._associative import (
    as_bipolar,
    bipolar,
    encode_exactly,
    hebbian_outer,
    sign_keep,
)
from evorobot.controllers._blockshell import BlockController
from evorobot.errors import ConfigError
from evorobot.genome import Block
from evorobot.spec import Range, setting

__all__ = ["ORDER_TABLE", "Hopfield", "HopfieldParams", "HopfieldSpec", "HopfieldState", "continuous_energy",
           "discrete_energy", "hebbian_weights"]

#: Number of update orders drawn from ``order_seed`` (``order = "random"``); sweep k uses order k mod this.
ORDER_TABLE = 64


@dataclass(frozen=True)
class HopfieldSpec:
    """Settings of a Hopfield network (``[controller]``, less ``type``)."""

    mode: str = setting("discrete", choices=("discrete", "continuous"),
                        doc="bipolar units updated asynchronously (1982) or graded units in continuous time (1984)")
    hidden: int = setting(4, ge=0, doc="units besides the motor units")
    relaxations: int = setting(2, ge=1, doc="per tick: asynchronous sweeps (discrete) or Euler steps of dt / relaxations")
    order: str = setting("fixed", choices=("fixed", "random"), doc="order of the asynchronous updates (discrete)")
    order_seed: int = setting(0, ge=0, doc="seed of the random update orders (order = random)")
    cue: str = setting("field", choices=("field", "initial_state"),
                       doc="sensors act through the field only, or also set the starting state on a trial's first tick")
    cue_threshold: float = setting(0.5, doc="a sensor above it cues +1, else -1 (cue = initial_state)")
    weight_range: Range = setting((-1.0, 1.0), doc="range of the symmetric weights T_ij")
    input_range: Range = setting((-1.0, 1.0), doc="range of the input weights W_in")
    bias_range: Range = setting((-1.0, 1.0), doc="range of the biases b (minus the thresholds U)")
    gain: float = setting(4.0, gt=0, doc="gain of V = tanh(gain u) (continuous)")
    resistance: float = setting(1.0, gt=0, doc="R of C du/dt = -u/R + T V + I (continuous)")
    capacitance: float = setting(1.0, gt=0, doc="C of C du/dt = -u/R + T V + I (continuous)")


class HopfieldParams(NamedTuple):
    """Decoded parameters of B networks: ``w`` (B, N, N) symmetric, zero diagonal; ``w_in``
    (B, N, n_inputs); ``bias`` (B, N)."""

    w: FloatArray
    w_in: FloatArray
    bias: FloatArray


class HopfieldState(NamedTuple):
    """State of B networks: ``s`` (B, N) the unit outputs (discrete: +-1; continuous: ``V``), ``u``
    (B, N) the continuous potentials ((B, 0) in the discrete mode), ``ticks`` (B,) ticks so far."""

    s: FloatArray
    u: FloatArray
    ticks: IntArray


@njit(cache=True)
def _field(w_in, bias, x, b, field):
    """``field[i] = bias[b, i] + sum_k w_in[b, i, k] x[b, k]``."""
    for i in range(field.shape[0]):
        acc = bias[b, i]
        wi = w_in[b, i]
        for k in range(x.shape[1]):
            acc += wi[k] * x[b, k]
        field[i] = acc


@njit(cache=True)
def _discrete_step(w, w_in, bias, orders, relaxations, cue, cue_threshold, s, ticks, x, out):
    """One tick of B discrete networks in place: cue (first tick), field, ``relaxations`` sweeps.

    w (B, N, N); w_in (B, N, n_in); bias, s (B, N); orders (K, N) int64 permutations; ticks (B,)
    int64; x (B, n_in); out (B, n_out). Sweep k of a trial uses ``orders[k % K]``.
    """
    n_b, n = s.shape
    n_cue = min(n, x.shape[1])
    n_orders = orders.shape[0]
    field = np.empty(n)
    for b in range(n_b):
        sb, wb = s[b], w[b]
        if cue and ticks[b] == 0:
            for i in range(n_cue):
                sb[i] = bipolar(x[b, i], cue_threshold)
        _field(w_in, bias, x, b, field)
        for r in range(relaxations):
            order = orders[(ticks[b] * relaxations + r) % n_orders]
            for q in range(n):
                i = order[q]
                h = field[i]
                wi = wb[i]
                for j in range(n):
                    h += wi[j] * sb[j]
                sb[i] = sign_keep(h, sb[i])
        ticks[b] += 1
        for m in range(out.shape[1]):
            out[b, m] = 0.5 * (sb[m] + 1.0)


@njit(cache=True)
def _continuous_step(w, w_in, bias, gain, h_step, inv_r, inv_c, relaxations, cue, cue_threshold, u, v, ticks, x,
                     out):
    """One tick of B continuous networks in place: cue (first tick), field, ``relaxations`` Euler steps.

    w (B, N, N); w_in (B, N, n_in); bias, u, v (B, N); ticks (B,) int64; x (B, n_in); out (B, n_out).
    All units' derivatives are taken from the same ``V`` before any moves (an Euler step).
    """
    n_b, n = u.shape
    n_cue = min(n, x.shape[1])
    field = np.empty(n)
    du = np.empty(n)
    for b in range(n_b):
        ub, vb, wb = u[b], v[b], w[b]
        if cue and ticks[b] == 0:
            for i in range(n_cue):
                ub[i] = bipolar(x[b, i], cue_threshold)
                vb[i] = np.tanh(gain * ub[i])
        _field(w_in, bias, x, b, field)
        for _ in range(relaxations):
            for i in range(n):
                acc = field[i] - ub[i] * inv_r
                wi = wb[i]
                for j in range(n):
                    acc += wi[j] * vb[j]
                du[i] = acc * inv_c
            for i in range(n):
                ub[i] += h_step * du[i]
                vb[i] = np.tanh(gain * ub[i])
        ticks[b] += 1
        for m in range(out.shape[1]):
            out[b, m] = 0.5 * (vb[m] + 1.0)


def hebbian_weights(patterns: npt.ArrayLike) -> FloatArray:
    """Hopfield's storage ``T = (1/K) sum_mu xi^mu xi^mu^T`` with a zero diagonal, for bipolar
    ``patterns`` (P, K); returns (K, K)."""
    xi = as_bipolar(patterns, "patterns", "hebbian_weights")
    t = hebbian_outer(xi, xi) / xi.shape[1]
    np.fill_diagonal(t, 0.0)
    return t


def discrete_energy(w: FloatArray, field: FloatArray, s: FloatArray) -> FloatArray:
    """``E = -1/2 s^T T s - I^T s`` of B networks: w (B, N, N), field ``I`` (B, N), s (B, N) -> (B,)."""
    return -0.5 * np.einsum("bi,bij,bj->b", s, w, s) - np.einsum("bi,bi->b", field, s)


def continuous_energy(w: FloatArray, field: FloatArray, u: FloatArray, gain: float, resistance: float) -> FloatArray:
    """Hopfield's (1984) energy (B,) of B graded networks at potentials ``u`` (B, N), ``V = tanh(gain u)``
    (see the module docstring); w (B, N, N), field (B, N). The leak integral is evaluated in ``u``,
    ``(V atanh V + 1/2 ln(1 - V^2)) / gain = V u - ln cosh(gain u) / gain``, finite where ``V``
    rounds to +-1."""
    v = np.tanh(gain * u)
    z = np.abs(gain * u)
    log_cosh = z + np.log1p(np.exp(-2.0 * z)) - np.log(2.0)
    integral = v * u - log_cosh / gain
    return discrete_energy(w, field, v) + integral.sum(axis=1) / resistance


class Hopfield(BlockController):
    """Batched Hopfield network, discrete or continuous; see the module docstring."""

    name: ClassVar[str] = "hopfield"
    Spec: ClassVar[type] = HopfieldSpec
    Params: ClassVar[type] = HopfieldParams

    def __init__(self, spec: HopfieldSpec, n_inputs: int, n_outputs: int, dt: float,
                 where: str = "[controller]") -> None:
        super().__init__(spec, n_inputs, n_outputs, dt, where)
        self.where = where
        self.h_step = self.dt / spec.relaxations
        if spec.mode == "continuous" and self.h_step > spec.resistance * spec.capacitance:
            raise ConfigError(f"{where}: the Euler step dt / `relaxations` = {self.h_step:g} must be <= R C = "
                              f"{spec.resistance * spec.capacitance:g}; raise `relaxations`")
        n = self.n_units
        if spec.order == "random":
            rng = np.random.default_rng(spec.order_seed)
            self.orders = np.stack([rng.permutation(n) for _ in range(ORDER_TABLE)]).astype(np.int64)
        else:
            self.orders = np.arange(n, dtype=np.int64)[None, :]

    def _blocks(self, spec: HopfieldSpec) -> list[Block]:
        self.n_units = n = self.n_outputs + spec.hidden
        transpose = np.arange(n * n, dtype=np.int64).reshape(n, n).T.reshape(-1)
        return [Block("w", (n, n), *spec.weight_range, mask=~np.eye(n, dtype=bool), mirror=transpose),
                Block("w_in", (n, self.n_inputs), *spec.input_range),
                Block("bias", (n,), *spec.bias_range)]

    def gene_groups(self) -> tuple[IntArray, ...]:
        """One group per unit: its input weights, its bias and the symmetric weights ``T_ij``,
        ``j > i`` (a weight shared by two units goes to the lower-numbered one)."""
        return self.layout.groups({"w": 0, "w_in": 0, "bias": 0})

    def labels(self) -> dict[str, list[str]]:
        return {"units": [f"m{i}" for i in range(self.n_outputs)] + [f"h{i}" for i in range(self.spec.hidden)],
                "inputs": [f"x{k}" for k in range(self.n_inputs)]}

    def init_state(self, params: HopfieldParams) -> HopfieldState:
        """Fresh state: discrete ``s = -1``; continuous ``u = 0`` (so ``V = 0``); no ticks yet."""
        b = params.bias.shape[0]
        if self.spec.mode == "discrete":
            return HopfieldState(np.full((b, self.n_units), -1.0), np.zeros((b, 0)), np.zeros(b, dtype=np.int64))
        return HopfieldState(np.zeros((b, self.n_units)), np.zeros((b, self.n_units)), np.zeros(b, dtype=np.int64))

    def step(self, params: HopfieldParams, state: HopfieldState, inputs: FloatArray, dt: float,
             out: FloatArray) -> None:
        """One tick of every network in place (the continuous Euler step is ``dt / relaxations``)."""
        spec = self.spec
        cue = spec.cue == "initial_state"
        if spec.mode == "discrete":
            _discrete_step(params.w, params.w_in, params.bias, self.orders, spec.relaxations, cue,
                           spec.cue_threshold, state.s, state.ticks, inputs, out)
        else:
            _continuous_step(params.w, params.w_in, params.bias, spec.gain, dt / spec.relaxations, 1.0 / spec.resistance,
                             1.0 / spec.capacitance, spec.relaxations, cue, spec.cue_threshold, state.u, state.s,
                             state.ticks, inputs, out)

    def trace(self, state: HopfieldState) -> dict[str, FloatArray]:
        """Unit outputs ``s`` (B, N); in the continuous mode also the potentials ``u`` (B, N)."""
        return {"s": state.s} if self.spec.mode == "discrete" else {"s": state.s, "u": state.u}

    def field(self, params: HopfieldParams, inputs: FloatArray) -> FloatArray:
        """The external field ``I = W_in x + b`` (B, N) of inputs ``x`` (B, n_inputs)."""
        return params.bias + np.einsum("bik,bk->bi", params.w_in, inputs)

    def energy(self, params: HopfieldParams, state: HopfieldState, inputs: FloatArray) -> FloatArray:
        """The energy (B,) of the mode's paper at ``state`` in the field of ``inputs``."""
        field = self.field(params, inputs)
        if self.spec.mode == "discrete":
            return discrete_energy(params.w, field, state.s)
        return continuous_energy(params.w, field, state.u, self.spec.gain, self.spec.resistance)

    def store_pairs(self, cues: FloatArray, patterns: FloatArray, where: str) -> FloatArray:
        """Contract item 13: an auto-associative memory stores the ``patterns`` (P, n_outputs) on its
        motor units (:meth:`hebbian_genome`); a cue is a corrupted pattern, so ``cues`` only have to
        match them in number. Recall from a cue needs ``cue = "initial_state"``."""
        if np.shape(cues)[0] != np.shape(patterns)[0]:
            raise ConfigError(f"{where}: {np.shape(cues)[0]} cues for {np.shape(patterns)[0]} patterns")
        return self.hebbian_genome(patterns)

    def hebbian_genome(self, patterns: npt.ArrayLike) -> FloatArray:
        """The genome (genome_size,) of the network that stores bipolar ``patterns`` (P, K), K <= N,
        by Hopfield's rule on units ``0 .. K - 1`` (:func:`hebbian_weights`; every other weight,
        every input weight and every bias 0). ConfigError (naming the settings' place) when the
        patterns are not bipolar, K > N, or ``weight_range`` / ``input_range`` / ``bias_range``
        cannot hold the values."""
        xi = as_bipolar(patterns, "patterns", self.where)
        n, k = self.n_units, xi.shape[1]
        if k > n:
            raise ConfigError(f"{self.where}: patterns of {k} units do not fit a network of {n} units")
        w = np.zeros((n, n))
        w[:k, :k] = hebbian_weights(xi)
        return encode_exactly(self.layout, {"w": w, "w_in": np.zeros((n, self.n_inputs)), "bias": np.zeros(n)},
                              self.where)
