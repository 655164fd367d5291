"""The resource budget (issue 22): oversized settings refused in one line before anything runs or is
written; the memory estimate against a real episode's; agent files only from the allowed folders.

Every command runs in a subprocess with a deadline and an address-space limit, so a regression
fails the test instead of hanging the suite or eating the machine.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, WORLDS
from test_faults import DEADLINE, one_line

from evorobot.budget import DEFAULT_LIMITS, Limits, agent_ticks, estimate_memory
from evorobot.cli import main
from evorobot.config import experiment_from_dict, load_world
from evorobot.errors import ConfigError
from evorobot.setup import load_setup

CP = ROOT / "worlds" / "categorical_perception.toml"
PHOTOTAXIS = ROOT / "worlds" / "phototaxis.toml"
MEMORY_LIMIT = 4 * 2**30  # bytes of address space a command may take


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_limited(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``evorobot ARGS`` with a deadline and at most :data:`MEMORY_LIMIT` of address space."""
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy"}
    return subprocess.run([sys.executable, "-m", "evorobot.cli", *args], capture_output=True, text=True,
                          check=False, timeout=DEADLINE, cwd=cwd, env=env, preexec_fn=_limit_memory)


# (command and arguments, fragments of the one-line error)
REPRODUCTIONS = [
    (["evolve", str(CP), "--set", "task.offsets=1000000000"], ["[task]", "`offsets` = 1000000000", "limits.count"]),
    (["evolve", str(CP), "--population", "1000000000"], ["[optimizer]", "`population` = 1000000000", "limits.population"]),
    (["evolve", str(CP), "--set", "controller.hidden=100000000"], ["[controller]", "`hidden`", "limits.neurons"]),
    (["evolve", str(CP), "--set", "agent.eye.rays=100000000"], ["[agent.eye]", "`rays`", "limits.sensors"]),
    (["evolve", str(PHOTOTAXIS), "--set", "simulation.substeps=100000000"], ["[simulation]", "`substeps`",
                                                                            "limits.substeps"]),
    (["evolve", str(PHOTOTAXIS), "--set", "task.trials=1000000000"], ["[task]", "`trials` = 1000000000",
                                                                      "limits.trials"]),
    (["evolve", str(CP), "--set", "task.fall_speed=5e-324"], ["[task]", "`fall_speed` = 5e-324", "out of the range"]),
    (["evolve", str(CP), "--set", "simulation.dt=1e-300"], ["[simulation]", "`dt` = 1e-300", "out of the range"]),
    (["evolve", str(CP), "--set", "task.fall_speed=1e-9"], ["[task]", "ticks", "limits.steps"]),
    (["evolve", str(ROOT / "worlds" / "adding.toml"), "--set", "task.test_sequences=200000"],
     ["[task]: the held-out test has 200000 trials, over the limit of 100000 (trials)"]),
    (["replay", str(PHOTOTAXIS), "--trials", "1000000000"], ["[task]", "`trials` = 1000000000", "limits.trials"]),
    # within every per-setting limit, but a chunk of 100000 x 24 trial worlds does not fit in 4 GiB
    (["evolve", str(CP), "--population", "100000", "--set", "evolution.chunk_size=100000"],
     ["needs about", "an evaluation chunk of 100000 individuals x 24 trials", "available", "memory_mb"]),
    (["evolve", str(CP), "--set", "limits.memory_mb=1"], ["needs about", "the limit of 1 MiB (memory_mb)"]),
    (["evolve", str(CP), "--set", "limits.work=1e6"], ["agent-ticks", "96 individuals x 24 trials", "limits.work"]),
]


