"""The controller contract (evorobot/controllers/base.py), checked for every registered type.

Each type is built from its default settings for 7 inputs and 2 motors at dt = 0.1, with the
constructor's arguments as :func:`evorobot.setup.build` passes them. New entries of the registry are
covered automatically; a type without genes (genome size 0) is checked for what applies to it.
"""

import json
from typing import Any

import numpy as np
import pytest
from ctrlutil import roll
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from evorobot.controllers import CONTROLLERS
from evorobot.labels import unit_labels
from evorobot.spec import parse

NAMES = sorted(CONTROLLERS)
N_IN, N_OUT, DT = 7, 2, 0.1


def build(name: str) -> Any:
    cls = CONTROLLERS[name]
    where = f"test [{name}]"
    return cls(parse(cls.Spec, {}, where), N_IN, N_OUT, DT, where)  # type: ignore[call-arg]


def leaves(tree: Any) -> list[np.ndarray]:
    """Every array in a (nested) tuple of parameters or state."""
    if isinstance(tree, np.ndarray):
        return [tree]
    if isinstance(tree, (tuple, list)):
        return [a for t in tree for a in leaves(t)]
    if isinstance(tree, dict):
        return [a for t in tree.values() for a in leaves(t)]
    return []


def sample(ctrl: Any, batch: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random genomes (batch, G) in [-1, 1] and sensor-like inputs (batch, 40, n_in) in [0, 10]."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (batch, ctrl.genome_size)), rng.uniform(0, 10, (batch, 40, N_IN))


def same(a: tuple[np.ndarray, dict[str, np.ndarray]], b: tuple[np.ndarray, dict[str, np.ndarray]]) -> None:
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1].keys() == b[1].keys()
    for k in a[1]:
        np.testing.assert_array_equal(a[1][k], b[1][k])


@pytest.mark.parametrize("name", NAMES)
def test_genome_size_is_the_layouts_and_every_genome_in_range_decodes(name: str) -> None:
    ctrl = build(name)
    assert ctrl.name == name and ctrl.n_inputs == N_IN and ctrl.n_outputs == N_OUT
    layout = getattr(ctrl, "layout", None)
    if layout is not None:
        assert ctrl.genome_size == layout.genome_size
    g = ctrl.genome_size
    corners = np.stack([-np.ones(g), np.ones(g), np.zeros(g), np.random.default_rng(0).uniform(-1, 1, g)])
    params = ctrl.decode(corners)
    assert leaves(params), "decode returned no arrays"
    for a in leaves(params):
        assert np.all(np.isfinite(a))
        assert a.shape[0] == 4 or g == 0  # batched (a type without genes may share its parameters)


@pytest.mark.parametrize("name", NAMES)
def test_init_state_resets_every_trial(name: str) -> None:
    ctrl = build(name)
    genomes, xs = sample(ctrl, 3, seed=1)
    params = ctrl.decode(genomes)
    before = [a.copy() for a in leaves(params)]
    first = roll(ctrl, params, xs)
    second = roll(ctrl, params, xs)  # roll starts from init_state(params) after the first trial
    same(first, second)
    for a, b in zip(before, leaves(params)):  # a trial never writes the parameters
        np.testing.assert_array_equal(a, b)
    old, new = ctrl.init_state(params), ctrl.init_state(params)
    for a, b in zip(leaves(old), leaves(new)):
        assert not np.shares_memory(a, b)
    zero = ctrl.init_state(ctrl.decode(genomes[:1]))
    state = ctrl.init_state(params)
    for a, b in zip(leaves(zero), leaves(state)):
        np.testing.assert_array_equal(a[0], b[0])  # fresh, and the same for every network of the batch


@pytest.mark.parametrize("name", NAMES)
def test_deterministic(name: str) -> None:
    genomes, xs = sample(build(name), 4, seed=2)
    a, b = build(name), build(name)
    same(roll(a, a.decode(genomes), xs), roll(b, b.decode(genomes), xs))


@pytest.mark.parametrize("name", NAMES)
def test_a_network_in_a_batch_equals_it_alone(name: str) -> None:
    ctrl = build(name)
    genomes, xs = sample(ctrl, 5, seed=3)
    outs, traces = roll(ctrl, ctrl.decode(genomes), xs)
    for i in range(5):
        alone = roll(ctrl, ctrl.decode(genomes[i:i + 1]), xs[i:i + 1])
        same((outs[:, i:i + 1], {k: v[:, i:i + 1] for k, v in traces.items()}), alone)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_outputs_are_finite_commands_in_unit_interval(name: str, data: st.DataObject) -> None:
    ctrl = build(name)
    genomes = data.draw(arrays(np.float64, (2, ctrl.genome_size), elements=st.floats(-1, 1)), label="genomes")
    xs = data.draw(arrays(np.float64, (2, 15, N_IN), elements=st.floats(-10, 10)), label="inputs")
    outs, traces = roll(ctrl, ctrl.decode(genomes), xs)
    assert np.all((outs >= 0.0) & (outs <= 1.0))  # NaN fails this too
    for name_, arr in traces.items():
        assert arr.shape[:2] == (15, 2) and np.all(np.isfinite(arr)), name_


@pytest.mark.parametrize("name", NAMES)
def test_describe_is_json_ready_and_trace_is_per_network(name: str) -> None:
    ctrl = build(name)
    genomes, _ = sample(ctrl, 3, seed=4)
    params = ctrl.decode(genomes)
    for i in range(3):
        d = ctrl.describe(params, i)
        assert isinstance(d, dict) and all(isinstance(k, str) for k in d)
        assert json.loads(json.dumps(d, allow_nan=False)) == d
    assert ctrl.describe(params, 0) != ctrl.describe(params, 1) or ctrl.genome_size == 0
    state = ctrl.init_state(params)
    columns = []
    for key, arr in ctrl.trace(state).items():
        assert isinstance(key, str) and arr.ndim == 2 and arr.shape[0] == 3, key
        columns += unit_labels(ctrl, key, arr.shape[1])
    # replay --trace writes these (named as the viewer names them) beside its input and motor columns:
    # no name may repeat
    reserved = [f"{p}{i}" for p in ("ray", "ir", "light", "bumper", "pixel", "field") for i in range(N_IN)]
    reserved += [f"motor{i}" for i in range(N_OUT)]
    assert len(set(columns)) == len(columns) and not set(columns) & set(reserved)
