"""Many trial worlds in pymunk, read and written only through ``pymunk.batch``.

Each *individual* gets a :class:`pymunk.Space` of its own holding all of its trial worlds, tiled
far apart. An individual's Space therefore has the same composition whether it is evaluated
alone (replay, viewer) or beside others in a population chunk, which is what makes its fitness
bitwise identical in both (ARCHITECTURE.md §4): pymunk's solver order and the rounding of tiled
coordinates depend only on what is in the Space. (A trial's tile slot is part of that
composition: the same trial run in another slot rounds differently in the last bits, so a trial
always keeps its slot, ``trial index * TILE``. With ``[simulation] placement = "per_trial"`` the
episode opens a Space per trial instead, each world at the origin.)

Bodies and shapes are mirrored into flat arrays (:class:`Geometry`) once, at build time, so that the
numba sensor kernels see plain arrays: body poses are refreshed every tick by :meth:`World.read`
(one ``pymunk.batch`` call per Space), and velocities go back with :meth:`World.write_velocities`.
``pymunk.batch`` is still marked experimental upstream; this module is the one adapter around it.

Three kinds of body: *kinematic* objects that move at a set velocity (Beer's falling objects,
the horizontal agent), *dynamic* robots whose velocity is set every tick by their motors and
corrected by pymunk's collision solver, and *static* geometry (arena walls, obstacles) attached
to each Space's static body.

A batch whose moving bodies are all kinematic (the minimal-cognition tasks) has nothing for the
collision solver to do: Chipmunk moves a kinematic body by ``p + (v + v_bias) dt`` per step
(``cpBodyUpdatePosition``; ``v_bias`` is zero without contacts) and never changes its velocity.
:meth:`World.step` then does exactly that in one numba call over the batch (:func:`_kinematic_steps`,
the same floating-point operations in the same order, so the same bits: tests/test_world.py
checks it against pymunk), instead of one ``Space.step`` and two ``pymunk.batch`` calls per Space
and tick. pymunk still holds the world for building and for the viewer; code that changes a body
through pymunk calls :meth:`World.move_body` (or :meth:`World.pull` after a reset), so that the
kernel's poses follow, and code that queries the Spaces calls :meth:`World.push` first. Static shapes are in Space coordinates; their pose row (one per
Space, after all moving bodies) is always ``(0, 0, 0)``. Point lights are not bodies: each trial
world has a table of them (:attr:`Geometry.lights`).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np
import pymunk
import pymunk.batch as pb
from numba import njit

from evorobot._types import BoolArray, FloatArray, IntArray

CIRCLE, POLYGON, SEGMENT = 0, 1, 2
"""Shape kinds in :attr:`Geometry.kind`."""

STATIC = -1
"""Body row to pass to ``add_circle``/``add_polygon``/``add_segment`` for fixed geometry."""

TILE = 2000.0
"""Distance between the origins of neighbouring trial worlds in one Space."""

_POSE = pb.BodyFields.POSITION | pb.BodyFields.ANGLE
_VEL = pb.BodyFields.VELOCITY | pb.BodyFields.ANGULAR_VELOCITY


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while building many bodies and shapes.

    Building allocates tens of thousands of long-lived objects and no garbage cycles; each automatic
    collection scans everything alive, so with the collector on a build of 4096 robots cost 1.4x
    per robot what one of 256 did (measured). It is re-enabled (if it was on) on leaving.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


class Geometry(NamedTuple):
    """Static shape table of all worlds, for the numba kernels.

    Shapes of one world are contiguous: world ``w`` owns shapes
    ``world_start[w]:world_start[w + 1]``. Local coordinates are in the owning body's frame.
    The ``placed_*`` arrays are scratch space that the sensor kernels fill each tick
    (:func:`evorobot.sim.rays.place`): every shape once, whatever number of rays test it.
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
    lights: FloatArray  # (W, L, 3) x, y (Space coordinates) and intensity of each world's lights
    n_lights: IntArray  # (W,) lights in use per world
    placed_centre: FloatArray  # (S, 2) scratch: each shape's centre in Space coordinates this tick
    placed_verts: FloatArray  # (V, 2) scratch: vertices in Space coordinates this tick
    placed_box: FloatArray  # (S, 4) scratch: bounding boxes (x lo, x hi, y lo, y hi) this tick


