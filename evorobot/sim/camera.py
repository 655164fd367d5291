"""The camera's shading law and its evolved receptive fields (Harvey, Husbands & Cliff 1994).

Harvey, I., Husbands, P. & Cliff, D. (1994). Seeing the light: artificial evolution, real vision.
In *From Animals to Animats 3* (SAB94), MIT Press, 392-401. Their gantry robot's camera image was
sampled through a few evolved receptive fields, each the mean brightness of an evolved patch of
the image, and only those means reached the network. Here (adapted to a 2-D world) the image is
a 1-D retina of pixels (:class:`evorobot.agent.CameraSpec`) and a field is a window ``(centre,
width)`` over it, measured in pixels along the retina ``[0, K]``; pixel ``k``'s centre is at
``k + 1/2``. A field covers the pixels whose centres lie in ``[c - w/2, c + w/2]``, or the pixel
nearest ``c`` when that interval holds no centre (so every field sees something), and reads their
mean. Windows are contiguous, so a field is stored as the half-open pixel range ``[lo, hi)``.

Genes: field ``f``'s centre gene and width gene are genes ``2f`` and ``2f + 1`` of the block after
the controller's; in [-1, 1] they map linearly to ``c`` in ``[0, K]`` and ``w`` in
``[min_width, max_width]``.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numba import njit

from evorobot._types import FloatArray, IntArray
from evorobot.agent import CameraSpec
from evorobot.sim.world import CIRCLE, POLYGON


class ReceptiveFields(NamedTuple):
    """Decoded receptive fields of a batch of B genomes."""

    centre: FloatArray  # (B, F) centre along the retina, in pixels (0 .. K)
    width: FloatArray  # (B, F) width in pixels
    lo: IntArray  # (B, F) first pixel covered
    hi: IntArray  # (B, F) one past the last pixel covered


def decode_fields(cam: CameraSpec, genes: FloatArray) -> ReceptiveFields:
    """Receptive fields of ``genes`` (B, 2F): pairs (centre gene, width gene) in [-1, 1]."""
    genes = np.asarray(genes, dtype=np.float64).reshape(genes.shape[0], cam.fields, 2)
    k = cam.pixels
    centre = (genes[:, :, 0] + 1.0) / 2.0 * k
    width = cam.min_width + (genes[:, :, 1] + 1.0) / 2.0 * (cam.widest - cam.min_width)
    pix = np.arange(k) + 0.5
    covered = (pix >= (centre - width / 2)[..., None]) & (pix <= (centre + width / 2)[..., None])
    nearest = np.minimum(np.floor(centre), k - 1).astype(np.int64)
    any_ = covered.any(axis=2)
    lo = np.where(any_, covered.argmax(axis=2), nearest).astype(np.int64)
    hi = np.where(any_, k - covered[:, :, ::-1].argmax(axis=2), nearest + 1).astype(np.int64)
    return ReceptiveFields(centre, width, lo, hi)


def describe_fields(cam: CameraSpec, fields: ReceptiveFields, i: int) -> list[dict[str, Any]]:
    """Field ``i``'s windows as JSON-ready dicts (pixels, and the direction they look at)."""
    step = cam.fov_deg / cam.pixels
    left = cam.axis_deg + cam.fov_deg / 2
    return [{"centre_pixels": float(fields.centre[i, f]), "width_pixels": float(fields.width[i, f]),
             "first_pixel": int(fields.lo[i, f]), "last_pixel": int(fields.hi[i, f]) - 1,
             "centre_deg": float(left - fields.centre[i, f] * step), "width_deg": float(fields.width[i, f] * step)}
            for f in range(cam.fields)]


@njit(cache=True)
def shade(poses: FloatArray, g_body: IntArray, g_kind: IntArray, g_centre: FloatArray, g_vstart: IntArray,
          g_vcount: IntArray, g_verts: FloatArray, s: int, edge: int, ox: float, oy: float, ux: float,
          uy: float, t: float) -> float:
    """Lambertian factor ``max(0, -u . n)`` of the ray ``o + t u`` hitting shape ``s`` on ``edge``.

    ``n`` is the outward normal at the hit: radial on a circle; on a polygon the normal of edge
    ``k`` (vertex ``k`` to ``k + 1``, counter-clockwise, so the normal is the edge turned
    clockwise); on a segment the normal facing the ray, ``|u . n|``. A ray starting inside the
    shape (``edge`` -1 on a polygon, ``t`` 0 in a circle) reads 1.
    """
    body = g_body[s]
    bx, by = poses[body, 0], poses[body, 1]
    co, si = math.cos(poses[body, 2]), math.sin(poses[body, 2])
    if g_kind[s] == CIRCLE:
        if t == 0.0:
            return 1.0
        nx = ox + t * ux - (bx + co * g_centre[s, 0] - si * g_centre[s, 1])
        ny = oy + t * uy - (by + si * g_centre[s, 0] + co * g_centre[s, 1])
    else:
        if edge < 0:
            return 1.0
        v0, n = g_vstart[s], g_vcount[s]
        a, q = v0 + edge, v0 + (edge + 1) % n
        ex = co * (g_verts[q, 0] - g_verts[a, 0]) - si * (g_verts[q, 1] - g_verts[a, 1])
        ey = si * (g_verts[q, 0] - g_verts[a, 0]) + co * (g_verts[q, 1] - g_verts[a, 1])
        nx, ny = ey, -ex
    norm = math.sqrt(nx * nx + ny * ny)
    if norm == 0.0:
        return 1.0
    c = -(ux * nx + uy * ny) / norm
    if g_kind[s] != CIRCLE and g_kind[s] != POLYGON:
        return abs(c)
    return max(c, 0.0)
