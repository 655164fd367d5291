"""Fuzzed world files and hostile champions (issue 22): accepted, or refused in one line; never a
traceback, a hang or a half-written run directory; the viewer draws what it accepts.

World files are mutated from copies of every shipped world (``worlds/`` and ``agents/`` copied
together, so relative agent paths resolve) with hypothesis under a fixed profile (derandomized,
no deadline, no example database), so that CI runs the same examples every time: values of the
wrong type (strings, nan-like strings, booleans, arrays, tables, deep arrays), hostile numbers
(0, -1, -0.0, 1e308, 5e-324, 1e300, inf, nan, 2**64), dropped keys, unknown keys with unicode and
control characters, tables replaced by other values. Sizes (huge trials, populations, substeps,
networks) are the resource budget's (:mod:`evorobot.budget`, tests/test_budget*.py).
"""

from __future__ import annotations

import copy
import json
import math
import os
import shutil
import signal
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np
import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_faults import one_line, run_cli

from evorobot.cli import printable
from evorobot.errors import EvorobotError

PROFILE = settings(derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
EXAMPLES = int(os.environ.get("EVOROBOT_FUZZ_EXAMPLES", "200"))
"""In-process examples per run (the README's table was made with more: see its command)."""
HANG = 30  # seconds: one in-process example longer than this is a hang
SMALL = [("optimizer", "population", 4), ("optimizer", "epochs", 1), ("evolution", "generations", 1),
         ("evolution", "chunk_size", 2), ("task", "trials", 2), ("task", "offsets", 1)]
"""Settings shrunk before mutating, so that an accepted file evolves in a second or two."""

# -- TOML writing (the test writes the files it fuzzes; tomllib only reads) -------------------------


def _toml_str(s: str) -> str:
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch.isprintable() and o != 0x7F:
            out.append(ch)
        else:
            out.append(f"\\u{o:04x}" if o <= 0xFFFF else f"\\U{o:08x}")
    return "".join(out) + '"'


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return _toml_str(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{_toml_str(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"


def dump_toml(raw: dict[str, Any]) -> str:
    """A world dict as TOML: top-level values, then one ``[table]`` each (nested tables inline)."""
    lines = [f"{_toml_str(k)} = {_toml_value(v)}" for k, v in raw.items() if not isinstance(v, dict)]
    for k, v in raw.items():
        if isinstance(v, dict):
            lines.append(f"[{_toml_str(k)}]")
            lines += [f"{_toml_str(kk)} = {_toml_value(vv)}" for kk, vv in v.items()]
    return "\n".join(lines) + "\n"


# -- mutations ---------------------------------------------------------------------------------------

NUMBERS = [0, -1, 1, 2, -2**63, 2**64, 0.0, -0.0, -1.0, 0.5, 1e308, -1e308, 5e-324, -5e-324, 1e-300,
           math.inf, -math.inf, math.nan]
NAN_LIKE = ["nan", "inf", "-inf", "1e999", "", "NaN", "0x10", "1_000", "null", "true", " 3 "]
FLOATS = [0.0, -0.0, -1.0, 1e308, -1e308, 5e-324, 1e-300, 1e300, -1e300, 1e6, 1e-9, 0.5]
INTS = [0, -1, 1, 2, 1000]
KEYS = st.one_of(st.sampled_from(["type", "file", "sensors", "trials", "radius", "\x1b[2J", "名前", "a\nb", ""]),
                 st.text(max_size=10))


def _deep(depth: int) -> list[Any]:
    v: list[Any] = [1.0, 2.0]
    for _ in range(depth):
        v = [v]
    return v


def _scalars() -> st.SearchStrategy[Any]:
    return st.one_of(st.sampled_from(NUMBERS), st.sampled_from(NAN_LIKE), st.booleans(), st.text(max_size=8),
                     st.integers(-5, 5), st.floats())


def _values() -> st.SearchStrategy[Any]:
    return st.one_of(_scalars(), st.lists(_scalars(), max_size=4), st.dictionaries(KEYS, _scalars(), max_size=3),
                     st.integers(1, 200).map(_deep), st.lists(st.lists(_scalars(), max_size=3), max_size=3))


def _paths(raw: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for k, v in raw.items():
        out.append(prefix + (k,))
        if isinstance(v, dict):
            out += _paths(v, prefix + (k,))
    return out


def _get(raw: Any, path: tuple[str, ...]) -> Any:
    for k in path:
        raw = raw[k]
    return raw


def _same_type(draw: Any, v: Any) -> Any:
    """A hostile number of ``v``'s own type (so that the file gets past the type checks)."""
    if isinstance(v, bool):
        return not v
    if isinstance(v, int):
        return draw(st.sampled_from(INTS))
    if isinstance(v, float):
        return draw(st.sampled_from(FLOATS))
    if isinstance(v, list):
        return [_same_type(draw, x) for x in v]
    return v


def _scaled(v: Any, f: float) -> Any:
    if isinstance(v, bool) or not isinstance(v, (int, float, list)):
        return v
    if isinstance(v, list):
        return [_scaled(x, f) for x in v]
    return v * f if isinstance(v, float) or isinstance(f, float) else v * int(f)


OPS = ("set", "number", "number", "number", "scale", "drop", "add", "table")
"""Kinds of mutation, drawn uniformly (hostile numbers of the right type thrice as often)."""


@st.composite
def mutated(draw: Any, raw: dict[str, Any], ops: tuple[str, ...] = OPS) -> tuple[dict[str, Any], list[Any]]:
    """``raw`` with 1 to 3 mutations of the kinds ``ops``, and what they were (for a failure's message)."""
    raw = copy.deepcopy(raw)
    log: list[Any] = []
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(raw)
        op = draw(st.sampled_from(ops))
        if op == "add" or not paths:
            table = draw(st.sampled_from([()] + [p for p in paths if isinstance(_get(raw, p), dict)]))
            key = draw(KEYS)
            _get(raw, table)[key] = draw(_values())
            log.append(("add", table, key))
            continue
        path = draw(st.sampled_from(paths))
        parent = _get(raw, path[:-1])
        if op == "drop":
            del parent[path[-1]]
        elif op == "number":
            parent[path[-1]] = _same_type(draw, parent[path[-1]])
        elif op == "scale":
            parent[path[-1]] = _scaled(parent[path[-1]], draw(st.sampled_from([0, -1, 100, -0.0, 1e-300, 1e300])))
        elif op == "table":
            parent[path[-1]] = draw(st.one_of(st.sampled_from([{}, [], [{}], "x", 1]),
                                              st.dictionaries(KEYS, _scalars(), max_size=2)))
        else:
            parent[path[-1]] = draw(_values())
        log.append((op, path))
    return raw, log


# -- the shipped worlds, copied ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, Any]]]:
    """A copy of ``worlds/`` and ``agents/`` side by side, and every world as a dict, shrunk (:data:`SMALL`)."""
    root = tmp_path_factory.mktemp("shipped")
    shutil.copytree(ROOT / "worlds", root / "worlds")
    shutil.copytree(ROOT / "agents", root / "agents")
    raws = {}
    for w in sorted((root / "worlds").glob("*.toml")):
        raw = tomllib.loads(w.read_text())
        for table, key, value in SMALL:
            if isinstance(raw.get(table), dict) and key in raw[table]:
                raw[table][key] = value
        raws[w.name] = raw
    return root, raws


class _Hang(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Hang(f"no result in {HANG} s")


def first_ticks(path: Path) -> str:
    """Load ``path`` as `evorobot evolve` does and run the first two ticks of its first evaluation
    (one individual, two trials): "accepted", or "refused" for a one-line EvorobotError."""
    from evorobot.episode import Episode
    from evorobot.evolution import OPTIMIZERS
    from evorobot.evolution.runner import make_optimizer
    from evorobot.seeding import conditions_rng
    from evorobot.setup import load_setup

    try:
        setup = load_setup(path)
    except EvorobotError as exc:
        line = printable(str(exc))
        assert "\n" not in line and line, repr(line)
        return "refused"
    if setup.genome_size == 0 or setup.experiment.optimizer_type not in OPTIMIZERS:
        genomes = np.zeros((1, setup.genome_size))
    else:
        genomes = make_optimizer(setup).ask()[:1]
    conditions = setup.task.conditions(conditions_rng(setup.experiment.experiment.seed, 0))
    ep = Episode(setup, genomes, conditions[:2])
    for _ in range(2):
        ep.tick()
    ep.result()
    return "accepted"


FUZZ_COUNTS: Counter[str] = Counter()
BY_MUTATION: Counter[tuple[str, str]] = Counter()
"""Outcomes per kind of mutation (an example with several kinds counts under each), printed with -s."""


def test_fuzzed_world_files_are_accepted_or_refused_in_one_line(shipped: tuple[Path, dict[str, dict[str, Any]]]) -> None:
    root, raws = shipped
    path = root / "worlds" / "fuzzed.toml"

    @settings(PROFILE, max_examples=EXAMPLES)
    @given(st.sampled_from(sorted(raws)), st.data())
    def check(name: str, data: st.DataObject) -> None:
        raw, log = data.draw(mutated(raws[name]))
        path.write_text(dump_toml(raw), encoding="utf-8")
        old = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(HANG)
        try:
            outcome = first_ticks(path)
            FUZZ_COUNTS[outcome] += 1
            for op in {entry[0] for entry in log}:
                BY_MUTATION[op, outcome] += 1
        except EvorobotError:
            raise
        except Exception as exc:
            raise AssertionError(f"{name} {log}: {type(exc).__name__}: {exc}") from exc
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)

    check()
    print(f"fuzzed world files: {dict(FUZZ_COUNTS)}")
    for op in sorted({op for op, _ in BY_MUTATION}):
        print(f"  {op}: accepted {BY_MUTATION[op, 'accepted']}, refused {BY_MUTATION[op, 'refused']}")
    assert FUZZ_COUNTS["accepted"] and FUZZ_COUNTS["refused"]  # the mutations reach both outcomes


CLI_EXAMPLES = int(os.environ.get("EVOROBOT_FUZZ_CLI_EXAMPLES", "6"))
"""`evorobot evolve` subprocesses per run."""


def test_evolve_on_fuzzed_files_exits_0_or_one_line_with_no_run_directory(
        shipped: tuple[Path, dict[str, dict[str, Any]]]) -> None:
    root, raws = shipped
    outcomes: Counter[str] = Counter()

    @settings(PROFILE, max_examples=CLI_EXAMPLES)
    @given(st.sampled_from(sorted(raws)), st.data())
    def check(name: str, data: st.DataObject) -> None:
        raw, log = data.draw(mutated(raws[name], ("number", "scale", "drop")))  # so that some are accepted
        world = root / "worlds" / f"cli_{name}"
        world.write_text(dump_toml(raw), encoding="utf-8")
        out = root / "runs" / "fuzzed"
        shutil.rmtree(out, ignore_errors=True)
        done = run_cli("evolve", str(world), "--out", str(out), cwd=root)
        if done.returncode == 0:
            outcomes["accepted"] += 1
            assert (out / "champion.json").is_file() or (out / "config.json").is_file()
        else:
            line = one_line(done)  # exit 2, one line, no traceback
            assert not out.exists(), f"{name} {log}: {line} left {sorted(p.name for p in out.iterdir())}"
            outcomes["refused"] += 1

    check()
    print(f"evolve on fuzzed world files: {dict(outcomes)}")
    assert sum(outcomes.values()) == CLI_EXAMPLES and outcomes["accepted"] and outcomes["refused"]


VIEW_EXAMPLES = int(os.environ.get("EVOROBOT_FUZZ_VIEW_EXAMPLES", "60"))


def test_the_viewer_draws_every_fuzzed_world_it_accepts(shipped: tuple[Path, dict[str, dict[str, Any]]]) -> None:
    """`evorobot view WORLD` on a fuzzed file: refused in one line, or drawn at the start, after 5 and
    after 200 ticks (hostile sizes, speeds and gains that pass validation must not crash pygame)."""
    import pygame

    from evorobot.source import WorldSource
    from evorobot.viewer.app import Viewer

    root, raws = shipped
    path = root / "worlds" / "viewed.toml"
    outcomes: Counter[str] = Counter()

    @settings(PROFILE, max_examples=VIEW_EXAMPLES)
    @given(st.sampled_from(sorted(raws)), st.data())
    def check(name: str, data: st.DataObject) -> None:
        raw, log = data.draw(mutated(raws[name]))
        path.write_text(dump_toml(raw), encoding="utf-8")
        try:
            source = WorldSource(path)
        except EvorobotError as exc:
            assert "\n" not in printable(str(exc))
            outcomes["refused"] += 1
            return
        viewer, surface = Viewer(source), pygame.Surface((900, 560))
        try:
            for n in (0, 5, 195):
                viewer.step(n)
                viewer.draw(surface)
        except Exception as exc:
            raise AssertionError(f"{name} {log}: {type(exc).__name__}: {exc}") from exc
        outcomes["drawn"] += 1

    check()
    print(f"viewer on fuzzed world files: {dict(outcomes)}")
    assert outcomes["drawn"] and outcomes["refused"]


# -- one example per class -----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["a\nb", "\x1b[2Jboom", "名前\x7f"])
def test_an_unknown_key_with_control_characters_is_one_escaped_line(tmp_path: Path, key: str) -> None:
    text = (ROOT / "worlds" / "categorical_perception.toml").read_text().replace('file = "beer_agent"',
                                                                                  'file = "beer_agent"\n'
                                                                                  f"{_toml_str(key)} = 1")
    world = tmp_path / "w.toml"
    world.write_text(text, encoding="utf-8")
    line = one_line(run_cli("evolve", str(world), cwd=tmp_path))
    assert "unknown key" in line and "\x1b" not in line and "\x7f" not in line
    assert printable(key) in line and not (tmp_path / "runs").exists()


@pytest.mark.parametrize("value,what", [("1e300", "object_size` = 1e+300"), ("5e-324", "object_size` = 5e-324"),
                                        ('"1e3"', "object_size` must be a number"),
                                        ("nan", "object_size` must be finite")])
def test_a_hostile_number_is_refused_in_one_line(tmp_path: Path, value: str, what: str) -> None:
    world = ROOT / "worlds" / "categorical_perception.toml"
    line = one_line(run_cli("evolve", str(world), "--set", f"task.object_size={value}", cwd=tmp_path))
    assert what in line and not (tmp_path / "runs").exists()


# -- champions: the same validation, and a viewer that draws what it accepts -----------------------------


@pytest.fixture(scope="module")
def champion_doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from evorobot.config import load_world
    from evorobot.evolution.runner import evolve

    exp = load_world(ROOT / "worlds" / "categorical_perception.toml",
                     ["task.offsets=1", "optimizer.population=4", "evolution.generations=1"])
    out = tmp_path_factory.mktemp("run") / "r"
    evolve(exp, out, stream=None)
    return json.loads((out / "champion.json").read_text())


def _with(doc: dict[str, Any], table: str, key: str, value: Any, path: Path) -> Path:
    doc = copy.deepcopy(doc)
    node = doc["experiment"]
    for k in table.split("."):
        node = node[k]
    node[key] = value
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("command", ["replay", "view"])
def test_a_champion_with_a_huge_object_is_refused_in_one_line(champion_doc: dict[str, Any], tmp_path: Path,
                                                              command: str) -> None:
    champ = _with(champion_doc, "task", "object_size", 1e300, tmp_path / "huge.json")
    line = one_line(run_cli(command, str(champ), cwd=tmp_path))  # a viewer that accepted it would never exit
    assert "experiment [task]: `object_size` = 1e+300 is out of the range" in line


def _viewer(path: Path) -> Any:
    from evorobot.source import ChampionSource
    from evorobot.viewer.app import Viewer

    return Viewer(ChampionSource(path))


def test_the_viewer_draws_an_object_far_larger_than_the_screen(champion_doc: dict[str, Any], tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A library caller (or a champion from before the budget) with a 1e20 object: the object's
    pixels cover the view where the world puts them, instead of pygame's `radius` TypeError."""
    import pygame

    import evorobot.budget
    from evorobot.viewer import render

    monkeypatch.setattr(evorobot.budget, "HUGE", math.inf)
    v = _viewer(_with(champion_doc, "task", "object_size", 1e20, tmp_path / "big.json"))
    v.step(1)
    surface = pygame.Surface((900, 560))
    v.draw(surface)
    ep, b, tf = v.episode, v.state.trial, v.renderer.transform
    o = ep.objects[b, 0]
    centre = tf(ep.poses[o, 0] - ep.origins[b, 0], ep.poses[o, 1] - ep.origins[b, 1])
    assert all(abs(c) <= render.PIXEL_LIMIT for c in centre)
    area = v.renderer._area
    inside = [(x, y) for x in range(0, area[0], 50) for y in range(0, area[1], 50)
              if math.hypot(x - centre[0], y - centre[1]) < 0.99 * ep.geometry.radius.max() * tf.scale]
    assert inside, "the object should cover part of the view"
    assert all(tuple(surface.get_at(p))[:3] in (render.OBJECT, render.AGENT) or p[1] > area[1] - 80
               for p in inside[:40])


def test_the_viewer_draws_a_trial_whose_bodies_went_to_nan(champion_doc: dict[str, Any], tmp_path: Path) -> None:
    """A blown-up trial (NaN or infinite poses) is drawn off-screen, the rest as usual."""
    import pygame

    from evorobot.viewer import render

    v = _viewer(_with(champion_doc, "task", "object_size", 30.0, tmp_path / "c.json"))
    v.step(3)
    ep, b = v.episode, v.state.trial
    ep.poses[ep.objects[b, 0], :2] = (math.nan, math.inf)
    surface = pygame.Surface((900, 560))
    v.draw(surface)
    v.draw(surface)  # the trail now holds the non-finite pose too
    tf = v.renderer.transform
    a = ep.agent_body[b]
    ax, ay = ep.poses[a, 0] - ep.origins[b, 0], ep.poses[a, 1] - ep.origins[b, 1]
    assert tuple(surface.get_at(tf(ax + 5, ay - 5)))[:3] == render.AGENT
    assert render.to_pixel(math.nan) == -render.PIXEL_LIMIT
    assert render.to_pixel(1e300) == render.PIXEL_LIMIT and render.to_pixel(-math.inf) == -render.PIXEL_LIMIT
