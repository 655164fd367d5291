"""Continuous-time recurrent neural network, CTRNN (Beer 1995), batched; the shell of its kin.

Each neuron ``i`` follows (Beer 1995, "On the dynamics of small continuous-time recurrent neural
networks", Adaptive Behavior 3(4))::

    tau_i dy_i/dt = -y_i + sum_j w_ij o_j + I_i,    o_j = sigma(g_j (y_j + theta_j)),
    I_i = sum_k w_in[i, k] x_k,                     sigma(x) = 1 / (1 + exp(-x)),

and the motor commands are the outputs of the motor neurons. Weights are indexed
``[target, source]``; absent connections take no gene and are exact zeros in the dense matrices.
Below :data:`~evorobot.controllers._ctrnn_kernels.SOURCE_MAJOR_N` neurons,
:meth:`ContinuousNetwork.decode` stores every parameter batch-minor (each array the transpose
``.T`` of a C-contiguous array with the networks on its last axis, and :meth:`~ContinuousNetwork.init_state`
the states so), so the kernel's inner loop runs over the networks and vectorises; from
``SOURCE_MAJOR_N`` neurons on it stores the weights source-major (``w`` and ``w_in`` are transposed
views of C-contiguous ``[source, target]`` arrays), so the kernel's inner loop runs over targets.
Values and indexing (``[network, ...]``) are the same in every layout; each neuron's sum keeps
its order (inputs in order, then recurrent sources in order): the layout changes no bit, only
the speed; arrays in any other layout (a lesion's copy) take the plain target-major loop. Integrators (kernels in
:mod:`~evorobot.controllers._ctrnn_kernels`), the external input held constant over the tick:

- ``euler``: the order of Beer's ``EulerStep`` (CTRNN.cpp): every state is advanced from the
  previous outputs, and only then are all outputs recomputed. Accurate only for dt << tau; the
  constructor rejects a time constant below dt.
- ``rk4``: classic fourth-order Runge-Kutta (its first stage reads the current outputs ``o``); the
  constructor rejects dt > 2.785 tau, beyond its stability limit for the leak.
- ``exp_euler``: exponential Euler, exact for the leak: ``y <- A + (y - A) exp(-dt / tau)`` with
  ``A = sum_j w_ij o_j + I_i`` from the previous outputs.

:class:`ContinuousNetwork` is the shell of every continuous-time type: a type declares its
neurons as contiguous groups (:class:`Group`, each with its own ranges of time constant, bias and
gain) and its connections as masks (a :class:`Wiring`); the shell lays out the genes, decodes,
allocates and makes one kernel call per tick. The MTRNN and the hierarchical network are such
types. Options every type shares (:class:`NetworkSpec`):

- ``bias_mode = "center_crossing"`` (Mathayomchan & Beer 2002, "Center-crossing recurrent neural
  networks for the evolution of rhythmic behavior", Neural Computation 14(9)): the biases take no
  genes and are set at decode to ``theta_i = -sum_j w_ij / 2`` over the *recurrent* weights into
  neuron ``i`` (the paper's definition; input weights do not count, as the external input is zero
  at rest), so that when every neuron's output sits at the centre 1/2 of its range, the net input
  of each neuron sits at the centre of its own sigmoid: ``y = -theta`` is then an equilibrium.
  Neurons with no recurrent inputs (sensory neurons) keep evolved biases: the condition says
  nothing about them. ``center_crossing_init = true`` instead keeps the biases evolved but starts
  evolution from center-crossing networks (:func:`center_crossing_genomes`).
- ``initial_state = "evolved"``: the initial states ``y(0)`` of some neurons (all of a CTRNN's;
  the slow units of an MTRNN; the upper level of a hierarchical network) are genes in
  ``initial_state_range``; the others start at 0.
- ``symmetric``: bilateral symmetry (Beer 2003): each group, the inputs and the motors are
  mirrored end-to-end (an odd group's middle neuron maps onto itself); mirrored pairs share genes.
- ``paired_sums`` (issue 21; needs ``symmetric``): each neuron sums its terms in mirror pairs
  (:func:`~evorobot.controllers._ctrnn_paired.mirror_pairs`; center-crossing biases too), so that
  in the mirror image of a trial (inputs reversed) neuron ``m(i)`` computes neuron ``i``'s value bit
  for bit, whatever the integrator. Other bits than the plain order's (off by default); gradient
  training keeps the plain order.
- ``sensor_neurons``: each input drives its own leaky sensory neuron (weight 1, no gene; the eye
  gain scales the signal), whose output feeds the network through evolved weights, as in Beer's
  visual agent (Beer 1996). The sensory neurons are part of the same state: one kernel still.

Gradients (contract item 14; the trainers of :mod:`evorobot.training`): evolved in Beer's work,
every type of the family can also be trained by gradient descent on a sequence task's loss.
:meth:`ContinuousNetwork.gradient_model` is BPTT through the integrator's discrete steps (Werbos
1990; truncated BPTT(h; h') of Williams & Peng 1990), the exact gradient of what the episode
computes: the forward pass IS the step kernel (:func:`~evorobot.controllers._ctrnn_kernels.advance`,
bit for bit), and the backward pass (:func:`~evorobot.controllers._ctrnn_kernels.step_vjp`, next to
it) carries dL/dy back through each step of ``euler``, ``rk4`` (its four stages recomputed) or
``exp_euler``, with the gradients of the time constants, biases, gains, weights, input weights and
evolved initial states. :meth:`ContinuousNetwork.adjoint_gradient` is Pearlmutter's (1989)
continuous-time adjoint ("Learning state space trajectories in recurrent neural networks", Neural
Computation 1(2): 263-269; ``[optimizer] type = "adjoint"``, :mod:`evorobot.training.adjoint`):
the gradient of the ODE's solution itself, with a fine step. Center-crossing biases (functions of
the weights) are refused for gradient training.

:class:`CTRNN` is Beer's network: ``layered`` topology (Beer 2003's visual agent: inputs -> fully
interconnected interneurons -> motor neurons; motor neurons neither receive from nor send to motor
neurons) or ``full``; neuron order sensory, interneurons, motor.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np
import numpy.typing as npt

from evorobot._types import BoolArray, FloatArray, IntArray
from evorobot.controllers._ctrnn_gradients import adjoint, gradient
from evorobot.controllers._ctrnn_kernels import KERNELS, SOURCE_MAJOR_N, outputs
from evorobot.controllers._ctrnn_paired import PAIRED, mirror_pairs
from evorobot.controllers.base import Controller, GradientModel, check_io
from evorobot.errors import ConfigError
from evorobot.genome import Block, GeneLayout, axis_mirror
from evorobot.spec import Range, setting

__all__ = ["CTRNN", "CTRNNParams", "CTRNNSpec", "CTRNNState", "ContinuousNetwork", "FixedInitParams", "Group",
           "NetworkSpec",
           "RK4_STABILITY", "Wiring", "center_crossing_biases", "center_crossing_genomes", "connectivity"]

#: RK4 is stable on the negative real axis for dt / tau up to about 2.785.
RK4_STABILITY = 2.785


@dataclass(frozen=True)
class NetworkSpec:
    """Settings every continuous-time network type shares (``[controller]``, less ``type``)."""

    integrator: str = setting("euler", choices=tuple(KERNELS), doc="numerical integration scheme")
    symmetric: bool = setting(False, doc="bilaterally symmetric genome (mirrored pairs share genes)")
    weight_range: Range = setting((-5.0, 5.0), doc="range of connection weights")
    bias_range: Range = setting((-5.0, 5.0), doc="range of biases theta")
    gain_range: Range = setting((1.0, 1.0), gt=0.0, doc="range of gains g (a single value is not evolved)")
    bias_mode: str = setting(
        "evolved", choices=("evolved", "center_crossing"),
        doc="center_crossing: biases not evolved but -sum(incoming recurrent weights)/2 (Mathayomchan & Beer 2002)",
    )
    center_crossing_init: bool = setting(False, doc="start evolution from center-crossing biases")
    initial_state: str = setting(
        "zero", choices=("zero", "evolved"), doc="initial neuron states: zero, or evolved genes"
    )
    initial_state_range: Range = setting((-5.0, 5.0), doc="range of evolved initial states")
    sensor_neurons: bool = setting(False, doc="each input drives its own leaky sensory neuron (Beer 1996)")
    paired_sums: bool = setting(
        False, doc="symmetric only: sum each neuron's inputs and recurrent terms in mirror pairs, so that a "
                   "trial's mirror image computes mirrored states bit for bit (other bits than the default order)")

    def validate(self, where: str) -> None:
        """Cross-key checks (called by :func:`evorobot.spec.parse`)."""
        if self.paired_sums and not self.symmetric:
            raise ConfigError(f"{where}: `paired_sums` needs symmetric = true (mirror pairs of a symmetric genome)")
        if self.center_crossing_init and self.bias_mode == "center_crossing":
            raise ConfigError(f'{where}: `center_crossing_init` needs bias_mode = "evolved" '
                              f"(center-crossing biases are not in the genome)")


@dataclass(frozen=True)
class CTRNNSpec(NetworkSpec):
    """Settings of a CTRNN."""

    hidden: int = setting(5, ge=0, doc="number of interneurons (the motor neurons come on top)")
    topology: str = setting(
        "layered", choices=("layered", "full"),
        doc="layered: inputs -> recurrent interneurons -> motors; full: all-to-all",
    )
    tau_range: Range = setting((1.0, 2.0), gt=0.0, doc="range of time constants tau")
    sensor_shared: bool = setting(True, doc="one tau, bias and gain for all sensory neurons")
    sensor_tau_range: Range = setting((1.0, 2.0), gt=0.0, doc="time constants of sensory neurons")
    sensor_bias_range: Range = setting((-5.0, 5.0), doc="biases of sensory neurons")
    sensor_gain_range: Range = setting((1.0, 1.0), gt=0.0, doc="gains of sensory neurons")


class CTRNNParams(NamedTuple):
    """Decoded parameters of B networks.

    Attributes
    ----------
    tau, bias, gain : FloatArray, shape (B, N)
    w : FloatArray, shape (B, N, N)
        Recurrent weights ``[target, source]``, zero where absent (any memory layout; see
        :meth:`ContinuousNetwork.decode`).
    w_in : FloatArray, shape (B, N, n_inputs)
        Input weights ``[target, input]``, zero where absent.
    y0 : FloatArray, shape (B, N)
        Initial states (zero unless evolved).
    """

    tau: FloatArray
    bias: FloatArray
    gain: FloatArray
    w: FloatArray
    w_in: FloatArray
    y0: FloatArray


class FixedInitParams(NamedTuple):
    """The gene blocks of a network whose initial states are not evolved: those of
    :class:`CTRNNParams` less ``y0`` (``decode`` still returns a :class:`CTRNNParams`)."""

    tau: FloatArray
    bias: FloatArray
    gain: FloatArray
    w: FloatArray
    w_in: FloatArray


class CTRNNState(NamedTuple):
    """State of B networks: ``y`` (B, N) neuron states, ``o`` (B, N) outputs sigma(g (y + theta))."""

    y: FloatArray
    o: FloatArray


@dataclass(frozen=True)
class Group:
    """Contiguous neurons that share parameter ranges: ``label`` names them (``h0``, ``h1``, ...).

    ``tau_key`` is the setting the time constants come from (for error messages); ``shared``
    gives the whole group one gene per parameter; ``evolved_init`` marks the neurons whose initial
    state is a gene under ``initial_state = "evolved"``.
    """

    label: str
    size: int
    tau: Range
    tau_key: str
    bias: Range
    gain: Range
    shared: bool = False
    evolved_init: bool = False


@dataclass(frozen=True, eq=False)
class Wiring:
    """A network's neurons and connections: ``w`` (N, N) and ``w_in`` (N, n_inputs) masks, whether
    inputs enter with fixed weight 1 (sensory neurons), and the first of the contiguous motors."""

    groups: tuple[Group, ...]
    w: BoolArray
    w_in: BoolArray
    fixed_inputs: bool
    first_out: int


def group_mask(groups: tuple[Group, ...], links: list[tuple[str, str]]) -> BoolArray:
    """Recurrent mask ``[target, source]`` with every ``(target label, source label)`` link."""
    ends = np.cumsum([0] + [g.size for g in groups])
    at = {g.label: slice(ends[k], ends[k + 1]) for k, g in enumerate(groups)}
    mask = np.zeros((ends[-1], ends[-1]), dtype=bool)
    for target, source in links:
        mask[at[target], at[source]] = True
    return mask


def sensor_inputs(n: int, first: int, n_inputs: int) -> BoolArray:
    """Input mask ``(n, n_inputs)``: input ``k`` enters neuron ``first + k`` only."""
    mask = np.zeros((n, n_inputs), dtype=bool)
    mask[first + np.arange(n_inputs), np.arange(n_inputs)] = True
    return mask


def connectivity(topology: str, hidden: int, n_outputs: int, n_inputs: int) -> tuple[BoolArray, BoolArray]:
    """Connection masks ``(w (N, N) [target, source], w_in (N, n_inputs))`` of a CTRNN topology."""
    n = hidden + n_outputs
    if topology == "full":
        return np.ones((n, n), dtype=bool), np.ones((n, n_inputs), dtype=bool)
    w = np.zeros((n, n), dtype=bool)
    w[:hidden, :hidden] = True  # interneurons, fully interconnected (self-connections included)
    w[hidden:, :hidden] = True  # interneurons -> motor neurons
    w_in = np.zeros((n, n_inputs), dtype=bool)
    w_in[:hidden if hidden else n] = True  # inputs -> interneurons (-> motors when there are none)
    return w, w_in


def center_crossing_biases(w: FloatArray) -> FloatArray:
    """``theta_i = -sum_j w[..., i, j] / 2`` (Mathayomchan & Beer 2002) of weights ``(..., N, N)``.

    Summed over a C-contiguous copy whatever the layout of ``w`` (numpy's summation order, so the
    last bits, depends on the memory layout): the bits :meth:`ContinuousNetwork.decode` computes."""
    return -0.5 * np.sum(np.ascontiguousarray(w), axis=-1)


class ContinuousNetwork(Controller):
    """Shell of the continuous-time network types: a subclass declares :meth:`_wiring`.

    Gradients (contract item 14, every type of the family through the same kernels):
    :meth:`gradient_model` differentiates the integrator's discrete steps (BPTT, full or
    truncated), :meth:`adjoint_gradient` is Pearlmutter's (1989) continuous-time adjoint.

    Parameters
    ----------
    spec : NetworkSpec
    n_inputs, n_outputs : int
        Sizes of the agent's sensor vector and motor vector.
    dt : float
        Simulation step, checked against the integrator's stability.
    where : str
        Place of the settings, for error messages.
    """

    Params: type = CTRNNParams
    """The decoded parameters' type; its fields name the gene blocks a gradient trainer reads
    (:class:`~evorobot.training.gradient.GeneParameters`), so without evolved initial states it
    is :class:`FixedInitParams`, which has no ``y0``."""

    def __init__(self, spec: Any, n_inputs: int, n_outputs: int, dt: float, where: str = "[controller]") -> None:
        check_io(self.name, n_inputs, n_outputs, dt, where)
        spec.validate(where)
        self.spec = spec
        self.n_inputs, self.n_outputs, self.dt = int(n_inputs), int(n_outputs), float(dt)
        wiring = self._wiring(spec, self.n_inputs, self.n_outputs)
        self.groups = tuple(g for g in wiring.groups if g.size > 0)
        _check_step(self.groups, spec.integrator, self.dt, where)
        self.wiring = wiring
        self.n_neurons = n = int(wiring.w.shape[0])
        self.neurons = [f"{g.label}{i}" for g in self.groups for i in range(g.size)]
        self._first_out = wiring.first_out

        def per_neuron(f: Any) -> FloatArray:
            return np.concatenate([np.full(g.size, f(g), dtype=np.float64) for g in self.groups] or [np.zeros(0)])

        nm = in_m = w_m = win_m = None
        if spec.symmetric:  # each group reversed, inputs reversed
            ends = np.cumsum([0] + [g.size for g in self.groups])
            nm = np.concatenate([np.arange(a, b)[::-1] for a, b in zip(ends[:-1], ends[1:])] or [np.zeros(0)])
            nm = nm.astype(np.int64)
            in_m = np.arange(self.n_inputs)[::-1]
            w_m, win_m = axis_mirror(nm, nm), axis_mirror(nm, in_m)
        tie = None
        if any(g.shared for g in self.groups):
            tie = np.arange(n)
            start = 0
            for g in self.groups:
                if g.shared:
                    tie[start:start + g.size] = start
                start += g.size
        # neurons with recurrent inputs get center-crossing biases (no genes) in that mode
        self._cc = wiring.w.any(axis=1) if spec.bias_mode == "center_crossing" else None
        b_lo, b_hi = per_neuron(lambda g: g.bias[0]), per_neuron(lambda g: g.bias[1])
        if self._cc is not None:
            b_lo, b_hi = np.where(self._cc, 0.0, b_lo), np.where(self._cc, 0.0, b_hi)
        in_lo, in_hi = (1.0, 1.0) if wiring.fixed_inputs else spec.weight_range
        blocks = [
            Block("tau", (n,), per_neuron(lambda g: g.tau[0]), per_neuron(lambda g: g.tau[1]), mirror=nm, tie=tie),
            Block("bias", (n,), b_lo, b_hi, mirror=nm, tie=tie),
            Block("gain", (n,), per_neuron(lambda g: g.gain[0]), per_neuron(lambda g: g.gain[1]), mirror=nm, tie=tie),
            Block("w", (n, n), *spec.weight_range, mask=wiring.w, mirror=w_m),
            Block("w_in", (n, self.n_inputs), in_lo, in_hi, mask=wiring.w_in, mirror=win_m),
        ]
        self.evolved_init = per_neuron(lambda g: g.evolved_init) > 0 if spec.initial_state == "evolved" else None
        if self.evolved_init is not None:
            blocks.append(Block("y0", (n,), *spec.initial_state_range, mask=self.evolved_init, mirror=nm))
        else:
            self.Params = FixedInitParams
        self.layout = GeneLayout(blocks)
        self.genome_size = self.layout.genome_size
        self._kernel = KERNELS[spec.integrator]
        self._source_major = n >= SOURCE_MAJOR_N
        self._pairs = None  # paired_sums: the input and recurrent pair orders
        if getattr(spec, "paired_sums", False):
            self._pairs = (mirror_pairs(np.arange(self.n_inputs)[::-1], True), mirror_pairs(nm, False))
            self._kernel = PAIRED[spec.integrator]

    @abstractmethod
    def _wiring(self, spec: Any, n_inputs: int, n_outputs: int) -> Wiring:
        """The type's neuron groups and connection masks."""

    def decode(self, genomes: npt.ArrayLike) -> CTRNNParams:
        """Map genes ``(B, genome_size)`` in [-1, 1] to fresh float64 :class:`CTRNNParams`.

        Below ``SOURCE_MAJOR_N`` neurons every array is stored batch-minor: the transpose
        (``.T``) of a C-contiguous array, ``(N, B)``, ``(N, N, B)`` ``[source, target, network]``
        or ``(n_inputs, N, B)``, so F-contiguous; from ``SOURCE_MAJOR_N`` neurons on every array
        is C-contiguous except ``w`` and ``w_in``, stored source-major: transposed views (last two
        axes) of C-contiguous ``[source, target]`` arrays. Same values, same indexing; :meth:`step`
        takes the matching kernel loop (and the target-major one for any other layout).
        """
        p = self.layout.decode(genomes)
        bias = p["bias"]
        if self._cc is not None:
            theta = center_crossing_biases(p["w"]) if self._pairs is None else _paired_biases(p["w"], self._pairs[1])
            bias = np.where(self._cc, theta, bias)
        y0 = p["y0"] if "y0" in p else np.zeros_like(p["tau"])
        params = CTRNNParams(p["tau"], bias, p["gain"], p["w"], p["w_in"], y0)
        if self._source_major:
            return params._replace(w=_source_major(params.w), w_in=_source_major(params.w_in))
        return CTRNNParams(*(_batch_minor(a) for a in params))

    def init_state(self, params: CTRNNParams) -> CTRNNState:
        """Fresh state: ``y = y0`` (B, N) and ``o = sigma(g (y0 + theta))`` (B, N); new arrays every
        call, batch-minor (F-contiguous) below ``SOURCE_MAJOR_N`` neurons, C-contiguous from there."""
        y = params.y0.copy(order="C" if self._source_major else "F")
        o = np.empty_like(y)  # the same layout
        outputs(params.gain, params.bias, y, o)
        return CTRNNState(y, o)

    def step(
        self, params: CTRNNParams, state: CTRNNState, inputs: FloatArray, dt: float, out: FloatArray
    ) -> None:
        """Advance every network one tick in place (one kernel call for the whole batch).

        ``state`` is updated in place (``state.o`` must equal sigma(g (y + theta)), as
        ``init_state`` and ``step`` leave it); ``inputs`` (B, n_inputs) are held constant over the
        tick; ``out`` (B, n_outputs) receives the motor neurons' outputs, in [0, 1]. Arrays in
        any layout give the same bits; those of :meth:`decode` and :meth:`init_state` the faster
        loop (batch-minor: every parameter and state F-contiguous, chosen by the kernel from the
        array types; source-major weights: chosen here).
        """
        w, w_in, t = params.w, params.w_in, False
        if self._pairs is not None:  # mirror-paired sums: plain indexing, any layout
            self._kernel(params.tau, params.bias, params.gain, w, w_in, state.y, state.o, inputs, dt, out,
                         self._first_out, *self._pairs)
            return
        if self._source_major:  # weights in another layout (a lesion's copy) take the target-major loop
            wt, wt_in = w.transpose(0, 2, 1), w_in.transpose(0, 2, 1)
            if wt.flags.c_contiguous and wt_in.flags.c_contiguous:
                w, w_in, t = wt, wt_in, True
        self._kernel(params.tau, params.bias, params.gain, w, w_in,
                     state.y, state.o, inputs, dt, out, self._first_out, t)

    def gene_groups(self) -> tuple[IntArray, ...]:
        """One group per neuron, motor and sensory neurons included (ESP's units): its time
        constant, bias, gain, initial state and *incoming* weights ``w[i, :]`` and ``w_in[i, :]``
        (weights are ``[target, source]``), so a neuron's outgoing weights belong to the neurons
        they feed. No rest group: every gene is some neuron's. A neuron with no genes of its own
        forms no group: under ``symmetric`` a mirrored pair's genes go to its first neuron (one
        group per pair); sensory neurons sharing one tau/bias/gain (``sensor_shared``) leave
        those genes to the first of them."""
        return self.layout.groups({b.name: 0 for b in self.layout.blocks})

    def prepare_initial_population(self, genomes: FloatArray) -> FloatArray:
        """The optimizer's first population, made center-crossing under ``center_crossing_init``."""
        return center_crossing_genomes(self, genomes) if self.spec.center_crossing_init else genomes

    def describe(self, params: CTRNNParams, i: int) -> dict[str, Any]:
        """Parameters of network ``i`` as JSON-ready lists (weights ``[target][source]``)."""
        d = {
            "neurons": list(self.neurons),
            "tau": [float(v) for v in params.tau[i]],
            "bias": [float(v) for v in params.bias[i]],
            "gain": [float(v) for v in params.gain[i]],
            "weights": [[float(v) for v in row] for row in params.w[i]],
            "input_weights": [[float(v) for v in row] for row in params.w_in[i]],
        }
        if self.evolved_init is not None:
            d["initial_state"] = [float(v) for v in params.y0[i]]
        return d

    def trace(self, state: CTRNNState) -> dict[str, FloatArray]:
        """Neuron states ``y`` and outputs ``o``, each (B, N)."""
        return {"y": state.y, "o": state.o}

    def _check_gradient(self, where: str) -> None:
        if self._cc is not None:
            raise ConfigError(f'{where}: gradient training of `{self.name}` needs bias_mode = "evolved" '
                              "(center-crossing biases are functions of the weights, not parameters)")

    def gradient_model(self, where: str) -> GradientModel:
        """BPTT, full or truncated BPTT(window; stride), through the integrator's discrete steps
        (``euler``, ``rk4`` or ``exp_euler``: the gradient of exactly what the episode computes);
        gradients of every parameter: ``tau``, ``bias``, ``gain``, ``w``, ``w_in``, ``y0``. No RTRL."""
        self._check_gradient(where)
        kind = tuple(KERNELS).index(self.spec.integrator)

        def bptt(params: CTRNNParams, inputs: FloatArray, targets: FloatArray, weights: FloatArray,
                 lengths: IntArray, loss: int, window: int, stride: int) -> tuple[float, CTRNNParams]:
            params = _target_major(params)
            grads = CTRNNParams(*(np.zeros_like(p) for p in params))
            total = gradient(kind, *params, inputs, targets, weights, lengths, self.dt, self._first_out, loss,
                              window, stride, *(g[0] for g in grads))
            return float(total), grads

        return GradientModel(bptt, None, self.n_neurons)

    def adjoint_gradient(self, params: CTRNNParams, inputs: FloatArray, targets: FloatArray, weights: FloatArray,
                         lengths: IntArray, loss: int, substeps: int, where: str = "[optimizer]",
                         ) -> tuple[float, CTRNNParams]:
        """Pearlmutter's (1989) continuous-time adjoint (see :func:`evorobot.controllers._ctrnn_gradients.adjoint`): the loss of the
        ODE's solution (each tick of ``self.dt`` solved by ``substeps`` RK4 steps, the input held
        over the tick, the outputs read at the tick's end) and its gradient, of the arguments and
        result of :class:`GradientModel`'s ``bptt``."""
        self._check_gradient(where)
        params = _target_major(params)
        grads = CTRNNParams(*(np.zeros_like(p) for p in params))
        total = adjoint(*params, inputs, targets, weights, lengths, self.dt, self._first_out, loss, int(substeps),
                         *(g[0] for g in grads))
        return float(total), grads


