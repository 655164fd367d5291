"""Ray casting against the mirrored shape table, in numba: one call per tick for all agents.

A ray leaves the agent's perimeter (``start`` from its centre) at ``heading + angle`` and
returns the distance ``d`` along the ray to the first visible shape of the agent's own world
(``max_range`` when nothing is hit), ignoring the agent's own shapes. The sensor value is Beer's
(1996, 2003) linear proximity ``gain * (max_range - d) / max_range``.

Shapes are circles, convex polygons and zero-thickness segments (:mod:`evorobot.sim.world`).
A ray that starts inside a circle or polygon reads distance 0, or with ``far=True`` (the eye's
``inside = "far_side"``) the distance along the ray to where it leaves the shape (a segment has no
inside). Agreement with pymunk's own
``Space.segment_query_first`` is tested on random scenes.

Edges of polygons and segments are tested from their first vertex (:func:`_edge_hit`, as every
champion was run) or, with ``midpoint`` (``[agent.eye] midpoint_edges``, issue 21), from their
midpoint (:func:`_edge_hit_mid`), whose arithmetic is exactly mirror-invariant: the mirror image
``x -> -x`` of an edge ``a -> q`` is the edge ``M(q) -> M(a)`` of the mirrored (counter-clockwise)
polygon, and the midpoint form computes the same distance, bit for bit, from either.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from evorobot._types import FloatArray, IntArray
from evorobot.sim.world import CIRCLE, POLYGON, Geometry


@njit(cache=True, inline="always")
def _cross(ax: float, ay: float, bx: float, by: float) -> float:
    return ax * by - ay * bx


@njit(cache=True, inline="always")
def _circle_hit(ox: float, oy: float, ux: float, uy: float, cx: float, cy: float, r: float) -> float:
    """Distance along the unit ray to a circle, ``inf`` if missed, 0 from inside."""
    fx, fy = ox - cx, oy - cy
    c = fx * fx + fy * fy - r * r
    if c <= 0.0:
        return 0.0
    b = fx * ux + fy * uy
    if b > 0.0:
        return math.inf
    disc = b * b - c
    if disc < 0.0:
        return math.inf
    return -b - math.sqrt(disc)


@njit(cache=True, inline="always")
def _circle_exit(ox: float, oy: float, ux: float, uy: float, cx: float, cy: float, r: float) -> float:
    """Distance along the unit ray from a point inside a circle to where it leaves it."""
    fx, fy = ox - cx, oy - cy
    b = fx * ux + fy * uy
    return -b + math.sqrt(max(b * b - (fx * fx + fy * fy - r * r), 0.0))


@njit(cache=True, inline="always")
def _edge_hit(ox: float, oy: float, ux: float, uy: float, ax: float, ay: float, bx: float, by: float) -> float:
    ex, ey = bx - ax, by - ay
    den = _cross(ux, uy, ex, ey)
    if den == 0.0:
        return math.inf
    wx, wy = ax - ox, ay - oy
    s = _cross(wx, wy, ux, uy) / den
    if s < 0.0 or s > 1.0:  # misses the edge: no need for the second division
        return math.inf
    t = _cross(wx, wy, ex, ey) / den
    if t < 0.0:
        return math.inf
    return t


@njit(cache=True, inline="always")
def _edge_hit_mid(ox: float, oy: float, ux: float, uy: float, ax: float, ay: float, bx: float,
                  by: float) -> float:
    """:func:`_edge_hit` in midpoint form, exact under the mirror ``M: x -> -x``.

    With ``m = (a + b) / 2``, ``e = b - a`` and ``p = m - o``: the ray ``o + t u`` meets the line
    ``m + s e`` at ``s = cross(p, u) / cross(u, e)`` (the edge is ``|s| <= 1/2``) and
    ``t = cross(p, e) / cross(u, e)``. The mirrored ray ``(M o, M u)`` against the mirrored edge
    traversed ``M(b) -> M(a)`` computes ``m' = M m``, ``e' = -M e``, ``p' = M p`` exactly (IEEE
    negation and sums commute), so ``cross(u', e') = cross(u, e)``, ``cross(p', e') = cross(p, e)``
    and ``cross(p', u') = -cross(p, u)``, bit for bit: the same ``t`` and ``s' = -s``.
    """
    mx, my = (ax + bx) * 0.5, (ay + by) * 0.5
    ex, ey = bx - ax, by - ay
    den = _cross(ux, uy, ex, ey)
    if den == 0.0:
        return math.inf
    px, py = mx - ox, my - oy
    s = _cross(px, py, ux, uy) / den
    if s < -0.5 or s > 0.5:
        return math.inf
    t = _cross(px, py, ex, ey) / den
    if t < 0.0:
        return math.inf
    return t


@njit(cache=True, inline="always")
def aim(px: float, py: float, hc: float, hs: float, ca: FloatArray, sa: FloatArray, start: float, max_range: float,
        ux: FloatArray, uy: FloatArray, ox: FloatArray, oy: FloatArray, dist: FloatArray) -> None:
    """Point a fan of rays for :func:`trace`: directions ``(ca, sa)`` (cosines and sines relative to
    the heading) turned by the heading ``(hc, hs)``, origins ``start`` from ``(px, py)`` along
    them, lengths ``max_range``."""
    for r in range(dist.shape[0]):
        ux[r] = hc * ca[r] - hs * sa[r]
        uy[r] = hs * ca[r] + hc * sa[r]
        ox[r] = px + start * ux[r]
        oy[r] = py + start * uy[r]
        dist[r] = max_range


@njit(cache=True)
def place(poses: FloatArray, g_body: IntArray, g_kind: IntArray, g_centre: FloatArray, g_vstart: IntArray,
          g_vcount: IntArray, g_verts: FloatArray, wc: FloatArray, wv: FloatArray, box: FloatArray) -> None:
    """Every shape in world coordinates for this tick, once for all the rays that test it: its
    centre ``wc`` (S, 2), the vertices of polygons and segments ``wv`` (V, 2, rows as in ``g_verts``)
    and their bounding box ``box`` (S, 4: x low, x high, y low, y high)."""
    for s in range(g_body.shape[0]):
        body = g_body[s]
        bx, by, angle = poses[body, 0], poses[body, 1], poses[body, 2]
        co, si = (math.cos(angle), math.sin(angle)) if angle != 0.0 else (1.0, 0.0)  # static: no trig
        wc[s, 0] = bx + co * g_centre[s, 0] - si * g_centre[s, 1]
        wc[s, 1] = by + si * g_centre[s, 0] + co * g_centre[s, 1]
        if g_kind[s] == CIRCLE:
            continue
        v0, n = g_vstart[s], g_vcount[s]
        if bx == 0.0 and by == 0.0 and angle == 0.0:  # static geometry is stored in world coordinates
            for k in range(v0, v0 + n):
                wv[k, 0], wv[k, 1] = g_verts[k, 0], g_verts[k, 1]
        else:
            for k in range(v0, v0 + n):
                wv[k, 0] = bx + co * g_verts[k, 0] - si * g_verts[k, 1]
                wv[k, 1] = by + si * g_verts[k, 0] + co * g_verts[k, 1]
        xlo = ylo = math.inf
        xhi = yhi = -math.inf
        for k in range(v0, v0 + n):  # bounding box: cheap rejection for long walls
            xlo, xhi = min(xlo, wv[k, 0]), max(xhi, wv[k, 0])
            ylo, yhi = min(ylo, wv[k, 1]), max(yhi, wv[k, 1])
        box[s, 0], box[s, 1], box[s, 2], box[s, 3] = xlo, xhi, ylo, yhi


def place_geometry(poses: FloatArray, g: Geometry) -> None:
    """:func:`place` every shape of ``g`` into its scratch arrays (``placed_*``)."""
    place(poses, g.body, g.kind, g.centre, g.vert_start, g.vert_count, g.verts,
          g.placed_centre, g.placed_verts, g.placed_box)


@njit(cache=True, inline="always")
def trace(
    g_body: IntArray,
    g_kind: IntArray,
    g_radius: FloatArray,
    g_vstart: IntArray,
    g_vcount: IntArray,
    g_visible: np.ndarray,
    wc: FloatArray,
    wv: FloatArray,
    box: FloatArray,
    first: int,
    last: int,
    me: int,
    ox: FloatArray,
    oy: FloatArray,
    ux: FloatArray,
    uy: FloatArray,
    dist: FloatArray,
    hit: IntArray | None,
    far: bool,
    midpoint: bool | None = None,
) -> None:
    """Lower ``dist[r]`` to the distance of ray ``r``'s first hit among shapes ``first:last``.

    Ray ``r`` leaves ``(ox[r], oy[r])`` along the unit vector ``(ux[r], uy[r])``; ``dist[r]``
    holds its maximum length on entry. Shapes of body ``me`` and invisible shapes are skipped.
    ``wc``, ``wv``, ``box``: the shapes placed in world coordinates this tick (:func:`place`).
    ``hit`` is either None (distances
    only: numba compiles that version without the bookkeeping, so Beer's eye and the IR pay
    nothing for it) or ``(n_rays, 2)``: each hit lowering ``dist[r]`` writes the shape's
    index and the edge it crossed (edge ``k`` runs from vertex ``k`` to ``k + 1``; -1 for a circle
    or a ray starting inside the shape) into ``hit[r]`` (left as given when nothing is hit).
    ``far``: a ray starting inside a circle or polygon reads the distance to where it leaves it
    (the edge it leaves through for a polygon) instead of 0.

    The circle and the vertex shapes have a ray loop each (one branch per shape, not per ray):
    with the polygon code in the same loop the circle test ran at half its speed (measured).

    ``midpoint`` not None: the midpoint edge test (:func:`_edge_hit_mid`, ``[agent.eye] midpoint_edges``:
    the hit and the inside test exactly mirror-invariant); None (the default) compiles the first-vertex
    test alone (numba prunes the other branch: the default pays nothing).
    """
    n_rays = dist.shape[0]
    for s in range(first, last):
        if g_body[s] == me or not g_visible[s]:
            continue
        cx, cy, rs = wc[s, 0], wc[s, 1], g_radius[s]
        kind = g_kind[s]
        if kind == CIRCLE:
            for r in range(n_rays):
                t = _circle_hit(ox[r], oy[r], ux[r], uy[r], cx, cy, rs)
                if t >= dist[r]:
                    continue  # missed, or something nearer is already hit
                if far and t == 0.0:
                    t = _circle_exit(ox[r], oy[r], ux[r], uy[r], cx, cy, rs)
                    if t >= dist[r]:
                        continue
                dist[r] = t
                if hit is not None:
                    hit[r, 0], hit[r, 1] = s, -1
            continue
        v0, n = g_vstart[s], g_vcount[s]
        n_edges = n if kind == POLYGON else 1
        xlo, xhi, ylo, yhi = box[s, 0], box[s, 1], box[s, 2], box[s, 3]
        for r in range(n_rays):
            # two rejections (order-free, they only skip): the cheaper first
            ex, ey = ox[r] + dist[r] * ux[r], oy[r] + dist[r] * uy[r]
            if min(ox[r], ex) > xhi or max(ox[r], ex) < xlo or min(oy[r], ey) > yhi or max(oy[r], ey) < ylo:
                continue  # the ray's box misses the shape's box
            if _circle_hit(ox[r], oy[r], ux[r], uy[r], cx, cy, rs) >= dist[r]:
                continue  # missed the bounding circle, or something nearer is already hit
            inside = kind == POLYGON
            t = math.inf
            edge = -1
            for k in range(n_edges):
                j = k + 1 if k + 1 < n else 0
                ax, ay, qx, qy = wv[v0 + k, 0], wv[v0 + k, 1], wv[v0 + j, 0], wv[v0 + j, 1]
                if midpoint is None:
                    if _cross(qx - ax, qy - ay, ox[r] - ax, oy[r] - ay) < 0.0:
                        inside = False  # origin right of a counter-clockwise edge
                    te = _edge_hit(ox[r], oy[r], ux[r], uy[r], ax, ay, qx, qy)
                else:  # the same tests from the edge's midpoint (exactly mirror-invariant)
                    if _cross(qx - ax, qy - ay, ox[r] - (ax + qx) * 0.5, oy[r] - (ay + qy) * 0.5) < 0.0:
                        inside = False
                    te = _edge_hit_mid(ox[r], oy[r], ux[r], uy[r], ax, ay, qx, qy)
                if te < t:
                    t = te
                    edge = k
            if inside and not far:
                t = 0.0
                edge = -1
            if t < dist[r]:
                dist[r] = t
                if hit is not None:
                    hit[r, 0], hit[r, 1] = s, edge


@njit(cache=True)
def cast_agents(agents: IntArray, poses: FloatArray, g_body: IntArray, g_kind: IntArray, g_radius: FloatArray,
                g_vstart: IntArray, g_vcount: IntArray, g_visible: np.ndarray, wc: FloatArray, wv: FloatArray,
                box: FloatArray, world_start: IntArray, agent_body: IntArray, agent_world: IntArray,
                ca: FloatArray, sa: FloatArray, start: float, max_range: float, gain: float, dist: FloatArray,
                out: FloatArray, far: bool, midpoint: bool | None) -> None:
    """The eye of the agents ``agents`` (indices into the batch), the shapes already placed this tick
    (:func:`place`): :func:`aim` and :func:`trace` per agent, then the inputs."""
    n_rays = dist.shape[1]
    ux, uy = np.empty(n_rays), np.empty(n_rays)
    ox, oy = np.empty(n_rays), np.empty(n_rays)
    for b in agents:
        me = agent_body[b]
        heading = poses[me, 2]
        hc, hs = (math.cos(heading), math.sin(heading)) if heading != 0.0 else (1.0, 0.0)  # exact: cos 0, sin 0
        aim(poses[me, 0], poses[me, 1], hc, hs, ca, sa, start, max_range, ux, uy, ox, oy, dist[b])
        w = agent_world[b]
        trace(g_body, g_kind, g_radius, g_vstart, g_vcount, g_visible, wc, wv, box,
              world_start[w], world_start[w + 1], me, ox, oy, ux, uy, dist[b], None, far, midpoint)
        for r in range(n_rays):
            out[b, r] = gain * (max_range - dist[b, r]) / max_range


@njit(cache=True)
def _kernel(poses: FloatArray, g_body: IntArray, g_kind: IntArray, g_centre: FloatArray, g_radius: FloatArray,
            g_vstart: IntArray, g_vcount: IntArray, g_verts: FloatArray, g_visible: np.ndarray, wc: FloatArray,
            wv: FloatArray, box: FloatArray, world_start: IntArray, agent_body: IntArray, agent_world: IntArray,
            everyone: IntArray, ca: FloatArray, sa: FloatArray, start: float, max_range: float, gain: float,
            dist: FloatArray, out: FloatArray, far: bool, midpoint: bool | None) -> None:
    place(poses, g_body, g_kind, g_centre, g_vstart, g_vcount, g_verts, wc, wv, box)
    cast_agents(everyone, poses, g_body, g_kind, g_radius, g_vstart, g_vcount, g_visible, wc, wv, box, world_start,
                agent_body, agent_world, ca, sa, start, max_range, gain, dist, out, far, midpoint)


class EyeCaster:
    """:func:`cast` with its arguments bound once: ``caster(poses, dist, out)`` is one kernel call,
    without the per-tick Python work of gathering a dozen arrays (:class:`evorobot.episode.Episode`
    calls it every tick)."""

    def __init__(self, geometry: Geometry, agent_body: IntArray, agent_world: IntArray, angles: FloatArray,
                 start: float, max_range: float, gain: float,
                 directions: tuple[FloatArray, FloatArray] | None = None, far_side: bool = False,
                 midpoint_edges: bool = False) -> None:
        g = geometry
        ca, sa = directions if directions is not None else ray_directions(angles)
        self._head = (g.body, g.kind, g.centre, g.radius, g.vert_start, g.vert_count, g.verts, g.visible,
                      g.placed_centre, g.placed_verts, g.placed_box, g.world_start, agent_body, agent_world,
                      np.arange(agent_body.shape[0], dtype=np.int64), np.ascontiguousarray(ca, dtype=np.float64), np.ascontiguousarray(sa, dtype=np.float64),
                      float(start), float(max_range), float(gain))
        self._far = bool(far_side)
        self._midpoint = True if midpoint_edges else None  # None: the default edge test, compiled alone

    def __call__(self, poses: FloatArray, dist: FloatArray, out: FloatArray) -> None:
        _kernel(poses, *self._head, dist, out, self._far, self._midpoint)


def cast(
    poses: FloatArray,
    geometry: Geometry,
    agent_body: IntArray,
    agent_world: IntArray,
    angles: FloatArray,
    start: float,
    max_range: float,
    gain: float,
    dist: FloatArray,
    out: FloatArray,
    directions: tuple[FloatArray, FloatArray] | None = None,
    far_side: bool = False,
    midpoint_edges: bool = False,
) -> None:
    """Cast ``len(angles)`` rays from every agent; fill ``dist`` and ``out`` (B, R) in place.

    Parameters
    ----------
    poses : (n_bodies, 3) x, y, angle of every body.
    agent_body, agent_world : (B,) the agent's body row and trial world.
    angles : (R,) ray directions relative to the body's heading (radians).
    start : distance from the body's centre at which rays begin (its radius).
    directions : (cos, sin) of ``angles`` given exactly (:meth:`EyeSpec.directions`, ``exact_axes``);
        None computes them from ``angles`` in the kernel (the default, as every champion was run).
    far_side : a ray starting inside a circle or polygon reads the distance to its far side, not 0.
    midpoint_edges : edges tested from their midpoints (:func:`_edge_hit_mid`, exactly mirror-invariant;
        ``[agent.eye] midpoint_edges``); False: from their first vertex, as every champion was run.
    """
    EyeCaster(geometry, agent_body, agent_world, angles, start, max_range, gain, directions, far_side,
              midpoint_edges)(poses, dist, out)


@njit(cache=True)
def ray_directions(angles: FloatArray) -> tuple[FloatArray, FloatArray]:
    """cos and sin of the ray angles relative to the heading, as every champion was run (numba's
    ``np.cos``/``np.sin``, which need not round as numpy's do); :func:`cast` computes them when not given."""
    return np.cos(angles), np.sin(angles)
