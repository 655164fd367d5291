"""Checkpoints of a run: everything needed to continue it bit for bit, verified on load.

Layout (inside the run directory)::

    checkpoint/
      gen-000041/  state.json  optimizer.npz     the previous checkpoint (kept)
      gen-000042/  state.json  optimizer.npz     the newest: 42 generations done

``gen-NNNNNN`` counts the generations completed (``gen-000000`` is the state before the first).
A checkpoint is written into a temporary directory (each file atomically: temp file, fsync,
``os.replace``) which is then renamed into place, and only then is any older than the previous
one removed; a crash at any moment leaves at least one complete checkpoint. A write the system
refuses (disk full, ...) removes the temporary directory and raises
:class:`~evorobot.errors.WriteFailed`; the checkpoints already written stay as they were.

``state.json`` (strict JSON) holds the schema and version, ``generations_done``, the optimizer's
JSON-able state (its rng's bit-generator state included), the names of its arrays in
``optimizer.npz`` and the sha256 of that file's bytes, the best-ever fitness and its generation,
the history rows written so far (the history cursor), the champion record as of that generation,
the fingerprint of the experiment, and ``state_sha256``, the sha256 of the rest of the document.
A truncated or corrupt checkpoint fails one of these checks; :func:`load_latest` then warns and
falls back to the previous one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evorobot.errors import ChampionFileError, WriteFailed
from evorobot.store import (
    _sync_dir,
    decode_float,
    encode_float,
    kill_point,
    npz_bytes,
    npz_from_bytes,
    read_json,
    read_regular,
    write_bytes_atomic,
    write_failed,
    write_json,
)

SCHEMA = "evorobot.checkpoint"
SCHEMA_VERSION = 1
KEEP = 2
RESUMABLE = ("evolution.generations", "evolution.chunk_size", "evolution.checkpoint_every")
"""Settings (``table.key`` of the resolved experiment) that may change when a run is resumed:
none of them changes any result. Anything else changed is refused."""


@dataclass
class Checkpoint:
    """The state of a run after ``done`` generations."""

    done: int
    optimizer: dict[str, Any]  # the optimizer's state_dict (arrays included)
    best_ever: float
    best_generation: int
    history: list[list[str]]  # history.csv rows (without the header) of generations 0..done-1
    champion: dict[str, Any] | None  # champion.json as of generation done-1
    fingerprint: str
    path: Path | None = None


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """``{"table.key": [old, new]}`` for every setting that differs between two experiments."""
    a, b = flatten(old), flatten(new)
    return {k: [a.get(k), b.get(k)] for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def fingerprint(exp_dict: dict[str, Any], keys: set[str] | None = None) -> str:
    """sha256 of the resolved experiment without the :data:`RESUMABLE` settings (only ``keys``,
    flattened names, when given)."""
    fixed = {k: v for k, v in flatten(exp_dict).items() if k not in RESUMABLE and (keys is None or k in keys)}
    return _sha(fixed)


def same_experiment(stored: str, exp_dict: dict[str, Any], written: dict[str, Any]) -> bool:
    """Whether a checkpoint's fingerprint ``stored`` is that of the experiment ``exp_dict``, resolved
    from the run's ``written`` config.json. A setting added to evorobot after the run started is
    absent from that file and takes its default (which keeps the old behaviour), so when the full
    fingerprints differ the settings the file does not name are left out of the comparison."""
    return stored == fingerprint(exp_dict) or stored == fingerprint(exp_dict, set(flatten(written)))


def _sha(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, allow_nan=False).encode()).hexdigest()


def _name(done: int) -> str:
    return f"gen-{done:06d}"


def _generations(root: Path) -> list[tuple[int, Path]]:
    found = []
    for p in root.glob("gen-*"):
        tail = p.name[4:]
        if p.is_dir() and tail.isdigit():
            found.append((int(tail), p))
    return sorted(found)


def remove_stale(run_dir: Path) -> int:
    """Delete the temporary directories (``checkpoint/.tmp-*``) of checkpoint writes that died
    before their rename; return how many. Only under the run's lock (no writer can be using them)."""
    root = Path(run_dir) / "checkpoint"
    stale = [p for p in root.glob(".tmp-*") if p.is_dir() and not p.is_symlink()]
    for p in stale:
        shutil.rmtree(p, ignore_errors=True)
    return len(stale)


