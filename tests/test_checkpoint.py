"""Checkpoints: complete state, strict files, previous kept, corruption detected and skipped."""

import json
import re
import math
from pathlib import Path

import numpy as np
import pytest

from evorobot.errors import ChampionFileError
from evorobot.evolution import checkpoint
from evorobot.evolution.checkpoint import Checkpoint, changes, fingerprint
from evorobot.evolution.base import GenomeLayout
from evorobot.evolution.ga import GA, GASpec

SPEC = GASpec(population=8, crossover_rate=0.5)


def _ga_after(gens: int) -> GA:
    ga = GA(SPEC, GenomeLayout(5), np.random.SeedSequence(7))
    rng = np.random.default_rng(1)
    for _ in range(gens):
        ga.ask()
        ga.tell(rng.normal(size=8))
    return ga


def _ck(done: int, ga: GA | None = None) -> Checkpoint:
    ga = ga or _ga_after(done)
    rows = [[str(g), "0.5", "0.4", "0.1", "0.5", "8", "0", "0.010"] for g in range(done)]
    champ = {"schema": "evorobot.champion", "generation": done - 1, "fitness": 0.5} if done else None
    best = 0.5 if done else -math.inf
    return Checkpoint(done, ga.state_dict(), best, done - 1, rows, champ, "f" * 64)


def test_round_trip_restores_the_optimizer_bit_for_bit(tmp_path):
    ga = _ga_after(3)
    path = checkpoint.save(tmp_path, _ck(3, ga))
    assert path == tmp_path / "checkpoint" / "gen-000003"
    ck = checkpoint.read(path)
    assert ck.done == 3 and ck.best_generation == 2 and ck.fingerprint == "f" * 64
    assert ck.history == _ck(3, ga).history and ck.champion["generation"] == 2
    restored = GA.from_state_dict(SPEC, GenomeLayout(5), ck.optimizer)
    fitness = np.random.default_rng(9).normal(size=8)
    for g in (ga, restored):
        g.ask()
        g.tell(fitness)
    assert np.array_equal(ga.ask(), restored.ask())  # same rng stream after the restore
    assert ga.rng.random() == restored.rng.random()


def test_files_are_strict_json_and_plain_npz(tmp_path):
    path = checkpoint.save(tmp_path, _ck(0))
    text = (path / "state.json").read_text()
    state = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard constant {c}"))
    assert state["best_ever"] == "-Infinity" and state["champion"] is None and state["history"] == []
    assert state["optimizer"]["rng_state"]["bit_generator"] == "PCG64"
    with np.load(path / "optimizer.npz", allow_pickle=False) as npz:
        assert sorted(npz.files) == state["arrays"] == ["population"]


def test_keeps_the_newest_two_and_cleans_up(tmp_path):
    for done in range(5):
        checkpoint.save(tmp_path, _ck(done))
    (tmp_path / "checkpoint" / ".tmp-gen-000005-x").mkdir()  # as a crash mid-write would leave it
    checkpoint.save(tmp_path, _ck(5))
    assert sorted(p.name for p in (tmp_path / "checkpoint").iterdir()) == ["gen-000004", "gen-000005"]


def test_rewriting_a_generation_replaces_it_and_drops_newer_ones(tmp_path):
    for done in (3, 4, 5):
        checkpoint.save(tmp_path, _ck(done))
    _truncate("optimizer.npz")(tmp_path / "checkpoint" / "gen-000005")
    checkpoint.save(tmp_path, _ck(5))  # a run resumed from 4 writes 5 again
    assert checkpoint.read(tmp_path / "checkpoint" / "gen-000005").done == 5
    checkpoint.save(tmp_path, _ck(4))  # never newer than the state just written
    assert sorted(p.name for p in (tmp_path / "checkpoint").iterdir()) == ["gen-000004"]


