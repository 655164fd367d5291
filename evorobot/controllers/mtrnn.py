"""Multiple-timescale recurrent neural network, MTRNN (Yamashita & Tani 2008), batched.

Yamashita, Y. & Tani, J. (2008). Emergence of functional hierarchy in a multiple timescale neural
network model: a humanoid robot experiment. PLoS Computational Biology 4(11): e1000220.

An MTRNN is a CTRNN (:mod:`evorobot.controllers.ctrnn`: same equations, same kernels, same
options) whose neurons fall into three groups with their own time constants, joined by a
connectivity mask:

- input/output (IO) units, time constant ``io_tau_range`` (default 2). The motor commands are
  read from ``n_outputs`` motor IO units. With ``sensor_neurons = true`` (the default) there is
  also one sensory IO unit per input, driven by its input alone (weight 1, no gene); with
  ``false`` the inputs enter the motor IO units through evolved input weights instead;
- fast context units, ``fast`` of them, time constant ``fast_tau_range`` (default 5);
- slow context units, ``slow`` of them, time constant ``slow_tau_range`` (default 70).

Connections (weights ``[target, source]``, every listed pair complete, self-connections
included within a group): IO -> fast (every IO unit feeds every fast unit), fast -> motor IO,
fast <-> fast, fast <-> slow, slow <-> slow. There are none between IO and slow units, none among
IO units, and sensory IO units receive nothing but their input. Masked weights take no gene.
Neuron order: sensory IO ``s*``, fast ``f*``, slow ``sl*``, motor IO ``m*``.

Time constants are fixed by default, as in Yamashita & Tani; a range ``[lo, hi]`` with ``lo < hi``
makes a group's time constants evolvable. ``initial_state = "evolved"`` evolves the initial states
of the slow units only (in the paper, the slow units' initial states select the behaviour);
every other unit starts at 0.

Gradient training (BPTT through the integrator's steps, and Pearlmutter's continuous adjoint) is
the shell's (:class:`~evorobot.controllers.ctrnn.ContinuousNetwork`): the same kernels, every
parameter class (time constants, biases, gains, weights, evolved initial states).

Relation to the paper's update. The paper's discrete map
``u(t+1) = (1 - 1/tau) u(t) + (1/tau) (sum_j w_ij x_j(t) + b_i)`` with ``x_j = f(u_j)`` is forward
Euler with ``dt = 1`` of ``tau du/dt = -u + sum_j w_ij x_j + b``. Here the bias sits inside the
sigmoid (Beer's convention): with ``u = y + theta`` and ``x = sigma(g u)`` the ``euler`` integrator
at ``dt = 1`` reproduces that map exactly, and any other ``dt`` or integrator solves the same ODE
with time measured in the paper's steps. (The paper's output units use a softmax over a sparse
encoding of the sensorimotor values; here a motor unit's sigmoid output is the command.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from evorobot.controllers.ctrnn import ContinuousNetwork, Group, NetworkSpec, Wiring, group_mask, sensor_inputs
from evorobot.spec import Range, setting

__all__ = ["MTRNN", "MTRNNSpec"]


@dataclass(frozen=True)
class MTRNNSpec(NetworkSpec):
    """Settings of an MTRNN (the shared ones are :class:`~evorobot.controllers.ctrnn.NetworkSpec`'s)."""

    sensor_neurons: bool = setting(True, doc="one sensory IO unit per input (false: inputs enter the motor IO units)")
    fast: int = setting(10, ge=1, doc="number of fast context units")
    slow: int = setting(4, ge=0, doc="number of slow context units")
    io_tau_range: Range = setting((2.0, 2.0), gt=0.0, doc="time constants of IO units (one value: fixed)")
    fast_tau_range: Range = setting((5.0, 5.0), gt=0.0, doc="time constants of fast context units")
    slow_tau_range: Range = setting((70.0, 70.0), gt=0.0, doc="time constants of slow context units")


class MTRNN(ContinuousNetwork):
    """Batched MTRNN controller (see the module docstring)."""

    name: ClassVar[str] = "mtrnn"
    Spec: ClassVar[type] = MTRNNSpec

    def _wiring(self, spec: MTRNNSpec, n_inputs: int, n_outputs: int) -> Wiring:
        n_s = n_inputs if spec.sensor_neurons else 0
        b, g = spec.bias_range, spec.gain_range
        groups = (
            Group("s", n_s, spec.io_tau_range, "io_tau_range", b, g),
            Group("f", spec.fast, spec.fast_tau_range, "fast_tau_range", b, g),
            Group("sl", spec.slow, spec.slow_tau_range, "slow_tau_range", b, g, evolved_init=True),
            Group("m", n_outputs, spec.io_tau_range, "io_tau_range", b, g),
        )
        links = [("f", "s"), ("f", "m"), ("m", "f"), ("f", "f"), ("f", "sl"), ("sl", "f"), ("sl", "sl")]
        w = group_mask(groups, links)
        n, first_out = w.shape[0], n_s + spec.fast + spec.slow
        if spec.sensor_neurons:
            return Wiring(groups, w, sensor_inputs(n, 0, n_inputs), True, first_out)
        w_in = np.zeros((n, n_inputs), dtype=bool)
        w_in[first_out:] = True  # inputs -> motor IO units
        return Wiring(groups, w, w_in, False, first_out)
