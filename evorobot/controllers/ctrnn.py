"""Continuous-time recurrent neural network (Beer 1995), batched.

Each neuron ``i`` of ``N = hidden + n_outputs`` follows (Beer 1995, "On the dynamics of small
continuous-time recurrent neural networks", Adaptive Behavior 3(4))::

    tau_i dy_i/dt = -y_i + sum_j w_ij o_j + I_i,    o_j = sigma(g_j (y_j + theta_j)),
    I_i = sum_k w_in[i, k] x_k,                     sigma(x) = 1 / (1 + exp(-x)),

and the motor commands are the outputs of the last ``n_outputs`` neurons. Weights are stored
``[target, source]`` so that each neuron's sum runs over contiguous memory; absent connections are
zeros in the dense matrices (the kernels take any mask, so the MTRNN and hierarchical networks
reuse them). Integrators, all with the external input held constant over the tick:

- ``euler``: the order of Beer's ``EulerStep`` (CTRNN.cpp): every state is advanced from the
  previous outputs, and only then are all outputs recomputed. Accurate only for dt << tau; the
  constructor rejects tau < dt.
- ``rk4``: classic fourth-order Runge-Kutta (its first stage reads the current outputs ``o``); the
  constructor rejects dt > 2.785 tau, beyond its stability limit for the leak.
- ``exp_euler``: exponential Euler, exact for the leak: ``y <- A + (y - A) exp(-dt / tau)`` with
  ``A = sum_j w_ij o_j + I_i`` from the previous outputs.

Topologies: ``layered`` (Beer 2003's visual agent: inputs -> fully interconnected interneurons ->
motor neurons, motor neurons neither receive from nor send to motor neurons) and ``full``.
Bilateral symmetry (Beer 2003) mirrors inputs, interneurons and motor neurons end-to-end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np
import numpy.typing as npt
from numba import njit

from evorobot._types import BoolArray, FloatArray
from evorobot.controllers.base import Controller
from evorobot.errors import ConfigError
from evorobot.genome import Block, GeneLayout, axis_mirror
from evorobot.spec import setting

__all__ = ["CTRNN", "CTRNNParams", "CTRNNSpec", "CTRNNState", "RK4_STABILITY"]

#: RK4 is stable on the negative real axis for dt / tau up to about 2.785.
RK4_STABILITY = 2.785


@dataclass(frozen=True)
class CTRNNSpec:
    """Settings of a CTRNN (the world file's ``[controller]`` table, less ``type``)."""

    hidden: int = setting(5, ge=0, doc="number of interneurons (the motor neurons come on top)")
    integrator: str = setting(
        "euler", choices=("euler", "rk4", "exp_euler"), doc="numerical integration scheme"
    )
    topology: str = setting(
        "layered",
        choices=("layered", "full"),
        doc="layered: inputs -> recurrent interneurons -> motors; full: all-to-all",
    )
    symmetric: bool = setting(False, doc="bilaterally symmetric genome (mirrored pairs share genes)")
    weight_range: tuple[float, float] = setting((-5.0, 5.0), doc="range of connection weights")
    bias_range: tuple[float, float] = setting((-5.0, 5.0), doc="range of biases theta")
    tau_range: tuple[float, float] = setting((1.0, 2.0), gt=0.0, doc="range of time constants tau")
    gain_range: tuple[float, float] = setting(
        (1.0, 1.0), gt=0.0, doc="range of gains g (a single value is not evolved)"
    )


class CTRNNParams(NamedTuple):
    """Decoded parameters of B networks.

    Attributes
    ----------
    tau, bias, gain : FloatArray, shape (B, N)
    w : FloatArray, shape (B, N, N)
        Recurrent weights ``[target, source]``, zero where absent.
    w_in : FloatArray, shape (B, N, n_inputs)
        Input weights ``[target, input]``, zero where absent.
    """

    tau: FloatArray
    bias: FloatArray
    gain: FloatArray
    w: FloatArray
    w_in: FloatArray


class CTRNNState(NamedTuple):
    """State of B networks: ``y`` (B, N) neuron states, ``o`` (B, N) outputs sigma(g (y + theta))."""

    y: FloatArray
    o: FloatArray


# ---------------------------------------------------------------------------------------------
# Kernels: plain arrays and scalars only; loop over the batch inside; write in place.
# Sums run sequentially over sources (input weights first, then recurrent weights), four target
# neurons at a time for instruction-level parallelism; no fastmath, so the result is the same as
# a plain loop's.


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


@njit(cache=True)
def _outputs(gain, bias, y, o):
    for b in range(y.shape[0]):
        _sigma_row(gain[b], bias[b], y[b], o[b])


@njit(cache=True, inline="always")
def _drive(w, w_in, x, o, acc):
    """acc = W_in x + W o (input part summed first)."""
    acc[:] = 0.0
    _matvec_add(w_in, x, acc)
    _matvec_add(w, o, acc)


@njit(cache=True)
def _euler_step(tau, bias, gain, w, w_in, y, o, x, dt, out, first):
    n_b, n = y.shape
    acc = np.empty(n)
    for b in range(n_b):
        yb, ob = y[b], o[b]
        _drive(w[b], w_in[b], x[b], ob, acc)
        for i in range(n):  # all states from the previous outputs (Beer's EulerStep) ...
            yb[i] += dt / tau[b, i] * (acc[i] - yb[i])
        _sigma_row(gain[b], bias[b], yb, ob)  # ... then all outputs
        for k in range(out.shape[1]):
            out[b, k] = ob[first + k]


@njit(cache=True)
def _exp_euler_step(tau, bias, gain, w, w_in, y, o, x, dt, out, first):
    n_b, n = y.shape
    acc = np.empty(n)
    for b in range(n_b):
        yb, ob = y[b], o[b]
        _drive(w[b], w_in[b], x[b], ob, acc)
        for i in range(n):
            a = acc[i]
            yb[i] = a + (yb[i] - a) * np.exp(-dt / tau[b, i])
        _sigma_row(gain[b], bias[b], yb, ob)
        for k in range(out.shape[1]):
            out[b, k] = ob[first + k]


@njit(cache=True)
def _rk4_step(tau, bias, gain, w, w_in, y, o, x, dt, out, first):
    n_b, n = y.shape
    # separate allocations (not rows of one array) let LLVM see that they do not alias
    ext, acc, ys, os = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    rtau, ksum = np.empty(n), np.empty(n)
    for b in range(n_b):
        yb, ob, wb, gb, bb = y[b], o[b], w[b], gain[b], bias[b]
        for i in range(n):
            ext[i] = 0.0
            rtau[i] = 1.0 / tau[b, i]
        _matvec_add(w_in[b], x[b], ext)
        for i in range(n):
            acc[i] = ext[i]
        _matvec_add(wb, ob, acc)  # k1 = f(y), from the current outputs
        for i in range(n):
            k = (acc[i] - yb[i]) * rtau[i]
            ksum[i] = k
            ys[i] = yb[i] + 0.5 * dt * k
        for stage in range(3):  # k2, k3, k4 from the staged states ys
            _sigma_row(gb, bb, ys, os)
            for i in range(n):
                acc[i] = ext[i]
            _matvec_add(wb, os, acc)
            for i in range(n):
                k = (acc[i] - ys[i]) * rtau[i]
                if stage < 2:
                    ksum[i] += 2.0 * k
                    ys[i] = yb[i] + (0.5 * dt if stage == 0 else dt) * k
                else:
                    ksum[i] += k
        for i in range(n):
            yb[i] += dt / 6.0 * ksum[i]
        _sigma_row(gb, bb, yb, ob)
        for i in range(out.shape[1]):
            out[b, i] = ob[first + i]


_KERNELS = {"euler": _euler_step, "rk4": _rk4_step, "exp_euler": _exp_euler_step}


def connectivity(topology: str, hidden: int, n_outputs: int, n_inputs: int) -> tuple[BoolArray, BoolArray]:
    """Connection masks ``(w (N, N) [target, source], w_in (N, n_inputs))`` of a topology."""
    n = hidden + n_outputs
    if topology == "full":
        return np.ones((n, n), dtype=bool), np.ones((n, n_inputs), dtype=bool)
    w = np.zeros((n, n), dtype=bool)
    w[:hidden, :hidden] = True  # interneurons, fully interconnected (self-connections included)
    w[hidden:, :hidden] = True  # interneurons -> motor neurons
    w_in = np.zeros((n, n_inputs), dtype=bool)
    w_in[:hidden if hidden else n] = True  # inputs -> interneurons (-> motors when there are none)
    return w, w_in


def neuron_mirror(hidden: int, n_outputs: int) -> npt.NDArray[np.int64]:
    """Bilateral mirror of the neurons: interneurons reversed, motor neurons reversed."""
    return np.concatenate([np.arange(hidden)[::-1], hidden + np.arange(n_outputs)[::-1]]).astype(np.int64)


class CTRNN(Controller):
    """Batched CTRNN controller (see the module docstring).

    Parameters
    ----------
    spec : CTRNNSpec
    n_inputs, n_outputs : int
        Sizes of the agent's sensor vector and motor vector.
    dt : float
        Simulation step, checked against the integrator's stability.
    where : str
        Place of the settings, for error messages.
    """

    name: ClassVar[str] = "ctrnn"
    Spec: ClassVar[type] = CTRNNSpec

    def __init__(
        self, spec: CTRNNSpec, n_inputs: int, n_outputs: int, dt: float, where: str = "[controller]"
    ) -> None:
        if n_inputs < 0 or n_outputs < 1:
            raise ConfigError(
                f"{where}: a CTRNN needs n_inputs >= 0 and n_outputs >= 1, got {n_inputs}, {n_outputs}"
            )
        if not dt > 0:
            raise ConfigError(f"{where}: dt must be > 0, got {dt}")
        lo = spec.tau_range[0]
        if spec.integrator == "euler" and lo < dt:
            raise ConfigError(
                f"{where}: `tau_range` minimum {lo} is below dt = {dt}; forward Euler needs tau >= dt "
                f'(use integrator = "exp_euler" or "rk4")'
            )
        if spec.integrator == "rk4" and lo * RK4_STABILITY < dt:
            raise ConfigError(
                f"{where}: `tau_range` minimum {lo} is below dt / {RK4_STABILITY} = {dt / RK4_STABILITY}; "
                f'RK4 is unstable there (use integrator = "exp_euler" or a smaller dt)'
            )
        self.spec = spec
        self.n_inputs = int(n_inputs)
        self.n_outputs = int(n_outputs)
        self.hidden = int(spec.hidden)
        self.n_neurons = self.hidden + self.n_outputs
        self.dt = float(dt)
        n = self.n_neurons
        w_mask, in_mask = connectivity(spec.topology, self.hidden, self.n_outputs, self.n_inputs)
        nm = in_m = w_m = win_m = None
        if spec.symmetric:
            nm = neuron_mirror(self.hidden, self.n_outputs)
            in_m = np.arange(self.n_inputs)[::-1]
            w_m, win_m = axis_mirror(nm, nm), axis_mirror(nm, in_m)
        self.layout = GeneLayout(
            [
                Block("tau", (n,), *spec.tau_range, mirror=nm),
                Block("bias", (n,), *spec.bias_range, mirror=nm),
                Block("gain", (n,), *spec.gain_range, mirror=nm),
                Block("w", (n, n), *spec.weight_range, mask=w_mask, mirror=w_m),
                Block("w_in", (n, self.n_inputs), *spec.weight_range, mask=in_mask, mirror=win_m),
            ]
        )
        self.genome_size = self.layout.genome_size
        self.neurons = [f"h{i}" for i in range(self.hidden)] + [f"m{i}" for i in range(self.n_outputs)]
        self._kernel = _KERNELS[spec.integrator]
        self._first_out = self.hidden

    def decode(self, genomes: npt.ArrayLike) -> CTRNNParams:
        """Map genes to parameters.

        Parameters
        ----------
        genomes : array, shape (B, genome_size)
            Genes in [-1, 1].

        Returns
        -------
        CTRNNParams
            Fresh C-contiguous float64 arrays (see :class:`CTRNNParams` for shapes).
        """
        p = self.layout.decode(genomes)
        return CTRNNParams(p["tau"], p["bias"], p["gain"], p["w"], p["w_in"])

    def init_state(self, params: CTRNNParams) -> CTRNNState:
        """Fresh state: ``y = 0`` (B, N) and ``o = sigma(g theta)`` (B, N); new arrays every call."""
        y = np.zeros(params.tau.shape)
        o = np.empty(params.tau.shape)
        _outputs(params.gain, params.bias, y, o)
        return CTRNNState(y, o)

    def step(
        self, params: CTRNNParams, state: CTRNNState, inputs: FloatArray, dt: float, out: FloatArray
    ) -> None:
        """Advance every network one tick in place (one kernel call for the whole batch).

        Parameters
        ----------
        params : CTRNNParams
        state : CTRNNState
            Updated in place; ``state.o`` must equal sigma(g (y + theta)), as ``init_state`` and
            ``step`` leave it.
        inputs : FloatArray, shape (B, n_inputs)
            Held constant over the tick.
        dt : float
            Time step.
        out : FloatArray, shape (B, n_outputs)
            Receives the motor neurons' outputs, in [0, 1].
        """
        self._kernel(params.tau, params.bias, params.gain, params.w, params.w_in,
                     state.y, state.o, inputs, dt, out, self._first_out)

    def describe(self, params: CTRNNParams, i: int) -> dict[str, Any]:
        """Parameters of network ``i`` as JSON-ready lists (weights ``[target][source]``)."""
        return {
            "neurons": list(self.neurons),
            "tau": [float(v) for v in params.tau[i]],
            "bias": [float(v) for v in params.bias[i]],
            "gain": [float(v) for v in params.gain[i]],
            "weights": [[float(v) for v in row] for row in params.w[i]],
            "input_weights": [[float(v) for v in row] for row in params.w_in[i]],
        }

    def trace(self, state: CTRNNState) -> dict[str, FloatArray]:
        """Neuron states ``y`` and outputs ``o``, each (B, N)."""
        return {"y": state.y, "o": state.o}