class World:
    """Builder and runtime adapter of the pymunk Spaces of one evaluation batch."""

    def __init__(self) -> None:
        self.spaces: list[pymunk.Space] = []
        self.bodies: list[pymunk.Body] = []
        self._space_rows: list[list[int]] = []
        self._shapes: list[tuple[int, int, tuple[float, float], float, list[tuple[float, float]], float]] = []
        self._shape_space: list[int] = []
        self._lights: list[list[tuple[float, float, float]]] = []
        self._world_start: list[int] = []
        self._world_space: list[int] = []
        self._worlds_in_space: list[int] = []
        self.origins: list[tuple[float, float]] = []
        self.kinematic = False
        self.geometry: Geometry | None = None

    # -- building -------------------------------------------------------------------------------
    def new_space(self) -> int:
        """Open a new Space (one per individual); return its index."""
        space = pymunk.Space()
        self.spaces.append(space)
        self._space_rows.append([])
        self._worlds_in_space.append(0)
        return len(self.spaces) - 1

    def new_world(self, space: int) -> tuple[float, float]:
        """Open a new trial world in ``space``; return its origin in Space coordinates."""
        origin = (TILE * self._worlds_in_space[space], 0.0)  # a trial's slot: its index in the Space
        self._worlds_in_space[space] += 1
        self._world_space.append(space)
        self._world_start.append(len(self._shapes))
        self._lights.append([])
        self.origins.append(origin)
        return origin

    def _space_of_world(self) -> int:
        return self._world_space[-1]

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
        return self._register(space, body)

    def add_robot(self, space: int, position: tuple[float, float], angle: float, radius: float,
                  mass: float) -> int:
        """Add a dynamic circular robot body (with its shape) at ``position`` (local); return its row."""
        origin = self.origins[-1]
        body = pymunk.Body(mass, pymunk.moment_for_circle(mass, 0.0, radius))
        body.position = (origin[0] + position[0], origin[1] + position[1])
        body.angle = angle
        row = self._register(space, body)
        self.add_circle(row, radius)
        return row

    def _register(self, space: int, body: pymunk.Body) -> int:
        self.spaces[space].add(body)
        self.bodies.append(body)
        row = len(self.bodies) - 1
        self._space_rows[space].append(row)
        return row

    def _attach(self, row: int) -> tuple[pymunk.Body, tuple[float, float]]:
        """The pymunk body of ``row`` (a Space's static body for ``STATIC``) and the offset of
        its shapes' coordinates (the world's origin for static shapes, else none)."""
        if row == STATIC:
            return self.spaces[self._space_of_world()].static_body, self.origins[-1]
        return self.bodies[row], (0.0, 0.0)

    def _add_shape(self, row: int, kind: int, centre: tuple[float, float], radius: float,
                   verts: list[tuple[float, float]], brightness: float) -> None:
        self._shapes.append((row, kind, centre, radius, verts, brightness))
        self._shape_space.append(self._space_of_world())

    def add_circle(self, row: int, radius: float, brightness: float = 1.0,
                   offset: tuple[float, float] = (0.0, 0.0)) -> None:
        """Attach a circle of ``radius`` centred at ``offset`` on body ``row`` (or ``STATIC``:
        fixed in the current world, ``offset`` local to the world)."""
        body, (ox, oy) = self._attach(row)
        centre = (ox + offset[0], oy + offset[1])
        self.spaces[self._space_of_world()].add(pymunk.Circle(body, radius, centre))  # friction 0: Chipmunk's default
        self._add_shape(row, CIRCLE, centre, radius, [], brightness)

    def add_polygon(self, row: int, verts: list[tuple[float, float]], brightness: float = 1.0) -> None:
        """Attach a convex polygon (local vertices) to body ``row`` (or ``STATIC``)."""
        body, (ox, oy) = self._attach(row)
        shape = pymunk.Poly(body, [(ox + x, oy + y) for x, y in verts])  # friction 0: Chipmunk's default
        self.spaces[self._space_of_world()].add(shape)
        local = [(v.x, v.y) for v in shape.get_vertices()]  # pymunk's own winding
        self._add_vertex_shape(row, POLYGON, local, brightness)

    def add_segment(self, row: int, a: tuple[float, float], b: tuple[float, float], brightness: float = 1.0) -> None:
        """Attach a zero-thickness segment ``a``-``b`` (local) to body ``row`` (or ``STATIC``)."""
        body, (ox, oy) = self._attach(row)
        a, b = (ox + a[0], oy + a[1]), (ox + b[0], oy + b[1])
        self.spaces[self._space_of_world()].add(pymunk.Segment(body, a, b, 0.0))
        self._add_vertex_shape(row, SEGMENT, [a, b], brightness)

    def add_light(self, position: tuple[float, float], intensity: float = 1.0) -> None:
        """Add a point light at ``position`` (local) to the current world."""
        ox, oy = self.origins[-1]
        self._lights[-1].append((ox + position[0], oy + position[1], intensity))

    def _add_vertex_shape(self, row: int, kind: int, verts: list[tuple[float, float]], brightness: float) -> None:
        v = np.asarray(verts, dtype=np.float64)
        c = v.mean(axis=0)
        r = float(np.sqrt(((v - c) ** 2).sum(axis=1)).max())
        self._add_shape(row, kind, (float(c[0]), float(c[1])), r, [tuple(p) for p in v], brightness)

    def finish(self) -> Geometry:
        """Freeze the shape table and check that pymunk's body order matches ours."""
        n_moving = len(self.bodies)
        self.static_rows = np.arange(n_moving, n_moving + len(self.spaces), dtype=np.int64)
        self._shapes = [(int(self.static_rows[sp]) if sh[0] == STATIC else sh[0], *sh[1:])
                        for sh, sp in zip(self._shapes, self._shape_space)]
        n_lights = np.array([len(lw) for lw in self._lights], dtype=np.int64)
        lights = np.zeros((len(self._lights), max(int(n_lights.max(initial=0)), 1), 3))
        for w, lw in enumerate(self._lights):
            if lw:
                lights[w, : len(lw)] = lw
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
            lights=lights,
            n_lights=n_lights,
            placed_centre=np.zeros((s, 2)),
            placed_verts=np.zeros((len(verts), 2)),
            placed_box=np.zeros((s, 4)),
        )
        # One float array per Space and direction, bound once to numpy memory longer than one pass
        # over the Space's bodies (so pymunk never reallocates it), and one prebuilt
        # ``pmBatchedData`` per Space and direction: a tick costs one C iteration per Space, no
        # Python wrapper work (see :class:`_Batch`).
        self._slices = []
        counts = []
        for space, rows in zip(self.spaces, self._space_rows):
            if rows != list(range(rows[0], rows[0] + len(rows))):
                raise AssertionError("bodies of one Space must be contiguous rows")
            static_id = space.static_body.id  # first: pymunk creates the static body on first use
            buf = pb.Buffer()
            pb.get_space_bodies(space, pb.BodyFields.BODY_ID, buf)
            ids = list(np.frombuffer(buf.int_buf(), dtype=np.int64))
            expected = [self.bodies[r].id for r in rows]
            # pymunk iterates moving bodies in insertion order, then static bodies: verify, don't assume
            if ids[: len(rows)] != expected or ids[len(rows):] not in ([], [static_id]):
                raise AssertionError("pymunk.batch body order differs from insertion order")
            self._slices.append(slice(rows[0], rows[0] + len(rows)))
            counts.append(len(ids))
        self._batch = _Batch(self.spaces, counts, [sl.stop - sl.start for sl in self._slices])
        self.kinematic = bool(self.bodies) and all(b.body_type == pymunk.Body.KINEMATIC for b in self.bodies)
        """Whether every moving body is kinematic: :meth:`step` then integrates them itself."""
        if self.kinematic:
            self._poses = np.zeros((self.n_bodies, 3))
            self._velocities = np.zeros((self.n_bodies, 3))
            self.pull()
        return self.geometry

    # -- runtime ---------------------------------------------------------------------------------
    @property
    def n_bodies(self) -> int:
        """Rows of the pose array: every moving body, then one static row per Space."""
        return len(self.bodies) + len(self.spaces)

    def pull(self) -> None:
        """Take every body's pose and velocity from pymunk (after changing bodies through pymunk, as
        a reset does); only a kinematic batch keeps its own copy."""
        if not self.kinematic:
            return
        self.kinematic = False  # read through pymunk once
        self.read(self._poses)
        self.kinematic = True
        for r, body in enumerate(self.bodies):
            self._velocities[r] = (body.velocity.x, body.velocity.y, body.angular_velocity)

    def push(self) -> None:
        """Put the kernel's poses into pymunk's bodies (a kinematic batch leaves them at their last
        :meth:`pull`), for code that queries the Spaces themselves."""
        if self.kinematic:
            for r, body in enumerate(self.bodies):
                body.position, body.angle = (self._poses[r, 0], self._poses[r, 1]), self._poses[r, 2]
                body.space.reindex_shapes_for_body(body)

    def move_body(self, row: int, position: tuple[float, float]) -> None:
        """Place body ``row`` at ``position`` (Space coordinates): a perturbation from the viewer."""
        self.bodies[row].position = position
        if self.kinematic:
            self._poses[row, :2] = self.bodies[row].position  # what pymunk stores, to the bit

    def kinematic_arrays(self) -> tuple[FloatArray, FloatArray] | None:
        """A kinematic batch's own pose and velocity arrays (n_bodies, 3), or None: a caller that
        holds them reads poses and writes velocities in place, and :meth:`read` and
        :meth:`write_velocities` given them do nothing."""
        return (self._poses, self._velocities) if self.kinematic else None

    def read(self, poses: FloatArray) -> None:
        """Fill ``poses`` (n_bodies, 3) with x, y, angle: one batch call per Space (a copy of the
        kernel's poses in a kinematic batch)."""
        if not poses.flags.c_contiguous:
            raise ValueError("poses must be C-contiguous (it is filled through a flat view)")
        if self.kinematic:
            if poses is not self._poses:
                poses[:] = self._poses
            return
        self._batch.read(poses[: len(self.bodies)])
        poses[len(self.bodies):] = 0.0

    def write_velocities(self, velocities: FloatArray) -> None:
        """Set every moving body's velocity and angular velocity from ``velocities`` (n_bodies, 3)."""
        if self.kinematic:
            if velocities is not self._velocities:
                self._velocities[:] = velocities
            return
        self._batch.write(velocities[: len(self.bodies)])

    def step(self, dt: float, substeps: int = 1) -> None:
        """Advance every Space by ``dt``, in ``substeps`` equal physics steps.

        Velocities are written once per tick, before the first substep. pymunk moves bodies before
        it resolves contacts, so a robot driven into a wall sinks in by one substep's travel, and
        the following substeps keep the velocity the contact solver corrected.
        """
        h = dt / substeps
        if self.kinematic:
            _kinematic_steps(self._poses, self._velocities, len(self.bodies), h, substeps)
            return
        self._batch.step(h, substeps)


