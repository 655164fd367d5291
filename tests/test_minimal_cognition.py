"""The minimal-cognition suite: object geometry against pymunk, hiding, closed-form scores,
determinism, settings, and why short-term memory needs internal state."""

import math
import shutil

import numpy as np
import pymunk
import pytest

from evorobot.config import load_world
from evorobot.episode import Episode
from evorobot.errors import ConfigError
from evorobot.seeding import conditions_rng
from evorobot.setup import Setup, build
from evorobot.sim import rays
from evorobot.tasks import TASKS
from evorobot.tasks.falling import FallingTask

from conftest import ROOT, assert_alone_equals_batch

SUITE = ["orientation", "circle_line", "aperture", "short_term_memory", "selective_attention"]
_SETUPS: dict = {}


def world(name):
    return ROOT / "worlds" / f"{name}.toml"


def setup_of(name, *overrides):
    key = (name, overrides)
    if key not in _SETUPS:
        _SETUPS[key] = build(load_world(world(name), list(overrides)))
    return _SETUPS[key]


def conditions(s):
    return s.task.conditions(conditions_rng(1, 0))


def test_suite_is_registered_and_circle_line_is_categorical_perception():
    for name in ("orientation", "aperture", "short_term_memory", "selective_attention"):
        assert issubclass(TASKS[name], FallingTask) and load_world(world(name)).task_type == name
    exp = load_world(world("circle_line"))
    assert exp.task_type == "categorical_perception" and exp.task.avoid_shape == "line"


# -- geometry: ray readings against pymunk ----------------------------------------------------

_SEE = pymunk.ShapeFilter(group=1)  # shapes in group 1 are skipped by this query filter


def _pymunk_check(ep):
    """Cast every agent's rays with the kernel (after the task's visibility hook, as ``tick``
    does) and with ``segment_query_first`` on the same bodies, the agent's own shape and the
    hidden shapes filtered out. Returns (hits, rays compared)."""
    g = ep.geometry
    ep.world.push()  # a kinematic batch moves its bodies in a kernel: bring pymunk's up to date
    if ep.task.hides_objects:
        ep.task.update_visibility(ep.poses, ep.agent_body, ep.agent_world, ep.objects, g)
    dist, out = np.empty_like(ep.distances), np.empty_like(ep.inputs)
    eye, radius = ep.agent.eye, ep.agent.body.radius
    rays.cast(ep.poses, g, ep.agent_body, ep.agent_world, ep._angles, radius, eye.range, eye.gain, dist, out)
    for s in range(len(g.body)):
        (shape,) = ep.world.bodies[g.body[s]].shapes
        hidden = g.body[s] in ep.agent_body or not g.visible[s]
        shape.filter = pymunk.ShapeFilter(group=1) if hidden else pymunk.ShapeFilter()
    hits = compared = 0
    for b, a in enumerate(ep.agent_body):
        space = ep.world.bodies[a].space
        px, py, heading = ep.poses[a]
        for r, ang in enumerate(ep._angles):
            u = (math.cos(heading + ang), math.sin(heading + ang))
            p0 = (px + radius * u[0], py + radius * u[1])
            if space.point_query(p0, 0.0, _SEE):
                continue  # the ray starts inside an object (a finished trial's object falling through)
            p1 = (p0[0] + eye.range * u[0], p0[1] + eye.range * u[1])
            info = space.segment_query_first(p0, p1, 0.0, _SEE)
            expected = eye.range if info is None else info.alpha * eye.range
            assert dist[b, r] == pytest.approx(expected, abs=1e-7), (b, r)
            hits += info is not None
            compared += 1
    return hits, compared


@pytest.mark.parametrize("name", SUITE)
def test_rays_agree_with_pymunk_in_every_object_configuration(name):
    s = setup_of(name)
    g = np.random.default_rng(11).uniform(-1, 1, (2, s.genome_size))
    ep = Episode(s, g, conditions(s))
    hits = compared = 0
    while ep.running:
        if ep.step_count % 97 == 0:
            h, c = _pymunk_check(ep)
            hits, compared = hits + h, compared + c
        ep.tick()
    assert 0.05 * compared < hits < 0.95 * compared  # both hits and misses: not vacuous


