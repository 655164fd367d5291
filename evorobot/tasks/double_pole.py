"""Double pole balancing (Wieland 1991), with and without velocity inputs.

Description
    Two poles of different lengths hinged side by side on a cart on a 4.8 m track; the network
    pushes the cart to keep both up. The plant is the one of the neuroevolution benchmarks (ESP,
    NEAT, CMA-ES, CoSyNE; constants of Gomez, Schmidhuber & Miikkulainen 2008): cart 1 kg, poles
    0.1 and 0.01 kg with half-lengths 0.5 and 0.05 m, g = 9.8 m/s^2, cart friction 5e-4, hinge
    friction 2e-6, integrated by fourth-order Runge-Kutta in ``substeps`` steps of ``tau`` (2 x
    0.01 s) per action. With ``x`` the cart's position and ``theta_i`` each pole's angle from the
    vertical (the equations of Wieland's rods, written with g > 0)::

        m~_i = m_i (1 - 3/4 cos^2 theta_i)
        F~_i = m_i l_i thetadot_i^2 sin theta_i + 3/4 m_i cos theta_i (mu_p thetadot_i / (m_i l_i) - g sin theta_i)
        xddot = (F - mu_c sgn(xdot) + sum_i F~_i) / (M + sum_i m~_i)
        thetaddot_i = -3 / (4 l_i) (xddot cos theta_i - g sin theta_i + mu_p thetadot_i / (m_i l_i))

    (the reference C code writes ``+ g sin`` with ``GRAVITY = -9.8``; same plant). They are the
    exact equations of motion of two uniform rods on a cart (Lagrange), so without friction and
    force the mechanical energy :func:`energy` is conserved (``tests/test_pole.py``).
Inputs
    With velocities (``velocities = true``, Markovian): ``x / 4.8, xdot / 2, theta_1 / 0.52,
    thetadot_1 / 2, theta_2 / 0.52, thetadot_2 / 2``; without (non-Markovian): ``x / 4.8,
    theta_1 / 0.52, theta_2 / 0.52`` (the scaling of the ESP/CoSyNE code).
Outputs
    One motor output ``o`` in [0, 1]: force ``F = force (2 o - 1)``, within +-10 N.
Fitness
    ``fitness = "steps"``: the number of steps balanced, up to ``steps`` (100,000 for the standard
    Markovian benchmark). ``fitness = "damping"`` (Gruau, Whitley & Pyeatt 1996, for the
    non-Markovian version over ``steps = 1000``): ``0.1 t / steps + 0.9 f2`` with ``t`` the steps
    balanced and ``f2 = 0.75 / sum over the last 100 steps of (|x| + |xdot| + |theta_1| +
    |thetadot_1|)`` when ``t >= 100``, else 0: it rewards balancing without wild oscillation, since
    the network cannot see the velocities. A trial whose network output is not finite has failed
    and scores 0.
Trials
    One trial from the standard start ``start`` (``theta_1`` = 0.07 rad, the rest 0) by default;
    with ``random_start`` > 0, ``trials`` starts drawn uniformly within ``+- random_start`` times
    ``start_scale`` per variable (evorobotpy2's variant).
Termination
    ``|x| > 2.4`` m or ``|theta_i| > 36`` deg, or ``steps`` steps.
Held-out test
    Gomez et al.'s generalisation test (after Gruau et al. 1996; ``generalisation = true``): the
    625 starts with ``x, xdot, theta_1, thetadot_1`` each at 0.05, 0.25, 0.5, 0.75 and 0.95 of
    their ranges (+-2.16 m, +-1.35 m/s, +-3.6 deg, +-8.6 deg/s; pole 2 at rest), balanced for 1000
    steps each; the score is how many succeed (a solution needs >= 200). :meth:`solution_test`
    gives the 100,000-step trial from the standard start that a solution must also pass.
References
    Wieland, A.P. (1991) Evolving neural network controllers for unstable systems. IJCNN.
    Gruau, F., Whitley, D. & Pyeatt, L. (1996) A comparison between cellular encoding and direct
    encoding for genetic neural networks. GP 1996. Gomez, F., Schmidhuber, J. & Miikkulainen, R.
    (2008) Accelerated neural evolution through cooperatively coevolved synapses. JMLR 9:937-965
    (section 5.3, appendices A and B; Tables 3 and 4). The generalisation grid and its pass mark
    are those of the NEAT benchmark code (Stanley & Miikkulainen 2002), which the paper follows.
    Adapted: the paper starts pole 1 at 4 deg, its benchmark code at 0.07 rad (4.01 deg), used
    here; the cart friction ``mu_c sgn(xdot)`` of the paper's equations is kept (the NEAT and
    evorobotpy2 code leave it out: ``cart_friction = 0``); the paper's least force of
    +-10/256 N is not imposed.
Version
    1
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit

from evorobot._types import BoolArray, FloatArray
from evorobot.agent import AgentSpec
from evorobot.errors import ConfigError
from evorobot.spec import Floats, setting
from evorobot.tasks.base import DynamicsTask, Scores, TaskIO

__all__ = ["DoublePole", "DoublePoleSpec", "derivatives", "energy", "rk4_step"]

STATE = ("x", "x_dot", "theta1", "theta1_dot", "theta2", "theta2_dot")
SCALE = np.array([4.8, 2.0, 0.52, 2.0, 0.52, 2.0])
"""Input scaling of the benchmark code (x / 4.8, velocities / 2, angles / 0.52)."""
GENERALISATION_RANGES = (2.16, 1.35, math.radians(3.6), math.radians(8.6))
GENERALISATION_FRACTIONS = (0.05, 0.25, 0.5, 0.75, 0.95)
DAMPING_WINDOW = 100
GENERALISATION_STEPS = 1000
SOLUTION_STEPS = 100_000


@dataclass(frozen=True)
class DoublePoleSpec:
    """``[task]`` settings of the double pole (defaults: Gomez et al. 2008, with velocities)."""

    velocities: bool = setting(True, doc="inputs include the velocities (Markovian) or not")
    fitness: str = setting("steps", choices=("steps", "damping"), doc="steps balanced, or Gruau's damping fitness")
    steps: int = setting(100_000, ge=1, doc="steps of an evaluation trial")
    start: Floats = setting((0.0, 0.0, 0.07, 0.0, 0.0, 0.0),
                            doc="start state x, x_dot, theta1, theta1_dot, theta2, theta2_dot (m, rad)")
    random_start: float = setting(0.0, ge=0, doc="> 0: random starts uniform in +- random_start * start_scale")
    start_scale: Floats = setting((1.944, 1.215, 0.10472, 0.135088, 0.10472, 0.135088),
                                  doc="per-variable scale of the random starts")
    trials: int = setting(1, ge=1, doc="random starts per individual and generation (random_start > 0)")
    generalisation: bool = setting(True, doc="held-out test: Gomez et al.'s 625 starts for 1000 steps")
    gravity: float = setting(9.8, gt=0, doc="m/s^2")
    cart_mass: float = setting(1.0, gt=0, doc="kg")
    pole_mass: Floats = setting((0.1, 0.01), doc="kg, pole 1 then pole 2")
    half_length: Floats = setting((0.5, 0.05), doc="m, pole 1 then pole 2")
    cart_friction: float = setting(5e-4, ge=0, doc="mu_c")
    pole_friction: float = setting(2e-6, ge=0, doc="mu_p (hinges)")
    force: float = setting(10.0, ge=0, doc="largest push (N)")
    tau: float = setting(0.01, gt=0, doc="Runge-Kutta step (s)")
    substeps: int = setting(2, ge=1, doc="Runge-Kutta steps per action")
    x_limit: float = setting(2.4, gt=0, doc="failure when |x| exceeds it (m)")
    angle_limit_deg: float = setting(36.0, gt=0, le=90, doc="failure when a |theta_i| exceeds it (degrees)")


class DoublePoleState(NamedTuple):
    """Every trial's plant state and step limit."""

    s: FloatArray  # (W, 6)
    limit: FloatArray  # (W,) steps of the trial


