"""The viewer under SDL's dummy driver: pixels where the simulation says, scripted keys and drags,
and the fitness of an unperturbed trial equal to replay's."""

import os

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import math

import numpy as np
import pygame
import pytest
from conftest import CP_WORLD, ROOT

from evorobot.config import load_world
from evorobot.evolution.runner import evolve
from evorobot.source import ChampionSource, WorldSource
from evorobot.viewer import render
from evorobot.viewer.app import Viewer
from evorobot.viewer.record import record_trial


@pytest.fixture(scope="module")
def champion(tmp_path_factory):
    exp = load_world(CP_WORLD, ["task.offsets=2", "optimizer.population=4", "evolution.generations=1"])
    out = tmp_path_factory.mktemp("run") / "r"
    evolve(exp, out, stream=None)
    return out / "champion.json"


def _key(k):
    return pygame.event.Event(pygame.KEYDOWN, key=k, mod=0, unicode="", scancode=0)


def _colour_near(surface, xy, colour, radius=1):
    x0, y0 = xy
    for dx in range(-radius, radius + 1):
        for dy in range(-radius, radius + 1):
            if tuple(surface.get_at((x0 + dx, y0 + dy)))[:3] == colour:
                return True
    return False


def test_agent_object_and_ray_ends_are_drawn_where_the_simulation_says(champion):
    v = Viewer(ChampionSource(champion))
    v.step(400)
    surface = pygame.Surface((900, 560))
    v.draw(surface)
    ep, b, tf = v.episode, v.state.trial, v.renderer.transform
    ox, oy = ep.origins[b]
    a = ep.agent_body[b]
    ax, ay = ep.poses[a, 0] - ox, ep.poses[a, 1] - oy
    assert tuple(surface.get_at(tf(ax + 5, ay - 5)))[:3] == render.AGENT  # inside the body, off the heading line
    o = ep.objects[b, 0]
    px, py = tf(ep.poses[o, 0] - ox, ep.poses[o, 1] - oy)
    assert tuple(surface.get_at((px, py)))[:3] == render.OBJECT
    # a ray ends at its hit: the pixel just past the end along the ray is not ray-coloured
    hits = np.flatnonzero(ep.distances[b] < ep.agent.eye.range)
    assert hits.size, "the object should be in view half-way down"
    r = int(hits[0])
    ang = ep.agent.eye.angles()[r]
    u = (math.cos(ang), math.sin(ang))
    start = (ax + ep.agent.body.radius * u[0], ay + ep.agent.body.radius * u[1])
    d = ep.distances[b, r]
    before = tf(start[0] + (d - 4) * u[0], start[1] + (d - 4) * u[1])
    px = surface.get_at(before)[:3]
    assert px not in (render.BACKGROUND, render.OBJECT, render.AGENT)  # ray colour just before the hit
    # and the far part of a missing ray's path is background: move far beyond the hit
    beyond = tf(start[0] + (d + 60) * u[0], start[1] + (d + 60) * u[1])
    assert tuple(surface.get_at(beyond))[:3] != px


def test_scripted_keys_pause_step_restart_next(champion):
    v = Viewer(ChampionSource(champion))
    # at 1x (real time) and 60 fps, 12 frames are 0.2 s of simulated time: 2 ticks of 0.1 s
    v.run(events=[[]] * 12 + [[_key(pygame.K_SPACE)]], max_frames=13, fps=60)
    assert v.state.paused and v.episode.step_count == 2
    steps = v.episode.step_count
    v.handle(_key(pygame.K_RIGHT))
    assert v.episode.step_count == steps + 1
    v.handle(_key(pygame.K_r))
    assert v.episode.step_count == 0
    v.handle(_key(pygame.K_n))
    assert v.state.trial == 1 and v.episode.step_count == 0
    v.handle(_key(pygame.K_p))
    v.handle(_key(pygame.K_p))
    assert v.state.trial == v.episode.n_trials - 1
    v.handle(_key(pygame.K_UP))
    assert v.state.speed_index == 4
    v.handle(_key(pygame.K_q))
    assert v.state.quit


def test_unperturbed_trial_fitness_equals_replay(champion):
    from evorobot.champion import load_champion

    stored = load_champion(champion).trials
    v = Viewer(ChampionSource(champion))
    for t in range(v.episode.n_trials):
        v.state.trial = t
        v.restart()
        v.step(10_000)
        assert v.episode.task.fitness(v.episode.scores, v.episode.conditions)[t] == stored[t]


