"""The Hebbian storage trainer (``[optimizer] type = "hebbian"``, evorobot/training/hebbian.py)."""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

from evorobot.cli import main
from evorobot.errors import ConfigError
from evorobot.setup import load_setup
from evorobot.training.hebbian import unstable_fraction
from evorobot.training.run import train


def test_unstable_fraction_against_a_plain_loop() -> None:
    rng = np.random.default_rng(3)
    for p, n in [(3, 40), (12, 40), (30, 40)]:
        xi = np.where(rng.random((p, n)) < 0.5, -1.0, 1.0)
        unstable = 0
        for mu in range(p):
            for i in range(n):
                h = sum(xi[nu, i] * xi[nu, j] * xi[mu, j] for nu in range(p) for j in range(n) if j != i)
                if (h > 0 and xi[mu, i] < 0) or (h < 0 and xi[mu, i] > 0):
                    unstable += 1
                    break
        assert unstable_fraction(xi) == unstable / p


@pytest.mark.parametrize("world", ["hopfield_patterns", "bam_patterns"])
def test_stored_patterns_are_recalled_from_noisy_cues_and_replay(world: str, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    setup = load_setup(ROOT / "worlds" / f"{world}.toml")
    summary = train(setup, tmp_path / "run", stream=None)
    assert summary.best_fitness == 1.0  # every train cue (10 % flipped) completed exactly
    champ = json.loads((tmp_path / "run" / "champion.json").read_text())
    assert champ["held_out"]["metric"] == "overlap" and float(champ["held_out"]["score"]) == 1.0
    assert main(["replay", str(tmp_path / "run"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["matches_stored"] is True


def test_past_capacity_the_loss_says_so_and_recall_degrades(tmp_path: Path) -> None:
    # 0.3 N patterns: far past the knee near 0.138 N (Amit, Gutfreund & Sompolinsky 1985)
    setup = load_setup(ROOT / "worlds" / "hopfield_patterns.toml", ["task.patterns=30"])
    summary = train(setup, tmp_path / "run", stream=None)
    history = (tmp_path / "run" / "history.csv").read_text().splitlines()
    assert float(history[1].split(",")[1]) > 0.5  # most stored patterns are not fixed points
    assert summary.best_fitness < 0.9


@pytest.mark.parametrize(("overrides", "message"), [
    (["--controller", "elman"], "controller type `elman` has no Hebbian storage"),
])
def test_refusals_in_one_line(overrides: list[str], message: str, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(["evolve", str(ROOT / "worlds" / "hopfield_patterns.toml"), *overrides, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "[optimizer]" in err and "\n" not in err
    assert not out.exists()


def test_refuses_a_task_without_stored_patterns() -> None:
    setup = load_setup(ROOT / "worlds" / "esn_narma10.toml", controller="hopfield")
    from evorobot.training.hebbian import Hebbian, HebbianSpec

    with pytest.raises(ConfigError, match=r"w \[optimizer\]: `hebbian` stores the patterns of a `pattern_completion`"):
        Hebbian(HebbianSpec(), setup, "w [optimizer]")
