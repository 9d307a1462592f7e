"""The state directory: attempt ids and ownership, the lock, and broken or foreign state files."""

import json
import os
import tempfile
import threading

import pytest
from typer.testing import CliRunner

from ckaprep.attempts import Attempt
from ckaprep.catalogue.loading import find_exercise
from ckaprep.cli.application import app
from ckaprep.cluster.labels import ATTEMPT_LABEL, OWNER_LABEL
from ckaprep.cluster.waiting import Waiter
from ckaprep.environment import Environment
from ckaprep.errors import StateError
from ckaprep.exit_status import ExitStatus
from ckaprep.practice.lifecycle import OwnCluster, delete_attempts, start_drill
from ckaprep.practice.state import StateStore
from tests.conftest import FakeTime
from tests.helpers import NOW


def _one_line_error(result, *fragments):
    assert result.exit_code == ExitStatus.USAGE, result.output
    assert "Traceback" not in result.output
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    for fragment in fragments:
        assert fragment in " ".join(message.split()), message


# -- ids and labels -----------------------------------------------------------------------
def test_every_namespace_carries_the_attempt_id(run, env, fake):
    assert run("start", "dns-cross-namespace", "--seed", "4").exit_code == 0
    attempt = env.state.load()
    assert attempt.id and len(attempt.namespaces) == 2
    for ns in attempt.namespaces:
        labels = fake.get("Namespace", None, ns)["metadata"]["labels"]
        assert labels[OWNER_LABEL] == "ckaprep" and labels[ATTEMPT_LABEL] == attempt.id


def test_a_namespace_of_another_attempt_is_never_deleted(run, env, fake):
    assert run("start", "clusterip-create", "--seed", "2").exit_code == 0
    attempt = env.state.load()
    fake.patch(
        "Namespace",
        None,
        attempt.namespace,
        lambda ns: ns["metadata"]["labels"].update({ATTEMPT_LABEL: "someone-else"}),
    )
    result = run("reset")
    assert result.exit_code == 0
    assert "left namespace" in result.stderr
    assert fake.get("Namespace", None, attempt.namespace) is not None


def test_a_second_state_directory_cannot_take_a_live_namespace(env, fake, tmp_path):
    """start --force in another state directory with the same seed refuses, and deletes nothing."""
    runner = CliRunner()
    first = runner.invoke(app, ["start", "clusterip-create", "--seed", "6"], obj=env)
    assert first.exit_code == 0
    mine = env.state.load()
    before = fake.get("Namespace", None, mine.namespace)
    other = Environment(
        environ={"CKAPREP_HOME": str(tmp_path / "other")}, cluster_factory=lambda *_: fake, clock=FakeTime()
    )
    second = runner.invoke(app, ["start", "clusterip-create", "--seed", "6", "--force"], obj=other)
    assert second.exit_code == ExitStatus.USAGE
    assert "another ckaprep attempt" in second.stderr
    assert fake.get("Namespace", None, mine.namespace) == before  # neither deleted nor recreated
    assert other.state.load() is None


def test_deletion_needs_both_labels(fake):
    exercise = find_exercise("clusterip-create")
    attempt = start_drill(OwnCluster(StateStore(_tmp())), exercise, fake, seed=5, now=NOW)
    stranger = Attempt(**{**attempt.__dict__, "id": "not-this-one"})
    assert delete_attempts(fake, [stranger]) == attempt.namespaces
    assert fake.get("Namespace", None, attempt.namespace) is not None
    assert delete_attempts(fake, [attempt]) == []
    assert fake.get("Namespace", None, attempt.namespace) is None


def test_an_attempt_from_before_ids_removes_only_unlabelled_namespaces(fake):
    legacy = Attempt(
        exercise="clusterip-create", params={}, namespaces=["old-ns", "new-ns"], started_at=NOW.isoformat(), seed=1
    )
    fake.create({"kind": "Namespace", "metadata": {"name": "old-ns", "labels": {OWNER_LABEL: "ckaprep"}}})
    fake.create(
        {"kind": "Namespace", "metadata": {"name": "new-ns", "labels": {OWNER_LABEL: "ckaprep", ATTEMPT_LABEL: "abc"}}}
    )
    assert delete_attempts(fake, [legacy]) == ["new-ns"]
    assert fake.get("Namespace", None, "old-ns") is None


def _tmp():
    from pathlib import Path

    return Path(tempfile.mkdtemp(prefix="ckaprep-state-"))


# -- the lock -----------------------------------------------------------------------------
def test_two_concurrent_starts_never_orphan_a_namespace(fake, tmp_path):
    """The second start waits for the first's lock, then finds its attempt active."""
    first_recorded, second_waiting = threading.Event(), threading.Event()

    class FirstStore(StateStore):
        def save(self, attempt):
            super().save(attempt)
            if not first_recorded.is_set():
                first_recorded.set()  # recorded, nothing created yet: hold the lock a while
                assert second_waiting.wait(10), "the second start never waited for the lock"

    exercise = find_exercise("clusterip-create")
    outcome = {}

    def first():
        outcome["first"] = start_drill(OwnCluster(FirstStore(tmp_path)), exercise, fake, seed=1, now=NOW)

    def second():
        assert first_recorded.wait(10)
        waiter = Waiter(progress=lambda m: "waiting for another" in m and second_waiting.set())
        try:
            start_drill(
                OwnCluster(StateStore(tmp_path)),
                find_exercise("multi-port-named"),
                fake,
                seed=2,
                now=NOW,
                waiter=waiter,
            )
        except StateError as exc:
            outcome["second"] = exc.message

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert "is active" in outcome["second"]
    active = StateStore(tmp_path).load()
    assert active.id == outcome["first"].id
    on_cluster = {ns["metadata"]["name"] for ns in fake.list("Namespace", None)}
    assert on_cluster == set(active.namespaces)


