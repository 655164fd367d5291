"""The viewer as a workbench (issue 18): sensor and neuron panels on fixed scales, trails, team
colours and the robot shown, zoom and pan, arenas fitted to the window, speed in real time, going on
to the next trial, a paused plot that stays put, and the up-front refusals (no display, no encoder).
Pixels under SDL's dummy driver, compared with what the episode holds."""

import os

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import subprocess
import sys

import numpy as np
import pygame
import pytest
from conftest import CP_WORLD, ROOT

from evorobot.source import WorldSource
from evorobot.viewer import panel, render
from evorobot.viewer.app import END_HOLD, SPEEDS, DisplayError, Viewer, check_display

SIZE = (1100, 650)


def _key(k):
    return pygame.event.Event(pygame.KEYDOWN, key=k, mod=0, unicode="", scancode=0)


def _count(surface, rect, colour):
    """Pixels of ``colour`` inside ``rect``."""
    rgb = pygame.surfarray.array3d(surface.subsurface(rect))
    return int(np.all(rgb == np.array(colour), axis=2).sum())


def _pixels(surface, colour):
    rgb = pygame.surfarray.array3d(surface)
    xs, ys = np.nonzero(np.all(rgb == np.array(colour), axis=2))
    return xs, ys


def _world(surface):
    w, h = surface.get_size()
    return surface.subsurface(pygame.Rect(0, 0, w - render.PANEL_WIDTH, h - render.STATUS_HEIGHT))


def _draw(v):
    surface = pygame.Surface(SIZE)
    v.draw(surface)
    return surface


