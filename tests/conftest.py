"""Shared fixtures: paths of the shipped files, a small fast experiment."""

import csv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORLDS = sorted((ROOT / "worlds").glob("*.toml"))
CP_WORLD = ROOT / "worlds" / "categorical_perception.toml"


@pytest.fixture
def cp_world() -> Path:
    return CP_WORLD


@pytest.fixture
def small_world(tmp_path: Path) -> Path:
    """The categorical-perception world shrunk to a fast run: 4 trials, population 6."""
    text = CP_WORLD.read_text().replace('file = "../agents/beer_agent.toml"',
                                        f'file = "{(ROOT / "agents" / "beer_agent.toml").as_posix()}"')
    text = text.replace("offsets = 12", "offsets = 2").replace("population = 96", "population = 6")
    text = text.replace("generations = 300", "generations = 2").replace("chunk_size = 16", "chunk_size = 4")
    p = tmp_path / "small.toml"
    p.write_text(text)
    return p


def assert_alone_equals_batch(setup, genomes, conditions) -> None:
    """Each individual's fitness is bitwise the same evaluated alone as in the batch of ``genomes``
    (the determinism rule: nothing an individual computes depends on its neighbours)."""
    import numpy as np

    from evorobot.episode import Episode

    batch = Episode(setup, genomes, conditions).run().fitness
    for i in range(genomes.shape[0]):
        alone = Episode(setup, genomes[i : i + 1], conditions).run().fitness
        assert np.array_equal(alone[0], batch[i])


def history(run: Path) -> list[dict[str, str]]:
    """A run's history.csv rows without the wall-time column (what determinism compares)."""
    with open(run / "history.csv") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        r.pop("seconds")
    return rows
