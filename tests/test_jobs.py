"""Background jobs live in the database: a job one server process runs is seen, with its progress and end, by
another (`vigil serve --workers N`); a stopping server marks its unfinished jobs failed. And `vigil serve
--workers 2` starts, answers and stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from vigil.services import users
from vigil.services.jobs import STOPPED, JobRunner
from vigil.services.store import Store


def _owner(store: Store) -> int:
    return users.add_user(store, "jobber", "analyst", None, "test").id


def test_a_job_run_by_one_process_is_seen_by_another(store: Store) -> None:
    owner = _owner(store)
    running, here = JobRunner(store), JobRunner(store)  # two server processes over one database
    proceed = threading.Event()

    def work(progress: Any) -> dict[str, Any]:
        progress({"rows": 7})
        proceed.wait(30)
        return {"rows": 7}

    try:
        job = running.submit("inventory.import", owner, None, work)
        seen = here.get(job.id)
        assert seen is not None and seen.owner == owner and seen.kind == "inventory.import"
        assert seen.state in ("queued", "running")
        deadline = time.monotonic() + 30
        while (here.get(job.id) or seen).progress != {"rows": 7} and time.monotonic() < deadline:
            time.sleep(0.1)  # the progress reaches the row within a second or so
        assert (here.get(job.id) or seen).progress == {"rows": 7}
        proceed.set()
        ended = here.wait(job.id, 30)
        assert ended is not None and ended.state == "succeeded" and ended.result == {"rows": 7}
        assert [j.id for j in here.jobs()] == [job.id]
    finally:
        proceed.set()
        running.shutdown()
        here.shutdown()


def test_a_failing_job_and_a_stopping_server(store: Store) -> None:
    owner = _owner(store)
    runner = JobRunner(store)
    started = threading.Event()

    def boom(_: Any) -> dict[str, Any]:
        raise ValueError("bad row 3\nmore detail")

    def slow(_: Any) -> dict[str, Any]:
        started.set()
        time.sleep(0.5)
        return {}

    failed = runner.submit("advisory.import", owner, None, boom)
    assert (runner.wait(failed.id, 30) or failed).error == "bad row 3"
    runner.submit("match.run", owner, None, slow)
    queued = runner.submit("match.run", owner, None, slow)
    assert started.wait(30)
    runner.shutdown()  # the running job ends; the queued one never runs
    other = JobRunner(store)
    try:
        left = other.get(queued.id)
        assert left is not None and left.state == "failed" and left.error == STOPPED
    finally:
        other.shutdown()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_with_two_workers_answers_and_stops(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "VIGIL_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}"}
    command = [sys.executable, "-m", "vigil", "serve", "--port", str(port), "--workers", "2", "--threads", "1"]
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        answers: list[int] = []
        while time.monotonic() < deadline and len(answers) < 10:
            try:
                answers.append(httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code)
            except httpx.HTTPError:
                assert process.poll() is None, (tmp_path / "serve.log").read_text()
                time.sleep(0.2)
        assert answers == [200] * 10
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
        log.close()
    text = (tmp_path / "serve.log").read_text()
    assert code == 0, text
    assert "2 processes" in text and text.count("Application startup complete") == 2