def save(run_dir: Path, ck: Checkpoint) -> Path:
    """Write ``ck`` as ``checkpoint/gen-NNNNNN``; keep it and the previous one only. A refused write
    is :class:`WriteFailed` with nothing of this checkpoint left behind."""
    root = Path(run_dir) / "checkpoint"
    arrays = {k: v for k, v in ck.optimizer.items() if isinstance(v, np.ndarray)}
    meta = {k: v for k, v in ck.optimizer.items() if not isinstance(v, np.ndarray)}
    data = npz_bytes(arrays)
    state: dict[str, Any] = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "generations_done": ck.done,
        "optimizer": meta,
        "arrays": sorted(arrays),
        "npz_sha256": hashlib.sha256(data).hexdigest(),
        "best_ever": encode_float(ck.best_ever),
        "best_generation": ck.best_generation,
        "history": ck.history,
        "champion": ck.champion,
        "fingerprint": ck.fingerprint,
    }
    state["state_sha256"] = _sha(state)
    final = root / _name(ck.done)
    tmp: Path | None = None
    try:
        root.mkdir(parents=True, exist_ok=True)
        remove_stale(run_dir)
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{_name(ck.done)}-", dir=root))
        write_bytes_atomic(tmp / "optimizer.npz", data)
        write_json(tmp / "state.json", state)
        kill_point("checkpoint:written")
        if final.exists():  # left by an earlier attempt at this generation (before a resume)
            shutil.rmtree(final)
        os.replace(tmp, final)
    except (OSError, WriteFailed) as exc:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, WriteFailed):  # name the file as it would have been, not its temporary place
            raise WriteFailed(str(exc).replace(str(tmp), str(final), 1)) from None
        raise write_failed(final, exc, "cannot write the checkpoint") or exc from None
    kill_point("checkpoint:renamed")
    _sync_dir(root)
    kept = [p for n, p in _generations(root) if n <= ck.done][-KEEP:]
    for _, p in _generations(root):
        if p not in kept:
            shutil.rmtree(p, ignore_errors=True)
    return final


START_FILES = (".lock", "manifest.json", "checkpoint")
"""What ``evolve`` writes before ``config.json``, the last file of a run's start: a directory
holding only these (and temporary files) is a start that was interrupted (:func:`interrupted_start`)."""


def interrupted_start(out: Path) -> bool:
    """Whether ``out`` holds only what a killed ``evolve`` leaves before its first checkpoint and
    ``config.json`` are complete: nothing to resume, and nothing to lose by starting again."""
    if not out.is_dir() or out.is_symlink() or (out / "config.json").exists():
        return False
    names = {p.name for p in out.iterdir()}
    temps = {n for n in names if n.startswith(".") and n.endswith(".tmp")}
    if ".lock" not in names or not names - temps <= set(START_FILES):  # .lock: evolve's first file
        return False
    if "checkpoint" not in names:
        return True
    root = out / "checkpoint"  # written after manifest.json, holding only evolve's own entries
    return ("manifest.json" in names and root.is_dir() and not root.is_symlink()
            and all(p.name.startswith(("gen-", ".tmp-")) for p in root.iterdir()))


class _Resumable(WriteFailed):
    """A :class:`WriteFailed` that already says which checkpoint stays."""


def resumable(exc: WriteFailed, out: Path, done: int) -> WriteFailed:
    """``exc`` with what stays: the last complete checkpoint (``done`` generations) and the command."""
    if isinstance(exc, _Resumable):
        return exc
    return _Resumable(f"{exc}; the last complete checkpoint, gen-{done:06d} ({done} generations done), stays "
                       f"resumable: `evorobot resume {out}` once the disk can be written")


def _check(cond: bool, where: Path, what: str) -> None:
    if not cond:
        raise ChampionFileError(f"{where}: {what}")


def read(path: Path) -> Checkpoint:
    """Read and verify one checkpoint directory; any problem is a one-line ChampionFileError."""
    path = Path(path)
    state_path = path / "state.json"
    state = read_json(state_path, "checkpoint state")
    _check(isinstance(state, dict) and state.get("schema") == SCHEMA, state_path, "not an evorobot checkpoint")
    version = state.get("schema_version")
    _check(version == SCHEMA_VERSION, state_path, f"unknown checkpoint schema_version {version!r}")
    stored = state.pop("state_sha256", None)
    _check(stored == _sha(state), state_path, "checksum mismatch (corrupt or edited)")
    npz_path = path / "optimizer.npz"
    data = read_regular(npz_path, "optimizer state")
    _check(hashlib.sha256(data).hexdigest() == state.get("npz_sha256"), npz_path,
           "checksum mismatch (truncated or corrupt)")
    arrays = npz_from_bytes(data, str(npz_path))
    _check(sorted(arrays) == state.get("arrays"), npz_path, "arrays do not match state.json")
    try:
        return Checkpoint(
            done=int(state["generations_done"]),
            optimizer={**state["optimizer"], **arrays},
            best_ever=decode_float(state["best_ever"], f"{state_path} best_ever"),
            best_generation=int(state["best_generation"]),
            history=[[str(c) for c in row] for row in state["history"]],
            champion=state["champion"],
            fingerprint=str(state["fingerprint"]),
            path=path,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ChampionFileError(f"{state_path}: malformed checkpoint: {exc!r}") from None


def load_latest(run_dir: Path, warn: Callable[[str], None]) -> Checkpoint:
    """The newest checkpoint that verifies; each newer one that does not is reported to ``warn``."""
    root = Path(run_dir) / "checkpoint"
    problems = []
    for _, path in reversed(_generations(root)):
        try:
            ck = read(path)
        except ChampionFileError as exc:
            problems.append(str(exc))
            warn(f"skipping checkpoint {path.name}: {exc}")
            continue
        return ck
    detail = f" ({'; '.join(problems)})" if problems else ""
    raise ChampionFileError(f"{root}: no usable checkpoint{detail}")
