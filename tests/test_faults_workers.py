"""Workers and clusters that stop answering (issue 22): every wait has a deadline and says so.

Each test runs the command in a subprocess with a deadline (``test_faults.DEADLINE``), so a
regression (the old code waited forever on a stopped worker or a silent dask endpoint) fails the
test instead of hanging the suite. Runs that recover must give the uninterrupted result.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from test_backends import same_run
from test_faults import DEADLINE, WORLD, one_line, run_cli

SMALL = ["--set", "task.offsets=2", "--population", "6", "--set", "evolution.chunk_size=2"]
LINUX = sys.platform.startswith("linux") and Path("/proc/self/stat").exists()
needs_dask = pytest.mark.skipif(
    __import__("importlib").util.find_spec("distributed") is None, reason="dask.distributed not installed")
linux_only = pytest.mark.skipif(not LINUX, reason="reads /proc")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """Uninterrupted serial runs of SMALL, by number of generations."""
    root = tmp_path_factory.mktemp("reference")
    runs = {}
    for gens in (2, 12):
        runs[gens] = root / f"g{gens}"
        out = run_cli("evolve", str(WORLD), *SMALL, "--generations", str(gens), "--out", str(runs[gens]), cwd=root)
        assert out.returncode == 0, out.stderr
    return runs


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "SDL_VIDEODRIVER": "dummy", **extra}


def _popen(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "evorobot.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=cwd, env=env or _env())


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                text = (p / "stat").read_text()
            except OSError:
                continue
            tree.setdefault(int(text[text.rindex(")") + 2:].split()[1]), []).append(int(p.name))
    return tree


def _stop_workers(proc: subprocess.Popen[str], limit: int | None) -> list[int]:
    """SIGSTOP each worker process of ``proc`` as it appears (at most ``limit``) until ``proc`` ends.

    Workers are the grandchildren of ``proc``: forkserver forks them (its other child, the resource
    tracker, has none). A worker needs over half a second to import and warm up, polled here every 20 ms."""
    stopped: list[int] = []
    while proc.poll() is None and (limit is None or len(stopped) < limit):
        tree = _children()
        for child in tree.get(proc.pid, []):
            for worker in tree.get(child, []):
                if worker not in stopped and (limit is None or len(stopped) < limit):
                    os.kill(worker, signal.SIGSTOP)
                    stopped.append(worker)
        time.sleep(0.02)
    return stopped


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"no end within {DEADLINE} s:\n{err}")
    return proc.returncode, err


# -- process workers -------------------------------------------------------------------------------
@linux_only
def test_workers_stopped_in_start_up_end_the_run_in_one_line_or_are_replaced(reference, tmp_path):
    """Every worker SIGSTOPped as it starts: 5 start-up failures in a row (2 workers) end the run in one line,
    checkpoint 0 stays; resume with only the first 2 workers stopped: both are replaced and the run is unchanged.
    (The old code waited forever on the first two.)"""
    out = tmp_path / "run"
    proc = _popen("evolve", str(WORLD), *SMALL, "--generations", "2", "--workers", "2", "--startup-timeout", "2",
                  "--out", str(out), cwd=tmp_path)
    stopped = _stop_workers(proc, limit=None)
    rc, err = _finish(proc)
    lines = err.strip().splitlines()
    assert rc == 2 and "Traceback" not in err, err
    last = re.fullmatch(r"evorobot: error: 5 worker processes in a row failed to start, the last: worker (\d+) "
                        r"not ready within --startup-timeout 2 s, killed; continue from the last checkpoint with "
                        rf"`evorobot resume {re.escape(str(out))}`", lines[-1])
    assert last and int(last[1]) in stopped, lines[-1]
    assert len(lines) == 5 and all(re.fullmatch(r"evorobot: warning: worker \d+ not ready within --startup-timeout "
                                                r"2 s, killed; started worker \d+", ln) for ln in lines[:-1]), err
    assert len(stopped) == 6  # 2 first workers + 4 replacements; the 5th failure starts none
    assert sorted(p.name for p in (out / "checkpoint").iterdir()) == ["gen-000000"]

    # 5 s: the replacements must start in time on a loaded 2-core machine (2.5 s at load 3 here)
    proc = _popen("resume", str(out), "--workers", "2", "--startup-timeout", "5", cwd=tmp_path)
    stopped = _stop_workers(proc, limit=2)
    rc, err = _finish(proc)
    assert rc == 0 and len(stopped) == 2, err
    for pid in stopped:
        assert f"evorobot: warning: worker {pid} not ready within --startup-timeout 5 s, killed; started worker " in err
    same_run(reference[2], out)


_STALL = """
import json, time
from evorobot.evolution.backends import ProcessBackend
logs = []
backend = ProcessBackend(2, log=logs.append)
backend.stall_after = 0.5
try:
    backend.map(abs, [0, 0])  # both workers ready
    pids = backend.pids()
    print(json.dumps([backend.map(time.sleep, [1.8, 0.0]), pids, logs]))
