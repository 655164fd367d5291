"""Shell of the discrete-time network types (fully recurrent, Elman, Jordan, RMLP, NARX).

These networks advance one step per tick and ignore ``dt``: time is counted in ticks, as in the
papers they come from. Hidden units use the ``activation`` setting (``tanh`` or ``sigmoid``); the
output units are logistic sigmoids, so the motor commands lie in [0, 1]. Every weight and bias is
a gene mapped linearly onto ``weight_range`` or ``bias_range`` (:mod:`evorobot.genome`); the
state starts at zero in every trial.

:class:`DiscreteNetwork` builds on :class:`~evorobot.controllers._blockshell.BlockController`
(which lays out, decodes and describes the gene blocks): a type declares its gene blocks (the
fields of its ``Params`` NamedTuple, in order), the widths of its state arrays
(:meth:`DiscreteNetwork._state_sizes`: a ``State`` NamedTuple of ``(B, k)`` arrays, zero at the
start of a trial, which is also what :meth:`~DiscreteNetwork.trace` shows) and ``step``, one call
of its numba kernel for the whole batch. Elman, Jordan and NARX networks share one shape of
parameters, :class:`HiddenOutputParams`.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np

from evorobot._types import FloatArray, IntArray
from evorobot.controllers._blockshell import BlockController
from evorobot.controllers._dense import ACTIVATIONS, BPTT, RTRL
from evorobot.controllers.base import GradientModel
from evorobot.genome import Block
from evorobot.spec import Range, setting

__all__ = ["DiscreteNetwork", "DiscreteSpec", "HiddenOutputParams"]


@dataclass(frozen=True)
class DiscreteSpec:
    """Settings every discrete-time network type shares (``[controller]``, less ``type``)."""

    activation: str = setting("tanh", choices=ACTIVATIONS, doc="activation of the hidden units (outputs: sigmoid)")
    weight_range: Range = setting((-5.0, 5.0), doc="range of connection weights")
    bias_range: Range = setting((-5.0, 5.0), doc="range of biases")


class HiddenOutputParams(NamedTuple):
    """Parameters of B networks made of one hidden layer over two sources and a sigmoid output layer.

    ``h = f(b_h + w_in x + w_rec r)``, ``y = sigmoid(b_o + w_out h)``, where ``x`` is the input (or
    an input delay line) and ``r`` the recurrent source (context units, an output delay line).

    Attributes
    ----------
    w_in : FloatArray, shape (B, H, m)
    w_rec : FloatArray, shape (B, H, k)
    b_h : FloatArray, shape (B, H)
    w_out : FloatArray, shape (B, n_out, H)
    b_o : FloatArray, shape (B, n_out)
    """

    w_in: FloatArray
    w_rec: FloatArray
    b_h: FloatArray
    w_out: FloatArray
    b_o: FloatArray


class DiscreteNetwork(BlockController):
    """Shell of the layered discrete-time types (see the module docstring).

    Parameters
    ----------
    spec : DiscreteSpec
        The type's settings.
    n_inputs, n_outputs : int
        Sizes of the agent's sensor vector and motor vector.
    dt : float
        Simulation step (must be > 0; unused: one network step per tick).
    where : str
        Place of the settings, for error messages.
    """

    State: ClassVar[Any]

    def __init__(self, spec: Any, n_inputs: int, n_outputs: int, dt: float, where: str = "[controller]") -> None:
        super().__init__(spec, n_inputs, n_outputs, dt, where)
        self._act = ACTIVATIONS.index(spec.activation)

    @abstractmethod
    def _state_sizes(self) -> tuple[int, ...]:
        """Width ``k`` of each ``(B, k)`` array of the type's ``State``, in field order."""

    def _weights(self, name: str, n_targets: int, n_sources: int) -> Block:
        """Block of weights ``[target, source]`` in ``weight_range``."""
        return Block(name, (n_targets, n_sources), *self.spec.weight_range)

    def _biases(self, name: str, n: int) -> Block:
        """Block of ``n`` biases in ``bias_range``."""
        return Block(name, (n,), *self.spec.bias_range)

    def _hidden_output_blocks(self, n_x: int, n_r: int, hidden: int) -> list[Block]:
        """The blocks of :class:`HiddenOutputParams` for sources of ``n_x`` and ``n_r`` values."""
        return [self._weights("w_in", hidden, n_x), self._weights("w_rec", hidden, n_r), self._biases("b_h", hidden),
                self._weights("w_out", self.n_outputs, hidden), self._biases("b_o", self.n_outputs)]

    def _hidden_output_groups(self) -> tuple[IntArray, ...]:
        """ESP's units of :class:`HiddenOutputParams`: hidden unit ``i`` holds ``w_in[i, :]``,
        ``w_rec[i, :]``, ``b_h[i]`` and its outgoing weights ``w_out[:, i]``; the output biases
        ``b_o`` are the rest group (Gomez & Miikkulainen 1999)."""
        return self.layout.groups({"w_in": 0, "w_rec": 0, "b_h": 0, "w_out": 1})

    def _gradient_model(self, kernel: Any, units: int, *settings: Any) -> GradientModel:
        """Contract item 14 from a type's gradient ``kernel(*params, inputs, targets, weights,
        lengths, *settings, loss, method, window, stride, *grads)`` (the arrays of one network,
        without the batch axis; it adds the gradients to ``grads`` and returns the summed loss)."""

        def run(method: int, params: Any, inputs: FloatArray, targets: FloatArray, weights: FloatArray,
                lengths: IntArray, loss: int, window: int, stride: int) -> tuple[float, Any]:
            grads = self.Params(*(np.zeros_like(p) for p in params))
            total = kernel(*(p[0] for p in params), inputs, targets, weights, lengths, *settings, loss, method,
                           window, stride, *(g[0] for g in grads))
            return float(total), grads

        def bptt(params: Any, inputs: FloatArray, targets: FloatArray, weights: FloatArray, lengths: IntArray,
                 loss: int, window: int, stride: int) -> tuple[float, Any]:
            return run(BPTT, params, inputs, targets, weights, lengths, loss, window, stride)

        def rtrl(params: Any, inputs: FloatArray, targets: FloatArray, weights: FloatArray, lengths: IntArray,
                 loss: int) -> tuple[float, Any]:
            return run(RTRL, params, inputs, targets, weights, lengths, loss, 0, 0)

        return GradientModel(bptt, rtrl, units)

    def init_state(self, params: Any) -> Any:
        """Fresh all-zero ``State`` for the ``B`` networks of ``params`` (new arrays every call)."""
        batch = params[0].shape[0]
        return self.State(*(np.zeros((batch, k)) for k in self._state_sizes()))

    def trace(self, state: Any) -> dict[str, FloatArray]:
        """Every state array by field name, each (B, k)."""
        return dict(zip(state._fields, state))
