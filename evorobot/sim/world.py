"""Many trial worlds in pymunk, read and written only through ``pymunk.batch``.

Each *individual* gets a :class:`pymunk.Space` of its own holding all of its trial worlds, tiled
far apart. An individual's Space therefore has the same composition whether it is evaluated
alone (replay, viewer) or beside others in a population chunk, which is what makes its fitness
bitwise identical in both (ARCHITECTURE.md §4): pymunk's solver order and the rounding of tiled
coordinates depend only on what is in the Space. (A trial's tile slot is part of that
composition: the same trial run in another slot rounds differently in the last bits, so a trial
always keeps its slot, ``trial index * TILE``.)

Bodies and shapes are mirrored into flat arrays (:class:`Geometry`) once, at build time, so that the
numba sensor kernels see plain arrays: body poses are refreshed every tick by :meth:`World.read`
(one ``pymunk.batch`` call per Space), and velocities go back with :meth:`World.write_velocities`.
``pymunk.batch`` is still marked experimental upstream; this module is the one adapter around it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pymunk
import pymunk.batch as pb

from evorobot._types import BoolArray, FloatArray, IntArray

CIRCLE, POLYGON, SEGMENT = 0, 1, 2
"""Shape kinds in :attr:`Geometry.kind`."""

TILE = 2000.0
"""Distance between the origins of neighbouring trial worlds in one Space."""

_POSE = pb.BodyFields.POSITION | pb.BodyFields.ANGLE
_VEL = pb.BodyFields.VELOCITY


class Geometry(NamedTuple):
    """Static shape table of all worlds, for the numba kernels.

    Shapes of one world are contiguous: world ``w`` owns shapes
    ``world_start[w]:world_start[w + 1]``. Local coordinates are in the owning body's frame.
    """

    body: IntArray  # (S,) row of the owning body in the pose array
    kind: IntArray  # (S,) CIRCLE, POLYGON or SEGMENT
    centre: FloatArray  # (S, 2) circle centre (local); polygon/segment centroid (local)
    radius: FloatArray  # (S,) circle radius; bounding radius about ``centre`` otherwise
    vert_start: IntArray  # (S,) first vertex in ``verts``
    vert_count: IntArray  # (S,) number of vertices (2 for a segment)
    verts: FloatArray  # (V, 2) local vertices, counter-clockwise for polygons
    brightness: FloatArray  # (S,) grey level seen by cameras and drawn by the viewer
    visible: BoolArray  # (S,) whether sensors see the shape
    world_start: IntArray  # (W + 1,)


class World:
    """Builder and runtime adapter of the pymunk Spaces of one evaluation batch."""

    def __init__(self) -> None:
        self.spaces: list[pymunk.Space] = []
        self.bodies: list[pymunk.Body] = []
        self._space_rows: list[list[int]] = []
        self._shapes: list[tuple[int, int, tuple[float, float], float, list[tuple[float, float]], float]] = []
        self._world_start: list[int] = []
        self._world_space: list[int] = []
        self.origins: list[tuple[float, float]] = []
        self.geometry: Geometry | None = None

    # -- building -------------------------------------------------------------------------------
    def new_space(self) -> int:
        """Open a new Space (one per individual); return its index."""
        space = pymunk.Space()
        self.spaces.append(space)
        self._space_rows.append([])
        return len(self.spaces) - 1

    def new_world(self, space: int) -> tuple[float, float]:
        """Open a new trial world in ``space``; return its origin in Space coordinates."""
        origin = (TILE * self._world_space.count(space), 0.0)
        self._world_space.append(space)
        self._world_start.append(len(self._shapes))
        self.origins.append(origin)
        return origin

    def add_body(
        self,
        space: int,
        position: tuple[float, float],
        velocity: tuple[float, float] = (0.0, 0.0),
        angle: float = 0.0,
    ) -> int:
        """Add a kinematic body at ``position`` (local to the current world); return its row."""
        origin = self.origins[-1]
        body = pymunk.Body(body_type=pymunk.Body.KINEMATIC)
        body.position = (origin[0] + position[0], origin[1] + position[1])
        body.angle = angle
        body.velocity = velocity
        self.spaces[space].add(body)
        self.bodies.append(body)
        row = len(self.bodies) - 1
        self._space_rows[space].append(row)
        return row

    def add_circle(self, row: int, radius: float, brightness: float = 1.0) -> None:
        """Attach a circle of ``radius`` centred on body ``row``."""
        body = self.bodies[row]
        body.space.add(pymunk.Circle(body, radius))
        self._shapes.append((row, CIRCLE, (0.0, 0.0), radius, [], brightness))

    def add_polygon(self, row: int, verts: list[tuple[float, float]], brightness: float = 1.0) -> None:
        """Attach a convex polygon (local vertices) to body ``row``."""
        body = self.bodies[row]
        shape = pymunk.Poly(body, verts)
        body.space.add(shape)
        local = [(v.x, v.y) for v in shape.get_vertices()]  # pymunk's own winding
        self._add_vertex_shape(row, POLYGON, local, brightness)

    def add_segment(self, row: int, a: tuple[float, float], b: tuple[float, float], brightness: float = 1.0) -> None:
        """Attach a zero-thickness segment ``a``-``b`` (local) to body ``row``."""
        body = self.bodies[row]
        body.space.add(pymunk.Segment(body, a, b, 0.0))
        self._add_vertex_shape(row, SEGMENT, [a, b], brightness)

    def _add_vertex_shape(self, row: int, kind: int, verts: list[tuple[float, float]], brightness: float) -> None:
        v = np.asarray(verts, dtype=np.float64)
        c = v.mean(axis=0)
        r = float(np.sqrt(((v - c) ** 2).sum(axis=1)).max())
        self._shapes.append((row, kind, (float(c[0]), float(c[1])), r, [tuple(p) for p in v], brightness))

    def finish(self) -> Geometry:
        """Freeze the shape table and check that pymunk's body order matches ours."""
        s = len(self._shapes)
        starts, counts, verts = np.zeros(s, np.int64), np.zeros(s, np.int64), []
        for i, sh in enumerate(self._shapes):
            starts[i], counts[i] = len(verts), len(sh[4])
            verts.extend(sh[4])
        self.geometry = Geometry(
            body=np.array([sh[0] for sh in self._shapes], dtype=np.int64),
            kind=np.array([sh[1] for sh in self._shapes], dtype=np.int64),
            centre=np.array([sh[2] for sh in self._shapes], dtype=np.float64).reshape(s, 2),
            radius=np.array([sh[3] for sh in self._shapes], dtype=np.float64),
            vert_start=starts,
            vert_count=counts,
            verts=np.array(verts, dtype=np.float64).reshape(-1, 2),
            brightness=np.array([sh[5] for sh in self._shapes], dtype=np.float64),
            visible=np.ones(s, dtype=np.bool_),
            world_start=np.array(self._world_start + [s], dtype=np.int64),
        )
        # Separate buffers for reading and writing: a read reallocates pymunk's own array, which
        # must never be one that ``set_float_buf`` pointed at numpy memory.
        self._buffers = [pb.Buffer() for _ in self.spaces]
        self._write_buffers = [pb.Buffer() for _ in self.spaces]
        self._slices = []
        for space, rows, buf in zip(self.spaces, self._space_rows, self._buffers):
            if rows != list(range(rows[0], rows[0] + len(rows))):
                raise AssertionError("bodies of one Space must be contiguous rows")
            buf.clear()
            pb.get_space_bodies(space, pb.BodyFields.BODY_ID, buf)
            ids = np.frombuffer(buf.int_buf(), dtype=np.int64)
            expected = [self.bodies[r].id for r in rows]
            if list(ids) != expected:  # pymunk iterates bodies in insertion order; verify, don't assume
                raise AssertionError("pymunk.batch body order differs from insertion order")
            self._slices.append(slice(rows[0], rows[0] + len(rows)))
        return self.geometry

    # -- runtime ---------------------------------------------------------------------------------
    @property
    def n_bodies(self) -> int:
        return len(self.bodies)

    def read(self, poses: FloatArray) -> None:
        """Fill ``poses`` (n_bodies, 3) with x, y, angle: one batch call per Space."""
        for space, buf, sl in zip(self.spaces, self._buffers, self._slices):
            buf.clear()
            pb.get_space_bodies(space, _POSE, buf)
            poses[sl] = np.frombuffer(buf.float_buf(), dtype=np.float64).reshape(-1, 3)

    def write_velocities(self, velocities: FloatArray) -> None:
        """Set every body's linear velocity from ``velocities`` (n_bodies, 2), C-contiguous."""
        for space, buf, sl in zip(self.spaces, self._write_buffers, self._slices):
            buf.set_float_buf(velocities[sl].reshape(-1))
            pb.set_space_bodies(space, _VEL, buf)

    def step(self, dt: float) -> None:
        """Advance every Space by ``dt``."""
        for space in self.spaces:
            space.step(dt)