def test_a_lock_held_too_long_is_a_clear_error(tmp_path):
    store = StateStore(tmp_path)
    with store.locked():
        with pytest.raises(StateError, match="another ckaprep command still holds"):
            with StateStore(tmp_path).locked(wait_s=5, clock=FakeTime()):
                pass
    with StateStore(tmp_path).locked(wait_s=0):  # released again
        pass


# -- broken state -------------------------------------------------------------------------
def _write_state(env, **changes):
    path = env.state.path
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    "field, value, command",
    [
        ("started_at", "yesterday", "status"),
        ("hints_shown", "x", "hint"),
        ("namespaces", [], "check"),
        ("seed", "7", "status"),
        ("fingerprints", [], "reset"),
    ],
)
def test_a_state_file_with_a_wrong_type_names_file_and_field(run, env, field, value, command):
    assert run("start", "clusterip-create", "--seed", "3").exit_code == 0
    path = _write_state(env, **{field: value})
    _one_line_error(run(command), str(path), f"field {field}")


@pytest.mark.parametrize("command", ["check", "hint", "solution"])
def test_params_missing_for_the_exercise(run, env, command):
    assert run("start", "clusterip-create", "--seed", "3").exit_code == 0
    path = _write_state(env, params={})
    _one_line_error(run(command), str(path), "field params", "namespace")


def test_an_old_state_file_still_loads(run, env, fake):
    """A file written before attempt ids: no id, exam or solution_shown."""
    assert run("start", "clusterip-create", "--seed", "3").exit_code == 0
    data = json.loads(env.state.path.read_text())
    for key in ("id", "exam", "solution_shown"):
        del data[key]
    namespace = data["namespaces"][0]
    fake.patch("Namespace", None, namespace, lambda ns: ns["metadata"]["labels"].pop(ATTEMPT_LABEL))
    env.state.path.write_text(json.dumps(data))
    assert run("status").exit_code == 0
    assert run("hint").exit_code == 0
    assert run("reset").exit_code == 0
    assert fake.get("Namespace", None, namespace) is None


def test_attempt_file_that_is_a_directory(run, env):
    env.state.path.mkdir(parents=True)
    for command in ("status", "check"):
        _one_line_error(run(command), str(env.state.path), "is a directory")
    _one_line_error(run("start", "clusterip-create"), str(env.state.path), "is a directory")


def test_home_that_is_a_regular_file(tmp_path, fake):
    home = tmp_path / "not-a-dir"
    home.write_text("")
    env = Environment(environ={"CKAPREP_HOME": str(home)}, cluster_factory=lambda *_: fake)
    runner = CliRunner()
    for args in (["status"], ["start", "clusterip-create"], ["progress"], ["exam", "status"]):
        result = runner.invoke(app, args, obj=env)
        _one_line_error(result, str(home), "not a directory")


def test_state_file_that_is_not_json(run, env):
    env.state.directory.mkdir(parents=True)
    env.state.path.write_text("{not json")
    _one_line_error(run("status"), str(env.state.path), "not valid JSON")


def test_a_state_directory_that_cannot_be_written(run, env, monkeypatch):
    directory = env.state.directory
    directory.mkdir(parents=True)
    directory.chmod(0o500)
    try:
        if os.geteuid() == 0:  # root writes anyway: refuse the way the kernel would for others

            def refuse(*args, **kwargs):
                raise PermissionError(13, "Permission denied")

            monkeypatch.setattr(os, "open", refuse)
            monkeypatch.setattr(tempfile, "mkstemp", refuse)
        _one_line_error(run("start", "clusterip-create"), str(directory), "permission denied")
    finally:
        directory.chmod(0o700)


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda d: d.update(deadline="soon"), "field deadline"),
        (lambda d: d["tasks"][1].update(hints_shown="x"), "field tasks[1].hints_shown"),
        (lambda d: d["tasks"][0].update(params={}), "field tasks[0].params"),
        (lambda d: d.update(weights=[1]), "field weights"),
    ],
)
def test_an_exam_file_with_a_wrong_value_names_file_and_field(run, env, change, field):
    assert run("exam", "start", "--tasks", "2", "--seed", "3").exit_code == 0
    path = env.state.exam_path
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    _one_line_error(run("exam", "status"), str(path), field)


def test_status_during_an_exam_shows_the_exam(run, env):
    assert run("exam", "start", "--tasks", "2", "--seed", "3").exit_code == 0
    status = json.loads(run("status", "--json").stdout)
    assert status["exam"] == env.state.load_exam().id and len(status["tasks"]) == 2


def test_the_lock_holds_across_processes(tmp_path):
    """Another process holding the lock makes this one wait, and a killed holder releases it."""
    import subprocess
    import sys

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from ckaprep.practice.state import StateStore\n"
            "with StateStore(Path(sys.argv[1])).locked():\n"
            "    print('held', flush=True); time.sleep(60)",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(StateError, match="still holds"):
            with StateStore(tmp_path).locked(wait_s=0.5):
                pass
        holder.kill()
        holder.wait(10)
        with StateStore(tmp_path).locked(wait_s=10):  # raises if the lock were still held
            pass
    finally:
        holder.kill()
        holder.wait(10)


def test_check_still_grades_when_the_history_cannot_be_written(run, env):
    assert run("start", "clusterip-create", "--seed", "3").exit_code == 0
    env.state.history_path.mkdir()
    result = run("check", "--json", "--wait", "0")
    assert result.exit_code == ExitStatus.CHECKS_FAILED
    assert json.loads(result.stdout)["exercise"] == "clusterip-create"
    assert "warning: history file" in result.stderr and "is a directory" in result.stderr