@njit(cache=True)
def derivatives(s: FloatArray, force: float, p: FloatArray, out: FloatArray) -> None:
    """``out`` (6,) = ds/dt of state ``s`` (6,) under ``force``.

    ``p`` = (g, cart mass, m1, m2, l1, l2, mu_c, mu_p), ``l_i`` the half-lengths.
    """
    g, big_m, mu_c, mu_p = p[0], p[1], p[6], p[7]
    num = force - (mu_c * (1.0 if s[1] > 0 else (-1.0 if s[1] < 0 else 0.0)))
    den = big_m
    for i in range(2):
        m, ll = p[2 + i], p[4 + i]
        th, thd = s[2 + 2 * i], s[3 + 2 * i]
        c, sn = math.cos(th), math.sin(th)
        num += m * ll * thd * thd * sn + 0.75 * m * c * (mu_p * thd / (m * ll) - g * sn)
        den += m * (1.0 - 0.75 * c * c)
    xdd = num / den
    out[0] = s[1]
    out[1] = xdd
    for i in range(2):
        m, ll = p[2 + i], p[4 + i]
        th, thd = s[2 + 2 * i], s[3 + 2 * i]
        out[2 + 2 * i] = thd
        out[3 + 2 * i] = -0.75 / ll * (xdd * math.cos(th) - g * math.sin(th) + mu_p * thd / (m * ll))


