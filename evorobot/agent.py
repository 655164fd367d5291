"""Robot bodies as data: the tables of an ``agents/*.toml`` file.

An agent file has a ``[body]`` (shape, size, mass), a ``[motor]`` (how motor-neuron outputs
become velocities) and any of the sensor tables ``[eye]`` (Beer's fan of distance rays), ``[ir]``
(infrared proximity sensors), ``[light]`` (light sensors), ``[bumper]`` (contact sectors) and
``[camera]`` (a 1-D grey-level retina, optionally read through evolved receptive fields). A
sensor table that is absent is no sensor. A world file names the agent file and may override any
key in sub-tables ``[agent.body]``, ``[agent.eye]``, ... (which also adds a sensor).

The network's inputs are the sensors' values in the fixed order eye, ir, light, bumper, camera,
each in its own order (:meth:`AgentSpec.input_layout` names them).

The defaults of ``[body]``, ``[eye]`` and ``[motor]`` are Beer's visually guided agent (Beer 1996;
Beer 2003): a circle of diameter 30 with seven rays over π/6 around the vertical, range 220,
moving horizontally only. The robot files (``agents/khepera.toml``, ``agents/epuck.toml``) use
centimetres and seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from evorobot._types import FloatArray
from evorobot.errors import ConfigError
from evorobot.spec import Floats, setting


@dataclass(frozen=True)
class BodySpec:
    """``[body]``: the agent's physical shape."""

    shape: str = setting("circle", choices=("circle",), doc="body shape")
    radius: float = setting(15.0, gt=0, doc="body radius (Beer: diameter 30)")
    mass: float = setting(1.0, gt=0, doc="mass of a robot's dynamic body (differential motor only)")


@dataclass(frozen=True)
class EyeSpec:
    """``[eye]``: a fan of distance rays starting on the body's perimeter (Beer 1996)."""

    rays: int = setting(7, ge=1, doc="number of rays, spread evenly over the field of view")
    fov_deg: float = setting(30.0, ge=0, le=360, doc="angle between the outermost rays (degrees)")
    axis_deg: float = setting(90.0, doc="direction of the eye's axis from the body's heading (degrees)")
    range: float = setting(220.0, gt=0, doc="maximum ray length, measured from the perimeter")
    gain: float = setting(10.0, gt=0, doc="input = gain * (range - d) / range")
    exact_axes: bool = setting(False, doc="ray directions at multiples of 90 degrees from the heading get exact "
                               "cosines and sines (0, +-1) and rays symmetric about the axis exactly mirrored "
                               "cosines and sines; false: cos/sin of the angle in radians (cos(pi/2) = 6e-17)")
    midpoint_edges: bool = setting(False, doc="test polygon and segment edges from their midpoints: exactly "
                                   "mirror-invariant (a mirrored object reads mirrored distances bit for bit); "
                                   "false: from their first vertex, as every champion was run")
    inside: str = setting("zero", choices=("zero", "far_side"),
                          doc="what a ray starting inside a circle or polygon reads: 0, or the distance along "
                              "the ray to where it leaves the shape (after Izquierdo's VisuallyGuidedAgent)")

    def directions(self) -> tuple[FloatArray, FloatArray] | None:
        """Exact ``(cos, sin)`` of :meth:`angles` when ``exact_axes``, else None (computed in the kernel).

        Each ray is the axis turned by its offset ``d``; the axis and the offset each get an exact
        unit vector at multiples of 90 degrees, and ``sin(-d) = -sin(d)`` exactly.
        """
        if not self.exact_axes:
            return None
        ac, as_ = _unit(self.axis_deg)
        n = self.rays
        offsets = [0.0] if n == 1 else [self.fov_deg * (n - 1 - 2 * i) / (2 * (n - 1)) for i in range(n)]
        units = [_unit(d) for d in offsets]
        cos = np.array([ac * c - as_ * s for c, s in units])
        sin = np.array([as_ * c + ac * s for c, s in units])
        return cos, sin

    def angles(self) -> FloatArray:
        """Ray directions relative to the heading, ordered from the agent's left to its right."""
        axis, fov = math.radians(self.axis_deg), math.radians(self.fov_deg)
        if self.rays == 1:
            return np.array([axis])
        # counter-clockwise is positive, so the leftmost ray has the largest angle
        return axis + fov / 2 - np.arange(self.rays) * fov / (self.rays - 1)


