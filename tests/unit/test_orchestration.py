"""The steps the commands share, in the library: the start rescue, the seed, one draw of an
exam's parameters, the grading options read once, and check's grade-and-record step."""

import dataclasses

import pytest
from typer.testing import CliRunner

from ckaprep.attempts import new_seed
from ckaprep.catalogue.capabilities import fault_draw
from ckaprep.catalogue.loading import load_catalogue
from ckaprep.cli.application import app
from ckaprep.cluster.images import BUSYBOX_IMAGE
from ckaprep.environment import Environment
from ckaprep.errors import ClusterUnreachable, StateError
from ckaprep.exit_status import ExitStatus
from ckaprep.practice.checking import check_and_record
from ckaprep.practice.exam import draw_exam, plan_exam
from ckaprep.practice.history import History
from ckaprep.practice.lifecycle import rescued_start
from tests.helpers import NOW, apply_solution, options


@pytest.mark.parametrize(
    "args, reset",
    [
        (["start", "clusterip-create", "--seed", "8"], "`ckaprep reset` to remove it"),
        (["exam", "start", "--tasks", "2", "--seed", "3"], "`ckaprep exam reset` to remove it"),
    ],
)
def test_a_start_that_fails_half_way_says_so_and_how_to_clean_up_in_one_line(run, fake, args, reset):
    fake.unpullable = {BUSYBOX_IMAGE}
    result = run(*args)
    assert result.exit_code == ExitStatus.IMAGE_PULL
    *notes, line = result.stderr.strip().splitlines()  # notes: what the exam left out, and why
    assert all(note.startswith("note: ") for note in notes) and line.startswith("error: ")
    assert "only partly set up" in line and reset in line
    assert "`ckaprep doctor` checks what this cluster is missing" in line


def test_a_start_refused_before_anything_was_made_has_nothing_to_clean_up(run):
    assert run("start", "clusterip-create", "--seed", "8").exit_code == 0
    refused = run("exam", "start", "--tasks", "2", "--seed", "3")
    assert refused.exit_code == ExitStatus.USAGE
    assert "partly" not in refused.stderr and "exercise clusterip-create is active" in refused.stderr


def test_ctrl_c_during_setup_is_an_interruption_that_names_the_cleanup(run, env, fake):
    original = fake.create

    def create(manifest):
        if manifest["kind"] == "Deployment":  # the namespace exists and the attempt is recorded
            raise KeyboardInterrupt
        return original(manifest)

    fake.create = create
    result = run("start", "clusterip-create", "--seed", "8")
    assert result.exit_code == ExitStatus.INTERRUPTED
    assert (
        "interrupted; the exercise was only partly set up: run the same `ckaprep start` again to "
        "finish it, or `ckaprep reset` to remove it"
    ) in " ".join(result.stderr.split())
    assert env.state.load() is not None


def test_the_same_start_run_again_finishes_a_setup_that_was_cut_short(run, env, fake):
    """The API server went away after the namespace and the first object were made."""
    original, calls = fake.create, []

    def create(manifest):
        calls.append(manifest["kind"])
        if manifest["kind"] == "Deployment" and calls.count("Deployment") == 1:
            original(manifest)  # created, but the answer never came back
            raise ClusterUnreachable("cannot reach the cluster at https://127.0.0.1:6443")
        return original(manifest)

    fake.create = create
    cut = run("start", "clusterip-create", "--seed", "8")
    assert cut.exit_code == ExitStatus.CLUSTER
    assert "run the same `ckaprep start` again" in " ".join(cut.stderr.split())
    first = env.state.load()
    assert first is not None and not first.set_up_done
    again = run("start", "clusterip-create", "--seed", "8")
    assert again.exit_code == 0, again.stderr
    finished = env.state.load()
    assert finished.id == first.id and finished.set_up_done  # the same attempt, finished
    assert calls.count("Namespace") == 1 and calls.count("Deployment") == 1  # nothing made twice
    assert finished.records and finished.fingerprints
    refused = run("start", "clusterip-create", "--seed", "8")  # once finished, it is an active exercise
    assert refused.exit_code == ExitStatus.USAGE and "is active" in refused.stderr


def test_a_cut_short_start_of_another_exercise_is_not_finished_by_this_one(run, env, fake):
    original = fake.create

    def create(manifest):
        if manifest["kind"] == "Deployment":
            raise ClusterUnreachable("cannot reach the cluster at https://127.0.0.1:6443")
        return original(manifest)

    fake.create = create
    assert run("start", "clusterip-create", "--seed", "8").exit_code == ExitStatus.CLUSTER
    fake.create = original
    other = run("start", "env-vars", "--seed", "8")
    assert other.exit_code == ExitStatus.USAGE and "clusterip-create is active" in other.stderr