def test_a_ray_that_sees_the_object_has_a_longer_sensor_bar():
    v = Viewer(WorldSource(CP_WORLD, ["task.offsets=2"], seed=3))
    ep, b = v.episode, v.state.trial
    for _ in range(1000):
        v.step(1)
        hit = ep.distances[b] < ep.agent.eye.range
        if ep.inputs[b].max() > 0.3 * ep.agent.eye.gain and not hit.all():
            break
    assert ep.inputs[b].max() > 0.3 * ep.agent.eye.gain and not hit.all()
    surface = _draw(v)
    bars = v.renderer.sensor_bars
    assert len(bars) == ep.n_inputs == 7
    lengths = [_count(surface, r, panel.SENSOR_BAR) // panel.BAR_HEIGHT for r in bars]
    gain = ep.agent.eye.gain
    for r, value, length in zip(bars, ep.inputs[b], lengths):  # each bar as long as its value on [0, gain]
        assert length == round(min(max(value / gain, 0.0), 1.0) * r.width)
    seen, unseen = int(np.argmax(ep.inputs[b])), np.flatnonzero(~hit)
    assert hit[seen] and lengths[seen] >= 0.25 * bars[seen].width
    assert max(lengths[i] for i in unseen) == 0 < lengths[seen]


def test_neuron_bars_use_a_fixed_scale_and_mark_clipped_values():
    v = Viewer(WorldSource(CP_WORLD, ["task.offsets=2"], seed=3))
    v.step(100)
    surface = _draw(v)
    ep, a = v.episode, v.renderer.agent
    y = ep.controller.trace(ep.state)["y"][a]
    tracks = v.renderer.unit_bars["y"]
    assert len(tracks) == y.size
    for r, value in zip(tracks, y):  # states on [-10, 10], growing from the middle
        colour = render.BAR_POS if value >= 0 else render.BAR_NEG
        length = _count(surface, r, colour) // panel.BAR_HEIGHT
        expected = abs(round(r.width * min(max((value + 10) / 20, 0), 1)) - round(r.width * 0.5))
        assert abs(length - expected) <= 1, (value, length, expected)
        marks = _count(surface, r.inflate(0, 2), panel.CLIPPED)
        assert (marks > 0) == (abs(value) > 10)
    # the same value draws the same bar whatever the other neurons do (no per-frame rescaling)
    o = ep.controller.trace(ep.state)["o"][a]
    for r, value in zip(v.renderer.unit_bars["o"], o):
        assert _count(surface, r, render.BAR_POS) // panel.BAR_HEIGHT == round(r.width * value)


def test_trail_pixels_lie_on_the_recorded_path():
    v = Viewer(WorldSource(ROOT / "worlds" / "phototaxis.toml", [], seed=2))
    ep, b = v.episode, v.state.trial
    row = ep.agent_body[b]
    path = [ep.poses[row, :2] - ep.origins[b]]
    for _ in range(150):
        v.step(1)
        path.append(ep.poses[row, :2] - ep.origins[b])
    surface = _draw(v)
    tf = v.renderer.transform
    pts = np.array([tf(*p) for p in path], dtype=float)
    xs, ys = _pixels(_world(surface), render.trail_colour(0))
    assert xs.size > 50, "the robot should have left a trail"
    a, d = pts[:-1], pts[1:] - pts[:-1]
    for x, y in zip(xs, ys):  # distance from each trail pixel to the nearest segment of the path
        t = np.clip(((x - a[:, 0]) * d[:, 0] + (y - a[:, 1]) * d[:, 1]) / np.maximum((d ** 2).sum(1), 1e-12), 0, 1)
        dist = np.hypot(a[:, 0] + t * d[:, 0] - x, a[:, 1] + t * d[:, 1] - y).min()
        assert dist <= 2.0, (x, y, dist)
    # and the path's far end (where the robot started) carries trail pixels
    sx, sy = pts[0]
    assert np.min(np.hypot(xs - sx, ys - sy)) <= 2.0


def _extent(surface, colour):
    xs, ys = _pixels(_world(surface), colour)
    return xs.max() - xs.min() + 1, (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2


def test_zoom_by_two_doubles_the_agent_about_the_cursor():
    v = Viewer(WorldSource(CP_WORLD, ["task.offsets=2"], seed=3))
    v.step(20)
    before, cx, cy = _extent(_draw(v), render.AGENT)
    pos = (round(cx), round(cy))
    for _ in range(4):  # four notches of the wheel at the agent's centre
        v.handle(pygame.event.Event(pygame.MOUSEWHEEL, x=0, y=1, pos=pos, flipped=False))
    assert v.renderer.zoom == pytest.approx(2.0)
    panel_pos = (SIZE[0] - render.PANEL_WIDTH // 2, 100)  # the wheel over the panel zooms nothing
    v.handle(pygame.event.Event(pygame.MOUSEWHEEL, x=0, y=1, pos=panel_pos, flipped=False))
    assert v.renderer.zoom == pytest.approx(2.0)
    after, cx2, cy2 = _extent(_draw(v), render.AGENT)
    assert abs(after - 2 * before) <= 2, (before, after)
    assert abs(cx2 - cx) <= 1.5 and abs(cy2 - cy) <= 1.5  # the point under the cursor stays put
    v.handle(_key(pygame.K_f))
    assert _extent(_draw(v), render.AGENT)[0] == before


def test_dragging_the_background_pans_the_view():
    v = Viewer(WorldSource(CP_WORLD, ["task.offsets=2"], seed=3))
    _, cx, cy = _extent(_draw(v), render.AGENT)
    v.handle(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=(20, 20)))  # empty background
    assert v.state.dragging is None and v.state.panning
    v.handle(pygame.event.Event(pygame.MOUSEMOTION, pos=(50, 10), rel=(30, -10), buttons=(1, 0, 0)))
    v.handle(pygame.event.Event(pygame.MOUSEBUTTONUP, button=1, pos=(50, 10)))
    _, cx2, cy2 = _extent(_draw(v), render.AGENT)
    assert abs(cx2 - cx - 30) <= 1 and abs(cy2 - cy + 10) <= 1
    assert not v.state.perturbed


@pytest.mark.parametrize("world", ["phototaxis.toml", "obstacle_avoidance.toml"])
def test_a_robot_arena_fills_the_main_area(world):
    v = Viewer(WorldSource(ROOT / "worlds" / world, [], seed=1))
    surface = _draw(v)
    ep, b = v.episode, v.state.trial
    g = ep.geometry
    statics = [s for s in range(g.world_start[b], g.world_start[b + 1]) if g.body[s] >= len(ep.world.bodies)]
    colours = {render._mix(render.GROUND, render.WALL, float(g.brightness[s])) for s in statics}
    rgb = pygame.surfarray.array3d(_world(surface))
    mask = np.zeros(rgb.shape[:2], bool)
    for c in colours:
        mask |= np.all(rgb == np.array(c), axis=2)
    xs, ys = np.nonzero(mask)
    w, h = _world(surface).get_size()
    assert min(xs.max() - xs.min(), ys.max() - ys.min()) + 1 >= 0.8 * min(w, h)


def test_a_paused_viewer_draws_the_same_panel_every_frame():
    v = Viewer(WorldSource(CP_WORLD, ["task.offsets=2"], seed=3))
    v.state.speed_index = SPEEDS.index(4.0)
    surface = pygame.Surface(SIZE)
    for _ in range(60):  # running: the plot fills
        v.advance(1 / 60)
        v.draw(surface)
    assert len(v.renderer.history) > 20
    v.handle(_key(pygame.K_SPACE))
    v.draw(surface)
    panel_rect = v.renderer.panel_rect
    frozen = pygame.image.tobytes(surface.subsurface(panel_rect), "RGB")
    plot = pygame.image.tobytes(surface.subsurface(v.renderer.plot.rect), "RGB")
    for _ in range(60):
        v.advance(1 / 60)
        v.draw(surface)
    assert pygame.image.tobytes(surface.subsurface(panel_rect), "RGB") == frozen
    assert pygame.image.tobytes(surface.subsurface(v.renderer.plot.rect), "RGB") == plot
    # the plot holds one sample per tick: a line through the last motor output at the right edge
    p, out = v.renderer.plot, v.episode.outputs[v.renderer.agent]
    x = p.x(p.t_end)
    assert any(tuple(surface.get_at((x, p.y(float(out[k])) + dy)))[:3] == panel.PLOT_COLOURS[k]
               for k in range(out.size) for dy in (-1, 0, 1))


def test_speed_one_is_real_time():
    v = Viewer(WorldSource(CP_WORLD, ["task.offsets=2"], seed=3))
    dt = v.episode.dt
    v.run(events=[[]] * 120, max_frames=120, fps=60)  # 2 wall seconds at 1x
    assert v.episode.step_count == round(2.0 / dt)
    assert "speed 1x (real time)" in v.renderer.info_text()
    v.state.quit = False
    v.handle(_key(pygame.K_UP))
    v.handle(_key(pygame.K_UP))
    assert SPEEDS[v.state.speed_index] == 4.0
    v.run(events=[[]] * 60, max_frames=60, fps=30)  # 2 more wall seconds at 4x: 8 simulated seconds
    assert v.episode.step_count == round(10.0 / dt)


def test_playback_goes_on_to_the_next_trial_unless_told_to_stop():
    v = Viewer(WorldSource(CP_WORLD, ["task.offsets=2"], seed=3))
    v.step(100_000)
    assert not v.trial_running and v.state.trial == 0
    frames = 0
    while v.state.trial == 0 and frames < 1000:  # the last frame holds END_HOLD wall seconds, then trial 1
        v.advance(1 / 60)
        frames += 1
    assert frames == round(END_HOLD * 60) and v.state.trial == 1 and v.episode.step_count == 0
    v.handle(_key(pygame.K_c))
    assert v.state.stop_at_end
    v.step(100_000)
    for _ in range(600):
        v.advance(1 / 60)
    assert v.state.trial == 1 and not v.trial_running
    surface = _draw(v)
    assert surface is not None and "at trial end: stop (c)" in v.renderer.info_text()


def test_team_robots_have_their_own_colours_and_tab_chooses_the_robot_shown():
    v = Viewer(WorldSource(ROOT / "worlds" / "coordinated_movement.toml", ["task.trials=2"], seed=1), trial=1)
    v.step(40)
    ep, b = v.episode, v.state.trial
    assert ep.n_robots == 2 and not np.array_equal(ep.outputs[2 * b], ep.outputs[2 * b + 1])

    def shown_outputs(surface):
        return [_count(surface, r, render.BAR_POS) // panel.BAR_HEIGHT for r in v.renderer.unit_bars["o"]]

    def expected(k):
        o = ep.controller.trace(ep.state)["o"][2 * b + k]
        return [round(r.width * min(max(x, 0), 1)) for r, x in zip(v.renderer.unit_bars["o"], o)]

    surface = _draw(v)
    assert v.renderer.robot == 0 and shown_outputs(surface) == expected(0)
    v.handle(_key(pygame.K_TAB))
    surface = _draw(v)
    assert v.renderer.robot == 1 and shown_outputs(surface) == expected(1) != expected(0)
    # each robot's trail in its own colour
    for k in range(2):
        assert _pixels(_world(surface), render.trail_colour(k))[0].size > 0
    # a click on robot 0 shows it again
    tf = v.renderer.transform
    x, y, _ = ep.poses[ep.team[b, 0]]
    v.handle(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=tf(x - ep.origins[b, 0], y - ep.origins[b, 1])))
    v.handle(pygame.event.Event(pygame.MOUSEBUTTONUP, button=1, pos=(0, 0)))
    assert v.renderer.robot == 0 and not v.state.perturbed
    # the choice survives the next trial
    v.handle(_key(pygame.K_TAB))
    v.handle(_key(pygame.K_n))
    assert v.renderer.robot == 1


def test_screenshot_key_prints_its_path_and_shows_it(tmp_path, capsys):
    v = Viewer(WorldSource(CP_WORLD, ["task.offsets=2"], seed=3), screenshot_dir=tmp_path)
    v.run(events=[[_key(pygame.K_s)]], max_frames=1)
    files = list(tmp_path.glob("*.png"))
    assert len(files) == 1
    assert capsys.readouterr().out.strip() == str(files[0])
    v.draw(pygame.Surface(SIZE))
    assert f"saved {files[0]}" in v.renderer.info_text()


def test_check_display_refuses_a_linux_without_a_display():
    with pytest.raises(DisplayError, match="no display"):
        check_display({}, "linux")
    with pytest.raises(DisplayError):
        check_display({"SDL_VIDEODRIVER": "x11"}, "linux")
    check_display({"DISPLAY": ":0"}, "linux")
    check_display({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    check_display({"SDL_VIDEODRIVER": "dummy"}, "linux")
    check_display({"SDL_VIDEODRIVER": "offscreen"}, "linux")
    check_display({}, "darwin")


def test_view_without_a_display_exits_2_with_one_line():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")}
    proc = subprocess.run([sys.executable, "-m", "evorobot.cli", "view", str(CP_WORLD)], env=env, check=False,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert proc.stderr.startswith("evorobot: error: cannot open a window (no display")
    assert proc.stderr.count("\n") == 1


def test_record_gif_without_pillow_fails_before_any_episode(tmp_path, monkeypatch, capsys):
    import evorobot.replay
    from evorobot.cli import main

    def no_episode(*args, **kwargs):
        raise AssertionError("an Episode was built before the encoder was checked")

    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setattr(evorobot.replay, "Episode", no_episode)
    out = tmp_path / "x.gif"
    assert main(["replay", str(CP_WORLD), "--set", "task.offsets=2", "--record", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evorobot: error:") and "Pillow" in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