def test_dragging_a_body_is_a_perturbation(champion):
    v = Viewer(ChampionSource(champion))
    surface = pygame.Surface((900, 560))
    v.draw(surface)
    ep, b, tf = v.episode, v.state.trial, v.renderer.transform
    o = ep.objects[b, 0]
    grab = tf(ep.poses[o, 0] - ep.origins[b, 0], ep.poses[o, 1] - ep.origins[b, 1])
    v.handle(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=grab))
    assert v.state.dragging == o
    target = (grab[0] + 40, grab[1])
    v.handle(pygame.event.Event(pygame.MOUSEMOTION, pos=target, rel=(40, 0), buttons=(1, 0, 0)))
    x, _ = tf.inverse(*target)
    assert ep.poses[o, 0] - ep.origins[b, 0] == pytest.approx(x)
    assert v.state.perturbed
    # the agent's eye sees the object where it was dragged: compare with an unperturbed twin
    twin = Viewer(ChampionSource(champion))
    for _ in range(300):
        v.step(1)
        twin.step(1)
    assert not np.array_equal(v.episode.distances[b], twin.episode.distances[b])


def test_record_writes_every_frame_of_a_trial_headless(champion, tmp_path):
    from evorobot.episode import Episode

    src = ChampionSource(champion)
    ep = Episode(src.setup, src.genome[None, :], src.conditions)
    out = tmp_path / "frames"
    n = record_trial(ep, 0, out, every=10)
    files = sorted(out.glob("frame_*.png"))
    assert len(files) == n and n == 817 // 10 + 2
    assert pygame.image.load(str(files[0])).get_size() == (960, 540)


def test_world_source_random_controller():
    src = WorldSource(CP_WORLD, ["task.offsets=2"], seed=3)
    v = Viewer(src)
    v.step(5)
    assert v.episode.step_count == 5 and np.all(np.abs(src.genome) <= 1)