@njit(cache=True)
def rk4_step(s: FloatArray, force: float, p: FloatArray, h: float, k: FloatArray) -> None:
    """One classical Runge-Kutta step of ``s`` (6,) in place; ``k`` (5, 6) is scratch."""
    derivatives(s, force, p, k[0])
    for j in range(6):
        k[4, j] = s[j] + 0.5 * h * k[0, j]
    derivatives(k[4], force, p, k[1])
    for j in range(6):
        k[4, j] = s[j] + 0.5 * h * k[1, j]
    derivatives(k[4], force, p, k[2])
    for j in range(6):
        k[4, j] = s[j] + h * k[2, j]
    derivatives(k[4], force, p, k[3])
    for j in range(6):
        s[j] += h / 6.0 * (k[0, j] + 2.0 * k[1, j] + 2.0 * k[2, j] + k[3, j])


def energy(s: FloatArray, p: FloatArray) -> float:
    """Mechanical energy of state ``s`` (6,): the cart's and the two rods' kinetic energy plus the
    rods' potential energy (conserved without friction and force)."""
    g, big_m = p[0], p[1]
    xd = s[1]
    e = 0.5 * big_m * xd * xd
    for i in range(2):
        m, ll = p[2 + i], p[4 + i]
        th, thd = s[2 + 2 * i], s[3 + 2 * i]
        e += 0.5 * m * xd * xd + m * xd * ll * thd * math.cos(th) + 2.0 / 3.0 * m * ll * ll * thd * thd
        e += m * g * ll * math.cos(th)
    return float(e)


@njit(cache=True)
def _observe(s: FloatArray, which: np.ndarray, scale: FloatArray, inputs: FloatArray) -> None:
    for w in range(s.shape[0]):
        for k in range(which.shape[0]):
            inputs[w, k] = s[w, which[k]] / scale[k]


@njit(cache=True)
def _advance(s: FloatArray, limit: FloatArray, outputs: FloatArray, p: FloatArray,
             force_mag: float, h: float, substeps: int, x_limit: float, angle_limit: float,
             done: BoolArray, failed: BoolArray, values: FloatArray) -> None:
    """Act and integrate every live trial; ``values[:, 0]`` counts the steps balanced and
    ``values[:, 1:]`` is a ring of the last steps' ``|x| + |xdot| + |theta1| + |theta1dot|``."""
    k = np.empty((5, 6))
    window = values.shape[1] - 1
    for w in range(s.shape[0]):
        if done[w] or failed[w]:
            continue
        o = outputs[w, 0]
        if not np.isfinite(o):
            failed[w] = True
            continue
        force = force_mag * (2.0 * min(max(o, 0.0), 1.0) - 1.0)
        for _ in range(substeps):
            rk4_step(s[w], force, p, h, k)
        x, t1, t2 = s[w, 0], s[w, 2], s[w, 4]
        if abs(x) > x_limit or abs(t1) > angle_limit or abs(t2) > angle_limit or not np.isfinite(x + t1 + t2):
            done[w] = True
            continue
        t = int(values[w, 0])
        values[w, 1 + t % window] = abs(x) + abs(s[w, 1]) + abs(t1) + abs(s[w, 3])
        values[w, 0] = t + 1
        if values[w, 0] >= limit[w]:
            done[w] = True