IN_ONE_PROCESS = """
import contextlib, io, json, sys, traceback
from evorobot.cli import main
out = []
for args in json.loads(sys.argv[1]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            rc = main(args)
        except BaseException:  # a regression: keep its traceback for the assertion message
            rc = -1
            traceback.print_exc(file=err)
    out.append([rc, err.getvalue()])
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def refusals(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[subprocess.CompletedProcess[str]]]:
    """Every reproduction run by ``evorobot.cli.main`` in one subprocess (one interpreter start-up
    instead of one per case) with the deadline and the memory limit."""
    cwd = tmp_path_factory.mktemp("refusals")
    done = subprocess.run([sys.executable, "-c", IN_ONE_PROCESS, json.dumps([a for a, _ in REPRODUCTIONS])],
                          capture_output=True, text=True, check=True, timeout=DEADLINE, cwd=cwd,
                          env={**os.environ, "SDL_VIDEODRIVER": "dummy"}, preexec_fn=_limit_memory)
    results = [subprocess.CompletedProcess(args, rc, "", err)
               for args, (rc, err) in zip(REPRODUCTIONS, json.loads(done.stdout), strict=True)]
    return cwd, results


@pytest.mark.parametrize("case", range(len(REPRODUCTIONS)), ids=[" ".join(a[2:]) for a, _ in REPRODUCTIONS])
def test_oversized_settings_are_one_line_with_nothing_written(refusals, case: int) -> None:
    cwd, results = refusals
    line = one_line(results[case])
    for frag in REPRODUCTIONS[case][1]:
        assert frag in line, (frag, line)
    assert not (cwd / "runs").exists()


def test_a_refusal_is_exit_status_2_from_the_console(tmp_path: Path) -> None:
    line = one_line(run_limited("evolve", str(CP), "--population", "1000000000", cwd=tmp_path))
    assert "`population` = 1000000000 exceeds the limit of 100000" in line
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("world", WORLDS, ids=[p.name for p in WORLDS])
def test_every_shipped_world_fits_the_default_budget_with_room_to_spare(world: Path) -> None:
    setup = load_setup(world)  # builds and checks the budget, this machine's memory included
    assert agent_ticks(setup) * 100 <= DEFAULT_LIMITS.work
    assert sum(estimate_memory(setup).values()) < 2**30


def test_an_override_lets_a_just_over_limit_value_through_and_is_recorded() -> None:
    over = f"simulation.substeps={DEFAULT_LIMITS.substeps + 1}"
    with pytest.raises(ConfigError, match=r"\[simulation\]: `substeps` = 4097 exceeds the limit of 4096"):
        load_world(PHOTOTAXIS, [over])
    exp = load_world(PHOTOTAXIS, [over, f"limits.substeps={DEFAULT_LIMITS.substeps + 1}"])
    assert exp.simulation.substeps == 4097 and exp.limits.substeps == 4097
    assert exp.to_dict()["limits"]["substeps"] == 4097  # run configurations and champions carry it
    assert experiment_from_dict(exp.to_dict(), "again").limits == exp.limits
    # a lowered limit refuses what the default accepts: the derived trial count, 24 here
    load_setup(CP, ["limits.trials=24"])
    with pytest.raises(ConfigError, match=r"evaluates 24 trials per individual, over the limit of 23 \(trials\)"):
        load_setup(CP, ["limits.trials=23"])


def test_default_limits_leave_the_resolved_experiment_as_it_was() -> None:
    exp = load_world(CP)
    assert exp.limits == Limits() and "limits" not in exp.to_dict()  # files from before [limits] match


def test_a_champion_keeps_its_limits_and_replays(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(["evolve", str(CP), "--generations", "1", "--population", "4", "--set", "task.offsets=2",
                 "--set", "limits.trials=10", "--out", str(out)]) == 0
    champion = json.loads((out / "champion.json").read_text())
    assert champion["experiment"]["limits"]["trials"] == 10
    assert main(["replay", str(out)]) == 0  # identical bit for bit
    capsys.readouterr()
    assert main(["replay", str(out), "--set", "task.offsets=6"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "evaluates 12 trials per individual, over the limit of 10 (trials)" in err


MEASURE = """
import sys
import numpy as np
from evorobot.cli import main
from evorobot.budget import episode_bytes
from evorobot.episode import Episode
from evorobot.seeding import conditions_rng
from evorobot.setup import load_setup
setup = load_setup(sys.argv[1], sys.argv[3:])
n = int(sys.argv[2])
conds = setup.task.conditions(conditions_rng(0, 0))
genomes = np.zeros((n, setup.genome_size))
def peak():  # VmHWM: this process image's peak RSS (ru_maxrss carries the forking parent's peak over exec)
    status = open("/proc/self/status").read()
    return int(status.split("VmHWM:")[1].split()[0]) * 1024
