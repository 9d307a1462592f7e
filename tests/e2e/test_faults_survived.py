"""The cluster restarts a component under ckaprep (`scripts/testcluster restart`).

While the API server is down, `start`, `check`, `exam submit` and `classroom grade` each end in
one line with exit status 3, lose no state, and succeed when simply run again once it is back.
While kube-proxy or CoreDNS restarts during a `check`, a right answer still passes: the verdict
waits for cluster DNS to have a Ready server again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ckaprep.catalogue.loading import find_exercise
from ckaprep.exit_status import ExitStatus
from tests.testcluster import TESTCLUSTER

pytestmark = [
    pytest.mark.alone,  # the restarts would break whatever runs beside them
    pytest.mark.skipif(os.geteuid() != 0, reason="restarting a component of the test cluster needs root"),
]

API_DOWN_S = 10


class Learner:
    """ckaprep through its real entry point, with a state directory of its own."""

    def __init__(self, home: Path, kubeconfig: str, kubectl_path: str):
        self.home, self.kubeconfig = home, kubeconfig
        self.environ = {
            "CKAPREP_HOME": str(home),
            "HOME": str(home),
            "KUBECONFIG": kubeconfig,
            "PATH": f"{os.path.dirname(kubectl_path)}:/usr/bin:/bin",
        }

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "ckaprep", *args], capture_output=True, text=True, env=self.environ, timeout=timeout
        )

    def state(self) -> dict[str, str]:
        return {p.name: p.read_text() for p in self.home.glob("*.json")}


def restart(component: str, down_s: int = 0) -> subprocess.Popen:
    return subprocess.Popen(
        [str(TESTCLUSTER), "restart", component, str(down_s)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(process: subprocess.Popen) -> None:
    _, err = process.communicate(timeout=180)
    assert process.returncode == 0, err[-2000:]


def api_down(kubectl, seconds: int = API_DOWN_S) -> subprocess.Popen:
    """Stop the API server for `seconds`, returning once it no longer answers."""
    process = restart("kube-apiserver", seconds)
    for _ in range(100):
        if kubectl("get", "--raw=/readyz", check=False, timeout=5).returncode != 0:
            return process
        time.sleep(0.1)
    finished(process)
    pytest.fail("the API server never stopped answering")


def assert_one_line_unreachable(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == ExitStatus.CLUSTER, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "this is a bug" not in result.stderr
    # Notes may come first (exam start says what it left out); the error is one line.
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("note: ")]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr


@pytest.fixture
def learner(tmp_path, cluster):
    session = Learner(tmp_path / "state", cluster.kubeconfig, cluster.kubectl_path)
    yield session
    session.run("reset")  # whatever a failed test left
    session.run("exam", "reset")


# What check says when a Service's own name does not resolve yet: cluster DNS has not caught up.
DNS_BEHIND = "cluster DNS still answers from its cache"


def check_until_dns_caught_up(learner: Learner, runs: int = 3) -> subprocess.CompletedProcess:
    """`check --json --wait 90`, run again (as its message says) while it fails only because
    cluster DNS has not caught up with the API server yet: after an API server restart that can
    take CoreDNS a minute. Any other failure is returned at once."""
    for _ in range(runs - 1):
        checked = learner.run("check", "--json", "--wait", "90")
        if checked.returncode != 1:
            return checked
        failing = [c for c in json.loads(checked.stdout)["checks"] if c["status"] != "pass"]
        if not all(DNS_BEHIND in c["message"] for c in failing):
            return checked
        time.sleep(30)
    return learner.run("check", "--json", "--wait", "90")


def _seed() -> str:
    return str(int.from_bytes(os.urandom(3), "big"))  # each test its own namespaces


def _solve(learner: Learner, cluster, exercise_id: str) -> dict:
    started = learner.run("start", exercise_id, "--seed", _seed(), "--json")
    assert started.returncode == 0, started.stderr
    payload = json.loads(started.stdout)
    exercise = find_exercise(exercise_id)
    cluster.kubectl("apply", "-f", "-", input=exercise.render(exercise.solution, payload["params"])["yaml"])
    return payload


def test_start_and_check_across_an_api_server_restart(learner, cluster):
    down = api_down(cluster.kubectl)
    try:
        refused = learner.run("start", "clusterip-create", "--seed", _seed())
        assert_one_line_unreachable(refused)
        assert learner.state() == {}  # nothing recorded: nothing to reset
    finally:
        finished(down)
    payload = _solve(learner, cluster, "clusterip-create")  # simply run again: it works
    assert learner.run("check", "--wait", "30").returncode == 0
    before = learner.state()
    down = api_down(cluster.kubectl)
    try:
        assert_one_line_unreachable(learner.run("check", "--wait", "5"))
    finally:
        finished(down)
    assert learner.state() == before  # the attempt is as it was
    again = learner.run("check", "--json", "--wait", "30")
    assert again.returncode == 0 and json.loads(again.stdout)["score"] == 100.0, again.stdout + again.stderr
    learner.run("reset")
    assert payload["namespaces"]


def _cut_short(learner: Learner, cluster, *args: str) -> subprocess.CompletedProcess:
    """Run a start, and stop the API server once it has recorded what it began and made its
    first namespace: the start is cut short in the middle of its setup."""
    process = subprocess.Popen(
        [sys.executable, "-m", "ckaprep", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=learner.environ,
    )
    down = None
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            recorded = [
                json.loads(text) for name, text in learner.state().items() if name in ("attempt.json", "exam.json")
            ]
            namespaces = [ns for r in recorded for t in r.get("tasks", [r]) for ns in t.get("namespaces", [])]
            made = namespaces and cluster.kubectl("get", "namespace", namespaces[0], check=False, timeout=10)
            if made and made.returncode == 0:
                down = api_down(cluster.kubectl, seconds=4)  # long enough for the start to meet it
                break
            time.sleep(0.05)
        out, err = process.communicate(timeout=300)
    finally:
        if down is not None:
            finished(down)
    assert down is not None, "the start finished before it could be cut short"
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.mark.parametrize(
    "command", [["start", "clusterip-create"], ["exam", "start", "--tasks", "2"]], ids=["start", "exam-start"]
)
def test_a_start_cut_short_by_an_api_server_restart_is_finished_by_running_it_again(learner, cluster, command):
    cut = _cut_short(learner, cluster, *command, "--seed", _seed())
    key = "exam.json" if command[0] == "exam" else "attempt.json"
    if cut.returncode == 0:  # it rode out the restart on its own: as good
        assert json.loads(learner.state()[key]).get("set_up_done", True) is not False
    else:
        assert_one_line_unreachable(cut)
        again = "`ckaprep exam start`" if command[0] == "exam" else "`ckaprep start`"
        assert f"run the same {again} again to finish it" in " ".join(cut.stderr.split())
        first = json.loads(learner.state()[key])
        finished_run = learner.run(*command, "--seed", _seed(), "--json")
        assert finished_run.returncode == 0, finished_run.stderr
        done = json.loads(learner.state()[key])
        assert done["id"] == first["id"]  # the same attempt or exam, finished
        tasks = done.get("tasks", [done])
        assert all(t.get("set_up_done", True) for t in tasks) and all(t["records"] for t in tasks)
    if command[0] == "exam":
        assert learner.run("exam", "reset").returncode == 0
        return
    attempt = json.loads(learner.state()[key])
    exercise = find_exercise("clusterip-create")
    cluster.kubectl("apply", "-f", "-", input=exercise.render(exercise.solution, attempt["params"])["yaml"])
    # Cluster DNS catches up with the API server a while after it came back: until then a name
    # may not resolve, which check says, with "check again in a minute".
    checked = check_until_dns_caught_up(learner)
    assert checked.returncode == 0 and json.loads(checked.stdout)["score"] == 100.0, checked.stdout + checked.stderr


def test_exam_submit_across_an_api_server_restart(learner, cluster):
    started = learner.run("exam", "start", "--tasks", "1", "--topic", "create", "--seed", _seed(), "--json")
    assert started.returncode == 0, started.stderr
    down = api_down(cluster.kubectl)
    try:
        assert_one_line_unreachable(learner.run("exam", "submit"))
    finally:
        finished(down)
    exam = json.loads(learner.state()["exam.json"])
    assert exam["submitted_at"] is None  # not submitted: the exam goes on
    submitted = learner.run("exam", "submit", "--json")
    assert submitted.returncode in (0, 1) and json.loads(submitted.stdout)["score"] == 0.0, submitted.stderr
    assert learner.run("exam", "reset").returncode == 0


def test_classroom_grade_across_an_api_server_restart(tmp_path, cluster):
    trainer = Learner(tmp_path / "trainer", cluster.kubeconfig, cluster.kubectl_path)
    name = f"f24-{os.urandom(3).hex()}"
    created = trainer.run(
        "classroom", "create", name, "--seats", "2", "--valid", "1h", "--out", str(tmp_path / "k"), "--json"
    )
    assert created.returncode == 0, created.stderr
    try:
        seat = json.loads(created.stdout)["seats"][0]
        learner = Learner(tmp_path / "seat1", seat["kubeconfig"], cluster.kubectl_path)
        started = learner.run("start", "clusterip-create", "--seed", _seed(), "--json")
        assert started.returncode == 0, started.stderr
        down = api_down(cluster.kubectl)
        try:
            assert_one_line_unreachable(trainer.run("classroom", "grade", name, "--wait", "5"))
        finally:
            finished(down)
        graded = trainer.run("classroom", "grade", name, "--json", "--wait", "10")
        assert graded.returncode == 0, graded.stderr
        scores = [s["score"] for s in json.loads(graded.stdout)["seats"]]
        assert scores[0] == 0.0 and scores[1] is None
    finally:
        trainer.run("classroom", "delete", name)


@pytest.mark.parametrize("component", ["coredns", "kube-proxy"])
def test_a_right_answer_passes_while_a_component_restarts_under_check(learner, cluster, component):
    _solve(learner, cluster, "clusterip-create")
    # settled, probe pod running (cluster DNS may still be catching up with an earlier API restart)
    settled = check_until_dns_caught_up(learner)
    assert settled.returncode == 0, settled.stdout + settled.stderr
    result: dict = {}
    checker = threading.Thread(target=lambda: result.update(run=learner.run("check", "--json", "--wait", "90")))
    restarting = restart(component, 3)
    checker.start()
    finished(restarting)
    checker.join(timeout=300)
    run = result["run"]
    report = json.loads(run.stdout)
    assert run.returncode == 0 and report["score"] == 100.0, (run.stderr, report)
    learner.run("reset")