finally:
    backend.close()
"""


def test_a_map_with_no_result_for_a_while_says_what_it_waits_on(tmp_path):
    out = subprocess.run([sys.executable, "-c", _STALL], capture_output=True, text=True, timeout=DEADLINE, check=False,
                         cwd=tmp_path, env=_env())
    assert out.returncode == 0, out.stderr
    results, pids, logs = json.loads(out.stdout)
    assert results == [None, None]  # results unchanged
    stalls = [m for m in logs if m.startswith("no result for ")]
    assert stalls, logs
    slow = next(p for p in pids if f"chunk 0 on worker {p} for " in stalls[-1])
    assert stalls[-1].endswith(" s") and f"waiting on chunk 0 on worker {slow} for " in stalls[-1]
    assert "chunk 1" not in stalls[-1]  # it came back at once


_DASK_STALL = """
import json, threading, time
import distributed
from evorobot.evolution.dask_backend import DaskBackend

if __name__ == "__main__":
    cluster = distributed.LocalCluster(n_workers=0, processes=False, protocol="tcp", host="127.0.0.1", dashboard_address=None,
                                       silence_logs=40)
    logs = []
    backend = DaskBackend(cluster.scheduler_address, log=logs.append)
    backend.stall_after = 1.0
    threading.Timer(2.5, cluster.scale, (1,)).start()  # a worker joins after 2.5 s
    try:
        result = backend.map(abs, [-3, 4])
    finally:
        backend.close()
        cluster.close()
    print(json.dumps([result, cluster.scheduler_address, logs]))
"""


@needs_dask
def test_a_dask_map_with_no_worker_says_so_and_recovers_when_one_joins(tmp_path):
    out = subprocess.run([sys.executable, "-c", _DASK_STALL], capture_output=True, text=True, timeout=DEADLINE,
                         check=False, cwd=tmp_path, env=_env())
    assert out.returncode == 0, out.stderr
    results, address, logs = json.loads(out.stdout.strip().splitlines()[-1])
    assert results == [3, 4]  # unchanged
    assert logs and all(re.fullmatch(rf"no result for \d+ s; waiting on chunk 0 at the dask scheduler "
                                     rf"{re.escape(address)} \(0 workers connected\)", m) for m in logs), logs


# -- dask: the connection ---------------------------------------------------------------------------
def _dask_cli(address: str, tmp_path: Path, seconds: str = "3s") -> subprocess.CompletedProcess[str]:
    env = _env(DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=seconds)
    return subprocess.run([sys.executable, "-m", "evorobot.cli", "evolve", str(WORLD), *SMALL, "--generations", "1",
                           "--dask", address], capture_output=True, text=True, timeout=DEADLINE, check=False, cwd=tmp_path, env=env)


@needs_dask
def test_an_http_server_as_dask_address_is_one_line_within_the_connect_timeout(tmp_path):
    server = subprocess.Popen([sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1"],
                              stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        port = int(server.stdout.readline().split(" port ")[1].split()[0])
        line = one_line(_dask_cli(f"tcp://127.0.0.1:{port}", tmp_path))
    finally:
        server.kill()
        server.wait()
    assert line == (f"evorobot: error: --dask tcp://127.0.0.1:{port}: sent nothing within 3 s; a dask scheduler "
                    "speaks first (is this the scheduler's address?)")  # one line: no note for a loopback address
    assert not (tmp_path / "runs").exists()


@contextmanager
def _banner_server(banner: bytes, hold: bool = False) -> Iterator[int]:
    """A TCP server on 127.0.0.1 that sends ``banner`` to every client, then closes (or, ``hold``, stays silent)."""
    sock = socket.create_server(("127.0.0.1", 0))
    sock.settimeout(0.2)
    done = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            conn.sendall(banner)
            if hold:
                held.append(conn)
            else:
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        done.set()
        thread.join(2)
        for conn in held:
            conn.close()
        sock.close()


_ADDRESSES = """
import json, sys
from evorobot.errors import EvorobotError
from evorobot.evolution.backends import make_backend
said = {}
for address in sys.argv[1:]:
    logs = []
    try:
        make_backend(dask=address, log=logs.append).close()
        said[address] = logs + ["connected"]
    except EvorobotError as exc:
        said[address] = logs + [str(exc)]
