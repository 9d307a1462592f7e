"""A dishonest learner, on the fake cluster: each attack edits the seat ConfigMap, which the
learner may write, and then the trainer's commands run. None raises a score, touches anything
outside the seat, waits past the trainer's deadline, or crashes; a bad seat is one line.

The same attacks run with a seat's real credentials in tests/e2e/test_classroom_hostile.py.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from ckaprep.catalogue.loading import find_exercise, load_catalogue
from ckaprep.classroom.exams import class_exam_deadline, start_class_exam
from ckaprep.classroom.grades import class_report, class_status, grade_class
from ckaprep.classroom.seats import ATTEMPT_KEY, EXAM_KEY, RESULTS_KEY, SEAT_CONFIGMAP, create_class, namespaces_needed
from ckaprep.cli.application import app
from ckaprep.environment import Environment
from ckaprep.views.classroom_html import report_html
from tests.conftest import FakeTime
from tests.helpers import NOW, apply_solution, options
from tests.unit.test_classroom import CLASS, seat_env

pytestmark = pytest.mark.usefixtures("classroom")


@pytest.fixture
def classroom(fake, tmp_path):
    return create_class(
        fake,
        CLASS,
        seats=3,
        namespaces=namespaces_needed(load_catalogue()),
        valid_s=8 * 3600,
        out_dir=tmp_path / "kubeconfigs",
        learners=["Ada", "Bob", "Cy"],
    )


@pytest.fixture
def trainer(fake, tmp_path) -> Environment:
    return Environment(
        environ={"CKAPREP_HOME": str(tmp_path / "trainer"), "HOME": str(tmp_path)},
        cluster_factory=lambda kubeconfig, context: fake,
        clock=FakeTime(NOW),
    )


def run(env: Environment, *args: str):
    return CliRunner().invoke(app, list(args), obj=env)


def seat_data(fake, number: int) -> dict:
    return fake.get("ConfigMap", f"{CLASS}-0{number}-a", SEAT_CONFIGMAP)["data"]


def edit_seat(fake, number: int, **changes: str) -> None:
    """What a learner can do with `kubectl edit configmap ckaprep-seat` in their own seat."""
    configmap = fake.get("ConfigMap", f"{CLASS}-0{number}-a", SEAT_CONFIGMAP)
    configmap["data"] = {k: v for k, v in {**configmap["data"], **changes}.items() if v is not None}
    fake.replace(configmap)


def solve(fake, tmp_path, number: int, seed: int) -> None:
    env = seat_env(tmp_path, fake, f"{CLASS}-0{number}-a")
    assert run(env, "start", "clusterip-create", "--seed", str(seed)).exit_code == 0
    apply_solution(fake, find_exercise("clusterip-create"), env.state.load())


def start(fake, tmp_path, number: int, seed: int) -> None:
    env = seat_env(tmp_path, fake, f"{CLASS}-0{number}-a")
    assert run(env, "start", "clusterip-create", "--seed", str(seed)).exit_code == 0


def grades(fake) -> dict[str, dict]:
    result = grade_class(fake, CLASS, load_catalogue(), now=NOW, options=options(wait_s=10))
    return {s["seat"]: s for s in result["seats"]}


def trainer_commands_stay_whole(trainer, tmp_path) -> dict[str, object]:
    """Every trainer command a class uses, each a clean exit (no crash, no traceback)."""
    outcomes = {}
    for args in (
        ["classroom", "status", CLASS],
        ["classroom", "grade", CLASS, "--wait", "1"],
        ["classroom", "grade", CLASS, "--at-deadline", "--wait", "1"],
        ["classroom", "report", CLASS],
        ["classroom", "report", CLASS, "--html", str(tmp_path / "r.html")],
    ):
        result = run(trainer, *args)
        assert result.exit_code == 0, (args, result.output)
        assert "Traceback" not in result.output and "\x1b]" not in result.output and "\x1b[31m" not in result.output
        outcomes[" ".join(args[:2] + args[3:4])] = result
    return outcomes


def test_a_copied_attempt_is_graded_in_the_copiers_own_namespaces(fake, tmp_path):
    solve(fake, tmp_path, 1, seed=5)
    start(fake, tmp_path, 2, seed=6)
    edit_seat(fake, 2, **{ATTEMPT_KEY: seat_data(fake, 1)[ATTEMPT_KEY]})  # seat 1's right answer, pasted
    by_seat = grades(fake)
    assert by_seat[f"{CLASS}-01"]["score"] == 100.0
    assert by_seat[f"{CLASS}-02"]["score"] is not None and by_seat[f"{CLASS}-02"]["score"] < 100.0


def test_edited_parameters_are_ignored(fake, tmp_path):
    start(fake, tmp_path, 2, seed=6)
    env = seat_env(tmp_path, fake, f"{CLASS}-02-a")
    attempt = json.loads(seat_data(fake, 2)[ATTEMPT_KEY])
    # A wrong Service (targeting the Service port), then the task edited to ask for just that.
    fake.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": attempt["params"]["service"], "namespace": f"{CLASS}-02-a"},
            "spec": {
                "selector": {"app": attempt["params"]["app"], "tier": "backend"},
                "ports": [{"port": attempt["params"]["port"], "targetPort": attempt["params"]["port"]}],
            },
        }
    )
    own = run(env, "check", "--json")
    assert own.exit_code == 1
    attempt["params"]["target_port"] = attempt["params"]["port"]
    edit_seat(fake, 2, **{ATTEMPT_KEY: json.dumps(attempt)})
    assert grades(fake)[f"{CLASS}-02"]["score"] == json.loads(own.stdout)["score"] < 100.0


def test_forged_results_count_in_no_average_or_mastery(fake, tmp_path, trainer):
    forged = [
        {
            "kind": "check",
            "exercise": "clusterip-create",
            "score": 100.0,
            "passed": True,
            "elapsed_s": 60,
            "failed": [],
        },
        {"kind": "check", "exercise": "dns-records", "score": 1e308, "passed": True},
        {"kind": "check", "exercise": "env-vars", "score": float("nan"), "passed": True},
        {"kind": "check", "exercise": "named-targetport", "score": 90, "elapsed_s": "forever"},
    ]
    edit_seat(fake, 1, **{RESULTS_KEY: "\n".join(json.dumps(r) for r in forged) + "\nnot json\n"})
    report = class_report(fake, CLASS, load_catalogue())
    ada = next(r for r in report["learners"] if r["seat"] == f"{CLASS}-01")
    assert ada["exercises"]["clusterip-create"] == {
        "score": 100.0,
        "passed": True,
        "elapsed_s": 60.0,
        "failed": [],
        "graded_by": "learner",
    }
    assert "dns-records" not in ada["exercises"] and "env-vars" not in ada["exercises"]  # out of range: dropped
    assert ada["exercises"]["named-targetport"]["elapsed_s"] is None
    assert ada["average"] is None and report["topics"] == [] and report["most_failed"] == []
    outcomes = trainer_commands_stay_whole(trainer, tmp_path)
    assert (
        "100%*" in outcomes["classroom report"].output
        and "counted in no average" in outcomes["classroom report"].output
    )
    assert "nan" not in outcomes["classroom report"].output.lower()


def test_namespaces_named_in_an_attempt_are_never_the_trainers_to_empty(fake, tmp_path, trainer):
    # Seat 1's own objects, made with kubectl and no exercise active: the trainer has no reason to
    # touch them, and seat 2 names its namespace.
    fake.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "mine", "namespace": f"{CLASS}-01-a"}})
    start(fake, tmp_path, 2, seed=6)
    before = sorted(key for key in fake.objects if key[1] == f"{CLASS}-01-a")
    attempt = json.loads(seat_data(fake, 2)[ATTEMPT_KEY])
    attempt["namespaces"] = [f"{CLASS}-02-a", f"{CLASS}-01-a", "kube-system"]
    attempt["seat"] = None  # "not a seat": namespaces would be deleted, not emptied
    edit_seat(
        fake,
        2,
        **{
            ATTEMPT_KEY: json.dumps(attempt),
            EXAM_KEY: json.dumps({"id": "x", "tasks": [attempt], "namespaces": ["kube-system"]}),
        },
    )
    fake.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "precious", "namespace": "kube-system"}})
    started = run(trainer, "classroom", "exam", CLASS, "--force", "--tasks", "1", "--seed", "3", "--json")
    assert started.exit_code == 0, started.output
    after = sorted(key for key in fake.objects if key[1] == f"{CLASS}-01-a")
    assert [k for k in before if k not in after] == []
    assert fake.get("ConfigMap", "kube-system", "precious") is not None
    assert fake.get("Namespace", None, f"{CLASS}-01-a") is not None


def test_a_pushed_deadline_moves_nothing_for_the_trainer(fake, tmp_path, trainer):
    start_class_exam(
        fake,
        CLASS,
        load_catalogue(),
        state_dir=tmp_path / "t",
        seed=4,
        clock=FakeTime(NOW),
        tasks=1,
        minutes=10,
    )
    deadline = class_exam_deadline(fake, CLASS)
    exam = json.loads(seat_data(fake, 3)[EXAM_KEY])
    exam["deadline"] = (deadline + timedelta(hours=24)).isoformat()
    edit_seat(fake, 3, **{EXAM_KEY: json.dumps(exam)})
    assert class_exam_deadline(fake, CLASS) == deadline
    exam["deadline"] = "soon"
    edit_seat(fake, 3, **{EXAM_KEY: json.dumps(exam)})
    assert class_exam_deadline(fake, CLASS) == deadline
    late = grade_class(fake, CLASS, load_catalogue(), now=deadline + timedelta(hours=1), options=options(wait_s=5))
    seat3 = next(s for s in late["seats"] if s["seat"] == f"{CLASS}-03")
    assert seat3["score"] == 0.0 and seat3["deadline"] == deadline.isoformat()  # graded as at the real deadline


@pytest.mark.parametrize(
    "bad",
    [
        {EXAM_KEY: json.dumps({"id": 7, "tasks": "many"})},
        {EXAM_KEY: "{not json"},
        {ATTEMPT_KEY: json.dumps({"exercise": "clusterip-create", "seed": "x"})},
        {ATTEMPT_KEY: json.dumps([1, 2])},
        {
            ATTEMPT_KEY: json.dumps(
                {
                    "exercise": "nope",
                    "params": {},
                    "namespaces": ["a"],
                    "seed": 1,
                    "started_at": "2026-01-01T00:00:00+00:00",
                }
            )
        },
        {"learner": "Mallory\x1b]0;pwned\x07\x1b[31m"},
        {
            RESULTS_KEY: json.dumps(
                {"kind": "check", "exercise": "clusterip-create", "score": 50, "elapsed_s": "a while", "failed": "all"}
            )
        },
    ],
)
def test_bad_types_are_one_line_about_that_seat_and_the_class_goes_on(fake, tmp_path, trainer, bad):
    solve(fake, tmp_path, 1, seed=5)
    edit_seat(fake, 2, **bad)
    outcomes = trainer_commands_stay_whole(trainer, tmp_path)
    status = json.loads(run(trainer, "classroom", "status", CLASS, "--json").stdout)["seats"]
    assert [s["learner"] for s in status] == ["Ada", "Bob", "Cy"]  # names are the trainer's, not the seat's
    assert grades(fake)[f"{CLASS}-01"]["score"] == 100.0
    if ATTEMPT_KEY in bad:
        problem = status[1]["problem"]
        assert problem and "\n" not in problem
        assert f"seat {CLASS}-02: " in outcomes["classroom status"].output
    assert report_html(class_report(fake, CLASS, load_catalogue()), NOW)


def test_a_forged_record_of_a_setup_object_is_refused(fake, tmp_path):
    start(fake, tmp_path, 1, seed=5)
    attempt = json.loads(seat_data(fake, 1)[ATTEMPT_KEY])
    key = next(k for k in attempt["records"] if k.startswith("Deployment/"))
    attempt["records"][key]["content"]["spec"]["replicas"] = 5  # "the Deployment had 5 replicas at start"
    edit_seat(fake, 1, **{ATTEMPT_KEY: json.dumps(attempt)})
    seat1 = grades(fake)[f"{CLASS}-01"]
    assert seat1["score"] is None and seat1["problem"].startswith("its state was altered: the record of Deployment")


def test_a_missing_seat_configmap_is_reported_not_dropped(fake, tmp_path, trainer):
    fake.delete("ConfigMap", f"{CLASS}-02-a", SEAT_CONFIGMAP)
    status = run(trainer, "classroom", "status", CLASS)
    assert status.exit_code == 0 and f"seat {CLASS}-02: its seat ConfigMap {CLASS}-02-a/ckaprep-seat is gone" in (
        " ".join(status.output.split())
    )
    assert grades(fake)[f"{CLASS}-02"]["problem"].startswith("its seat ConfigMap")


def test_learners_keep_their_seats_by_name_and_a_renewal_revokes_old_tokens(fake, tmp_path):
    uid_before = fake.get("ServiceAccount", f"{CLASS}-seats", f"{CLASS}-02")["metadata"].get("uid")
    again = create_class(
        fake, CLASS, seats=0, namespaces=2, valid_s=3600, out_dir=tmp_path / "k2", learners=["Cy", "Dee", "Ada", "Bob"]
    )
    assert {c.seat.id: c.seat.learner for c in again} == {
        f"{CLASS}-01": "Ada",
        f"{CLASS}-02": "Bob",
        f"{CLASS}-03": "Cy",
        f"{CLASS}-04": "Dee",
    }
    account = fake.get("ServiceAccount", f"{CLASS}-seats", f"{CLASS}-02")
    assert account["metadata"]["annotations"]["ckaprep.io/learner"] == "Bob"
    assert account["metadata"].get("uid") != uid_before or uid_before is None  # made anew: old tokens fail
    with pytest.raises(Exception, match="more than once"):
        create_class(fake, CLASS, seats=0, namespaces=2, valid_s=3600, out_dir=tmp_path / "k3", learners=["Ada", "Ada"])
    kept = create_class(fake, CLASS, seats=0, namespaces=2, valid_s=3600, out_dir=tmp_path / "k4", learners=["Eve"])
    assert {c.seat.learner for c in kept} >= {"Ada", "Bob", "Cy", "Dee", "Eve"}  # nobody renamed unasked
    renamed = create_class(
        fake,
        CLASS,
        seats=0,
        namespaces=2,
        valid_s=3600,
        out_dir=tmp_path / "k5",
        learners=["Ada", "Bob", "Cy", "Dee", "Fay"],
        rename=True,
    )
    assert {c.seat.id: c.seat.learner for c in renamed}[f"{CLASS}-05"] == "Fay"


def test_status_reads_a_few_lists_whatever_the_class_size(fake, tmp_path):
    fake.read_log.clear()
    class_status(fake, CLASS, NOW, load_catalogue())
    assert {entry[0] for entry in fake.read_log} == {"list"} and len(fake.read_log) <= 5


def test_the_report_shows_who_works_on_what_and_who_is_stuck_longest(fake, tmp_path):
    from datetime import timedelta as later

    solve(fake, tmp_path, 1, seed=5)
    start(fake, tmp_path, 2, seed=6)
    grades(fake)
    report = class_report(fake, CLASS, load_catalogue(), NOW + later(minutes=30))
    rows = {r["seat"]: r for r in report["learners"]}
    assert rows[f"{CLASS}-02"]["current"] == "clusterip-create" and rows[f"{CLASS}-02"]["current_failed"]
    assert rows[f"{CLASS}-03"]["current"] is None
    page = report_html(report, NOW)
    assert page.count('class="working"') == 2 and page.count("stuck longest") == 1


def test_nothing_is_cut_at_80_columns(fake, tmp_path, trainer):
    long_name = "Maximiliane-Theodora-Wilhelmina-von-Hohenzollern-Sigmaringen"
    create_class(fake, CLASS, seats=0, namespaces=2, valid_s=3600, out_dir=tmp_path / "k", learners=[long_name])
    trainer.environ["COLUMNS"] = "80"
    for args in (["classroom", "status", CLASS], ["classroom", "report", CLASS]):
        result = run(trainer, *args)
        assert result.exit_code == 0 and "…" not in result.output, result.output
        assert "Hohenzollern" in "".join(result.output.split())


def test_emptying_a_seat_removes_controllers_before_their_pods(fake, tmp_path):
    from ckaprep.classroom.seats import EMPTIED_KINDS

    assert EMPTIED_KINDS.index("StatefulSet") < EMPTIED_KINDS.index("Pod")
    assert EMPTIED_KINDS.index("ReplicaSet") < EMPTIED_KINDS.index("Pod")
    env = seat_env(tmp_path, fake, f"{CLASS}-01-a")
    assert run(env, "start", "headless-statefulset", "--seed", "3").exit_code == 0
    assert fake.list("StatefulSet", f"{CLASS}-01-a")
    reset = run(env, "reset", "--json")
    assert reset.exit_code == 0, reset.output
    assert fake.list("StatefulSet", f"{CLASS}-01-a") == [] and fake.list("Pod", f"{CLASS}-01-a") == []


def test_an_emptied_seat_waits_for_the_slices_of_its_deleted_services(fake, tmp_path):
    from ckaprep.classroom.seats import leftovers

    solve(fake, tmp_path, 1, seed=5)
    left = leftovers(fake, [f"{CLASS}-01-a"])
    assert any(item.startswith("EndpointSlice ") for item in left), left  # waited for, never deleted by hand


def test_a_seat_draws_no_fault_it_cannot_grade_and_the_trainer_draws_the_same(fake, tmp_path):
    """Even on a cluster that offers two nodes and NetworkPolicy, a seat may not list Nodes nor
    try a policy: its pool draws only faults that require nothing, and the trainer, working the
    parameters out again from the seed, comes to the same faults."""
    from ckaprep.catalogue.faults import FAULTS_PARAM
    from ckaprep.classroom.roster import trusted_attempt
    from ckaprep.classroom.seats import class_roster

    fake.set_nodes(2)
    fake.enforces_network_policy = True
    pool = find_exercise("troubleshoot-pool")
    needing = {f["id"] for f in pool.faults["pool"] if "requires" in f}
    env = seat_env(tmp_path, fake, f"{CLASS}-01-a")
    drawn = set()
    for seed in range(1, 9):
        result = run(env, "start", "troubleshoot-pool", "--seed", str(seed), "--force")
        assert result.exit_code == 0, result.output
        own = env.state.load().params[FAULTS_PARAM]
        view = next(v for v in class_roster(fake, CLASS) if v.seat.id == f"{CLASS}-01")
        attempt, _ = trusted_attempt(view, load_catalogue())
        assert attempt.params[FAULTS_PARAM] == own
        drawn |= set(own)
    assert drawn and needing.isdisjoint(drawn)
    refused = run(env, "start", "netpol-allow-service", "--force")
    assert refused.exit_code != 0 and "Traceback" not in refused.output
    assert "network-policy" in refused.output or "NetworkPolicy" in refused.output, refused.output


def test_a_class_exam_says_what_seats_leave_out_and_draws_none_of_it(fake, tmp_path, trainer):
    fake.set_nodes(2)
    fake.enforces_network_policy = True
    result = run(trainer, "classroom", "exam", CLASS, "--tasks", "6", "--seed", "9", "--draw", "per-seat", "--json")
    assert result.exit_code == 0, result.output
    assert "left out 5 exercises a classroom seat cannot grade" in result.stderr
    started = json.loads(result.stdout)
    drawn = {task for seat in started["seats"] for task in seat["tasks"]}
    assert drawn and not any(find_exercise(e).requires for e in drawn)