def _truncate(name: str):
    def edit(p: Path) -> None:
        data = (p / name).read_bytes()
        (p / name).write_bytes(data[: len(data) // 2])
    return edit


def _flip_npz_byte(p: Path) -> None:
    data = bytearray((p / "optimizer.npz").read_bytes())
    data[len(data) // 2] ^= 0x01
    (p / "optimizer.npz").write_bytes(bytes(data))


def _edit_state(p: Path) -> None:  # still valid JSON, but not what was written
    state = json.loads((p / "state.json").read_text())
    state["best_generation"] += 1
    (p / "state.json").write_text(json.dumps(state))


def _schema(p: Path) -> None:
    state = json.loads((p / "state.json").read_text())
    state["schema_version"] = 99
    (p / "state.json").write_text(json.dumps(state))


CORRUPTIONS = {
    "truncated npz": (_truncate("optimizer.npz"), "checksum mismatch (truncated or corrupt)"),
    "flipped npz byte": (_flip_npz_byte, "checksum mismatch (truncated or corrupt)"),
    "truncated state": (_truncate("state.json"), "not valid JSON (truncated or corrupt?)"),
    "edited state": (_edit_state, "checksum mismatch (corrupt or edited)"),
    "missing npz": (lambda p: (p / "optimizer.npz").unlink(), "optimizer state not found"),
    "missing state": (lambda p: (p / "state.json").unlink(), "checkpoint state not found"),
    "unknown version": (_schema, "unknown checkpoint schema_version 99"),
}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_corrupt_newest_is_detected_and_the_previous_used(tmp_path, case):
    edit, fragment = CORRUPTIONS[case]
    checkpoint.save(tmp_path, _ck(2))
    newest = checkpoint.save(tmp_path, _ck(3))
    edit(newest)
    with pytest.raises(ChampionFileError, match=re.escape(fragment)):
        checkpoint.read(newest)
    warnings: list[str] = []
    ck = checkpoint.load_latest(tmp_path, warnings.append)
    assert ck.done == 2
    assert len(warnings) == 1 and "gen-000003" in warnings[0] and fragment in warnings[0]


def test_no_usable_checkpoint_is_an_error(tmp_path):
    with pytest.raises(ChampionFileError, match="no usable checkpoint"):
        checkpoint.load_latest(tmp_path, lambda m: None)
    _truncate("optimizer.npz")(checkpoint.save(tmp_path, _ck(1)))
    with pytest.raises(ChampionFileError, match="no usable checkpoint.*checksum mismatch"):
        checkpoint.load_latest(tmp_path, lambda m: None)


def test_fingerprint_ignores_only_the_resumable_settings():
    exp = {"task": {"type": "cp", "offsets": 2}, "evolution": {"generations": 3, "chunk_size": 2,
                                                               "checkpoint_every": 1}}
    more = {**exp, "evolution": {"generations": 9, "chunk_size": 5, "checkpoint_every": 4}}
    other = {**exp, "task": {"type": "cp", "offsets": 3}}
    assert fingerprint(exp) == fingerprint(more) != fingerprint(other)
    assert changes(exp, other) == {"task.offsets": [2, 3]}


def test_a_setting_added_after_the_run_started_does_not_orphan_its_checkpoints() -> None:
    """A run's config.json names the settings evorobot had when it started; one added later (here
    task.offset_skip, whose default keeps the old trials) resolves to its default on resume and must
    not make the checkpoint "belong to a different experiment" (it did for every older run)."""
    from evorobot.config import load_world
    from evorobot.evolution.checkpoint import flatten, same_experiment

    ROOT = Path(__file__).resolve().parents[1]
    exp = load_world(ROOT / "worlds" / "categorical_perception.toml").to_dict()
    written = json.loads(json.dumps(exp))
    del written["task"]["offset_skip"]  # the run was started before the setting existed
    stored = fingerprint(written)
    assert stored != fingerprint(exp)
    assert same_experiment(stored, exp, written)
    assert same_experiment(fingerprint(exp), exp, exp)
    # a setting the file does name must still match
    changed = json.loads(json.dumps(exp))
    changed["task"]["offsets"] = 13
    assert not same_experiment(stored, changed, written)
    assert "task.offsets" in flatten(written)