class DoublePole(DynamicsTask):
    """Wieland's double pole (see the module docstring)."""

    name = "double_pole"
    Spec = DoublePoleSpec
    condition_names = (*STATE, "steps")
    held_out_metric = "generalisation"

    def __init__(self, spec: DoublePoleSpec, agent: AgentSpec | None, dt: float, where: str) -> None:
        super().__init__(spec, agent, dt, where)
        for key in ("start", "start_scale"):
            if len(getattr(spec, key)) != 6:
                raise ConfigError(f"{where}: `{key}` needs the 6 state variables {', '.join(STATE)}, "
                                  f"got {len(getattr(spec, key))}")
        for key in ("pole_mass", "half_length"):
            vals = getattr(spec, key)
            if len(vals) != 2 or min(vals) <= 0:
                raise ConfigError(f"{where}: `{key}` needs two positive values (pole 1, pole 2), got {list(vals)}")
        if spec.fitness == "damping" and spec.steps < DAMPING_WINDOW:
            raise ConfigError(f"{where}: the damping fitness needs `steps` >= {DAMPING_WINDOW}, got {spec.steps}")
        if abs(dt - spec.tau * spec.substeps) > 1e-12 * dt:
            raise ConfigError(f"{where}: [simulation] `dt` = {dt:g} must be one action's time, "
                              f"`substeps` x `tau` = {spec.substeps * spec.tau:g}")
        self.params = np.array([spec.gravity, spec.cart_mass, *spec.pole_mass, *spec.half_length,
                                spec.cart_friction, spec.pole_friction])
        self.angle_limit = math.radians(spec.angle_limit_deg)
        self.which = np.arange(6) if spec.velocities else np.array([0, 2, 4])
        self._scale = np.ascontiguousarray(SCALE[self.which])

    @property
    def interface(self) -> TaskIO:
        return TaskIO(tuple(STATE[i] for i in self.which), ("force",))

    @property
    def n_trials(self) -> int:
        return self.spec.trials if self.spec.random_start > 0 else 1

    @property
    def max_steps(self) -> int:
        """Bound on any trial: evaluation, generalisation (1000) and solution test (100,000) trials
        each end at the step count in their conditions row."""
        return max(self.spec.steps, GENERALISATION_STEPS, SOLUTION_STEPS)

    def conditions(self, rng: np.random.Generator) -> FloatArray:
        if self.spec.random_start > 0:
            r = self.spec.random_start * np.array(self.spec.start_scale)
            starts = rng.uniform(-r, r, size=(self.spec.trials, 6))
        else:
            starts = np.array([self.spec.start])
        return np.column_stack([starts, np.full(len(starts), float(self.spec.steps))])

    def held_out_conditions(self) -> FloatArray | None:
        """Gomez et al.'s 625 generalisation starts, 1000 steps each (None when switched off)."""
        if not self.spec.generalisation:
            return None
        levels = [[(2 * f - 1) * r for f in GENERALISATION_FRACTIONS] for r in GENERALISATION_RANGES]
        grid = np.array(np.meshgrid(*levels, indexing="ij")).reshape(4, -1).T
        rows = np.zeros((grid.shape[0], 7))
        rows[:, :4], rows[:, 6] = grid, float(GENERALISATION_STEPS)
        return rows

    def held_out_score(self, scores: Scores, conditions: FloatArray) -> float:
        """How many of the generalisation starts were balanced for their whole trial."""
        return float(np.sum(~scores.failed & (scores.values[:, 0] >= conditions[:, 6])))

    def solution_test(self) -> FloatArray:
        """The trial a solution must pass besides generalisation: 100,000 steps from ``start``."""
        return np.array([[*self.spec.start, float(SOLUTION_STEPS)]])

    def new_state(self, conditions: FloatArray) -> DoublePoleState:
        s = np.ascontiguousarray(conditions[:, :6], dtype=np.float64).copy()
        return DoublePoleState(s, np.ascontiguousarray(conditions[:, 6], dtype=np.float64))

    def new_scores(self, n: int) -> Scores:
        """Steps balanced, then the damping fitness's ring of the last 100 steps' motion."""
        return Scores(np.zeros(n, dtype=np.bool_), np.zeros(n, dtype=np.bool_), np.zeros((n, 1 + DAMPING_WINDOW)))

    def observe(self, state: DoublePoleState, step: int, inputs: FloatArray) -> None:
        _observe(state.s, self.which, self._scale, inputs)

    def advance(self, state: DoublePoleState, outputs: FloatArray, step: int, scores: Scores) -> None:
        _advance(state.s, state.limit, outputs, self.params, self.spec.force, self.spec.tau,
                 self.spec.substeps, self.spec.x_limit, self.angle_limit, scores.done, scores.failed, scores.values)

    def fitness(self, scores: Scores, conditions: FloatArray) -> FloatArray:
        t = scores.values[:, 0]
        if self.spec.fitness == "steps":
            fit = t.copy()
        else:
            total = scores.values[:, 1:].sum(axis=1)  # the last min(t, 100) steps
            f2 = np.where((t >= DAMPING_WINDOW) & (total > 0), 0.75 / np.where(total > 0, total, 1.0), 0.0)
            fit = 0.1 * t / conditions[:, 6] + 0.9 * f2
        return np.where(scores.failed, self.worst, fit)

    def trace(self, frame: DoublePoleState) -> dict[str, FloatArray]:
        return {name: frame.s[:, k] for k, name in enumerate(STATE)}