print(json.dumps(said))
"""


@needs_dask
def test_banners_silent_handshakes_and_remote_schedulers_are_one_line_each(tmp_path):
    """In one process (each case is a connection attempt, not a start-up): a banner that distributed would
    read as a 3.0 EiB frame, a server that closes, one that sends a plausible frame length then stalls (the
    handshake deadline, not the probe), and an address on another machine (TEST-NET-1, never answers)."""
    with (_banner_server(b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\n") as http, _banner_server(b"SSH") as ssh,
          _banner_server(b"\x3a" + bytes(7), hold=True) as stall):
        addresses = [f"tcp://127.0.0.1:{port}" for port in (http, ssh, stall)] + ["tcp://192.0.2.1:8786"]
        out = subprocess.run([sys.executable, "-c", _ADDRESSES, *addresses], capture_output=True, text=True,
                             timeout=DEADLINE, check=False, cwd=tmp_path,
                             env=_env(DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="2s"))
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    said = json.loads(out.stdout)
    huge = int.from_bytes(b"HTTP/1.0", "little")  # 3.0 EiB: what distributed would have allocated
    assert said[addresses[0]] == [(f"--dask {addresses[0]}: not a dask scheduler: it sent 'HTTP/1.0' (a frame of "
                                   f"{huge} bytes; a scheduler's handshake is under 1048576 bytes)")]
    assert said[addresses[1]] == [f"--dask {addresses[1]}: closed the connection after SSH; not a dask scheduler"]
    assert said[addresses[2]] == [(f"--dask {addresses[2]}: no dask handshake within 2 s (set "
                                   "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT to wait longer)")]
    note, error = said[addresses[3]]
    assert note == ("--dask tcp://192.0.2.1:8786: the connection is not authenticated nor encrypted (a scheduler "
                    "on another machine needs TLS, see docs/cluster.md)")
    assert error.startswith("--dask tcp://192.0.2.1:8786: ")


# -- dask local: private --------------------------------------------------------------------------
_LOCAL = """
import json, os, threading
from pathlib import Path
import distributed
from evorobot.evolution.dask_backend import DaskBackend

def listening(pids):
    inodes = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            f = row.split()
            if f[3] == "0A" and f[9] in inodes:
                host, port = f[1].split(":")
                found.append((host, int(port, 16)))
    return found

def tree(root):
    kids = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                t = (p / "stat").read_text()
            except OSError:
                continue
            kids.setdefault(int(t[t.rindex(")") + 2:].split()[1]), []).append(int(p.name))
    out, todo = [], [root]
    while todo:
        out.append(todo.pop())
        todo += kids.get(out[-1], [])
    return out

def outcome(address, security=None):
    box = {}
    def run():
        try:
            client = distributed.Client(address, timeout="3s", security=security)
            box["result"] = client.submit(abs, -7).result(timeout=5)
        except BaseException as exc:
            box["result"] = type(exc).__name__
    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(20)
    return box.get("result", "no answer")

backend = DaskBackend("local", 2)
try:
    address = backend.client.scheduler.address
    ports = listening(tree(os.getpid()))
    answers = {}
    import socket
    for _, port in ports:
        with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
            s.settimeout(3)
            s.sendall(b"GET /status HTTP/1.0\\r\\n\\r\\n")
            try:
                answers[port] = s.recv(16).decode("latin-1")
            except OSError as exc:
                answers[port] = type(exc).__name__
    plain = outcome("tcp://" + address.split("://")[1])
    stranger = outcome(address, distributed.Security.temporary())
    own = backend.client.submit(abs, -7).result(timeout=30)
    print(json.dumps({"address": address, "ports": ports, "answers": answers, "plain": plain,
                      "stranger": stranger, "own": own}))
finally:
    backend.close()
