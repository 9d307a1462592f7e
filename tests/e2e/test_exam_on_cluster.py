"""Mock exams and concurrent starts on the real cluster.

Seeds are random so that parallel runs (and other test sessions) never draw the same namespaces.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from ckaprep.catalogue.loading import find_exercise
from tests.e2e.conftest import namespace_state
from tests.e2e.practice import Practice

SOLVED_RIGHT = ("multi-port-named", "named-targetport")
SOLVED_WRONG = "clusterip-create"


def _seed() -> int:
    return random.SystemRandom().randrange(100_000, 1_000_000)


@pytest.fixture
def session(tmp_path, cluster):
    practice = Practice(tmp_path / "state", cluster)
    yield practice
    exam = practice.env.state.load_exam()
    namespaces = exam.namespaces if exam else []
    attempt = practice.env.state.load()
    namespaces += attempt.namespaces if attempt else []
    for ns in namespaces:  # whatever a failed test left behind
        cluster.kubectl("delete", "namespace", ns, "--wait=false", check=False)


def _namespaces_with(kubectl, selector: str) -> list[str]:
    out = kubectl("get", "namespaces", "-l", selector, "-o", "jsonpath={.items[*].metadata.name}").stdout
    return out.split()


def test_three_task_exam_two_right_one_wrong(session: Practice, kubectl):
    started = session.ckaprep(
        "exam",
        "start",
        "--tasks",
        "3",
        "--seed",
        str(_seed()),
        "--json",
        "--topic",
        "kubectl",
        "--topic",
        "multi-port",
        "--topic",
        "named-ports",
    )
    assert started.exit_code == 0, started.output
    sheet = json.loads(started.stdout)
    by_exercise = {t["exercise"]: t for t in sheet["tasks"]}
    assert set(by_exercise) == {SOLVED_WRONG, *SOLVED_RIGHT}, by_exercise
    assert _namespaces_with(kubectl, f"ckaprep.io/exam={sheet['exam']}")

    assert session.ckaprep("solution").exit_code == 2  # refused during the exam
    for exercise_id in SOLVED_RIGHT:  # their kubectl solutions include a hand edit; the YAML is whole
        exercise = find_exercise(exercise_id)
        manifest = exercise.render(exercise.solution, by_exercise[exercise_id]["params"])["yaml"]
        kubectl("apply", "-f", "-", input=manifest)
    wrong = by_exercise[SOLVED_WRONG]["params"]
    # The Service's own port as the targetPort: the containers listen on another one.
    kubectl(
        "-n",
        wrong["namespace"],
        "expose",
        "deployment",
        wrong["app"],
        f"--name={wrong['service']}",
        f"--port={wrong['port']}",
        f"--target-port={wrong['port']}",
    )

    submitted = session.ckaprep("exam", "submit", "--json")
    result = json.loads(submitted.stdout)
    explain = json.dumps(result["tasks"], indent=1)
    scores = {t["exercise"]: t for t in result["tasks"]}
    for exercise_id in SOLVED_RIGHT:
        assert scores[exercise_id]["score"] == 100.0 and scores[exercise_id]["passed"], explain
    wrong_task = scores[SOLVED_WRONG]
    assert not wrong_task["passed"] and wrong_task["score"] < 100, explain
    failed = {c["id"] for c in wrong_task["checks"] if c["status"] != "pass"}
    assert "port" in failed, explain
    weights = {t["exercise"]: t["weight"] for t in sheet["tasks"]}
    expected = sum(scores[e]["score"] * w for e, w in weights.items()) / sum(weights.values())
    assert result["score"] == pytest.approx(expected, abs=0.1)
    assert result["passed"] == (result["score"] >= 66)
    assert result["verdict"] == ("PASS" if result["passed"] else "FAIL")
    assert submitted.exit_code == (0 if result["passed"] else 1)

    review = session.ckaprep("exam", "review")
    assert review.exit_code == 0 and wrong["service"] in review.stdout

    reset = session.ckaprep("exam", "reset", "--json")
    assert reset.exit_code == 0, reset.output
    assert json.loads(reset.stdout)["left_alone"] == []
    assert _namespaces_with(kubectl, f"ckaprep.io/exam={sheet['exam']}") == []
    for task in sheet["tasks"]:
        for ns in task["namespaces"]:
            assert namespace_state(kubectl, ns) == "gone", ns
    assert session.env.state.load_exam() is None


def test_a_fresh_exam_scores_0_percent(session: Practice):
    """Nothing done earns nothing: constraints that setup satisfies are not points."""
    started = session.ckaprep("exam", "start", "--tasks", "3", "--practice", "--seed", str(_seed()), "--json")
    assert started.exit_code == 0, started.output
    submitted = session.ckaprep("exam", "submit", "--json")
    assert submitted.exit_code == 1, submitted.output
    result = json.loads(submitted.stdout)
    explain = json.dumps(result["tasks"], indent=1)
    assert result["score"] == 0.0, explain
    assert [t["score"] for t in result["tasks"]] == [0.0, 0.0, 0.0], explain
    assert session.ckaprep("exam", "reset").exit_code == 0


def test_two_parallel_starts_leave_no_orphaned_namespace(tmp_path, cluster, kubectl):
    """Two `ckaprep start` processes at once on the same state directory."""
    home = tmp_path / "state"
    seeds = [_seed(), _seed()]
    exercise = find_exercise("clusterip-create")
    planned = {s: exercise.namespaces_for(exercise.choose_params(s)) for s in seeds}
    environ = dict(os.environ, CKAPREP_HOME=str(home))

    def start(seed: int) -> subprocess.CompletedProcess:
        argv = [
            sys.executable,
            "-m",
            "ckaprep",
            "--kubeconfig",
            cluster.kubeconfig,
            "start",
            "clusterip-create",
            "--seed",
            str(seed),
            "--json",
        ]
        return subprocess.run(argv, env=environ, capture_output=True, text=True, timeout=300)

    try:
        with ThreadPoolExecutor(2) as pool:
            runs = dict(zip(seeds, pool.map(start, seeds)))
        codes = sorted(r.returncode for r in runs.values())
        assert codes == [0, 2], {s: (r.returncode, r.stderr) for s, r in runs.items()}
        winner = next(s for s, r in runs.items() if r.returncode == 0)
        loser = next(s for s in seeds if s != winner)
        assert "is active" in runs[loser].stderr and "Traceback" not in runs[loser].stderr
        for ns in planned[loser]:
            assert namespace_state(kubectl, ns) == "gone", f"orphaned namespace {ns}"
        state = json.loads((home / "attempt.json").read_text())
        assert state["namespaces"] == planned[winner]
        reset = subprocess.run(
            [sys.executable, "-m", "ckaprep", "--kubeconfig", cluster.kubeconfig, "reset"],
            env=environ,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert reset.returncode == 0, reset.stderr
        for ns in planned[winner]:
            assert namespace_state(kubectl, ns) == "gone", ns
    finally:
        for ns in planned[seeds[0]] + planned[seeds[1]]:
            kubectl("delete", "namespace", ns, "--wait=false", check=False)


def test_ctrl_c_during_exam_setup_leaves_a_resettable_exam(tmp_path, cluster, kubectl):
    import signal
    import time

    environ = dict(os.environ, CKAPREP_HOME=str(tmp_path / "state"))
    ckaprep = [sys.executable, "-m", "ckaprep", "--kubeconfig", cluster.kubeconfig]
    child = subprocess.Popen(
        ckaprep + ["exam", "start", "--tasks", "4", "--seed", str(_seed())],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
    )
    exam_file = tmp_path / "state" / "exam.json"
    deadline = time.monotonic() + 60
    while not exam_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)  # while the tasks are being set up
    _, stderr = child.communicate(timeout=120)
    exam = json.loads(exam_file.read_text())  # whole, never half-written
    namespaces = [ns for task in exam["tasks"] for ns in task["namespaces"]]
    try:
        assert child.returncode == 130, stderr
        assert "interrupted" in stderr and "Traceback" not in stderr
        assert "exam reset" in stderr
        reset = subprocess.run(ckaprep + ["exam", "reset"], env=environ, capture_output=True, text=True, timeout=300)
        assert reset.returncode == 0, reset.stderr
        assert _namespaces_with(kubectl, f"ckaprep.io/exam={exam['id']}") == []
        assert not exam_file.exists()
    finally:
        for ns in namespaces:
            kubectl("delete", "namespace", ns, "--wait=false", check=False)


def test_another_state_directory_cannot_take_a_live_namespace(tmp_path, cluster, kubectl):
    """start --seed S --force from a second state directory leaves the first one's namespace alone."""
    first, second = Practice(tmp_path / "one", cluster), Practice(tmp_path / "two", cluster)
    seed = _seed()
    first.start("clusterip-create", seed=seed)
    try:
        uid = kubectl("get", "namespace", first.ns, "-o", "jsonpath={.metadata.uid}").stdout
        taken = second.ckaprep("start", "clusterip-create", "--seed", str(seed), "--force")
        assert taken.exit_code == 2, taken.output
        assert "another ckaprep attempt" in taken.stderr
        assert kubectl("get", "namespace", first.ns, "-o", "jsonpath={.metadata.uid}").stdout == uid
        assert "deletionTimestamp" not in kubectl("get", "namespace", first.ns, "-o", "json").stdout
        assert second.env.state.load() is None
        assert first.reset().exit_code == 0
    finally:
        kubectl("delete", "namespace", first.ns, "--wait=false", check=False)