def test_hidden_circle_gives_no_ray_hits_while_hidden():
    s = setup_of("short_term_memory", "task.drifts=1", "task.drift_range=[0.0, 0.0]", "task.offsets=1",
                 "task.offset_range=[0.0, 0.0]")
    ep = Episode(s, np.zeros((1, s.genome_size)), conditions(s))  # a still agent right below it
    hide, up = s.task.spec.hide_height, 3  # the middle ray points straight up
    a, o = ep.agent_body[0], ep.objects[0, 0]
    (agent_shape,) = ep.world.bodies[a].shapes
    agent_shape.filter = pymunk.ShapeFilter(group=1)
    seen = unseen = 0
    while ep.running:
        dy = ep.poses[o, 1] - ep.poses[a, 1]
        p0 = (ep.poses[a, 0], ep.poses[a, 1] + 15.0)
        ep.world.push()
        info = ep.world.spaces[0].segment_query_first(p0, (p0[0], p0[1] + 220.0), 0.0, _SEE)
        ep.tick()
        if info is None:
            continue  # out of range at the top
        if dy > hide:
            assert ep.distances[0, up] == pytest.approx(info.alpha * 220.0, abs=1e-7)
            seen += 1
        else:  # physically in the ray's path, but hidden
            assert ep.distances[0, up] == 220.0 and np.all(ep.inputs[0] == 0.0)
            assert not ep.geometry.visible[ep.geometry.body == o].any()
            unseen += 1
    assert seen > 100 and unseen > 100


def test_caught_circle_leaves_view_and_reset_restores_visibility():
    s = setup_of("selective_attention")
    ep = Episode(s, np.zeros((1, s.genome_size)), np.array([[0.0, 15.0]]))
    fast, slow = ep.objects[0]
    vis = lambda row: bool(ep.geometry.visible[ep.geometry.body == row][0])  # noqa: E731
    while ep.scores.values[0, 2] == 0.0:  # until the fast circle has arrived
        ep.tick()
    ep.tick()
    assert not vis(fast) and vis(slow)
    first = ep.run().fitness
    ep.reset()
    assert vis(fast) and vis(slow)
    assert np.array_equal(ep.run().fitness, first)


# -- closed-form scores of a still agent --------------------------------------------------------

def _still(name, *overrides):
    s = setup_of(name, *overrides)
    cond = conditions(s)
    return s, cond, Episode(s, np.zeros((1, s.genome_size)), cond).run().fitness[0]


def _catch(d):
    return 1 - np.minimum(np.abs(d), 45.0) / 45.0


def test_still_agent_orientation_and_circle_line():
    _, cond, fit = _still("orientation")
    assert cond.shape == (24, 2) and np.array_equal(cond[:, 0], np.linspace(-50, 50, 24))
    np.testing.assert_allclose(fit, _catch(cond[:, 0]), rtol=0, atol=1e-12)
    _, cond, fit = _still("circle_line")
    near = np.minimum(np.abs(cond[:, 0]), 45.0) / 45.0
    np.testing.assert_allclose(fit, np.where(cond[:, 1] > 0, near, 1 - near), rtol=0, atol=1e-12)


def test_still_agent_aperture():
    _, cond, fit = _still("aperture")
    assert sorted(set(cond[:, 1])) == [10.0, 18.0, 26.0, 34.0, 42.0, 50.0]
    assert np.array_equal(cond[:, 2], (cond[:, 1] > 30).astype(float))
    d = np.abs(cond[:, 0])
    clear = cond[:, 1] / 2 + 30 + 15
    expected = np.where(cond[:, 2] > 0, _catch(d), np.minimum(d, clear) / clear)
    np.testing.assert_allclose(fit, expected, rtol=0, atol=1e-9)
    assert 0.4 < fit.mean() < 0.5