"""


@needs_dask
@linux_only
def test_dask_local_has_no_dashboard_and_refuses_clients_without_its_certificate(tmp_path):
    pytest.importorskip("cryptography", reason="--dask local needs cryptography")
    out = subprocess.run([sys.executable, "-c", _LOCAL], capture_output=True, text=True, timeout=DEADLINE, check=False,
                         cwd=tmp_path, env=_env())
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["address"].startswith("tls://127.0.0.1:") and got["own"] == 7
    ports = {port for _, port in got["ports"]}
    assert int(got["address"].rsplit(":", 1)[1]) in ports
    assert 8787 not in ports and len(ports) == 5  # scheduler, 2 nannies, 2 workers: comms only
    assert {host for host, _ in got["ports"]} == {"0100007F"}  # 127.0.0.1, nothing on other interfaces
    assert not any(a.startswith("HTTP") for a in got["answers"].values()), got["answers"]  # no HTTP server
    assert got["plain"] != 7 and got["stranger"] != 7, got


# -- dask: a worker killed, a scheduler gone ----------------------------------------------------------
@contextmanager
def _cluster(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str], subprocess.Popen[str]]]:
    """A dask scheduler on 127.0.0.1 and a `dask worker` with 2 single-threaded worker processes."""
    info = tmp_path / "scheduler.json"
    env = _env(DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="3s")
    sched = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port",
                              "0", "--no-dashboard", "--scheduler-file", str(info)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, cwd=tmp_path, env=env)
    workers = None
    try:
        for _ in range(300):
            if info.exists() and info.stat().st_size:
                break
            time.sleep(0.1)
        workers = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file",
                                    str(info), "--nworkers", "2", "--nthreads", "1", "--no-dashboard"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path, env=env)
        address = json.loads(info.read_text())["address"]
        import distributed

        with distributed.Client(address, timeout="20s") as client:
            client.wait_for_workers(2, timeout=60)
        yield address, sched, workers
    finally:
        for p in (workers, sched):
            if p is not None:
                p.kill()
                p.wait()


def _run_until(proc: subprocess.Popen[str], marker: str) -> list[str]:
    """Read ``proc``'s stderr until a line holds ``marker`` (the rest is read in the background)."""
    lines: list[str] = []
    seen = threading.Event()

    def read() -> None:
        for line in proc.stderr:
            lines.append(line)
            if marker in line:
                seen.set()

    threading.Thread(target=read, daemon=True).start()
    assert seen.wait(DEADLINE), "".join(lines)
    return lines


@needs_dask
@linux_only
def test_a_dask_worker_killed_mid_run_changes_nothing_a_scheduler_gone_ends_in_one_line(reference, tmp_path):
    """One cluster for both faults (a cluster takes seconds to start): a worker process SIGKILLed mid-run
    (dask reschedules its chunk, the nanny restarts it), then the scheduler SIGKILLed mid-run: one line
    once the client gives up reconnecting (3 s here), and resume gives the uninterrupted run."""
    env = _env(DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="3s")
    with _cluster(tmp_path) as (address, sched, workers):
        def evolve(out: Path) -> subprocess.Popen[str]:
            return subprocess.Popen([sys.executable, "-m", "evorobot.cli", "evolve", str(WORLD), *SMALL,
                                     "--generations", "12", "--dask", address, "--out", str(out)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env)

        proc = evolve(tmp_path / "a")
        lines = _run_until(proc, "gen 1 ")
        victim = next(pid for pid in _children().get(workers.pid, [])  # a worker process, not the resource tracker
                      if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes())
        os.kill(victim, signal.SIGKILL)
        assert proc.poll() is None  # killed mid-run
        try:
            assert proc.wait(DEADLINE) == 0, "".join(lines)
        finally:
            proc.kill()
        assert "Traceback" not in "".join(lines)
        same_run(reference[12], tmp_path / "a")

        out = tmp_path / "b"
        proc = evolve(out)
        lines = _run_until(proc, "gen 1 ")
        sched.kill()
        assert proc.poll() is None
        try:
            rc = proc.wait(DEADLINE)
        finally:
            proc.kill()
    time.sleep(0.2)  # the reader thread drains the pipe
    text = "".join(lines)
    assert rc == 2 and "Traceback" not in text, text
    assert [ln for ln in lines if not ln.startswith("gen ")] == [
        (f"evorobot: error: --dask {address}: lost the dask scheduler and could not reconnect within 3 s; "
         f"continue from the last checkpoint with `evorobot resume {out}`\n")], text
    resumed = run_cli("resume", str(out), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    same_run(reference[12], out)


@pytest.mark.parametrize("kwargs,message", [
    ({"workers": 2, "startup_timeout": 0.0}, "--startup-timeout must be > 0 seconds, got 0.0"),
    ({"workers": 2, "startup_timeout": float("nan")}, "--startup-timeout must be > 0 seconds, got nan"),
    ({"workers": 1, "startup_timeout": 5.0}, "--startup-timeout needs --workers >= 2 or --dask"),
])
def test_bad_startup_timeouts_are_refused(kwargs, message):
    from evorobot.errors import ConfigError
    from evorobot.evolution.backends import make_backend

    with pytest.raises(ConfigError, match=re.escape(message)):
        make_backend(**kwargs)
