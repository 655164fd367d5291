"""Echo state network, ESN (Jaeger 2001), leaky-integrator form (Jaeger et al. 2007), batched.

Jaeger, H. (2001). The "echo state" approach to analysing and training recurrent neural networks.
GMD Report 148, German National Research Center for Information Technology. Jaeger, H.,
Lukosevicius, M., Popovici, D. & Siewert, U. (2007). Optimization and applications of echo state
networks with leaky-integrator neurons. Neural Networks 20(3): 335-352. Jiang, F., Berry, H. &
Schoenauer, M. (2008). Supervised and evolutionary learning of echo state networks. Parallel
Problem Solving from Nature (PPSN X), LNCS 5199: 215-224.

A fixed random reservoir of ``units`` leaky tanh neurons ``x``, driven by the inputs ``u`` (and,
with ``output_feedback``, by the previous motor commands ``y``), one update per simulation tick::

    x(t+1) = (1 - a) x(t) + a tanh(s_in W_in u(t+1) + rho W x(t) + W_fb y(t) + b)
    y(t+1) = clip(W_out [x(t+1); u(t+1); 1], 0, 1)

The readout is LINEAR (Jaeger's), clipped to the motor range [0, 1] that the controller contract
requires; sequence tasks scale their targets into [0, 1], so a readout that fits them is unclipped
where it matters. ``x`` and ``y`` start at 0 in every trial.

The reservoir is built once, in ``__init__``, from ``reservoir_seed`` (so a champion replays bit
for bit): ``W`` holds each of its ``units^2`` entries with probability ``density``, each uniform in
[-1, 1], and is divided by its spectral radius (numpy's ``eigvals``), so that ``rho W`` has spectral
radius ``rho``; ``W_in`` (units, n_inputs), the biases ``b`` and ``W_fb`` (units, n_outputs) are
uniform in [-1, 1], times ``bias_scaling`` and ``feedback_scaling``. They are drawn in that order
from one generator, so the reservoir ``W`` does not depend on the agent's sizes.

What the genes are (``evolve``):

- ``"readout"``: ``W_out`` only, in ``readout_range``, as in Jiang, Berry & Schoenauer (2008) and
  as ridge regression fits it (:mod:`evorobot.training.ridge`); ``rho = spectral_radius``,
  ``a = leak`` and ``s_in = input_scaling`` are the settings, the same for every network;
- ``"readout_and_scaling"``: ``W_out`` and, per network, ``rho`` in ``spectral_radius_range``,
  ``a`` in ``leak_range`` and ``s_in`` in ``input_scaling_range`` (three genes; the global
  parameters Jiang et al. and Jaeger et al. tune by hand or by search), on the shared ``W``,
  ``W_in``, ``b``.

Adapted, and why: Jaeger trains ``W_out`` by linear regression on teacher-forced states; here it is
a gene block for the optimizers (or fitted by the ridge trainer), and clipped to [0, 1] as every
controller's motor commands are. The reservoir is stored once (CSR) and shared by the whole batch:
one kernel call per tick for all B networks, with their per-network ``rho``, ``a`` and ``s_in``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import numpy as np
from numba import njit

from evorobot._types import FloatArray, IntArray
from evorobot.controllers._blockshell import BlockController
from evorobot.controllers.base import LinearReadout
from evorobot.errors import ConfigError
from evorobot.genome import Block
from evorobot.spec import Range, setting

__all__ = ["ESN", "ESNParams", "ESNSpec", "ESNState", "Reservoir"]

EVOLVE = ("readout", "readout_and_scaling")


@dataclass(frozen=True)
class ESNSpec:
    """Settings of an echo state network (``[controller]``, less ``type``)."""

    units: int = setting(100, ge=1, doc="reservoir neurons")
    spectral_radius: float = setting(0.9, ge=0, doc="spectral radius rho of the reservoir matrix (evolve = readout)")
    density: float = setting(0.1, gt=0, le=1, doc="fraction of nonzero reservoir weights")
    input_scaling: float = setting(1.0, ge=0, doc="scale s_in of the input weights, uniform in [-1, 1] (evolve = readout)")
    bias_scaling: float = setting(0.2, ge=0, doc="scale of the biases, uniform in [-1, 1]")
    leak: float = setting(1.0, gt=0, le=1, doc="leaking rate a (1: no leak) (evolve = readout)")
    output_feedback: bool = setting(False, doc="feed the previous motor commands back into the reservoir")
    feedback_scaling: float = setting(1.0, ge=0, doc="scale of the feedback weights, uniform in [-1, 1]")
    reservoir_seed: int = setting(0, ge=0, doc="seed of W, W_in, the biases and W_fb")
    evolve: str = setting("readout", choices=EVOLVE, doc="the genes: the readout, or it and rho, a, s_in per network")
    readout_range: Range = setting((-5.0, 5.0), doc="range of the readout weights W_out")
    spectral_radius_range: Range = setting((0.1, 1.5), doc="range of rho (evolve = readout_and_scaling)")
    leak_range: Range = setting((0.05, 1.0), doc="range of a (evolve = readout_and_scaling)")
    input_scaling_range: Range = setting((0.01, 2.0), doc="range of s_in (evolve = readout_and_scaling)")

    def validate(self, where: str) -> None:
        lo, hi = self.leak_range
        if not (0.0 < lo and hi <= 1.0):
            raise ConfigError(f"{where}: `leak_range` must lie in (0, 1], got {list(self.leak_range)}")
        for key in ("spectral_radius_range", "input_scaling_range"):
            if getattr(self, key)[0] < 0:
                raise ConfigError(f"{where}: `{key}` must be >= 0, got {list(getattr(self, key))}")


class Reservoir(NamedTuple):
    """The fixed weights every network of a controller shares.

    ``W`` of spectral radius 1 in CSR form (``indptr`` (N + 1,), ``indices`` and ``data`` (nnz,));
    ``w_in`` (N, n_inputs); ``bias`` (N,); ``w_fb`` (N, n_outputs), or (N, 0) without feedback.
    """

    indptr: IntArray
    indices: IntArray
    data: FloatArray
    w_in: FloatArray
    bias: FloatArray
    w_fb: FloatArray

    def dense(self) -> FloatArray:
        """``W`` (N, N) as a dense array."""
        n = self.bias.shape[0]
        w = np.zeros((n, n))
        rows = np.repeat(np.arange(n), np.diff(self.indptr))
        w[rows, self.indices] = self.data
        return w


class ESNParams(NamedTuple):
    """Decoded parameters of B networks: ``w_out`` (B, n_outputs, F) over ``[x; u; 1]``
    (F = units + n_inputs + 1); ``spectral_radius``, ``leak``, ``input_scaling`` (B,)."""

    w_out: FloatArray
    spectral_radius: FloatArray
    leak: FloatArray
    input_scaling: FloatArray


class ESNState(NamedTuple):
    """State of B networks: reservoir ``x`` (B, N) and the last motor commands ``y`` (B, n_outputs)."""

    x: FloatArray
    y: FloatArray


def build_reservoir(spec: ESNSpec, n_inputs: int, n_outputs: int, where: str) -> Reservoir:
    """Draw the reservoir of ``spec`` from ``reservoir_seed`` (see the module docstring)."""
    n = spec.units
    rng = np.random.default_rng(spec.reservoir_seed)
    present = rng.random((n, n)) < spec.density
    w = np.where(present, rng.uniform(-1.0, 1.0, (n, n)), 0.0)
    radius = float(np.max(np.abs(np.linalg.eigvals(w)))) if n else 0.0
    if not radius > 1e-12:
        raise ConfigError(f"{where}: the reservoir of `units` = {n} at `density` = {spec.density} drawn from "
                          f"`reservoir_seed` = {spec.reservoir_seed} has spectral radius 0; raise `density`")
    w = w / radius
    w_in = rng.uniform(-1.0, 1.0, (n, n_inputs))
    bias = spec.bias_scaling * rng.uniform(-1.0, 1.0, n)
    w_fb = spec.feedback_scaling * rng.uniform(-1.0, 1.0, (n, n_outputs))
    rows, cols = np.nonzero(w)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))]).astype(np.int64)
    return Reservoir(indptr, cols.astype(np.int64), np.ascontiguousarray(w[rows, cols]), w_in, bias,
                     np.ascontiguousarray(w_fb if spec.output_feedback else w_fb[:, :0]))


@njit(cache=True)
def _step(indptr, indices, data, w_in, bias, w_fb, radius, leak, in_scale, w_out, x, y, u, out):
    """One update of B networks in place, then the clipped linear readout.

    indptr (N + 1,), indices, data (nnz,): W in CSR; w_in (N, n_in); bias (N,); w_fb (N, n_fb),
    n_fb = 0 or n_out; radius, leak, in_scale (B,); w_out (B, n_out, N + n_in + 1); x (B, N);
    y (B, n_out) the previous commands (fed back; overwritten); u (B, n_in); out (B, n_out).
    A NaN passes the clip, so that the task sees it.
    """
    n_b, n = x.shape
    n_in = u.shape[1]
    n_fb = w_fb.shape[1]
    n_out = out.shape[1]
    new = np.empty(n)
    for b in range(n_b):
        xb, ub = x[b], u[b]
        a, rho, s = leak[b], radius[b], in_scale[b]
        for i in range(n):
            rec = 0.0
            for p in range(indptr[i], indptr[i + 1]):
                rec += data[p] * xb[indices[p]]
            inp = 0.0
            for k in range(n_in):
                inp += w_in[i, k] * ub[k]
            fb = 0.0
            for m in range(n_fb):
                fb += w_fb[i, m] * y[b, m]
            new[i] = (1.0 - a) * xb[i] + a * np.tanh(s * inp + rho * rec + fb + bias[i])
        for i in range(n):
            xb[i] = new[i]
        for m in range(n_out):
            wo = w_out[b, m]
            acc = wo[n + n_in]
            for i in range(n):
                acc += wo[i] * xb[i]
            for k in range(n_in):
                acc += wo[n + k] * ub[k]
            if acc < 0.0:
                acc = 0.0
            elif acc > 1.0:
                acc = 1.0
            out[b, m] = acc
            y[b, m] = acc


class ESN(BlockController):
    """Batched leaky echo state network with a clipped linear readout; see the module docstring."""

    name: ClassVar[str] = "esn"
    Spec: ClassVar[type] = ESNSpec
    Params: ClassVar[type] = ESNParams

    def _blocks(self, spec: ESNSpec) -> list[Block]:
        self.reservoir = build_reservoir(spec, self.n_inputs, self.n_outputs, self._where)
        self.n_features = spec.units + self.n_inputs + 1
        if spec.evolve == "readout":
            scalars = [(spec.spectral_radius,) * 2, (spec.leak,) * 2, (spec.input_scaling,) * 2]
        else:
            scalars = [spec.spectral_radius_range, spec.leak_range, spec.input_scaling_range]
        names = ("spectral_radius", "leak", "input_scaling")
        return [Block("w_out", (self.n_outputs, self.n_features), *spec.readout_range),
                *(Block(nm, (), lo, hi) for nm, (lo, hi) in zip(names, scalars))]

    def __init__(self, spec: ESNSpec, n_inputs: int, n_outputs: int, dt: float, where: str = "[controller]") -> None:
        self._where = where
        super().__init__(spec, n_inputs, n_outputs, dt, where)

    def gene_groups(self) -> tuple[IntArray, ...]:
        """One group per output (motor) unit: its readout weights ``w_out[k]``; then the per-network
        scaling genes (evolve = readout_and_scaling), the rest. The reservoir has no genes."""
        return self.layout.groups({"w_out": 0})

    def labels(self) -> dict[str, list[str]]:
        return {"features": [f"x{i}" for i in range(self.spec.units)]
                + [f"u{k}" for k in range(self.n_inputs)] + ["1"]}

    def reservoir_matrix(self, params: ESNParams, i: int) -> FloatArray:
        """Network ``i``'s effective reservoir matrix ``rho W`` (N, N), dense."""
        return float(params.spectral_radius[i]) * self.reservoir.dense()

    def init_state(self, params: ESNParams) -> ESNState:
        """Fresh zero reservoir states (B, N) and previous commands (B, n_outputs)."""
        b = params.w_out.shape[0]
        return ESNState(np.zeros((b, self.spec.units)), np.zeros((b, self.n_outputs)))

    def step(self, params: ESNParams, state: ESNState, inputs: FloatArray, dt: float, out: FloatArray) -> None:
        """One update of every network in place (``dt`` ignored); the clipped readout to ``out``."""
        r = self.reservoir
        _step(r.indptr, r.indices, r.data, r.w_in, r.bias, r.w_fb, params.spectral_radius, params.leak,
              params.input_scaling, params.w_out, state.x, state.y, inputs, out)

    def trace(self, state: ESNState) -> dict[str, FloatArray]:
        """Reservoir states ``x`` (B, N)."""
        return {"x": state.x}

    def linear_readout(self, where: str) -> LinearReadout:
        """The readout over ``[x; u; 1]`` (contract item 11), when the genes are the readout alone
        and no output is fed back (so the states do not depend on the genes)."""
        if self.spec.evolve != "readout":
            raise ConfigError(f"{where}: a closed-form readout needs the esn's `evolve` = \"readout\" (its scaling "
                              f"genes change the states), got \"{self.spec.evolve}\"")
        if self.spec.output_feedback:
            raise ConfigError(f"{where}: a closed-form readout needs the esn's `output_feedback` = false (fed-back "
                              "outputs make the states depend on the readout)")
        shape = (self.n_outputs, self.n_features)
        lo, hi = self.spec.readout_range
        return LinearReadout(self.features, np.full(shape, lo), np.full(shape, hi),
                             lambda w: self.layout.encode({"w_out": np.asarray(w, dtype=np.float64)[None]})[0])

    def features(self, inputs: FloatArray) -> FloatArray:
        """``[x(t+1); u(t+1); 1]`` (R, T, F) of R networks driven from rest by ``inputs`` (R, T, n_inputs),
        stepped by the kernel itself (the readout plays no part: no output feedback)."""
        inputs = np.asarray(inputs, dtype=np.float64)
        r, t = inputs.shape[:2]
        params = self.decode(np.zeros((r, self.genome_size)))
        state = self.init_state(params)
        out = np.empty((r, self.n_outputs))
        n = self.spec.units
        phi = np.empty((r, t, self.n_features))
        phi[:, :, n + self.n_inputs] = 1.0
        for k in range(t):
            u = np.ascontiguousarray(inputs[:, k])
            self.step(params, state, u, self.dt, out)
            phi[:, k, :n] = state.x
            phi[:, k, n:n + self.n_inputs] = u
        return phi
