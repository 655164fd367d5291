"""Hierarchical continuous-time network (Paine & Tani 2005), batched.

Paine, R. W. & Tani, J. (2005). How hierarchical control self-organizes in artificial adaptive
systems. Adaptive Behavior 13(3), 211-225 (and Paine & Tani 2004, "Evolved motor primitives and
sequences in a hierarchical recurrent neural network", GECCO).

A CTRNN (:mod:`evorobot.controllers.ctrnn`: same equations, same kernels, same options) with two
levels joined through a few bottleneck units:

- the lower level: ``lower`` fully interconnected fast neurons (``lower_tau_range``) that receive
  the inputs (or, with ``sensor_neurons = true``, the outputs of one sensory neuron per input,
  which belong to the lower level) and drive the ``n_outputs`` motor neurons (also lower-level
  time constants; as in the layered CTRNN, motor neurons send to no neuron);
- ``bottleneck`` units (``bottleneck_tau_range``), the only path between the levels: they
  receive from and send to both the lower and the upper neurons;
- the upper level: ``upper`` fully interconnected slow neurons (``upper_tau_range``), with no
  sensory input and no motor output of their own.

Masked connections take no gene. ``initial_state = "evolved"`` evolves the initial states of the
upper level only: in Paine & Tani the initial state of the higher level selects which behaviour
sequence the lower level's primitives are strung into. Neuron order: sensory ``s*``, lower
``l*``, bottleneck ``b*``, upper ``u*``, motor ``m*``.

Gradient training (BPTT through the integrator's steps, and Pearlmutter's continuous adjoint) is
the shell's (:class:`~evorobot.controllers.ctrnn.ContinuousNetwork`): the same kernels, every
parameter class (time constants, biases, gains, weights, evolved initial states).

Adapted: Paine & Tani's robot and task are not reproduced; the sizes and time-constant ranges are
world-file settings, every parameter in a range ``[lo, hi]`` with ``lo < hi`` is evolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from evorobot.controllers.ctrnn import ContinuousNetwork, Group, NetworkSpec, Wiring, group_mask, sensor_inputs
from evorobot.spec import Range, setting

__all__ = ["Hierarchical", "HierarchicalSpec"]


@dataclass(frozen=True)
class HierarchicalSpec(NetworkSpec):
    """Settings of a hierarchical network (the shared ones are ``NetworkSpec``'s)."""

    lower: int = setting(5, ge=1, doc="neurons of the fast lower level")
    bottleneck: int = setting(2, ge=1, doc="bottleneck units joining the levels")
    upper: int = setting(3, ge=1, doc="neurons of the slow upper level")
    lower_tau_range: Range = setting((1.0, 2.0), gt=0.0, doc="time constants of lower, motor and sensory neurons")
    bottleneck_tau_range: Range = setting((1.0, 2.0), gt=0.0, doc="time constants of bottleneck units")
    upper_tau_range: Range = setting((10.0, 50.0), gt=0.0, doc="time constants of upper-level neurons")


class Hierarchical(ContinuousNetwork):
    """Batched two-level network (see the module docstring)."""

    name: ClassVar[str] = "hierarchical"
    Spec: ClassVar[type] = HierarchicalSpec

    def _wiring(self, spec: HierarchicalSpec, n_inputs: int, n_outputs: int) -> Wiring:
        n_s = n_inputs if spec.sensor_neurons else 0
        b, g, low = spec.bias_range, spec.gain_range, spec.lower_tau_range
        groups = (
            Group("s", n_s, low, "lower_tau_range", b, g),
            Group("l", spec.lower, low, "lower_tau_range", b, g),
            Group("b", spec.bottleneck, spec.bottleneck_tau_range, "bottleneck_tau_range", b, g),
            Group("u", spec.upper, spec.upper_tau_range, "upper_tau_range", b, g, evolved_init=True),
            Group("m", n_outputs, low, "lower_tau_range", b, g),
        )
        links = [("l", "s"), ("l", "l"), ("m", "l"), ("b", "l"), ("l", "b"), ("b", "u"), ("u", "b"), ("u", "u")]
        w = group_mask(groups, links)
        n, first_out = w.shape[0], n_s + spec.lower + spec.bottleneck + spec.upper
        if spec.sensor_neurons:
            return Wiring(groups, w, sensor_inputs(n, 0, n_inputs), True, first_out)
        w_in = np.zeros((n, n_inputs), dtype=bool)
        w_in[: spec.lower] = True  # inputs -> lower level
        return Wiring(groups, w, w_in, False, first_out)
