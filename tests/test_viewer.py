"""The viewer under SDL's dummy driver: pixels where the simulation says, scripted keys and drags,
and the fitness of an unperturbed trial equal to replay's."""

import os

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import math

import numpy as np
import pygame
import pytest

from evorobot.evolution.runner import evolve
from evorobot.config import load_world
from evorobot.viewer import render
from evorobot.viewer.app import Viewer
from evorobot.viewer.record import record_trial
from evorobot.source import ChampionSource, WorldSource

from conftest import CP_WORLD


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
    v.run(events=[[], [], [_key(pygame.K_SPACE)]], max_frames=3)
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
    assert pygame.image.load(str(files[0])).get_size() == (640, 400)


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
    for row in team:
        x, y, heading = ep.poses[row]
        p = (x - ox + 1.5 * math.cos(heading + 2.36), y - oy + 1.5 * math.sin(heading + 2.36))
        assert tuple(surface.get_at(tf(*p)))[:3] == render.AGENT
    # the window is centred on the team's centroid, not on the (1000 cm) arena
    cx, cy = np.mean(ep.poses[team, :2], axis=0) - ep.origins[b]
    xmin, xmax, ymin, ymax = v.renderer.bounds
    assert (xmin + xmax) / 2 == pytest.approx(cx) and (ymin + ymax) / 2 == pytest.approx(cy)
    assert xmax - xmin == pytest.approx(2 * ep.task.view_follow)