def test_the_same_exam_start_run_again_finishes_an_exam_cut_short(run, env, fake):
    """The API server went away while the tasks were being set up: the next `exam start`
    finishes that exam (its own draw, whatever the new command line draws), then starts its clock."""
    original, made, cut = fake.create, [], []

    def create(manifest):
        meta = manifest["metadata"]
        created = original(manifest)
        made.append((manifest["kind"], meta.get("namespace"), meta["name"]))
        recorded = env.state.load_exam() is not None  # not the capability probe's Service
        if manifest["kind"] == "Service" and recorded and not cut:
            cut.append(made[-1])
            raise ClusterUnreachable("cannot reach the cluster at https://127.0.0.1:6443")  # the answer is lost
        return created

    fake.create = create
    cut = run("exam", "start", "--tasks", "2", "--seed", "3")
    assert cut.exit_code == ExitStatus.CLUSTER
    assert "run the same `ckaprep exam start` again to finish it, or `ckaprep exam reset` to remove it" in " ".join(
        cut.stderr.split()
    )
    first = env.state.load_exam()
    assert first is not None and not first.set_up_done
    again = run("exam", "start", "--tasks", "3", "--seed", "4")  # another draw asked: the cut one is finished
    assert again.exit_code == 0, again.stderr
    finished = env.state.load_exam()
    assert finished.id == first.id and finished.set_up_done
    assert [(t.id, t.exercise) for t in finished.tasks] == [(t.id, t.exercise) for t in first.tasks]
    assert all(t.records for t in finished.tasks)
    assert len(made) == len(set(made))  # nothing made twice
    assert all(fake.get("Namespace", None, ns) is not None for ns in finished.namespaces)
    refused = run("exam", "start", "--tasks", "2", "--seed", "3")  # once finished, it is an active exam
    assert refused.exit_code == ExitStatus.USAGE and "in progress" in refused.stderr


def test_the_rescue_leaves_an_error_alone_when_nothing_new_was_recorded():
    recorded = [dataclasses.make_dataclass("Old", ["id"])("a")]
    with pytest.raises(ClusterUnreachable) as failed:
        with rescued_start(lambda: recorded[-1], what="exam", reset_command="ckaprep exam reset"):
            raise ClusterUnreachable("cannot reach the cluster at https://127.0.0.1:1")
    assert "partly" not in failed.value.message
    assert "ckaprep doctor" in failed.value.message
    with pytest.raises(StateError) as failed:
        with rescued_start(lambda: recorded[-1], what="exam", reset_command="ckaprep exam reset"):
            recorded.append(type(recorded[0])("b"))
            raise StateError("boom")
    assert failed.value.message == "boom; the exam was only partly set up: `ckaprep exam reset` removes it"


def test_one_seed_function():
    assert new_seed(42) == 42
    assert new_seed(0) == 0  # a given seed is used as it is, even 0
    drawn = {new_seed() for _ in range(50)}
    assert all(1 <= seed < 10**6 for seed in drawn) and len(drawn) > 1


def test_an_exam_plans_its_tasks_with_the_parameters_it_drew():
    catalogue = load_catalogue()
    draw = draw_exam(catalogue, seed=5, tasks=3)
    # A fault pool draws, by the seed, only faults whose requires are known to be met.
    assert [p for p in draw.params] == [
        ex.choose_params(s, faults=fault_draw(ex.faults, s, None)) for ex, s in zip(draw.exercises, draw.seeds)
    ]
    marked = [dict(p, marker=str(n)) for n, p in enumerate(draw.params)]
    exam = plan_exam(dataclasses.replace(draw, params=marked), seed=5, now=NOW)
    assert [task.params.get("marker") for task in exam.tasks] == ["0", "1", "2"]  # not drawn again


def test_the_grading_options_come_from_the_environment_once():
    env = Environment(environ={"CKAPREP_PROBE_IMAGE": "mirror.example/curl:1"})
    assert env.grading_options(wait_s=3).probe_image == "mirror.example/curl:1"
    assert env.grading_options(wait_s=3).wait_s == 3
    assert env.grading_options(wait_s=0, probe_image="other.example/curl:2").probe_image == "other.example/curl:2"
    assert Environment(environ={}).grading_options(wait_s=0).probe_image.startswith("docker.io/curlimages/curl:")


def test_check_uses_the_probe_image_of_its_environment(run, env, fake):
    env.environ["CKAPREP_PROBE_IMAGE"] = "mirror.example/curl:1"
    images = []
    original = fake.create

    def create(manifest):
        if manifest["kind"] == "Pod":
            images.extend(c["image"] for c in manifest["spec"]["containers"])
        return original(manifest)

    assert run("start", "clusterip-create", "--seed", "8").exit_code == 0
    apply_solution(fake, load_catalogue()["clusterip-create"], env.state.load())
    fake.create = create
    run("check")
    assert "mirror.example/curl:1" in images


def test_check_grades_and_records_in_one_step(env, fake):
    exercise = load_catalogue()["dns-cross-namespace"]
    assert CliRunner().invoke(app, ["start", "dns-cross-namespace", "--seed", "8"], obj=env).exit_code == 0
    attempt = env.state.load()
    apply_solution(fake, exercise, attempt)
    checked = check_and_record(env.state, env.catalogue().find, env.cluster, options(wait_s=10), clock=env.clock)
    assert checked.report.passed and checked.warnings == []
    records, _ = History(env.state.history_path).read()
    assert [(r.kind, r.score, r.attempt) for r in records] == [("check", 100.0, attempt.id)]
    assert env.state.load().cluster_domain  # learnt from the probe pod, for the notes


def test_a_history_that_cannot_be_written_costs_a_warning_not_the_grade(env, fake):
    assert CliRunner().invoke(app, ["start", "clusterip-create", "--seed", "8"], obj=env).exit_code == 0
    env.state.history_path.mkdir(parents=True)  # a directory where the history file should be
    checked = check_and_record(env.state, env.catalogue().find, env.cluster, options(), clock=env.clock)
    assert checked.report.score == 0 and checked.warnings