def _unit(deg: float) -> tuple[float, float]:
    """``(cos, sin)`` of an angle in degrees: exact at multiples of 90, odd in the angle."""
    if deg % 90.0 == 0.0:
        quarter = int(deg // 90.0) % 4
        return ((1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0))[quarter]
    a = math.radians(abs(deg))
    return math.cos(a), math.copysign(math.sin(a), deg)


class _Directions:
    """Sensor tables with an ``angles_deg`` list."""

    angles_deg: tuple[float, ...]

    def angles(self) -> FloatArray:
        """The sensor directions in radians, from the heading, counter-clockwise."""
        return np.radians(np.array(self.angles_deg, dtype=np.float64))


@dataclass(frozen=True)
class IRSpec(_Directions):
    """``[ir]``: infrared proximity sensors on the body's perimeter.

    Value ``exp(-d / decay)`` for an obstacle at distance ``d < range`` from the perimeter, else 0,
    plus uniform noise in ``[-noise, noise]``, clipped to [0, 1] (the Khepera's response as
    modelled by Enki and evorobot: about ``exp(-d / 2.5 cm)``, ~10 cm range, a few % noise).
    A sensor is one ray along its direction, or with ``rays`` > 1 a fan of rays over
    ``aperture_deg`` whose nearest hit is the distance ``d`` (Enki's IR sensors sample a cone the
    same way; a single ray misses a small robot a few degrees off its axis).
    """

    angles_deg: Floats = setting((90.0, 45.0, 10.0, -10.0, -45.0, -90.0, 170.0, -170.0),
                                 doc="sensor directions from the heading (degrees, counter-clockwise)")
    range: float = setting(10.0, gt=0, doc="maximum sensing distance from the perimeter")
    decay: float = setting(2.5, gt=0, doc="response exp(-d / decay)")
    noise: float = setting(0.03, ge=0, le=1, doc="uniform noise amplitude added to each reading")
    rays: int = setting(1, ge=1, doc="rays per sensor, spread evenly over its aperture; the nearest hit counts")
    aperture_deg: float = setting(0.0, ge=0, le=170, doc="angle between a sensor's outermost rays (degrees)")

    def validate(self, where: str) -> None:
        if self.rays > 1 and self.aperture_deg == 0:
            raise ConfigError(f"{where}: `rays` = {self.rays} needs an `aperture_deg` > 0 to spread them over")

    def ray_angles(self) -> FloatArray:
        """Directions of every ray (sensor after sensor, ``rays`` each, right to left), radians."""
        spread = np.linspace(-0.5, 0.5, self.rays) * self.aperture_deg if self.rays > 1 else np.zeros(1)
        return np.radians((np.array(self.angles_deg)[:, None] + spread[None, :]).reshape(-1))


@dataclass(frozen=True)
class LightSpec(_Directions):
    """``[light]``: light sensors on the perimeter reading the point lights of the world.

    Each sensor adds, over the lights it can see, ``intensity * f(d) * cos(a)`` where ``a`` is the
    angle between the sensor's axis and the light (0 beyond half the aperture) and ``f`` the
    falloff with the distance ``d`` from the sensor: ``inverse_square`` ``(r0 / max(d, r0))^2``
    or ``linear`` ``1 / (1 + d / r0)``. A light hidden behind any shape contributes nothing. The
    sum plus uniform noise in ``[-noise, noise]`` is clipped to [0, 1].
    """

    angles_deg: Floats = setting((45.0, -45.0), doc="sensor axes from the heading (degrees)")
    aperture_deg: float = setting(180.0, gt=0, le=360, doc="full angle of each sensor's field of view")
    falloff: str = setting("linear", choices=("linear", "inverse_square"), doc="distance law")
    r0: float = setting(20.0, gt=0, doc="reference distance of the falloff")
    noise: float = setting(0.0, ge=0, le=1, doc="uniform noise amplitude added to each reading")


@dataclass(frozen=True)
class BumperSpec:
    """``[bumper]``: ``sectors`` equal contact sectors around the body (the first centred on the
    heading, then counter-clockwise); a sector reads 1 while a shape lies within ``margin`` of
    the perimeter in its direction."""

    sectors: int = setting(4, ge=1, doc="number of contact sectors")
    margin: float = setting(0.25, ge=0, doc="distance from the perimeter that counts as contact")


@dataclass(frozen=True)
class CameraSpec:
    """``[camera]``: a 1-D retina of ``pixels`` rays from the perimeter (after Harvey, Husbands &
    Cliff 1994, adapted from their 2-D camera image to a horizontal line of pixels).

    Pixel ``k`` (left to right) looks along the centre of its ``fov_deg / pixels`` slice of the field
    of view, ``axis_deg + fov_deg / 2 - (k + 1/2) fov_deg / pixels`` from the heading. It reads the
    ``brightness`` of the first visible shape its ray hits within ``range``, times the Lambertian
    shading ``max(0, -u . n)`` (``u`` the ray, ``n`` the outward normal where it hits: radial on a
    circle, the edge's normal on a polygon, the normal facing the ray on a segment); a ray that
    hits nothing sees the black background, 0; a ray starting inside a shape reads its brightness.

    With ``fields = F > 0`` the network sees ``F`` evolved receptive fields instead of the pixels:
    each is a window (centre ``c``, width ``w``, in pixels along the retina ``[0, pixels]``) whose
    value is the mean of the pixels whose centres ``k + 1/2`` lie in ``[c - w/2, c + w/2]`` (the
    nearest pixel when none does). Its two genes follow the controller's in the genome; in [-1, 1]
    they map linearly to ``c`` over ``[0, pixels]`` and ``w`` over ``[min_width, max_width]``
    (:mod:`evorobot.sim.camera`). Uniform noise in ``[-noise, noise]`` is added to each input, then
    clipped to [0, 1].
    """

    pixels: int = setting(32, ge=1, doc="rays (pixels) of the retina")
    fov_deg: float = setting(60.0, gt=0, le=360, doc="field of view (degrees)")
    axis_deg: float = setting(0.0, doc="direction of the camera's axis from the heading (degrees)")
    range: float = setting(150.0, gt=0, doc="maximum ray length from the perimeter")
    fields: int = setting(0, ge=0, doc="evolved receptive fields (0: the raw pixels are the inputs)")
    min_width: float = setting(1.0, gt=0, doc="narrowest receptive field (pixels)")
    max_width: float = setting(0.0, ge=0, doc="widest receptive field (pixels; 0: the whole retina)")
    noise: float = setting(0.0, ge=0, le=1, doc="uniform noise amplitude added to each input")

    def angles(self) -> FloatArray:
        """Pixel directions relative to the heading, from the robot's left to its right."""
        axis, fov = math.radians(self.axis_deg), math.radians(self.fov_deg)
        return axis + fov / 2 - (np.arange(self.pixels) + 0.5) * fov / self.pixels

    @property
    def widest(self) -> float:
        return self.max_width if self.max_width > 0 else float(self.pixels)

    @property
    def n_inputs(self) -> int:
        return self.fields if self.fields else self.pixels


@dataclass(frozen=True)
class MotorSpec:
    """``[motor]``: how the two motor outputs move the body.

    - ``horizontal``: Beer's motor, ``vx = gain * (o_left - o_right)``, a kinematic body;
    - ``differential``: two wheels, ``v_wheel = max_speed * (2 o - 1)`` (an output of 0.5 stops
      the wheel), forward speed ``(v_l + v_r) / 2`` and turning rate ``(v_r - v_l) / wheel_distance``,
      given to a dynamic body every tick so that pymunk resolves collisions.
    """

    type: str = setting("horizontal", choices=("horizontal", "differential"), doc="motor model")
    gain: float = setting(5.0, gt=0, doc="horizontal: velocity gain of the motor-neuron difference")
    wheel_distance: float = setting(5.3, gt=0, doc="differential: distance between the wheels")
    max_speed: float = setting(14.4, gt=0, doc="differential: maximum wheel speed")

    @property
    def n_outputs(self) -> int:
        return 2


@dataclass(frozen=True)
class AgentSpec:
    """A resolved agent: body, eye and motor."""

    body: BodySpec
    eye: EyeSpec | None
    motor: MotorSpec
    ir: IRSpec | None = None
    light: LightSpec | None = None
    bumper: BumperSpec | None = None
    camera: CameraSpec | None = None

    @property
    def sensor_counts(self) -> dict[str, int]:
        """Inputs contributed by each present sensor, in input order."""
        counts = {"eye": self.eye.rays if self.eye else 0, "ir": len(self.ir.angles_deg) if self.ir else 0,
                  "light": len(self.light.angles_deg) if self.light else 0,
                  "bumper": self.bumper.sectors if self.bumper else 0,
                  "camera": self.camera.n_inputs if self.camera else 0}
        return {k: n for k, n in counts.items() if n}

    @property
    def n_inputs(self) -> int:
        return sum(self.sensor_counts.values())

    @property
    def n_outputs(self) -> int:
        return self.motor.n_outputs

    @property
    def is_robot(self) -> bool:
        """A differential-drive robot (dynamic body, robot sensors) rather than Beer's agent."""
        return self.motor.type == "differential"

    def input_layout(self) -> list[tuple[str, float]]:
        """``(sensor kind, direction from the heading in radians)`` of every input, in order."""
        out: list[tuple[str, float]] = []
        if self.eye:
            out += [("eye", float(a)) for a in self.eye.angles()]
        if self.ir:
            out += [("ir", float(a)) for a in self.ir.angles()]
        if self.light:
            out += [("light", float(a)) for a in self.light.angles()]
        if self.bumper:
            out += [("bumper", 2 * math.pi * k / self.bumper.sectors) for k in range(self.bumper.sectors)]
        if self.camera and self.camera.fields:  # evolved windows: where they look is in the genome
            out += [("camera", math.radians(self.camera.axis_deg))] * self.camera.fields
        elif self.camera:
            out += [("camera", float(a)) for a in self.camera.angles()]
        return out

    def validate(self, where: str) -> None:
        if self.n_inputs == 0:
            raise ConfigError(f"{where}: the agent has no sensor (add [eye], [ir], [light], [bumper] or [camera])")
        if self.motor.type == "horizontal" and (self.ir or self.light or self.bumper or self.camera or not self.eye):
            raise ConfigError(f"{where}: the horizontal motor (Beer's agent) takes an [eye] and no robot sensors")
        if self.is_robot and self.eye:
            raise ConfigError(f"{where}: [eye] is Beer's agent's sensor; a differential robot uses [ir]/[light]/[bumper]/[camera]")
        cam = self.camera
        if cam and cam.fields and not cam.min_width <= cam.widest <= cam.pixels:
            raise ConfigError(f"{where}: [camera] needs min_width <= max_width <= pixels, got "
                              f"{cam.min_width:g}, {cam.widest:g}, {cam.pixels}")


AGENT_TABLES: dict[str, type] = {"body": BodySpec, "eye": EyeSpec, "motor": MotorSpec, "ir": IRSpec,
                                 "light": LightSpec, "bumper": BumperSpec, "camera": CameraSpec}
"""Every agent table; the sensor tables are optional (absent: no such sensor)."""

OPTIONAL_TABLES = ("eye", "ir", "light", "bumper", "camera")
