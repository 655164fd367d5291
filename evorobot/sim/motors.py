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


@njit(cache=True, inline="always")
def _off_shape(px: float, py: float, vx: float, vy: float, radius: float, dt: float, reach: float, kind: int,
               cx: float, cy: float, r_s: float, v0: int, n: int, verts: FloatArray) -> tuple[float, float]:
    """``(vx, vy)`` less what would carry a circular robot of ``radius`` at ``(px, py)`` into the
    static shape (circle ``(cx, cy, r_s)``, or polygon/segment ``verts[v0:v0 + n]``) within ``dt``:
    the speed towards the shape's nearest point is cut to the gap left, the rest kept. ``reach``:
    at least how far the robot can get this tick (``radius + |v| dt``); farther shapes are skipped."""
    if kind == 0:  # CIRCLE
        dx, dy = px - cx, py - cy
        dc = math.sqrt(dx * dx + dy * dy)
        if dc - r_s > reach or dc == 0.0:
            return vx, vy  # out of reach this tick, whatever the direction
        nx, ny, gap = dx / dc, dy / dc, dc - r_s - radius
    else:
        xlo = ylo = math.inf
        xhi = yhi = -math.inf
        for k in range(v0, v0 + n):  # the box first: a long wall's bounding circle is always near
            xlo, xhi = min(xlo, verts[k, 0]), max(xhi, verts[k, 0])
            ylo, yhi = min(ylo, verts[k, 1]), max(yhi, verts[k, 1])
        ox, oy = max(xlo - px, px - xhi, 0.0), max(ylo - py, py - yhi, 0.0)
        if ox * ox + oy * oy > reach * reach:
            return vx, vy
        best, qx, qy, inside = math.inf, cx, cy, kind == 1  # POLYGON: counter-clockwise vertices
        n_edges = n if kind == 1 else 1
        for k in range(n_edges):
            j = k + 1 if k + 1 < n else 0
            ax, ay, bx, by = verts[v0 + k, 0], verts[v0 + k, 1], verts[v0 + j, 0], verts[v0 + j, 1]
            if (bx - ax) * (py - ay) - (by - ay) * (px - ax) < 0.0:
                inside = False
            ex, ey = bx - ax, by - ay
            ll = ex * ex + ey * ey
            t = 0.0 if ll == 0.0 else min(max(((px - ax) * ex + (py - ay) * ey) / ll, 0.0), 1.0)
            sx, sy = ax + t * ex, ay + t * ey
            d2 = (px - sx) * (px - sx) + (py - sy) * (py - sy)
            if d2 < best:
                best, qx, qy = d2, sx, sy
        d = math.sqrt(best)
        if inside or d == 0.0:
            return vx, vy  # centre inside the shape: left to the contact solver
        nx, ny, gap = (px - qx) / d, (py - qy) / d, d - radius
    approach = -(vx * nx + vy * ny)  # speed towards the shape
    allowed = max(gap, 0.0) / dt
    if approach > allowed:
        cut = approach - allowed
        vx, vy = vx + cut * nx, vy + cut * ny
    return vx, vy


@njit(cache=True)
def project_off_static(agent_body: IntArray, agent_world: IntArray, radius: float, dt: float, poses: FloatArray,
                       velocities: FloatArray, g_body: IntArray, g_kind: IntArray, g_centre: FloatArray,
                       g_radius: FloatArray, g_vstart: IntArray, g_vcount: IntArray, g_verts: FloatArray,
                       world_start: IntArray, first_static: int) -> None:
    """Cut every robot's commanded velocity so that it cannot enter static geometry this tick
    (``[simulation] project_contacts``): one substep then keeps a robot out of walls and obstacles.

    Each static shape of the robot's world (body row ``>= first_static``: stored in Space
    coordinates) within reach takes away the velocity component towards its nearest point beyond
    the gap left (a robot touching a wall keeps only its motion along the wall: it slides), in the
    order of the shape table. Other robots and moving objects are left to pymunk's solver.
    """
    for b in range(agent_body.shape[0]):
        row = agent_body[b]
        px, py = poses[row, 0], poses[row, 1]
        vx, vy = velocities[row, 0], velocities[row, 1]
        reach = radius + math.sqrt(vx * vx + vy * vy) * dt  # cuts only shorten the velocity
        w = agent_world[b]
        for s in range(world_start[w], world_start[w + 1]):
            if g_body[s] < first_static:
                continue
            vx, vy = _off_shape(px, py, vx, vy, radius, dt, reach, g_kind[s], g_centre[s, 0], g_centre[s, 1], g_radius[s],
                                g_vstart[s], g_vcount[s], g_verts)
        velocities[row, 0], velocities[row, 1] = vx, vy


@njit(cache=True)
def project_one(px: float, py: float, vx: float, vy: float, radius: float, dt: float, g_kind: IntArray,
                g_centre: FloatArray, g_radius: FloatArray, g_vstart: IntArray, g_vcount: IntArray,
                g_verts: FloatArray) -> tuple[float, float]:
    """:func:`project_off_static` for one robot against a table of static shapes (all of them, in
    order): the per-robot call of the naive baseline (:mod:`evorobot.bench.naive_robot`)."""
    reach = radius + math.sqrt(vx * vx + vy * vy) * dt
    for s in range(g_kind.shape[0]):
        vx, vy = _off_shape(px, py, vx, vy, radius, dt, reach, g_kind[s], g_centre[s, 0], g_centre[s, 1], g_radius[s],
                            g_vstart[s], g_vcount[s], g_verts)
    return vx, vy
