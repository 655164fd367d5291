"""The controller contract.

A controller type is a small Python class plus module-private ``@njit(cache=True)`` kernels over
plain arrays (the kernel-and-shell split of QuantEcon). The class validates, lays out genes and
allocates; the kernels trust their inputs and write into caller-supplied ``out`` arrays.

A controller type must provide:

1. ``name``: its registry key, and ``Spec``: a frozen settings dataclass parsed from the world
   file's ``[controller]`` table with :func:`evorobot.spec.parse` (the ``type`` key is the
   registry's).
2. ``__init__(spec, n_inputs, n_outputs, dt, where)``: validate the spec against the agent's sizes
   and the simulation step, raising :class:`~evorobot.errors.ConfigError` with ``where`` in the
   message. (Setups build controllers with :meth:`Controller.for_agent`, which calls it.)
3. ``genome_size``: the number of genes; every gene lies in [-1, 1].
4. ``decode(genomes)``: ``(B, G)`` genes -> parameters (a NamedTuple of batched arrays whose first
   axis is B). Pure numpy; called once per evaluation, never per tick.
5. ``init_state(params)``: fresh state for the B networks (called at the start of every trial:
   nothing may leak from an earlier trial or from another network of the batch).
6. ``step(params, state, inputs, dt, out)``: advance all B networks by one tick, ``inputs`` of shape
   ``(B, n_inputs)``, writing motor commands in [0, 1] to ``out`` of shape ``(B, n_outputs)``.
   One kernel call for the whole batch.
7. ``describe(params, i)``: the decoded parameters of network ``i`` by name (JSON-ready lists), for
   champion files.
8. ``trace(state)``: ``{column prefix: (B, k) array}`` of internal quantities (neuron states,
   outputs) for ``replay --trace`` and the viewer.
9. ``gene_groups()``: the genes of each neuron (the subpopulations of ESP, Gomez & Miikkulainen
   1999), a tuple of gene-index arrays that partitions ``range(genome_size)``, the genes that belong
   to no neuron last, in a group of their own; ``None`` (the default) when the type cannot say.
10. ``prepare_initial_population(genomes)``: the first generation's genomes as the type wants
   them (a CTRNN's center-crossing start); the default returns them unchanged. The runner hands
   the result to :meth:`evorobot.evolution.base.Optimizer.seed_population` when it differs.
11. ``linear_readout(where)``: for a type whose motor commands are ``clip(W phi, 0, 1)``, ``phi``
   features that do not depend on the genes of ``W`` (an echo state network's reservoir states),
   the :class:`LinearReadout` that lets a trainer fit ``W`` in closed form (ridge regression,
   :mod:`evorobot.training.ridge`); the default raises :class:`~evorobot.errors.ConfigError`
   naming ``where``, as does a type whose settings do not allow it.
12. ``offline`` and ``begin_sequences(params, state, inputs, lengths)``: a type whose output at
   tick t may depend on the whole input sequence, later inputs included (a bidirectional network
   in its paper's setting, Schuster & Paliwal 1997), sets ``offline`` true (False by default). It
   runs only on a sequence data-set task whose inputs do not depend on the outputs
   (:func:`evorobot.setup.build` refuses it elsewhere): at the start of every trial the episode
   hands it every trial's whole input sequence ``(B, T, n_inputs)`` (zeros after a trial's end)
   and the trials' lengths ``(B,)``; it returns the state from which ``step`` emits the
   precomputed output of each tick. The default raises :class:`~evorobot.errors.ConfigError`.
13. ``store_pairs(cues, patterns, where)``: for an associative memory (Hopfield 1982; Kosko
   1988), the genome that stores the bipolar pairs ``cues`` (P, n_inputs) -> ``patterns``
   (P, n_outputs) by the Hebbian outer-product rule (:mod:`evorobot.training.hebbian`); the
   default raises :class:`~evorobot.errors.ConfigError` naming ``where``.
14. ``gradient_model(where)``: for a network whose outputs are differentiable functions of its
   decoded parameters, the :class:`GradientModel` that gives a gradient trainer
   (:mod:`evorobot.training.gradient`) the loss of one parameter set on a batch of sequences and
   its exact gradient with respect to every parameter block (BPTT, truncated BPTT, RTRL); the
   default raises :class:`~evorobot.errors.ConfigError` naming ``where``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from evorobot._types import FloatArray, IntArray
from evorobot.errors import ConfigError

if TYPE_CHECKING:
    from evorobot.agent import AgentSpec
    from evorobot.tasks.base import TaskIO


def check_io(name: str, n_inputs: int, n_outputs: int, dt: float, where: str) -> None:
    """Reject impossible agent sizes and time steps for controller type ``name``, naming ``where``."""
    if n_inputs < 0 or n_outputs < 1:
        raise ConfigError(f"{where}: a {name} needs n_inputs >= 0 and n_outputs >= 1, got {n_inputs}, {n_outputs}")
    if not dt > 0:
        raise ConfigError(f"{where}: dt must be > 0, got {dt}")


class LinearReadout(NamedTuple):
    """A readout fitted in closed form (contract item 11): motor command ``k`` is
    ``clip(sum_f W[k, f] phi[f], 0, 1)``.

    Attributes
    ----------
    features : callable
        ``(R, T, n_inputs)`` input sequences -> ``(R, T, F)`` features ``phi`` of R networks driven
        from a fresh state (:meth:`Controller.init_state`) by them, tick by tick, as the episode does.
    lo, hi : FloatArray, shape (n_outputs, F)
        The range of each readout weight.
    encode : callable
        Readout weights ``W`` (n_outputs, F) within ``[lo, hi]`` -> the genome (genome_size,) that
        decodes to them.
    """

    features: Callable[[FloatArray], FloatArray]
    lo: FloatArray
    hi: FloatArray
    encode: Callable[[FloatArray], FloatArray]


class GradientModel(NamedTuple):
    """Loss gradients of a network on sequences (contract item 14).

    ``bptt(params, inputs, targets, weights, lengths, loss, window, stride)`` and
    ``rtrl(params, inputs, targets, weights, lengths, loss)`` run ONE network (``params`` decoded
    from one genome: every array has a leading axis of 1) from a fresh state over each of R
    sequences, ``inputs`` (R, T, n_inputs), ``targets`` (R, T, n_outputs), score ``weights`` (R, T),
    ``lengths`` (R,), as the episode does, and return the summed loss ``sum_r sum_t w[r, t]
    l(o, y)`` (``loss`` an index of :data:`evorobot.controllers._dense.LOSSES`) and its gradient, a
    ``Params`` of the same shapes as ``params``. ``bptt`` truncates to BPTT(window; stride)
    (Williams & Peng 1990) where ``window`` or ``stride`` is shorter than a sequence. ``rtrl`` is
    None for a type without it; ``units`` is the number of recurrent units (RTRL costs
    O(units^2 x parameters) per tick).
    """

    bptt: Callable[..., tuple[float, Any]]
    rtrl: Callable[..., tuple[float, Any]] | None
    units: int


class Controller(ABC):
    """Abstract base of every controller type (see the module docstring for the contract)."""

    name: ClassVar[str]
    Spec: ClassVar[type]

    n_inputs: int
    n_outputs: int
    genome_size: int
    offline: bool = False
    """Whether the outputs depend on whole input sequences (item 12): set per instance by the type."""

    @classmethod
    def for_agent(cls, spec: Any, agent: AgentSpec | TaskIO, dt: float, where: str) -> Controller:
        """Build for ``agent`` (a body, or a dynamics task's inputs and outputs): by default from its
        input and output counts alone. A type that needs to know what its inputs are (a hand-wired
        vehicle) reads ``agent.input_layout()``."""
        return cls(spec, agent.n_inputs, agent.n_outputs, dt, where)  # type: ignore[call-arg]

    @abstractmethod
    def decode(self, genomes: FloatArray) -> Any:
        """Map ``(B, G)`` genes in [-1, 1] to batched parameters."""

    @abstractmethod
    def init_state(self, params: Any) -> Any:
        """Return a fresh state for the ``B`` networks described by ``params``."""

    @abstractmethod
    def step(self, params: Any, state: Any, inputs: FloatArray, dt: float, out: FloatArray) -> None:
        """Advance every network one tick; write motor commands into ``out``."""

    @abstractmethod
    def describe(self, params: Any, i: int) -> dict[str, Any]:
        """Decoded parameters of network ``i`` by name, as JSON-ready nested lists."""

    @abstractmethod
    def trace(self, state: Any) -> dict[str, FloatArray]:
        """Internal quantities to record per tick, each of shape ``(B, k)``."""

    def gene_groups(self) -> tuple[IntArray, ...] | None:
        """Gene indices of each neuron, then of the genes of no neuron (see the module
        docstring, item 9); None when the type does not declare them."""
        return None

    def prepare_initial_population(self, genomes: FloatArray) -> FloatArray:
        """The optimizer's first genomes ``(P, genome_size)`` as this type starts them (item 10)."""
        return genomes

    def begin_sequences(self, params: Any, state: Any, inputs: FloatArray, lengths: IntArray) -> Any:
        """The state for a trial of which every input is known (item 12): ``inputs`` (B, T,
        n_inputs), ``lengths`` (B,); called by the episode at the start of the trial, after
        :meth:`init_state`, only when :attr:`offline` is true. The default raises ConfigError."""
        raise ConfigError(f"controller type `{self.name}` does not read whole sequences (it is not offline)")

    def store_pairs(self, cues: FloatArray, patterns: FloatArray, where: str) -> FloatArray:
        """The genome storing bipolar pairs ``cues`` (P, n_inputs) -> ``patterns`` (P, n_outputs)
        by the Hebbian rule (item 13); ConfigError naming ``where`` when the type is no
        associative memory (the default)."""
        raise ConfigError(f"{where}: controller type `{self.name}` has no Hebbian storage "
                          "(use `hopfield` or `bam`)")

    def gradient_model(self, where: str) -> GradientModel:
        """The loss gradients of this type on sequences (item 14); ConfigError naming ``where``
        when it has none (the default)."""
        raise ConfigError(f"{where}: controller type `{self.name}` has no gradient kernels "
                          "(gradient training supports elman, fully_recurrent, jordan, narx, lstm, cascaded, brnn "
                          "in offline mode, and the ctrnn family)")

    def linear_readout(self, where: str) -> LinearReadout:
        """The closed-form-fittable readout of this type (item 11); ConfigError naming ``where``
        when it has none (the default)."""
        raise ConfigError(f"{where}: controller type `{self.name}` has no linear readout over gene-independent "
                          "features to fit in closed form (use an `esn` with evolve = \"readout\")")
