"""Motor kernels: motor-neuron outputs -> body velocities, one numba call per tick for all agents."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from evorobot._types import FloatArray, IntArray


@njit(cache=True)
def horizontal(
    outputs: FloatArray,
    gain: float,
    agent_body: IntArray,
    origin_x: FloatArray,
    x_limit: float,
    dt: float,
    poses: FloatArray,
    velocities: FloatArray,
    failed: np.ndarray,
) -> None:
    """Beer's horizontal motor: ``vx = gain * (o_left - o_right)``, ``vy = 0``.

    The agent's x (relative to its world's origin) is kept within ``±x_limit``: the velocity is
    cut so that the next physics step lands exactly on the limit (Beer clips the position; a
    kinematic body needs the equivalent velocity). A non-finite command marks the agent failed
    and stops it.

    Parameters
    ----------
    outputs : (B, 2) motor-neuron outputs (left, right).
    agent_body : (B,) body rows; origin_x : (B,) world origins; poses : (n_bodies, 3).
    velocities : (n_bodies, 3) vx, vy, angular velocity, written in the agents' rows;
    failed : (B,) bool, set on blow-up.
    """
    for b in range(outputs.shape[0]):
        row = agent_body[b]
        vx = gain * (outputs[b, 0] - outputs[b, 1])
        if not math.isfinite(vx):
            failed[b] = True
            vx = 0.0
        x = poses[row, 0] - origin_x[b]
        nxt = x + vx * dt
        if nxt > x_limit:
            vx = (x_limit - x) / dt
        elif nxt < -x_limit:
            vx = (-x_limit - x) / dt
        velocities[row, 0] = vx
        velocities[row, 1] = 0.0


@njit(cache=True)
def differential(
    outputs: FloatArray,
    max_speed: float,
    wheel_distance: float,
    agent_body: IntArray,
    poses: FloatArray,
    velocities: FloatArray,
    wheels: FloatArray,
    failed: np.ndarray,
) -> None:
    """Differential drive: wheel speeds ``max_speed * (2 o - 1)`` from the outputs (left, right).

    The body moves forward along its heading at ``(v_l + v_r) / 2`` and turns at
    ``(v_r - v_l) / wheel_distance`` (counter-clockwise positive); pymunk's contact solver then
    corrects the velocity of a body that pushes into something. ``wheels`` (B, 2) receives the
    wheel speeds as fractions of ``max_speed`` in [-1, 1] (for fitness terms such as Floreano &
    Mondada's). A non-finite command marks the agent failed and stops it.
    """
    for b in range(outputs.shape[0]):
        row = agent_body[b]
        left = 2.0 * outputs[b, 0] - 1.0
        right = 2.0 * outputs[b, 1] - 1.0
        if not (math.isfinite(left) and math.isfinite(right)):
            failed[b] = True
            left = right = 0.0
        left = min(max(left, -1.0), 1.0)
        right = min(max(right, -1.0), 1.0)
        wheels[b, 0] = left
        wheels[b, 1] = right
        v = 0.5 * max_speed * (left + right)
        heading = poses[row, 2]
        velocities[row, 0] = v * math.cos(heading)
        velocities[row, 1] = v * math.sin(heading)
        velocities[row, 2] = max_speed * (right - left) / wheel_distance