def _paired_biases(w: FloatArray, pairs: IntArray) -> FloatArray:
    """Center-crossing biases ``-sum_j w[..., i, j] / 2`` summed in mirror pairs (``paired_sums``):
    neuron ``m(i)``'s row is neuron ``i``'s permuted by ``m``, so the two get the same bits."""
    total = np.zeros(w.shape[:-1])
    for j, m in pairs:
        total = total + (w[..., j] + w[..., m] if m >= 0 else w[..., j])
    return -0.5 * total


def _batch_minor(a: FloatArray) -> FloatArray:
    """``a`` (B, ...) with the same values, stored as the transpose ``.T`` of a C-contiguous (..., B):
    F-contiguous, a fresh array."""
    return np.array(a, order="F")


def _source_major(a: FloatArray) -> FloatArray:
    """``a`` (B, n, m) with the same values, stored as the transposed view of a C-contiguous (B, m, n)."""
    return np.ascontiguousarray(a.transpose(0, 2, 1)).transpose(0, 2, 1)


def _target_major(params: CTRNNParams) -> CTRNNParams:
    """``params`` with C-contiguous arrays (copies where needed), as the gradient kernels read them."""
    return CTRNNParams(*(np.ascontiguousarray(a) for a in params))


def _check_step(groups: tuple[Group, ...], integrator: str, dt: float, where: str) -> None:
    for g in groups:
        lo = g.tau[0]
        if integrator == "euler" and lo < dt:
            raise ConfigError(
                f"{where}: `{g.tau_key}` minimum {lo} is below dt = {dt}; forward Euler needs tau >= dt "
                f'(use integrator = "exp_euler" or "rk4")'
            )
        if integrator == "rk4" and lo * RK4_STABILITY < dt:
            raise ConfigError(
                f"{where}: `{g.tau_key}` minimum {lo} is below dt / {RK4_STABILITY} = {dt / RK4_STABILITY}; "
                f'RK4 is unstable there (use integrator = "exp_euler" or a smaller dt)'
            )


