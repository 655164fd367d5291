"""Real-time recurrent learning (``[optimizer] type = "rtrl"``).

Williams, R.J. & Zipser, D. (1989). A learning algorithm for continually running fully recurrent
neural networks. Neural Computation 1(2): 270-280.

The sensitivities ``p^k_ij(t) = dy_k(t) / dw_ij`` of every recurrent unit to every parameter of
the recurrent layer are carried forward with the network (here as the net inputs' sensitivities,
``q(t) = D(t) + W diag(f'(t - 1)) q(t - 1)``, :func:`evorobot.controllers._dense.recurrent_rtrl`),
so the gradient is known at every tick without storing the past: O(n^2 P) = O(n^4) operations per
tick and O(n P) = O(n^3) memory for n recurrent units and P ~ n^2 parameters. Networks of more
than :data:`MAX_UNITS` recurrent units are refused (64 units: ~1.7e7 multiply-adds per tick,
already ~50x BPTT's cost; use ``bptt``).

For the ``fully_recurrent`` network (the paper's) and the ``elman`` network (through its context
units; the output layer's gradient is direct). Adapted: the paper changes the weights at every
tick (the on-line, "real-time" form); here the gradient of every tick of every sequence of a
mini-batch is summed before one step, which makes it exactly BPTT's gradient (the tests check it
to 1e-10), and the epoch loop, loss, optimizers and projection onto the gene ranges are
:mod:`evorobot.training.gradient`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from evorobot._types import IntArray
from evorobot.errors import ConfigError
from evorobot.training.gradient import GradientSpec, GradientTrainer

if TYPE_CHECKING:
    from evorobot.setup import Setup

__all__ = ["MAX_UNITS", "RTRL", "RTRLSpec"]

MAX_UNITS = 64
"""Most recurrent units RTRL accepts (its cost is O(units^4) per tick)."""


@dataclass(frozen=True)
class RTRLSpec(GradientSpec):
    """``[optimizer]`` settings of RTRL (those of :class:`GradientSpec`)."""


class RTRL(GradientTrainer):
    """Gradient descent with RTRL gradients (see the module docstring)."""

    name: ClassVar[str] = "rtrl"
    Spec: ClassVar[type] = RTRLSpec

    def __init__(self, spec: RTRLSpec, setup: Setup, where: str) -> None:
        super().__init__(spec, setup, where)
        if self.model.rtrl is None:
            raise ConfigError(f"{where}: controller type `{setup.controller.name}` has no RTRL (use `bptt`)")
        if self.model.units > MAX_UNITS:
            raise ConfigError(f"{where}: RTRL costs O(units^4) per tick; {self.model.units} recurrent units > "
                              f"{MAX_UNITS} (use `bptt`)")

    def gradient(self, params: Any, rows: IntArray) -> tuple[float, Any]:
        assert self.model.rtrl is not None
        return self.model.rtrl(params, self.inputs[rows], self.targets[rows], self.weights[rows], self.lengths[rows],
                               self.loss_kind)
