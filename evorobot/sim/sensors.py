"""Robot sensors in numba: infrared proximity, light, bumper and camera, one call per tick for all robots.

Every robot's input vector is ``[ir..., light..., bumper..., camera...]`` (the sensors its agent file has;
:mod:`evorobot.agent` documents each law). The kernel reads the poses of this tick and the shape
table mirrored from pymunk (:class:`evorobot.sim.world.Geometry`), and the lights of each robot's
world; nothing here touches a Python object.

- **IR proximity**: one ray per sensor from the perimeter at ``heading + angle``; distance ``d`` to
  the first visible shape of the robot's world other than its own body (walls, obstacles, other
  robots), as in :func:`evorobot.sim.rays.trace`; value ``exp(-d / decay)`` when ``d < range``,
  else 0 (Enki's and evorobot's Khepera model: an exponential response, ~10 cm range).
- **light**: for every light, the sensor (on the perimeter at its axis) adds
  ``intensity * f(d) * max(cos a, 0)`` when the angle ``a`` off its axis is within half its aperture
  and no visible shape crosses the straight line to the light.
- **bumper**: sector ``k`` of ``n`` (centred on ``heading + 2 pi k / n``) reads 1 while the nearest
  point of some shape lies within ``margin`` of the perimeter in that sector (touch, not sight:
  invisible shapes count).
- **camera**: one ray per pixel from the perimeter; the pixel is the hit shape's ``brightness``
  times the Lambertian factor ``max(0, -u . n)`` (:func:`evorobot.sim.camera.shade`), 0 when
  nothing is hit within range (a black background). The inputs are the pixels, or with evolved
  receptive fields the mean of the pixels each field covers (:mod:`evorobot.sim.camera`; Harvey,
  Husbands & Cliff 1994).

Noise is drawn outside the kernel: ``noise[trial, step, i]`` is a pre-drawn uniform number in
[-1, 1] (:func:`draw_noise`), scaled by the sensor's amplitude; every reading is clipped to [0, 1].
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from evorobot._types import FloatArray, IntArray
from evorobot.agent import AgentSpec
from evorobot.sim.camera import ReceptiveFields, shade
from evorobot.sim.rays import aim, place, trace
from evorobot.sim.world import CIRCLE, POLYGON, Geometry

LINEAR, INVERSE_SQUARE = 0, 1
_FALLOFF = {"linear": LINEAR, "inverse_square": INVERSE_SQUARE}


def draw_noise(seeds: FloatArray, steps: int, n_inputs: int, robots: int = 1) -> FloatArray:
    """Uniform noise in [-1, 1] of shape ``(len(seeds) * robots, steps, n_inputs)``.

    Row ``trial * robots + k`` is robot ``k`` of that trial. Each trial's noise comes from its own
    integer seed (drawn with the trial's conditions): ``default_rng(seed)`` for robot 0 and
    ``default_rng([seed, k])`` for robot ``k``, so it is the same whatever else is evaluated beside it.
    """
    out = np.empty((len(seeds) * robots, steps, n_inputs))
    for t, seed in enumerate(seeds):
        for k in range(robots):
            rng = np.random.default_rng(int(seed) if k == 0 else [int(seed), k])
            out[t * robots + k] = rng.uniform(-1.0, 1.0, (steps, n_inputs))
    return out


@njit(cache=True)
def _nearest_on_segment(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> tuple[float, float]:
    ex, ey = bx - ax, by - ay
    ll = ex * ex + ey * ey
    t = 0.0 if ll == 0.0 else ((px - ax) * ex + (py - ay) * ey) / ll
    t = min(max(t, 0.0), 1.0)
    return ax + t * ex, ay + t * ey


@njit(cache=True)
def _contact(poses: FloatArray, g_body: IntArray, g_kind: IntArray, g_centre: FloatArray, g_radius: FloatArray,
             g_vstart: IntArray, g_vcount: IntArray, g_verts: FloatArray, s: int, px: float, py: float,
             reach: float) -> tuple[bool, float, float]:
    """Whether shape ``s`` comes within ``reach`` of ``(px, py)``, and the direction to its nearest point."""
    body = g_body[s]
    bx, by = poses[body, 0], poses[body, 1]
    co, si = math.cos(poses[body, 2]), math.sin(poses[body, 2])
    cx = bx + co * g_centre[s, 0] - si * g_centre[s, 1]
    cy = by + si * g_centre[s, 0] + co * g_centre[s, 1]
    dx, dy = cx - px, cy - py
    dc = math.sqrt(dx * dx + dy * dy)
    if dc - g_radius[s] > reach:
        return False, 0.0, 0.0  # not even the bounding circle is near
    if g_kind[s] == CIRCLE:
        return True, dx, dy
    v0, n = g_vstart[s], g_vcount[s]
    best, qx, qy, inside = math.inf, cx, cy, g_kind[s] == POLYGON
    n_edges = n if g_kind[s] == POLYGON else 1
    for k in range(n_edges):
        j = (k + 1) % n
        ax = bx + co * g_verts[v0 + k, 0] - si * g_verts[v0 + k, 1]
        ay = by + si * g_verts[v0 + k, 0] + co * g_verts[v0 + k, 1]
        cx2 = bx + co * g_verts[v0 + j, 0] - si * g_verts[v0 + j, 1]
        cy2 = by + si * g_verts[v0 + j, 0] + co * g_verts[v0 + j, 1]
        if (cx2 - ax) * (py - ay) - (cy2 - ay) * (px - ax) < 0.0:
            inside = False
        nx, ny = _nearest_on_segment(px, py, ax, ay, cx2, cy2)
        d2 = (nx - px) ** 2 + (ny - py) ** 2
        if d2 < best:
            best, qx, qy = d2, nx, ny
    if inside:
        return True, cx - px, cy - py
    return math.sqrt(best) <= reach, qx - px, qy - py


@njit(cache=True)
def _kernel(poses: FloatArray, g_body: IntArray, g_kind: IntArray, g_centre: FloatArray, g_radius: FloatArray,
            g_vstart: IntArray, g_vcount: IntArray, g_verts: FloatArray, g_visible: np.ndarray,
            wc: FloatArray, wpv: FloatArray, box: FloatArray, world_start: IntArray, lights: FloatArray, n_lights: IntArray,
            agent_body: IntArray, agent_world: IntArray, agent_trial: IntArray, step: int, radius: float,
            ir_angles: FloatArray, ir_rays: int, ir_range: float, ir_decay: float, ir_noise: float,
            light_angles: FloatArray, light_cos_half: float, falloff: int, r0: float, light_noise: float,
            sectors: int, margin: float, g_bright: FloatArray, cam_angles: FloatArray, cam_range: float,
            cam_noise: float, field_lo: IntArray, field_hi: IntArray, noise: FloatArray, out: FloatArray,
            ir_dist: FloatArray, cam_dist: FloatArray, cam_pix: FloatArray) -> None:
    n_ir, n_light, n_cam, n_fields = ir_angles.shape[0], light_angles.shape[0], cam_angles.shape[0], field_lo.shape[1]
    ir_c, ir_s = np.cos(ir_angles), np.sin(ir_angles)  # rotated by each robot's heading below
    light_c, light_s = np.cos(light_angles), np.sin(light_angles)
    ux, uy = np.empty(n_ir), np.empty(n_ir)
    ox, oy = np.empty(n_ir), np.empty(n_ir)
    n_pairs = n_light * lights.shape[1]  # (sensor, light) lines of sight, traced in one pass
    lx, ly, lux, luy = np.empty(n_pairs), np.empty(n_pairs), np.empty(n_pairs), np.empty(n_pairs)
    ld, lmax, lgain = np.empty(n_pairs), np.empty(n_pairs), np.empty(n_pairs)
    lsensor = np.empty(n_pairs, dtype=np.int64)
    lvalue = np.empty(max(n_light, 1))
    place(poses, g_body, g_kind, g_centre, g_vstart, g_vcount, g_verts, wc, wpv, box)
    cam_c, cam_s = np.cos(cam_angles), np.sin(cam_angles)
    cux, cuy, cox, coy = np.empty(n_cam), np.empty(n_cam), np.empty(n_cam), np.empty(n_cam)
    chit = np.empty((n_cam, 2), dtype=np.int64)
    use_noise = noise.shape[1] > 0
    for b in range(agent_body.shape[0]):
        me, w = agent_body[b], agent_world[b]
        lo, hi = world_start[w], world_start[w + 1]
        px, py, heading = poses[me, 0], poses[me, 1], poses[me, 2]
        hc, hs = math.cos(heading), math.sin(heading)
        aim(px, py, hc, hs, ir_c, ir_s, radius, ir_range, ux, uy, ox, oy, ir_dist[b])
        trace(g_body, g_kind, g_radius, g_vstart, g_vcount, g_visible, wc, wpv, box,
              lo, hi, me, ox, oy, ux, uy, ir_dist[b], None, False)
        i = 0
        for r in range(n_ir // ir_rays):  # a sensor reads the nearest hit of its rays
            d = ir_dist[b, r * ir_rays]
            for j in range(1, ir_rays):
                d = min(d, ir_dist[b, r * ir_rays + j])
            v = math.exp(-d / ir_decay) if d < ir_range else 0.0
            if use_noise:
                v += ir_noise * noise[agent_trial[b], step, i]
            out[b, i] = min(max(v, 0.0), 1.0)
            i += 1
        q = 0
        for k in range(n_light):
            lvalue[k] = 0.0
            ax, ay = hc * light_c[k] - hs * light_s[k], hs * light_c[k] + hc * light_s[k]
            sx, sy = px + radius * ax, py + radius * ay
            for m in range(n_lights[w]):
                vx, vy = lights[w, m, 0] - sx, lights[w, m, 1] - sy
                d = math.sqrt(vx * vx + vy * vy)
                c = 1.0 if d == 0.0 else (vx * ax + vy * ay) / d
                if c < light_cos_half or c <= 0.0:
                    continue
                f = 1.0 / (1.0 + d / r0) if falloff == LINEAR else (r0 / max(d, r0)) ** 2
                lsensor[q], lgain[q], lmax[q] = k, lights[w, m, 2] * f * c, d
                lx[q], ly[q] = sx, sy
                lux[q], luy[q] = (vx / d, vy / d) if d > 0.0 else (1.0, 0.0)
                ld[q] = d
                q += 1
        if q > 0:  # one pass over the shapes for every line of sight; a shorter hit hides the light
            trace(g_body, g_kind, g_radius, g_vstart, g_vcount, g_visible, wc, wpv, box,
                  lo, hi, me, lx[:q], ly[:q], lux[:q], luy[:q], ld[:q], None, False)
        for p in range(q):
            if lmax[p] == 0.0 or ld[p] >= lmax[p]:
                lvalue[lsensor[p]] += lgain[p]
        for k in range(n_light):
            v = lvalue[k]
            if use_noise:
                v += light_noise * noise[agent_trial[b], step, i]
            out[b, i] = min(max(v, 0.0), 1.0)
            i += 1
        for k in range(sectors):
            out[b, i + k] = 0.0
        if sectors > 0:
            width = 2.0 * math.pi / sectors
            for s in range(lo, hi):
                if g_body[s] == me:
                    continue
                hit, dx, dy = _contact(poses, g_body, g_kind, g_centre, g_radius, g_vstart, g_vcount,
                                       g_verts, s, px, py, radius + margin)
                if hit:
                    rel = (math.atan2(dy, dx) - heading + 0.5 * width) % (2.0 * math.pi)
                    out[b, i + min(int(rel // width), sectors - 1)] = 1.0
        i += sectors
        if n_cam == 0:
            continue
        aim(px, py, hc, hs, cam_c, cam_s, radius, cam_range, cux, cuy, cox, coy, cam_dist[b])
        chit[:, 0] = -1
        trace(g_body, g_kind, g_radius, g_vstart, g_vcount, g_visible, wc, wpv, box,
              lo, hi, me, cox, coy, cux, cuy, cam_dist[b], chit, False)
        for r in range(n_cam):
            s = chit[r, 0]
            cam_pix[b, r] = 0.0 if s < 0 else g_bright[s] * shade(
                poses, g_body, g_kind, g_centre, g_vstart, g_vcount, g_verts, s, chit[r, 1],
                cox[r], coy[r], cux[r], cuy[r], cam_dist[b, r])
        for k in range(n_fields if n_fields > 0 else n_cam):
            if n_fields > 0:
                v = 0.0
                for r in range(field_lo[b, k], field_hi[b, k]):
                    v += cam_pix[b, r]
                v /= field_hi[b, k] - field_lo[b, k]
            else:
                v = cam_pix[b, k]
            if use_noise:
                v += cam_noise * noise[agent_trial[b], step, i]
            out[b, i] = min(max(v, 0.0), 1.0)
            i += 1


class RobotSensors:
    """The sensor tables of one agent, ready to call :func:`sense` for a whole batch."""

    def __init__(self, agent: AgentSpec, fields: ReceptiveFields | None = None) -> None:
        """``fields``: the decoded receptive fields of every robot of the batch (one row each),
        required when the camera has ``fields``."""
        ir, light, bumper = agent.ir, agent.light, agent.bumper
        cam = getattr(agent, "camera", None)  # stand-ins of an AgentSpec may lack it
        self.radius = agent.body.radius
        self.ir_angles = ir.ray_angles() if ir else np.zeros(0)  # every ray, `ir_rays` per sensor
        self.ir_rays = ir.rays if ir else 1
        self.ir_range, self.ir_decay, self.ir_noise = (ir.range, ir.decay, ir.noise) if ir else (1.0, 1.0, 0.0)
        self.light_angles = light.angles() if light else np.zeros(0)
        if light:
            self.cos_half = math.cos(math.radians(min(light.aperture_deg, 359.999)) / 2)
            self.falloff, self.r0, self.light_noise = _FALLOFF[light.falloff], light.r0, light.noise
        else:
            self.cos_half, self.falloff, self.r0, self.light_noise = 1.0, LINEAR, 1.0, 0.0
        self.sectors, self.margin = (bumper.sectors, bumper.margin) if bumper else (0, 0.0)
        self.cam_angles = cam.angles() if cam else np.zeros(0)
        self.cam_range, self.cam_noise = (cam.range, cam.noise) if cam else (1.0, 0.0)
        if cam and cam.fields:
            if fields is None:
                raise ValueError("a camera with receptive fields needs the decoded fields of every robot")
            self.field_lo, self.field_hi = fields.lo, fields.hi
        else:
            self.field_lo = self.field_hi = np.zeros((0, 0), dtype=np.int64)
        self.noisy = self.ir_noise > 0 or self.light_noise > 0 or self.cam_noise > 0
        self.n_ir_rays = self.ir_angles.shape[0]
        self.n_ir = self.n_ir_rays // self.ir_rays  # IR inputs
        self.n_pixels = self.cam_angles.shape[0]
        self.cam_dist = self.pixels = np.zeros((0, self.n_pixels))

    def _camera_buffers(self, n: int) -> tuple[FloatArray, FloatArray]:
        """Each robot's pixel distances and values of the last tick, (n, pixels) (the viewer reads them)."""
        if self.pixels.shape[0] != n:
            self.cam_dist, self.pixels = np.full((n, self.n_pixels), self.cam_range), np.zeros((n, self.n_pixels))
        return self.cam_dist, self.pixels

    def sense(self, poses: FloatArray, g: Geometry, agent_body: IntArray, agent_world: IntArray,
              agent_trial: IntArray, step: int, noise: FloatArray, out: FloatArray, ir_dist: FloatArray) -> None:
        """Fill ``out`` (B, n_inputs) and ``ir_dist`` (B, n_ir_rays) for every robot (one kernel call).

        ``noise`` is ``(trials, steps, n_inputs)`` from :func:`draw_noise`, or shape
        ``(trials, 0, n_inputs)`` for none; ``agent_trial`` maps each robot to its trial's row.
        The camera's distances and pixels land in :attr:`cam_dist` and :attr:`pixels`.
        """
        cam_dist, pixels = self._camera_buffers(agent_body.shape[0])
        _kernel(poses, g.body, g.kind, g.centre, g.radius, g.vert_start, g.vert_count, g.verts, g.visible,
                g.placed_centre, g.placed_verts, g.placed_box, g.world_start, g.lights, g.n_lights, agent_body, agent_world, agent_trial, step, self.radius,
                self.ir_angles, self.ir_rays, self.ir_range, self.ir_decay, self.ir_noise,
                self.light_angles, self.cos_half, self.falloff, self.r0, self.light_noise,
                self.sectors, self.margin, g.brightness, self.cam_angles, self.cam_range, self.cam_noise,
                self.field_lo, self.field_hi, noise, out, ir_dist, cam_dist, pixels)
