"""Every registered optimizer drives a real evolution run bit for bit: 2 worker processes equal the
serial run, a run stopped and resumed from its checkpoint equals the uninterrupted one, the champion
replays to its stored fitness, and ``--init-from`` hands a population across optimizers.

The world is categorical perception shrunk to 2 trials and 8 genomes per generation; the runs
themselves (the same for every optimizer) are in ``test_runner.py`` and ``test_resume.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import CP_WORLD, ROOT
from evorobot.cli import main
from evorobot.evolution import OPTIMIZERS
from test_backends import history, run_cli, same_run

NAMES = sorted(OPTIMIZERS)
GENS = 3
SMALL = ["--set", "task.offsets=2", "--population", "8", "--set", "evolution.chunk_size=3"]
EXTRA: dict[str, list[str]] = {"esp": ["--set", "optimizer.subpopulation=4"]}


def settings(name: str) -> list[str]:
    return [*SMALL, "--optimizer", name, *EXTRA.get(name, [])]


def evolve(name: str, out: Path, generations: int = GENS, *extra: str) -> None:
    args = ["evolve", str(CP_WORLD), *settings(name), "--generations", str(generations), "--out", str(out), *extra]
    assert main(args) == 0


@pytest.fixture(scope="module", params=NAMES)
def reference(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp(request.param) / "run"
    evolve(request.param, out)
    return request.param, out


def test_the_world_file_selects_the_optimizer(reference: tuple[str, Path]) -> None:
    name, out = reference
    assert json.loads((out / "config.json").read_text())["optimizer"]["type"] == name
    rows = (out / "history.csv").read_text().splitlines()
    assert len(rows) == GENS + 1 and rows[1].split(",")[6] == "8"


def test_two_workers_equal_serial(reference: tuple[str, Path], tmp_path: Path) -> None:
    name, ref = reference
    evolve(name, tmp_path / "w2", GENS, "--workers", "2")
    same_run(ref, tmp_path / "w2")


def test_resume_equals_the_uninterrupted_run(reference: tuple[str, Path], tmp_path: Path) -> None:
    name, ref = reference
    out = tmp_path / "part"
    evolve(name, out, 1)
    assert main(["resume", str(out), "--generations", str(GENS)]) == 0
    assert history(out) == history(ref)
    a, b = (json.loads((r / "champion.json").read_text()) for r in (out, ref))
    for c in (a, b):  # a champion found before the resume records the settings of its time
        c["experiment"]["evolution"]["generations"] = 0
    assert a == b


def test_the_champion_replays_bit_for_bit(reference: tuple[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _, ref = reference
    assert main(["replay", str(ref), "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["matches_stored"] is True


@pytest.mark.parametrize("src, dst", [("ga", "cmaes"), ("cmaes", "ga"), ("pso", "esp")])
def test_init_from_hands_genomes_across_optimizers(src: str, dst: str, tmp_path: Path) -> None:
    if src not in OPTIMIZERS or dst not in OPTIMIZERS:
        pytest.skip("optimizer not registered")
    evolve(src, tmp_path / "a", 2)
    evolve(dst, tmp_path / "b", 1, "--init-from", str(tmp_path / "a"))
    record = json.loads((tmp_path / "b" / "manifest.json").read_text())["init_from"]
    assert record["optimizer"] == src and record["generations_done"] == 2


def test_sigkill_mid_run_then_resume_equals_the_uninterrupted_run(reference: tuple[str, Path], tmp_path: Path) -> None:
    name, ref = reference
    out = tmp_path / "killed"
    args = ["evolve", str(CP_WORLD), *settings(name), "--generations", str(GENS), "--out", str(out)]
    rc, _, _ = run_cli(args, ROOT, lambda proc: (out / "history.csv").is_file() and bool(proc.send_signal(9)) is False)
    assert rc in (-9, 0)  # a fast run may finish before the kill lands
    assert main(["resume", str(out)]) == 0
    same_run(ref, out)


def test_dask_equals_serial_for_a_distribution_based_optimizer(tmp_path: Path) -> None:
    pytest.importorskip("distributed", reason="dask.distributed not installed (pip install 'evorobot[dask]')")
    if "cmaes" not in OPTIMIZERS:
        pytest.skip("cmaes not registered")
    evolve("cmaes", tmp_path / "serial")
    evolve("cmaes", tmp_path / "dask", GENS, "--dask", "local", "--workers", "2")
    same_run(tmp_path / "serial", tmp_path / "dask")