def test_replay_record_cli_and_missing_display(champion, tmp_path, capsys, monkeypatch):
    from evorobot.cli import main

    out = tmp_path / "frames"
    assert main(["replay", str(champion), "--record", str(out), "--record-every", "50"]) == 0
    assert len(list(out.glob("frame_*.png"))) == 817 // 50 + 2
    assert main(["replay", str(champion), "--record", str(out)]) == 2  # exists: refused, nothing touched
    assert "already exists" in capsys.readouterr().err
    monkeypatch.setenv("SDL_VIDEODRIVER", "no-such-driver")
    assert main(["view", str(champion)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evorobot: error: cannot open a window") and err.count("\n") == 1


def test_robot_world_draws_walls_obstacles_light_robot_and_ir_rays():
    from conftest import ROOT

    src = WorldSource(ROOT / "worlds" / "braitenberg.toml", ["task.trials=2"])
    v = Viewer(src, trial=1)  # not trial 0, whose world origin is the Space's: offsets must be right
    v.step(20)
    surface = pygame.Surface((900, 560))
    v.draw(surface)
    ep, b, tf = v.episode, v.state.trial, v.renderer.transform
    ox, oy = ep.origins[b]
    spec = ep.task.spec
    rx, ry, heading = ep.poses[ep.agent_body[b]]
    rx, ry = rx - ox, ry - oy
    side = (math.cos(heading + 2.36), math.sin(heading + 2.36))  # inside the body, between sensor dots
    assert tuple(surface.get_at(tf(rx + 1.2 * side[0], ry + 1.2 * side[1])))[:3] == render.AGENT
    half_wall = spec.arena_width / 2 + spec.wall_thickness / 2
    assert tuple(surface.get_at(tf(half_wall, 0.0)))[:3] == render.WALL
    assert tuple(surface.get_at(tf(-half_wall, 10.0)))[:3] == render.WALL
    ob = spec.obstacles[0]
    assert tuple(surface.get_at(tf(ob.x, ob.y)))[:3] == render.WALL  # brightness 1
    lx, ly = ep.conditions[b, 3], ep.conditions[b, 4]
    assert tuple(surface.get_at(tf(lx, ly)))[:3] == render._mix(render.LIGHT_GLOW, render.LIGHT, 0.7)
    # an IR ray is drawn from the perimeter, coloured by its reading, ending at its hit
    r = int(np.argmin(ep.distances[b]))
    d = float(ep.distances[b, r])
    ang = heading + ep.robots.ir_angles[r]
    u = (math.cos(ang), math.sin(ang))
    r0 = ep.agent.body.radius
    mid = tf(rx + (r0 + d / 2) * u[0], ry + (r0 + d / 2) * u[1])
    if d > 2.0:  # long enough to be visible at this scale
        assert tuple(surface.get_at(mid))[:3] == render._mix(render.RAY_OFF, render.RAY_ON, float(ep.inputs[b, r]))


def test_team_world_draws_every_robot_and_follows_the_team():
    from conftest import ROOT

    src = WorldSource(ROOT / "worlds" / "coordinated_movement.toml", ["task.trials=2"])
    v = Viewer(src, trial=1)
    v.step(30)
    surface = pygame.Surface((900, 560))
    v.draw(surface)
    ep, b, tf = v.episode, v.state.trial, v.renderer.transform
    ox, oy = ep.origins[b]
    team = ep.team[b]
    assert len(team) == 2
    for k, row in enumerate(team):  # each robot in its own colour (issue 18)
        x, y, heading = ep.poses[row]
        p = (x - ox + 1.5 * math.cos(heading + 2.36), y - oy + 1.5 * math.sin(heading + 2.36))
        assert tuple(surface.get_at(tf(*p)))[:3] == render.robot_colour(k)
    # the window is centred on the team's centroid, not on the (1000 cm) arena
    cx, cy = np.mean(ep.poses[team, :2], axis=0) - ep.origins[b]
    xmin, xmax, ymin, ymax = v.renderer.bounds
    assert (xmin + xmax) / 2 == pytest.approx(cx) and (ymin + ymax) / 2 == pytest.approx(cy)
    assert xmax - xmin == pytest.approx(2 * ep.task.view_follow)


# -- tasks that bring their own dynamics: a cart with its poles, the traces of a sequence ---------

def _pixels(surface, colour):
    """Screen (x, y) of every pixel of ``colour``, as two arrays."""
    rgb = pygame.surfarray.array3d(surface)  # (width, height, 3)
    xs, ys = np.nonzero(np.all(rgb == np.array(colour), axis=2))
    return xs, ys


def _cart_viewer(world, state, other):
    """A viewer of trial 1 of ``world`` with the plant state set to ``state`` (trial 0: ``other``)."""
    from evorobot.viewer.dynamics import CartRenderer

    src = WorldSource(ROOT / "worlds" / world, ["task.trials=2", "task.random_start=0.1"]
                      if world == "double_pole.toml" else ["task.trials=2"], seed=2)
    v = Viewer(src, trial=1)
    assert isinstance(v.renderer, CartRenderer)
    v.episode.plant.s[1] = state
    v.episode.plant.s[0] = other  # the trial not shown: must not be drawn
    surface = pygame.Surface((900, 560))
    v.draw(surface)
    return v, surface


def test_cartpole_draws_the_cart_at_x_and_the_pole_leaning_by_theta():
    from evorobot.viewer import dynamics

    v, surface = _cart_viewer("cartpole.toml", [0.8, 0.0, 0.3, 0.0], [-1.5, 0.0, -0.3, 0.0])
    r, tf = v.renderer, v.renderer.transform
    spec = v.episode.task.spec
    assert tuple(surface.get_at(tf(0.8, r.cart_height / 4)))[:3] == dynamics.CART
    assert tuple(surface.get_at(tf(-1.5, r.cart_height / 4)))[:3] == render.BACKGROUND  # trial 0's cart
    # the pole: from the hinge on the cart, 2 half-lengths long, leaning right by 0.3 rad
    hx, hy = tf(*r.hinge(0.8))
    xs, ys = _pixels(surface, dynamics.POLES[0])
    assert xs.size > 50
    length = 2 * spec.half_length
    assert np.all(ys <= hy + 3) and np.all(xs >= hx - 5)  # above the cart, none to the left of the hinge
    assert np.mean(xs) > hx + 0.4 * length * math.sin(0.3) * tf.scale  # the line's middle: 0.5
    for frac in (0.5, 0.95):  # along the line at theta from the vertical
        p = (0.8 + frac * length * math.sin(0.3), r.cart_height + frac * length * math.cos(0.3))
        assert tuple(surface.get_at(tf(*p)))[:3] == dynamics.POLES[0]
    beyond = (0.8 + 1.1 * length * math.sin(0.3), r.cart_height + 1.1 * length * math.cos(0.3))
    assert tuple(surface.get_at(tf(*beyond)))[:3] == render.BACKGROUND
    mirror = (0.8 - 0.5 * length * math.sin(0.3), r.cart_height + 0.5 * length * math.cos(0.3))
    assert tuple(surface.get_at(tf(*mirror)))[:3] == render.BACKGROUND
    # the track's limits
    assert tuple(surface.get_at(tf(spec.x_limit, r.cart_height / 2)))[:3] == dynamics.LIMIT
    assert tuple(surface.get_at(tf(-spec.x_limit, r.cart_height / 2)))[:3] == dynamics.LIMIT
    assert "running, fitness so far" in r.status_text()


def test_double_pole_draws_two_poles_at_their_own_angles_and_lengths():
    from evorobot.viewer import dynamics

    v, surface = _cart_viewer("double_pole.toml", [-0.5, 0.0, 0.25, 0.0, -0.5, 0.0],
                              [1.0, 0.0, -0.25, 0.0, 0.5, 0.0])
    r, tf = v.renderer, v.renderer.transform
    l1, l2 = (2 * h for h in v.episode.task.spec.half_length)
    hx, hy = tf(*r.hinge(-0.5))
    long_x, long_y = _pixels(surface, dynamics.POLES[0])
    short_x, short_y = _pixels(surface, dynamics.POLES[1])
    assert long_x.size > 50 and short_x.size > 10
    assert np.all(long_x >= hx - 5) and np.mean(long_x) > hx + 0.4 * l1 * math.sin(0.25) * tf.scale  # right
    assert np.all(short_x <= hx + 5) and np.mean(short_x) < hx - 2  # pole 2 leans left
    assert np.all(long_y <= hy + 3) and np.all(short_y <= hy + 3)
    reach = l2 * tf.scale + 5  # the short pole stays within its length of the hinge
    assert np.all(np.hypot(short_x - hx, short_y - hy) <= reach)
    assert np.max(np.hypot(long_x - hx, long_y - hy)) > 0.9 * l1 * tf.scale
    for k, (theta, length) in enumerate(((0.25, l1), (-0.5, l2))):
        p = (-0.5 + 0.6 * length * math.sin(theta), r.cart_height + 0.6 * length * math.cos(theta))
        assert tuple(surface.get_at(tf(*p)))[:3] == dynamics.POLES[k]


class _Steady:
    """A throwaway sequence-like task: in trial 1, constant inputs 0.2, 0.8, -0.5, 1.5 and a target of
    0.4; in trial 0, inputs 0 and a target of 0.9 (a renderer that shows the wrong trial fails)."""

    @staticmethod
    def make(dt):
        from typing import NamedTuple

        from evorobot.tasks.base import DynamicsTask, Scores, TaskIO

        class State(NamedTuple):
            step: np.ndarray

        class Steady(DynamicsTask):
            name = "steady"
            Spec = dict
            values = (0.2, 0.8, -0.5, 1.5)

            @property
            def interface(self):
                return TaskIO(("a", "b", "c", "d"), ("y",))

            @property
            def n_trials(self):
                return 2

            def conditions(self, rng):
                return np.zeros((2, 1))

            @property
            def max_steps(self):
                return 400

            def new_scores(self, n):
                return Scores(np.zeros(n, bool), np.zeros(n, bool), np.zeros((n, 1)))

            def fitness(self, scores, conditions):
                return scores.values[:, 0]

            def new_state(self, conditions):
                return State(np.zeros(conditions.shape[0]))

            def observe(self, state, step, inputs):
                inputs[:] = self.values
                inputs[0::2] = 0.0

            def advance(self, state, outputs, step, scores):
                state.step[:] += 1
                scores.values[:, 0] += 1.0
                scores.done[:] |= state.step >= self.max_steps

            def trace(self, frame):
                return {"steps": frame.step.copy(), "target": np.resize([0.9, 0.4], frame.step.shape)}

        return Steady({}, None, dt, "test")


def _steady_viewer():
    import dataclasses

    src = WorldSource(ROOT / "worlds" / "cartpole.toml", ["task.trials=2"], seed=1)  # 4 inputs, 1 output
    src.setup = dataclasses.replace(src.setup, task=_Steady.make(src.setup.experiment.simulation.dt))
    src.conditions = np.zeros((2, 1))
    return Viewer(src, trial=1)


def test_sequence_traces_scroll_inputs_outputs_and_target_every_tick():
    from evorobot.viewer import dynamics

    v = _steady_viewer()
    r = v.renderer
    assert isinstance(r, dynamics.TraceRenderer) and r.target_names == ["target"]
    v.step(50)
    surface = pygame.Surface((900, 560))
    v.draw(surface)
    v.draw(surface)  # a frame drawn twice (paused) adds no tick to the traces
    assert len(r.inputs) == len(r.outputs) == len(r.targets) == 50
    top, bottom = r.lanes
    colours = dynamics.INPUT_COLOURS
    for k, value in enumerate(v.episode.task.values):  # each input a line at its value, newest on the right
        for age in (0, 49):
            assert tuple(surface.get_at((top.x(age), top.y(value))))[:3] == colours[k]
        assert tuple(surface.get_at((top.x(60), top.y(value))))[:3] != colours[k]  # no tick before the first
    out = float(v.episode.outputs[1, 0])
    assert tuple(surface.get_at((bottom.x(0), bottom.y(out))))[:3] == dynamics.OUTPUT_COLOURS[0]
    if abs(bottom.y(out) - bottom.y(0.4)) > 3:  # the output may lie on the target
        assert tuple(surface.get_at((bottom.x(10), bottom.y(0.4))))[:3] == dynamics.TARGET
    # the traces hold the last TRACE_TICKS ticks only; a restart clears them
    v.step(300)
    v.draw(surface)
    assert len(r.inputs) == dynamics.TRACE_TICKS
    assert tuple(surface.get_at((top.x(dynamics.TRACE_TICKS - 1), top.y(0.8))))[:3] == colours[1]
    v.handle(_key(pygame.K_r))
    v.draw(surface)
    assert len(v.renderer.inputs) == 0
    # a click on a bodiless task drags nothing
    v.handle(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=(100, 100)))
    assert v.state.dragging is None


def _dynamics_worlds():
    from conftest import WORLDS

    from evorobot.tasks import TASKS
    from evorobot.tasks.base import DynamicsTask

    return [w for w in WORLDS if issubclass(TASKS[load_world(w).task_type], DynamicsTask)]


@pytest.mark.parametrize("world", _dynamics_worlds(), ids=lambda p: p.stem)
def test_every_dynamics_world_is_drawn(world):
    """Pole worlds by a cart, every other dynamics world (the sequence tasks) by its traces."""
    from evorobot.viewer import dynamics
    from evorobot.viewer.renderers import cart_layout

    v = Viewer(WorldSource(world, [], seed=1))
    v.step(30)
    surface = pygame.Surface((640, 400))
    v.draw(surface)
    r = v.renderer
    if cart_layout(v.episode.task) is not None:
        assert isinstance(r, dynamics.CartRenderer)
        assert _pixels(surface, dynamics.POLES[0])[0].size > 0
        return
    assert isinstance(r, dynamics.TraceRenderer)
    top, bottom = r.lanes
    sub = surface.subsurface(pygame.Rect(0, 0, 640 - render.PANEL_WIDTH, 400 - render.STATUS_HEIGHT))
    xs, ys = _pixels(sub, dynamics.INPUT_COLOURS[0])
    assert np.any(top.rect.collidepoint(x, y) for x, y in zip(xs, ys))
    # an output's colour (with many binary outputs the later ones cover the first) and the target's
    for colours in (dynamics.OUTPUT_COLOURS, *([[dynamics.TARGET]] if r.target_names else [])):
        hits = [bottom.rect.collidepoint(int(x), int(y)) for c in colours for x, y in zip(*_pixels(sub, c))]
        assert any(hits), colours


@pytest.fixture(scope="module")
def cartpole_champion(tmp_path_factory):
    exp = load_world(ROOT / "worlds" / "cartpole.toml",
                     ["task.trials=2", "optimizer.population=4", "evolution.generations=1"])
    out = tmp_path_factory.mktemp("run") / "cartpole"
    evolve(exp, out, stream=None)
    return out / "champion.json"


def test_replay_records_a_cartpole_champion(cartpole_champion, tmp_path):
    from evorobot.champion import load_champion
    from evorobot.cli import main

    out = tmp_path / "frames"
    assert main(["replay", str(cartpole_champion), "--record", str(out)]) == 0
    steps = int(load_champion(cartpole_champion).trials[0])  # cartpole's fitness: the steps balanced
    files = sorted(out.glob("frame_*.png"))
    assert len(files) == steps + 2
    first, last = (pygame.image.load(str(f)) for f in (files[0], files[-1]))
    assert pygame.image.tobytes(first, "RGB") != pygame.image.tobytes(last, "RGB")  # the plant moved


def test_replay_records_a_cartpole_champion_as_gif(cartpole_champion, tmp_path):
    pytest.importorskip("PIL", reason="writing a GIF needs Pillow (pip install 'evorobot[record]')")
    from PIL import Image

    from evorobot.cli import main

    out = tmp_path / "cartpole.gif"
    assert main(["replay", str(cartpole_champion), "--record", str(out), "--record-every", "5"]) == 0
    with Image.open(out) as gif:
        assert gif.format == "GIF" and gif.n_frames > 1 and gif.size == (960, 540)