def test_still_agent_short_term_memory_misses_the_drift():
    s, cond, fit = _still("short_term_memory")
    t = math.ceil((275 - 30) / 0.3) * 0.1  # arrival: 817 ticks
    np.testing.assert_allclose(fit, _catch(cond[:, 0] + cond[:, 1] * t), rtol=0, atol=1e-9)
    assert s.task.dark_time == pytest.approx(40.0) and fit.max() == 0.0


def test_still_agent_selective_attention():
    _, cond, fit = _still("selective_attention")
    assert cond.shape == (12, 2) and np.all(cond[:, 0] != cond[:, 1])
    np.testing.assert_allclose(fit, (_catch(cond[:, 0]) + _catch(cond[:, 1])) / 2, rtol=0, atol=1e-12)


# -- determinism --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["aperture", "short_term_memory", "selective_attention"])
def test_individual_alone_equals_in_batch(name):
    s = setup_of(name)
    cond = conditions(s)
    assert_alone_equals_batch(s, np.random.default_rng(5).uniform(-1, 1, (3, s.genome_size)), cond)


# -- short-term memory needs internal state -----------------------------------------------------

class _Stateless:
    """A feed-forward controller: motor outputs are a function of the current inputs only."""

    def __init__(self, w, b):
        self.w, self.b, self.genome_size = w, b, 1

    def decode(self, genomes):
        return None

    def init_state(self, params):
        return None

    def step(self, params, state, inputs, dt, out):
        out[:] = 1 / (1 + np.exp(-(inputs @ self.w + self.b)))


def test_a_stateless_controller_makes_the_same_move_in_every_trial_in_the_dark():
    s = setup_of("short_term_memory")
    rng = np.random.default_rng(2)
    ff = _Stateless(rng.normal(0, 1, (7, 2)), np.array([0.3, -0.2]))
    ep = Episode(Setup(s.experiment, s.task, ff), np.zeros((1, 1)), conditions(s))
    a, o = ep.agent_body, ep.objects[:, 0]
    dark = 0
    while ep.running:
        hidden = ep.poses[o, 1] - ep.poses[a, 1] <= s.task.spec.hide_height
        ep.tick()
        if hidden.all():
            dark += 1
            assert np.all(ep.inputs == 0.0) and np.all(ep.outputs == ep.outputs[0])
    assert dark > 300  # ... whereas the circle's landing point depends on the trial's drift


# -- settings -------------------------------------------------------------------------------------

BAD = [
    ("short_term_memory", "hide_height = 150.0", "hide_height = 20.0", "`hide_height` must lie in"),
    ("short_term_memory", "hide_height = 150.0", "hide_height = 275.0", "`hide_height` must lie in"),
    ("selective_attention", "slow_speed = 2.0", "slow_speed = 3.0", "`slow_speed` must be below"),
    ("selective_attention", "offsets = 4", "offsets = 1", "`offsets` must be >= 2"),
    ("aperture", "gap_range = [10.0, 50.0]", "gap_range = [-10.0, 50.0]", "`gap_range` must be >= 0"),
    ("aperture", 'object_shape = "circle"', 'object_shape = "square"', "`object_shape` must be one of"),
    ("orientation", "object_y = 275.0", "object_y = 30.0", "`object_y` must exceed"),
    ("orientation", "drifts = 1", "drift = 1", "unknown key `drift`"),
]


@pytest.mark.parametrize("name,old,new,fragment", BAD, ids=[b[2] for b in BAD])
def test_bad_task_setting_is_one_line_naming_file_and_key(tmp_path, name, old, new, fragment):
    text = world(name).read_text()
    assert old in text
    shutil.copytree(ROOT / "agents", tmp_path / "agents")
    (tmp_path / "worlds").mkdir()
    p = tmp_path / "worlds" / "bad.toml"
    p.write_text(text.replace(old, new, 1))
    with pytest.raises(ConfigError) as info:
        load_world(p)
    msg = str(info.value)
    assert "\n" not in msg and str(p) in msg and "[task]" in msg and fragment in msg, msg
