"""Back-propagation through time, full or truncated (``[optimizer] type = "bptt"``).

Werbos, P.J. (1990). Backpropagation through time: what it does and how to do it. Proceedings of
the IEEE 78(10): 1550-1560. Rumelhart, D.E., Hinton, G.E. & Williams, R.J. (1986). Learning
representations by back-propagating errors. Nature 323: 533-536. Williams, R.J. & Peng, J.
(1990). An efficient gradient-based algorithm for on-line training of recurrent network
trajectories. Neural Computation 2(4): 490-501 (BPTT(h; h')).

The network is unrolled over each training sequence from a fresh state (as the episode runs
it) and the loss's gradient carried back through every tick (``truncation = 0``), or truncated:
with ``truncation = h > 0`` and ``stride = h'`` (0: ``h' = h``), the errors of each block of h'
ticks are carried back h ticks from the block's last tick (Williams & Peng's BPTT(h; h'); h' = 1
is their on-line case, h = h' the common "truncated BPTT"; h >= the sequence's length is full
BPTT). Adapted: Williams & Peng change the weights after every block of h' ticks; here the
gradients of every block of every sequence of a mini-batch are summed before one step, so that a
window as long as the sequence gives exactly full BPTT. The backward kernels sit next to the
networks' forward kernels (contract item 14, :mod:`evorobot.controllers._dense`); the epoch loop,
loss, optimizers and projection onto the gene ranges are :mod:`evorobot.training.gradient`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from evorobot._types import IntArray
from evorobot.errors import ConfigError
from evorobot.spec import setting
from evorobot.training.gradient import GradientSpec, GradientTrainer

if TYPE_CHECKING:
    from evorobot.setup import Setup

__all__ = ["BPTT", "BPTTSpec"]


@dataclass(frozen=True)
class BPTTSpec(GradientSpec):
    """``[optimizer]`` settings of BPTT (those of :class:`GradientSpec` and the truncation)."""

    truncation: int = setting(0, ge=0, doc="ticks h the errors are carried back (0: the whole sequence, full BPTT)")
    stride: int = setting(0, ge=0, doc="ticks h' between truncated backward passes (0: h' = h); needs h' <= h")

    def validate(self, where: str) -> None:
        if self.truncation == 0 and self.stride:
            raise ConfigError(f"{where}: stride = {self.stride} needs truncation > 0 (full BPTT has no stride)")
        if self.stride > self.truncation:
            raise ConfigError(f"{where}: stride = {self.stride} > truncation = {self.truncation}: "
                              "errors of a block's first ticks would not be carried back at all")


class BPTT(GradientTrainer):
    """Gradient descent with BPTT gradients (see the module docstring)."""

    name: ClassVar[str] = "bptt"
    Spec: ClassVar[type] = BPTTSpec

    def __init__(self, spec: BPTTSpec, setup: Setup, where: str) -> None:
        super().__init__(spec, setup, where)
        full = int(self.inputs.shape[1])
        self.window = spec.truncation or full
        self.stride = spec.stride or self.window

    def gradient(self, params: Any, rows: IntArray) -> tuple[float, Any]:
        return self.model.bptt(params, self.inputs[rows], self.targets[rows], self.weights[rows], self.lengths[rows],
                               self.loss_kind, self.window, self.stride)
