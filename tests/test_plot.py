"""``evorobot plot`` (:mod:`evorobot.plot`): the plotted data are the runs' history columns.

The runs are real, tiny ones (``evorobot evolve`` in a temporary folder); the expected values are
read from their ``history.csv`` here with the csv module, independently of the module under test,
and compared bit for bit with what the figure holds (line data, the band's polygon vertices).
"""

from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import CP_WORLD, ROOT

from evorobot.cli import main
from evorobot.plot import fitness_figure

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _evolve(out: Path, seed: int, generations: int) -> Path:
    argv = ["evolve", str(CP_WORLD), "--generations", str(generations), "--population", "8", "--seed", str(seed),
            "--set", "task.offsets=2", "--out", str(out)]
    assert main(argv) == 0
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three seeded categorical-perception runs of 3, 4 and 4 generations."""
    base = tmp_path_factory.mktemp("runs")
    return [_evolve(base / f"cp-s{seed}", seed, gens) for seed, gens in ((1, 3), (2, 4), (3, 4))]


@pytest.fixture(scope="module")
def trainer_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A BPTT run of 3 epochs on temporal XOR (history per epoch: loss, fitness, test)."""
    out = tmp_path_factory.mktemp("train") / "xor"
    argv = ["evolve", str(ROOT / "worlds" / "bptt_temporal_xor.toml"), "--set", "optimizer.epochs=3",
            "--out", str(out)]
    assert main(argv) == 0
    return out


def history(run: Path) -> dict[str, list[str]]:
    """The columns of ``run``'s history.csv as strings."""
    with open(run / "history.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {k: [r[k] for r in rows] for k in rows[0]}


def column(run: Path, name: str) -> np.ndarray:
    return np.array([float(v) if v else np.nan for v in history(run)[name]])


def lines_by_label(ax) -> dict:
    return {line.get_label(): line for line in ax.get_lines()}


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("evorobot: error: "), err
    return err


def test_one_run_lines_are_its_history_columns(runs: list[Path]) -> None:
    run = runs[1]
    fig = fitness_figure([run])
    (ax,) = fig.axes
    lines = lines_by_label(ax)
    assert sorted(lines) == ["best", "best ever", "mean"]  # validation is off: its column is empty
    gens = np.array([int(g) for g in history(run)["generation"]])
    assert gens.tolist() == [0, 1, 2, 3]
    for label, name in (("best", "best"), ("mean", "mean"), ("best ever", "best_ever")):
        assert np.array_equal(lines[label].get_xdata(), gens)
        assert np.array_equal(lines[label].get_ydata(), column(run, name))
    assert ax.get_title() == "categorical_perception, seed 2"
    assert ax.get_xlabel() == "generation" and ax.get_ylabel() == "fitness"
    assert ax.get_legend() is not None


def test_trainer_run_has_one_panel_per_column(trainer_run: Path) -> None:
    fig = fitness_figure([trainer_run])
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "fitness", "test"]
    epochs = np.array([int(e) for e in history(trainer_run)["epoch"]])
    assert epochs.tolist() == [0, 1, 2]
    for ax in fig.axes:
        (line,) = ax.get_lines()
        assert np.array_equal(line.get_xdata(), epochs)
        assert np.array_equal(line.get_ydata(), column(trainer_run, ax.get_ylabel()))
    assert fig.axes[0].get_title() == "bptt_temporal_xor, seed 1"
    assert fig.axes[-1].get_xlabel() == "epoch"


def test_several_runs_median_and_quartiles_over_the_shared_generations(runs: list[Path]) -> None:
    fig = fitness_figure(runs)
    (ax,) = fig.axes
    lines = lines_by_label(ax)
    shared = np.arange(3)  # the shortest run has generations 0..2
    bands = {c.get_label(): c for c in ax.collections}
    for name, label in (("best_ever", "best ever"), ("best", "best")):
        stack = np.stack([column(r, name)[:3] for r in runs])
        q25, q50, q75 = np.percentile(stack, [25, 50, 75], axis=0)
        median = lines[f"{label}, median"]
        assert np.array_equal(median.get_xdata(), shared)
        assert np.array_equal(median.get_ydata(), q50)
        vertices = np.concatenate([p.vertices for p in bands[f"{label}, 25-75 %"].get_paths()])
        assert set(vertices[:, 0]) == set(shared.astype(float))
        for g in shared:
            ys = vertices[vertices[:, 0] == g, 1]
            assert ys.min() == q25[g] and ys.max() == q75[g]
    assert not np.array_equal(lines["best ever, median"].get_ydata(), lines["best, median"].get_ydata())
    for r in runs:  # each run's best-ever in full, labelled by its directory
        thin = lines[r.name]
        assert np.array_equal(thin.get_xdata(), [int(g) for g in history(r)["generation"]])
        assert np.array_equal(thin.get_ydata(), column(r, "best_ever"))
    assert ax.get_title() == "categorical_perception: 3 runs (seeds 1, 2, 3)"


