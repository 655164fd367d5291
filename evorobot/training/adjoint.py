"""Pearlmutter's continuous-time adjoint for the CTRNN family (``[optimizer] type = "adjoint"``).

Pearlmutter, B.A. (1989). Learning state space trajectories in recurrent neural networks. Neural
Computation 1(2): 263-269.

For a continuous-time network (``ctrnn``, ``mtrnn``, ``hierarchical``: ``tau dy/dt = -y + W o(y)
+ W_in x``), the gradient of the loss of the ODE's exact solution rather than of the integrator's
steps: the state is solved forward with a fine step (each tick of the simulation's ``dt`` by
``substeps`` RK4 steps, the input held over the tick), the costate ``z = dL/dy`` backward
(``dz/dt = -(df/dy)^T z``, jumping by the error of each tick's outputs at the tick's end) on the
same grid, and the gradient is the integral ``dL/dp = int z^T df/dp dt`` (Simpson's rule), with
``dL/dy(0) = z(0)`` (:meth:`evorobot.controllers.ctrnn.ContinuousNetwork.adjoint_gradient`).

Adapted: Pearlmutter's error is an integral over the trajectory ``E = int e(y(t), t) dt``; here
the sequence tasks score the outputs at the end of each tick, so the costate jumps at those times
(the limit of his error concentrated there), and his derivations for ``w``, ``tau`` (his ``T``)
and the bias extend to the gains and the initial states. The trained genome is still replayed by
the controller's own integrator at the simulation's ``dt``, whose loss differs from the ODE's by
O(dt) (``euler``) or O(dt^4) (``rk4``): the adjoint is the gradient of the continuous-time model,
the ``bptt`` trainer that of the discrete one (its gradient converges to the adjoint at first
order as ``dt`` halves under ``euler``: ``tests/test_gradients_ctrnn.py``). Where ``dt`` does not
resolve the network's fastest dynamics (euler at dt = tau_min) the two part entirely: a network
the adjoint trains to an ODE loss of 1e-5 may score an episode loss of 0.27 (Tomita 4,
``examples/ctrnn_gradients.py``); use the adjoint where the episode's integrator resolves the ODE
(a smaller ``dt``, or ``rk4``), and ``bptt`` to train exactly what the episode runs. The epoch loop, loss,
optimizers and projection are :mod:`evorobot.training.gradient`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from evorobot._types import IntArray
from evorobot.controllers.ctrnn import ContinuousNetwork
from evorobot.errors import ConfigError
from evorobot.spec import setting
from evorobot.training.gradient import GradientSpec, GradientTrainer

if TYPE_CHECKING:
    from evorobot.setup import Setup

__all__ = ["Adjoint", "AdjointSpec"]


@dataclass(frozen=True)
class AdjointSpec(GradientSpec):
    """``[optimizer]`` settings of the adjoint (those of :class:`GradientSpec` and the fine step)."""

    substeps: int = setting(16, ge=1, le=4096, doc="RK4 steps per tick for the state and the costate (dt / substeps)")


class Adjoint(GradientTrainer):
    """Gradient descent with Pearlmutter's continuous-time adjoint (see the module docstring)."""

    name: ClassVar[str] = "adjoint"
    Spec: ClassVar[type] = AdjointSpec

    def __init__(self, spec: AdjointSpec, setup: Setup, where: str) -> None:
        controller = setup.controller
        if not isinstance(controller, ContinuousNetwork):
            raise ConfigError(f"{where}: the continuous-time adjoint needs a continuous-time network (ctrnn, mtrnn, "
                              f"hierarchical); controller type `{controller.name}` is discrete (use `bptt`)")
        self.network = controller
        super().__init__(spec, setup, where)
        self.substeps, self.where = spec.substeps, where

    def gradient(self, params: Any, rows: IntArray) -> tuple[float, Any]:
        return self.network.adjoint_gradient(params, self.inputs[rows], self.targets[rows], self.weights[rows],
                                             self.lengths[rows], self.loss_kind, self.substeps, self.where)
