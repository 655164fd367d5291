"""THE step loop: sense -> think -> act -> physics -> score, for a whole batch of trials.

For a body task (:class:`~evorobot.tasks.base.BodyTask`), an :class:`Episode` holds every trial of
a few individuals: one pymunk Space per individual, one
trial world per (individual, trial), ``w = individual * n_trials + trial``, holding the task's
team of ``n_robots`` agents (1 but for cooperative tasks): agent ``b = w * n_robots + k``, each
running its own copy of the individual's network (clonal teams, Quinn 2001). Each
:meth:`Episode.tick` makes exactly one call per stage for the whole batch (one numba kernel each
for sensing, the controller, the motors and the score; one ``pymunk.batch`` call per Space to
read and write bodies). The Python loop runs over time only.

For a task that brings its own dynamics (:class:`~evorobot.tasks.base.DynamicsTask`: a pole on a
cart, a sequence data set) the loop is the same with the task's kernels in place of the body:
``observe`` senses, the controller thinks, ``advance`` acts, integrates the plant (or presents the
next element) and scores, each one call for the whole batch. Trial world ``w`` is agent ``w``.

Evolution, ``evorobot replay`` (and its ``--trace``) and the viewer all drive this same loop; they
observe it, they never re-implement it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import numpy as np
from numba import njit

from evorobot._types import BoolArray, FloatArray
from evorobot.setup import Setup
from evorobot.sim import fan, motors, rays
from evorobot.sim.sensors import RobotSensors, draw_noise
from evorobot.sim.world import World, collector_paused
from evorobot.tasks.base import BodyTask, DynamicsTask, Frame
from evorobot.tasks.sequence import SequenceTask


class EpisodeResult(NamedTuple):
    """Per-trial outcome of every individual of an episode."""

    fitness: FloatArray  # (n_individuals, n_trials)
    failed: BoolArray  # (n_individuals, n_trials)
    steps: int


class Episode:
    """All trials of ``genomes`` (n, G) under ``conditions`` (T, k), ready to tick.

    ``conditions`` of shape (n, T, k) gives each individual its own T trials (the Gymnasium vector
    environment, :mod:`evorobot.gym.vector`, runs one trial per individual, each drawn by its own
    environment); (T, k) is every individual's same trials, as evolution compares them.
    """

    def __init__(self, setup: Setup, genomes: FloatArray, conditions: FloatArray) -> None:
        genomes = np.ascontiguousarray(genomes, dtype=np.float64)
        if genomes.ndim != 2 or genomes.shape[1] != setup.genome_size:
            raise ValueError(f"genomes must have shape (n, {setup.genome_size}), got {genomes.shape}")
        self.setup = setup
        self.task, self.controller = setup.task, setup.controller
        self.dt = setup.experiment.simulation.dt
        self.substeps = setup.experiment.simulation.substeps
        self.placement = setup.experiment.simulation.placement
        self.project_contacts = setup.experiment.simulation.project_contacts
        self.n_individuals = genomes.shape[0]
        self.max_steps = self.task.max_steps  # ticks after which every trial has ended
        shared = conditions.ndim == 2
        if not shared and conditions.shape[0] != self.n_individuals:
            raise ValueError(f"conditions (n, T, k) must have n = {self.n_individuals}, got {conditions.shape}")
        per_individual = np.broadcast_to(conditions, (self.n_individuals, *conditions.shape[-2:]))
        self.n_trials = per_individual.shape[1]
        self.n_robots = self.task.n_robots
        self.conditions = np.ascontiguousarray(per_individual.reshape(-1, per_individual.shape[2]))
        # clonal teams: every robot of every trial runs its own copy of the individual's network
        per_agent = np.repeat(genomes, self.n_trials * self.n_robots, axis=0)
        self.params = self.controller.decode(per_agent[:, : self.controller.genome_size])
        if isinstance(self.task, DynamicsTask):
            self.plant_task: DynamicsTask | None = self.task
            self.n_inputs = self.task.interface.n_inputs
            self.n_outputs = self.task.interface.n_outputs
        else:
            self.plant_task = None
            self._init_bodies(setup, self.task, per_agent, per_individual, shared)
        self.reset()

    def _init_bodies(self, setup: Setup, task: BodyTask, per_agent: FloatArray, conditions: FloatArray,
                     shared: bool) -> None:
        self.body_task = task
        self.agent = task.agent
        self.n_inputs, self.n_outputs = self.agent.n_inputs, self.agent.n_outputs
        self.morphology = setup.decode_morphology(per_agent)
        self.robots = RobotSensors(self.agent, self.morphology) if self.agent.is_robot else None
        eye = self.agent.eye
        self._angles = np.ascontiguousarray(eye.angles() if eye else np.zeros(0), dtype=np.float64)
        self._directions = eye.directions() if eye else None  # exact (cos, sin) ([agent.eye] exact_axes)
        self._hide = task.update_visibility if task.hides_objects else None
        # optional task hook: set its kinematic objects' velocities (n_bodies, 3) each tick, one numba call
        self._steer = task.steer_objects if task.steers_objects else None
        with collector_paused():  # tens of thousands of long-lived objects, no cycles
            self._build(conditions)
        self._eye: Callable[[FloatArray, FloatArray, FloatArray], None] | None = None
        if eye is not None and self.robots is None:  # agents alone with a circle vectorised, the rest generic
            eye_args = (self.geometry, self.agent_body, self.agent_world, self._angles, self.agent.body.radius,
                        eye.range, eye.gain, self._directions, eye.inside == "far_side", eye.midpoint_edges)
            self._eye = fan.CircleFanEye.build(*eye_args) or rays.EyeCaster(*eye_args)
        # each robot's row in the noise table: (trial, robot within the team); shared trials share rows
        noise_rows = conditions[0] if shared else self.conditions
        repeats = self.n_individuals if shared else 1
        self.agent_trial = np.tile(np.arange(noise_rows.shape[0] * self.n_robots, dtype=np.int64), repeats)
        n_in = self.agent.n_inputs
        if self.robots is not None and self.robots.noisy:
            self.noise = draw_noise(task.noise_seeds(noise_rows), task.max_steps, n_in, self.n_robots)
        else:
            self.noise = np.zeros((noise_rows.shape[0] * self.n_robots, 0, n_in))

    def _build(self, conditions: FloatArray) -> None:
        """One Space per individual holding its trial worlds; ``conditions`` (n, T, k)."""
        world = World()
        rows, objects, origins = [], [], []
        radius = self.agent.body.radius
        own_space = self.placement == "per_trial"  # [simulation] placement: a Space per trial
        for trials in conditions:
            space = world.new_space()
            for k, cond in enumerate(trials):
                if own_space and k > 0:
                    space = world.new_space()
                origins.append(world.new_world(space))
                starts = self.body_task.agent_starts(cond)
                for x, y, heading in starts:
                    if self.agent.is_robot:
                        row = world.add_robot(space, (x, y), heading, radius, self.agent.body.mass)
                    else:
                        row = world.add_body(space, (x, y), angle=heading)
                        world.add_circle(row, radius)
                    rows.append(row)
                objects.append(self.body_task.build(world, space, cond))
        self.world = world
        self.geometry = world.finish()
        self.agent_body = np.array(rows, dtype=np.int64)
        self.team = self.agent_body.reshape(-1, self.n_robots)  # (worlds, robots) body rows
        self.agent_world = np.repeat(np.arange(self.team.shape[0], dtype=np.int64), self.n_robots)
        self.origins = np.array(origins, dtype=np.float64).reshape(-1, 2)
        self._origin_x = np.ascontiguousarray(self.origins[:, 0])  # the horizontal motor's, once
        width = max((len(o) for o in objects), default=0)
        self.objects = np.full((len(origins), max(width, 1)), -1, dtype=np.int64)
        for b, objs in enumerate(objects):
            self.objects[b, : len(objs)] = objs
        self._initial = [(tuple(body.position), body.angle, tuple(body.velocity)) for body in world.bodies]
        self._initial_velocities = np.zeros((world.n_bodies, 3))
        self._initial_velocities[: len(world.bodies), :2] = [v for _, _, v in self._initial]

    @property
    def n_agents(self) -> int:
        """Robots (or agents) in the batch: worlds x team size."""
        return self.n_worlds * self.n_robots

    @property
    def n_worlds(self) -> int:
        """Trial worlds in the batch: individuals x trials (scores and fitness are per world)."""
        return self.conditions.shape[0]

    def reset(self) -> None:
        """Put every trial back at its start and reset controller state and scores."""
        n = self.n_agents
        self.inputs = np.zeros((n, self.n_inputs))
        self.outputs = np.zeros((n, self.n_outputs))
        self.state = self.controller.init_state(self.params)
        self.scores = self.task.new_scores(self.n_worlds)
        self.step_count = 0
        if self.plant_task is not None:
            self.plant = self.plant_task.new_state(self.conditions)
            self.frame: Any = self.plant  # what the task's trace reads
            if self.controller.offline:  # contract item 12; setup.build allows it on sequence tasks only
                assert isinstance(self.plant_task, SequenceTask)
                inputs, lengths = self.plant_task.whole_sequences(self.plant)
                self.state = self.controller.begin_sequences(self.params, self.state, inputs, lengths)
        else:
            self._reset_bodies()

    def _reset_bodies(self) -> None:
        for body, (pos, angle, vel) in zip(self.world.bodies, self._initial):
            body.position, body.angle, body.velocity = pos, angle, vel
            body.angular_velocity = 0.0
        self.world.pull()
        nb, n = self.world.n_bodies, self.n_agents
        shared = self.world.kinematic_arrays()
        if shared is not None:  # the kinematic kernel's own arrays: no copies per tick
            self.poses, self.velocities = shared
            self.velocities[:] = self._initial_velocities
        else:
            self.poses = np.empty((nb, 3))
            self.velocities = self._initial_velocities.copy()
        if self.robots is not None:  # IR distances, nothing seen yet
            self.distances = np.full((n, self.robots.n_ir_rays), self.robots.ir_range)
        else:  # eye rays, nothing seen yet
            self.distances = np.full((n, self._angles.shape[0]), self.agent.eye.range)
        self.wheels = np.zeros((n, 2))
        self.frame = Frame(self.poses, self.agent_body, self.agent_world, self.objects, self.origins,
                           self.conditions, self.inputs, self.wheels, self.team)
        self.world.read(self.poses)
        if self._hide is not None:
            self.geometry.visible[:] = True
            self._hide(self.poses, self.agent_body, self.agent_world, self.objects, self.geometry)
        self._bind_motor()

    def _bind_motor(self) -> None:
        """The motor kernel and the task's score with this reset's arrays bound (a tick then makes no
        attribute lookups for them)."""
        motor = self.agent.motor
        if self.robots is not None:
            self._motor = partial(motors.differential, self.outputs, motor.max_speed, motor.wheel_distance,
                                  self.agent_body, self.poses, self.velocities, self.wheels, self.scores.failed)
        else:
            self._motor = partial(motors.horizontal, self.outputs, motor.gain, self.agent_body, self._origin_x,
                                  self.body_task.x_limit, self.dt, self.poses, self.velocities, self.scores.failed)
        self._score = partial(self.body_task.score, self.frame)

    @property
    def time(self) -> float:
        return self.step_count * self.dt

    @property
    def running(self) -> bool:
        """Whether any trial is still going and the step limit is not reached."""
        return self.step_count < self.max_steps and _any_live(self.scores.done, self.scores.failed)

    def tick(self) -> None:
        """Advance every trial by one step (finished trials keep moving but no longer score)."""
        self.sense()
        self.controller.step(self.params, self.state, self.inputs, self.dt, self.outputs)
        self.act()

    def sense(self) -> None:
        """The first stage of a tick: write this tick's ``inputs`` (sensors, or the task's observation)."""
        if self.plant_task is not None:
            self.plant_task.observe(self.plant, self.step_count, self.inputs)
            return
        if self._hide is not None:  # a task that hides objects sets the flags from these poses
            self._hide(self.poses, self.agent_body, self.agent_world, self.objects, self.geometry)
        if self.robots is not None:
            self.robots.sense(self.poses, self.geometry, self.agent_body, self.agent_world, self.agent_trial,
                              self.step_count, self.noise, self.inputs, self.distances)
        elif self._eye is not None:
            self._eye(self.poses, self.distances, self.inputs)

    def act(self) -> None:
        """The rest of a tick, from the motor commands in ``outputs``: motors, physics (or the task's
        dynamics), score, and the tick count. (:meth:`tick` is :meth:`sense`, the controller, this;
        a Gymnasium environment, :mod:`evorobot.gym`, puts the caller's action in between.)"""
        if self.plant_task is not None:
            self.plant_task.advance(self.plant, self.outputs, self.step_count, self.scores)
            self.step_count += 1
            return
        self._motor()
        if self.project_contacts and self.robots is not None:
            g = self.geometry
            motors.project_off_static(self.agent_body, self.agent_world, self.agent.body.radius, self.dt,
                                      self.poses, self.velocities, g.body, g.kind, g.centre, g.radius,
                                      g.vert_start, g.vert_count, g.verts, g.world_start, len(self.world.bodies))
        if self._steer is not None:
            self._steer(self.frame, self.step_count, self.velocities)
        self.world.write_velocities(self.velocities)  # both return at once on a kinematic World's own arrays
        self.world.step(self.dt, self.substeps)
        self.world.read(self.poses)
        self._score(self.step_count, self.scores)
        self.step_count += 1

    def result(self) -> EpisodeResult:
        """Fitness of every trial so far (unfinished trials count as failed)."""
        failed = self.scores.failed | ~self.scores.done
        fit = self.task.fitness(self.scores, self.conditions)
        shape = (self.n_individuals, self.n_trials)
        return EpisodeResult(fit.reshape(shape), failed.reshape(shape), self.step_count)

    def run(self, observer: Callable[[Episode], Any] | None = None) -> EpisodeResult:
        """Tick until every trial has ended; call ``observer(self)`` after each tick."""
        while self.running:
            self.tick()
            if observer is not None:
                observer(self)
        return self.result()


@njit(cache=True)
def _any_live(done: BoolArray, failed: BoolArray) -> bool:
    """Whether some trial is neither done nor failed (one pass, stops at the first)."""
    for b in range(done.shape[0]):
        if not (done[b] or failed[b]):
            return True
    return False


def evaluate_individuals(setup: Setup, genomes: FloatArray, conditions: FloatArray) -> EpisodeResult:
    """Run every trial of ``genomes`` in one episode."""
    return Episode(setup, genomes, conditions).run()