Episode(setup, genomes[:1], conds[:1]).tick()  # kernels loaded, caches filled
before = peak()
episode = Episode(setup, genomes, conds)
episode.tick()
grown = peak() - before
print(episode_bytes(setup, n, len(conds)), grown)
"""


@pytest.mark.parametrize("world,n,sets", [
    ("categorical_perception", 32, ["controller.hidden=60"]),  # decoded networks dominate
    ("categorical_perception", 32, ["task.offsets=50"]),  # 3200 trial worlds of pymunk bodies
    ("phototaxis", 64, []),  # robots, walls and the sensor-noise table
    ("esn_narma10", 512, []),  # a task with its own dynamics
])
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
def test_the_memory_estimate_is_within_a_factor_two_of_an_episodes_growth(world: str, n: int,
                                                                         sets: list[str]) -> None:
    """The estimate against the peak resident memory an Episode of ``n`` individuals adds (VmHWM).

    Linux keeps ``ru_maxrss`` across ``execve``, so a child of the large pytest process would
    start from the parent's peak; VmHWM belongs to the new process image."""
    out = subprocess.run([sys.executable, "-c", MEASURE, str(ROOT / "worlds" / f"{world}.toml"), str(n), *sets],
                         capture_output=True, text=True, check=True, timeout=DEADLINE, preexec_fn=_limit_memory)
    estimate, grown = map(int, out.stdout.split())
    assert grown > 16 * 2**20  # large enough for the arrays to dominate
    assert 0.5 <= estimate / grown <= 2.0, (estimate, grown)


def _world_with_agent(folder: Path, file_value: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    world = folder / "w.toml"
    world.write_text(CP.read_text().replace('file = "beer_agent"', f"file = {json.dumps(file_value)}"))
    return world


def test_agent_files_resolve_only_inside_the_allowed_folders(tmp_path: Path) -> None:
    agent = ROOT / "agents" / "beer_agent.toml"
    outside = tmp_path / "elsewhere" / "agent.toml"
    outside.parent.mkdir()
    shutil.copy(agent, outside)
    worlds = tmp_path / "project" / "worlds"
    for value in ["../../elsewhere/agent.toml", str(outside), "/etc/passwd.toml", "sub/../../../elsewhere/agent.toml"]:
        with pytest.raises(ConfigError, match=r"\[agent\]: `file` = .* outside the folders agent files may live in"):
            load_world(_world_with_agent(worlds, value))
    (worlds / "link.toml").symlink_to(outside)  # a symlink inside that points outside
    with pytest.raises(ConfigError, match="outside the folders"):
        load_world(_world_with_agent(worlds, "link.toml"))
    # allowed: the world's folder, the agents/ folder beside it, the shipped agents (by name or path)
    shutil.copy(agent, worlds / "mine.toml")
    (worlds.parent / "agents").mkdir()
    shutil.copy(agent, worlds.parent / "agents" / "copy.toml")
    (worlds / "shipped.toml").symlink_to(agent)
    for value in ["mine.toml", "./mine.toml", "../agents/copy.toml", str(agent), "shipped.toml", "beer_agent"]:
        assert load_world(_world_with_agent(worlds, value)).agent.eye.rays == 7


def test_an_agent_file_outside_is_one_line_from_the_command_line(tmp_path: Path) -> None:
    world = _world_with_agent(tmp_path / "w", "../../../../../../../../etc/hostname.toml")
    line = one_line(run_limited("evolve", str(world), cwd=tmp_path))
    assert "outside the folders agent files may live in" in line and str(world) in line
    assert not (tmp_path / "runs").exists()


def test_replay_trace_is_refused_before_running_when_it_cannot_fit(tmp_path: Path) -> None:
    trace = tmp_path / "t.csv"
    line = one_line(run_limited("replay", str(CP), "--set", "limits.memory_mb=12", "--trace", str(trace), cwd=tmp_path))
    assert "the trace needs about" in line and "the limit of 12 MiB (memory_mb)" in line
    assert not trace.exists()