@njit(cache=True)
def _kinematic_steps(poses: FloatArray, velocities: FloatArray, n: int, h: float, substeps: int) -> None:
    """``substeps`` Chipmunk position updates of the first ``n`` (kinematic) bodies: per step
    ``p += (v + v_bias) h`` and ``a += (w + w_bias) h`` with zero biases, as ``cpBodyUpdatePosition``
    computes them (the ``+ 0.0`` is Chipmunk's bias addition, which turns a -0.0 velocity into +0.0)."""
    for _ in range(substeps):
        for r in range(n):
            poses[r, 0] = poses[r, 0] + (velocities[r, 0] + 0.0) * h
            poses[r, 1] = poses[r, 1] + (velocities[r, 1] + 0.0) * h
            poses[r, 2] = poses[r, 2] + (velocities[r, 2] + 0.0) * h


class _Batch:
    """``pymunk.batch``'s body read and write and ``Space.step``, without their per-call Python work.

    ``pymunk.batch.get_space_bodies`` / ``set_space_bodies`` build a ``pmBatchedData`` on every
    call and ``Space.step`` checks new bodies and runs deferred additions, removals and post-step
    callbacks around ``cpSpaceStep``; at a few microseconds per call and Space, that was a third of
    a robot episode's time. Here each Space's descriptors are built once and a tick calls the same
    C functions (``cpSpaceEachBody`` with pymunk's batch iterators, ``cpSpaceStep``): the same
    computation, so the same bits. The first step of each Space goes through ``Space.step`` (its
    body checks); evorobot never adds or removes bodies nor registers callbacks after building.
    """

    def __init__(self, spaces: list[pymunk.Space], counts: list[int], moving: list[int]) -> None:
        from pymunk._chipmunk import ffi, lib

        self._lib, self._spaces, self._first = lib, spaces, True
        self._get = ffi.addressof(lib, "pmSpaceBodyGetIteratorFuncBatched")
        self._set = ffi.addressof(lib, "pmSpaceBodySetIteratorFuncBatched")
        # a row of slack per Space: pymunk grows a pushed array when it comes within two floats of
        # its end, which must never happen to numpy memory
        starts = np.concatenate([[0], np.cumsum(np.asarray(counts) + 1)]).astype(np.int64)
        self._read = np.zeros((int(starts[-1]), 3))
        self._write = np.zeros((int(starts[-1]), 3))  # the static bodies' rows stay zero
        # rows of the moving bodies in the per-Space arrays, in World row order
        self._moving = np.concatenate([np.arange(a, a + m) for a, m in zip(starts[:-1], moving)]).astype(np.int64)
        self._keep: list[object] = []  # buffers and descriptors referenced from C
        self._readers, self._writers, self._float_arrays = [], [], []
        for k, space in enumerate(spaces):
            for arr, fields, out in ((self._read, _POSE, self._readers), (self._write, _VEL, self._writers)):
                buf = pb.Buffer()
                buf.set_float_buf(arr[starts[k] : starts[k + 1]].reshape(-1))
                data = ffi.new("pmBatchedData *")
                data.fields = fields.value
                data.floatArray = buf._float_arr
                data.intArray = buf._int_arr
                self._keep += [buf, data]
                out.append((space._space, data, buf._float_arr))
        self._sizes = [3 * c for c in counts]

    def read(self, poses: FloatArray) -> None:
        """Poses (n_moving, 3) of every moving body, one C iteration per Space."""
        each = self._lib.cpSpaceEachBody
        for (space, data, floats), size in zip(self._readers, self._sizes):
            floats.num = 0
            each(space, self._get, data)
            if floats.num != size:
                raise AssertionError("a Space's body count changed after building")
        poses[:] = self._read[self._moving]

    def write(self, velocities: FloatArray) -> None:
        """Velocities (n_moving, 3) into every moving body, one C iteration per Space."""
        self._write[self._moving] = velocities
        each = self._lib.cpSpaceEachBody
        for space, data, floats in self._writers:
            floats.num = 0
            each(space, self._set, data)

    def step(self, h: float, substeps: int) -> None:
        """``substeps`` steps of ``h`` of every Space."""
        k = 0
        if self._first:  # pymunk's own step checks the bodies added since the last one
            for space in self._spaces:
                space.step(h)
            self._first, k = False, 1
        step = self._lib.cpSpaceStep
        for space, _, _ in self._readers:
            for _ in range(k, substeps):
                step(space, h)
