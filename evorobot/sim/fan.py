"""Beer's eye against a falling circle, vectorised across agents; everything else as the generic kernel.

In the minimal-cognition tasks (Beer 1996, 2003: categorical perception, circle vs line, size
categorisation ...) many trial worlds hold one agent and one circle. :func:`evorobot.sim.rays.trace`
tests an agent's rays one after the other, with branches; :class:`CircleFanEye` tests the rays of
all those agents at once: per tick it places the shapes (:func:`evorobot.sim.rays.place`, as the
generic kernel does), gathers each such agent's pose and its circle into arrays, and then, ray by
ray, one branch-free loop over the agents computes :func:`evorobot.sim.rays._circle_hit` (and
``_circle_exit`` for the far-side reading) and selects the result the generic kernel's branches
would pick. Each SIMD lane is one agent doing the generic arithmetic in the generic order, so the
distances are the same bits (tests/test_fan.py). Every other agent (a diamond, a line, several
objects) runs the generic per-agent loop, :func:`~evorobot.sim.rays.cast_agents` (with its
edge test setting) in the same kernel call.

Measured, not assumed: the same branch-free test for polygons (every edge of every ray, selected)
was slower than the generic kernel's rejections, so vertex shapes stay generic; and a loop written
``for i in range(g0, g1)`` was not vectorised (numba cannot rule out a negative index there), so
every vectorised loop runs from 0 over arrays of its own.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from evorobot._types import FloatArray, IntArray
from evorobot.sim.rays import cast_agents, place, ray_directions
from evorobot.sim.world import CIRCLE, Geometry


def circle_agents(geometry: Geometry, agent_body: IntArray, agent_world: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """``(agents, their circle shapes, every other agent)``: the agents alone in a world with exactly
    one shape not on their body, that shape a circle; and the rest."""
    g = geometry
    alone = np.bincount(agent_world, minlength=len(g.world_start) - 1)[agent_world] == 1
    fan, circles, rest = [], [], []
    for b in range(agent_body.shape[0]):
        w = int(agent_world[b])
        others = [s for s in range(int(g.world_start[w]), int(g.world_start[w + 1])) if g.body[s] != agent_body[b]]
        if alone[b] and len(others) == 1 and g.kind[others[0]] == CIRCLE:
            fan.append(b)
            circles.append(others[0])
        else:
            rest.append(b)
    as_int = lambda v: np.array(v, dtype=np.int64)  # noqa: E731
    return as_int(fan), as_int(circles), as_int(rest)


@njit(cache=True, error_model="numpy")
def _kernel(poses: FloatArray, g_body: IntArray, g_kind: IntArray, g_centre: FloatArray, g_radius: FloatArray,
            g_vstart: IntArray, g_vcount: IntArray, g_verts: FloatArray, g_visible: np.ndarray, wc: FloatArray,
            wv: FloatArray, box: FloatArray, world_start: IntArray, agent_body: IntArray, agent_world: IntArray,
            fan: IntArray, circle: IntArray, rest: IntArray, ca: FloatArray, sa: FloatArray, start: float,
            rng: float, gain: float, far: bool, midpoint: bool | None, dist: FloatArray, out: FloatArray, px: FloatArray, py: FloatArray,
            hc: FloatArray, hs: FloatArray, cx: FloatArray, cy: FloatArray, rs: FloatArray, vis: FloatArray,
            dT: FloatArray, oT: FloatArray) -> None:
    place(poses, g_body, g_kind, g_centre, g_vstart, g_vcount, g_verts, wc, wv, box)
    n_rays = ca.shape[0]
    for i in range(fan.shape[0]):  # gather the circle agents
        me, s = agent_body[fan[i]], circle[i]
        px[i], py[i] = poses[me, 0], poses[me, 1]
        heading = poses[me, 2]
        hc[i], hs[i] = (math.cos(heading), math.sin(heading)) if heading != 0.0 else (1.0, 0.0)
        cx[i], cy[i], rs[i] = wc[s, 0], wc[s, 1], g_radius[s]
        vis[i] = 1.0 if g_visible[s] else 0.0
    for r in range(n_rays):
        car, sar = ca[r], sa[r]
        dr, orow = dT[r], oT[r]
        for i in range(px.shape[0]):  # rays.aim, then _circle_hit (and _circle_exit with far), branch-free
            u = hc[i] * car - hs[i] * sar
            v = hs[i] * car + hc[i] * sar
            fx, fy = (px[i] + start * u) - cx[i], (py[i] + start * v) - cy[i]
            c = fx * fx + fy * fy - rs[i] * rs[i]
            bb = fx * u + fy * v
            disc = bb * bb - c
            root = math.sqrt(max(disc, 0.0))
            t = -bb - root
            t = math.inf if (bb > 0.0) | (disc < 0.0) else t
            t = 0.0 if c <= 0.0 else t
            t = (-bb + root) if far & (t == 0.0) else t
            d = t if (t < rng) & (vis[i] > 0.0) else rng
            dr[i] = d
            orow[i] = gain * (rng - d) / rng
    for i in range(fan.shape[0]):  # scatter back to the agents' rows
        b = fan[i]
        for r in range(n_rays):
            dist[b, r] = dT[r, i]
            out[b, r] = oT[r, i]
    cast_agents(rest, poses, g_body, g_kind, g_radius, g_vstart, g_vcount, g_visible, wc, wv, box, world_start,
                agent_body, agent_world, ca, sa, start, rng, gain, dist, out, far, midpoint)


class CircleFanEye:
    """The eye of every agent, ``eye(poses, dist, out)`` filling the (B, R) distances and inputs as
    :class:`evorobot.sim.rays.EyeCaster` does, bit for bit, in one kernel call; the agents alone
    with one circle vectorised. :meth:`build` returns None when no agent is."""

    def __init__(self, geometry: Geometry, agent_body: IntArray, agent_world: IntArray,
                 groups: tuple[IntArray, IntArray, IntArray], angles: FloatArray, start: float, max_range: float,
                 gain: float, directions: tuple[FloatArray, FloatArray] | None, far_side: bool,
                 midpoint_edges: bool) -> None:
        g = geometry
        fan, circle, rest = groups
        ca, sa = directions if directions is not None else ray_directions(angles)
        n, n_rays = fan.shape[0], len(angles)
        self._args = (g.body, g.kind, g.centre, g.radius, g.vert_start, g.vert_count, g.verts, g.visible,
                      g.placed_centre, g.placed_verts, g.placed_box, g.world_start, agent_body, agent_world,
                      fan, circle, rest, np.ascontiguousarray(ca, dtype=np.float64),
                      np.ascontiguousarray(sa, dtype=np.float64), float(start), float(max_range), float(gain),
                      bool(far_side), True if midpoint_edges else None)
        # separate arrays per lane quantity (rows of one array would be fine too; kept simple)
        self._scratch = tuple(np.zeros(n) for _ in range(8)) + (np.zeros((n_rays, n)), np.zeros((n_rays, n)))

    @classmethod
    def build(cls, geometry: Geometry, agent_body: IntArray, agent_world: IntArray, angles: FloatArray,
              start: float, max_range: float, gain: float, directions: tuple[FloatArray, FloatArray] | None = None,
              far_side: bool = False, midpoint_edges: bool = False) -> CircleFanEye | None:
        groups = circle_agents(geometry, agent_body, agent_world)
        if groups[0].shape[0] == 0:
            return None
        return cls(geometry, agent_body, agent_world, groups, angles, start, max_range, gain, directions, far_side,
                   midpoint_edges)

    def __call__(self, poses: FloatArray, dist: FloatArray, out: FloatArray) -> None:
        _kernel(poses, *self._args, dist, out, *self._scratch)