def test_empty_and_non_finite_cells_are_gaps(runs: list[Path], tmp_path: Path) -> None:
    run = tmp_path / "gappy"
    shutil.copytree(runs[0], run)
    text = (run / "history.csv").read_text().splitlines()
    cells = text[2].split(",")
    cells[1], cells[2] = "", "-Infinity"  # generation 1: best empty, mean -inf
    text[2] = ",".join(cells)
    (run / "history.csv").write_text("\n".join(text) + "\n")
    lines = lines_by_label(fitness_figure([run]).axes[0])
    best, mean = lines["best"].get_ydata(), lines["mean"].get_ydata()
    assert np.isnan(best[1]) and np.isnan(mean[1])
    assert best[0] == column(runs[0], "best")[0] and mean[2] == column(runs[0], "mean")[2]


def test_cli_writes_png_next_to_one_run(runs: list[Path], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "one"
    shutil.copytree(runs[0], run)
    assert main(["plot", str(run)]) == 0
    assert capsys.readouterr().out == f"wrote {run / 'fitness.png'}\n"
    assert (run / "fitness.png").read_bytes().startswith(PNG_MAGIC)


def test_cli_several_runs_default_png_here_and_svg(runs: list[Path], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["plot", *map(str, runs)]) == 0
    assert (tmp_path / "fitness.png").read_bytes().startswith(PNG_MAGIC)
    svg = tmp_path / "sub" / "f.svg"
    assert main(["plot", *map(str, runs), "--out", str(svg)]) == 0
    data = svg.read_bytes()
    assert data.startswith(b"<?xml") and b"<svg" in data and b"</svg>" in data
    assert [p.name for p in svg.parent.iterdir()] == ["f.svg"]  # no temporary file left


def test_missing_matplotlib_names_the_extra(runs: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    out = tmp_path / "f.png"
    assert main(["plot", str(runs[0]), "--out", str(out)]) == 2
    err = one_error_line(capsys)
    assert "matplotlib" in err and "pip install 'evorobot[plot]'" in err
    assert not out.exists()


def _no_history(run: Path) -> None:
    (run / "history.csv").unlink()


def _empty_history(run: Path) -> None:
    (run / "history.csv").write_text("")


def _header_only(run: Path) -> None:
    (run / "history.csv").write_text((run / "history.csv").read_text().splitlines()[0] + "\n")


def _bad_cell(run: Path) -> None:
    lines = (run / "history.csv").read_text().splitlines()
    cells = lines[2].split(",")
    cells[1] = "abc"  # generation 1's best
    lines[2] = ",".join(cells)
    (run / "history.csv").write_text("\n".join(lines) + "\n")


def _short_row(run: Path) -> None:
    (run / "history.csv").write_text((run / "history.csv").read_text() + "3,0.5\n")


def _not_utf8(run: Path) -> None:
    (run / "history.csv").write_bytes(b"\xff\xfe\x00garbage")


@pytest.mark.parametrize(("spoil", "message"), [
    (_no_history, "not a run directory (no history.csv)"),
    (_empty_history, "history is empty"),
    (_header_only, "history has no rows yet"),
    (_bad_cell, "line 3, column best: expected a number"),
    (_short_row, "line 5 has 2 cells"),
    (_not_utf8, "history is not UTF-8 text"),
])
def test_bad_run_directory_is_one_line(runs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       spoil, message: str) -> None:
    run = tmp_path / "run"
    shutil.copytree(runs[0], run)
    spoil(run)
    assert main(["plot", str(run)]) == 2
    err = one_error_line(capsys)
    assert str(run) in err and message in err
    assert not (run / "fitness.png").exists()


def test_folder_that_is_not_a_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plot", str(tmp_path)]) == 2
    assert f"{tmp_path}: not a run directory" in one_error_line(capsys)
    assert main(["plot", str(tmp_path / "nowhere")]) == 2
    assert "not a run directory (not found)" in one_error_line(capsys)


@pytest.mark.parametrize("name", ["f.pdf", "f", "f.png.txt"])
def test_bad_suffix_is_one_line(runs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                name: str) -> None:
    assert main(["plot", str(runs[0]), "--out", str(tmp_path / name)]) == 2
    err = one_error_line(capsys)
    assert f"--out {tmp_path / name}" in err and ".png or .svg" in err
    assert list(tmp_path.iterdir()) == []


def test_evolution_and_trainer_runs_do_not_mix(runs: list[Path], trainer_run: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plot", str(runs[0]), str(trainer_run), "--out", str(tmp_path / "f.png")]) == 2
    assert str(trainer_run) in one_error_line(capsys)