def center_crossing_genomes(controller: ContinuousNetwork, genomes: npt.ArrayLike) -> FloatArray:
    """``genomes`` with the bias genes set to the center-crossing biases of their own weights.

    The initialisation of ``center_crossing_init``: each neuron with recurrent inputs gets the
    bias ``-sum_j w_ij / 2`` of its decoded weights (clipped to the bias range: the gene must lie
    in [-1, 1]); every other gene is copied bit for bit. Without bias genes (``bias_mode =
    "center_crossing"``), a copy of ``genomes``.

    Parameters
    ----------
    controller : ContinuousNetwork
    genomes : array, shape (P, genome_size)

    Returns
    -------
    FloatArray, shape (P, genome_size)
    """
    g = np.array(genomes, dtype=np.float64)
    if controller._cc is not None:
        return g
    theta = center_crossing_biases(controller.decode(g).w)  # decode's sum order
    return controller.layout.set_block(g, "bias", theta, where=controller.wiring.w.any(axis=1))


class CTRNN(ContinuousNetwork):
    """Beer's batched CTRNN (see the module docstring); ``hidden`` interneurons."""

    name: ClassVar[str] = "ctrnn"
    Spec: ClassVar[type] = CTRNNSpec

    def __init__(
        self, spec: CTRNNSpec, n_inputs: int, n_outputs: int, dt: float, where: str = "[controller]"
    ) -> None:
        self.hidden = int(spec.hidden)
        super().__init__(spec, n_inputs, n_outputs, dt, where)

    def _wiring(self, spec: CTRNNSpec, n_inputs: int, n_outputs: int) -> Wiring:
        h = spec.hidden
        net = (Group("h", h, spec.tau_range, "tau_range", spec.bias_range, spec.gain_range, evolved_init=True),
               Group("m", n_outputs, spec.tau_range, "tau_range", spec.bias_range, spec.gain_range, evolved_init=True))
        w, w_in = connectivity(spec.topology, h, n_outputs, n_inputs)
        if not (spec.sensor_neurons and n_inputs):
            return Wiring(net, w, w_in, False, h)
        # the sensory neurons take the place of the inputs: they feed whatever the inputs fed
        s = Group("s", n_inputs, spec.sensor_tau_range, "sensor_tau_range", spec.sensor_bias_range,
                  spec.sensor_gain_range, shared=spec.sensor_shared, evolved_init=True)
        n = n_inputs + h + n_outputs
        full = np.zeros((n, n), dtype=bool)
        full[n_inputs:, n_inputs:] = w
        full[n_inputs:, :n_inputs] = w_in
        return Wiring((s, *net), full, sensor_inputs(n, 0, n_inputs), True, n_inputs + h)
