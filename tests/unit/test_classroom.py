"""A classroom on the fake cluster: seats, a learner's commands in a seat, grade, report, delete.

RBAC itself is only real on a real cluster (tests/e2e/test_classroom_on_cluster.py); here the library's
logic is tested: what is created and labelled, where state lives, what is emptied and kept.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ckaprep.catalogue.loading import find_exercise, load_catalogue
from ckaprep.classroom.grades import SharedReads, class_report, grade_class
from ckaprep.classroom.seats import (
    ATTEMPT_KEY,
    CLASS_LABEL,
    RESULTS_KEY,
    SEAT_CONFIGMAP,
    create_class,
    delete_class,
    detect_seat,
    namespaces_needed,
    parse_duration,
    read_learners,
    results_namespace,
)
from ckaprep.cli.application import app
from ckaprep.cluster.labels import OWNER_LABEL
from ckaprep.environment import Environment
from ckaprep.errors import UsageError
from ckaprep.grading.engine import grade
from ckaprep.views.classroom_html import report_html
from tests.conftest import FakeTime
from tests.fake_cluster import FakeCluster
from tests.helpers import NOW, apply_solution, options

CLASS = "k8s101"


def class_seats(fake, name):
    """Each seat and its ConfigMap, as the trainer's commands see them."""
    from ckaprep.classroom.seats import class_roster

    return [(view.seat, view.configmap) for view in class_roster(fake, name)]


class SeatCredentials:
    """The shared fake cluster, seen through a seat's ServiceAccount token."""

    def __init__(self, fake: FakeCluster, home: str):
        self._fake, self._account = fake, (f"{CLASS}-seats", home.rsplit("-", 1)[0])

    def __getattr__(self, name):
        return getattr(self._fake, name)

    def service_account(self):
        return self._account


def seat_env(tmp_path: Path, fake: FakeCluster, home: str) -> Environment:
    cluster = SeatCredentials(fake, home)
    return Environment(
        environ={"CKAPREP_HOME": str(tmp_path / f"learner-{home}"), "HOME": str(tmp_path)},
        cluster_factory=lambda kubeconfig, context: cluster,
        clock=FakeTime(NOW),
        seat_aware=True,
    )


def run(env: Environment, *args):
    return CliRunner().invoke(app, list(args), obj=env)


@pytest.fixture
def classroom(fake, tmp_path):
    created = create_class(
        fake,
        CLASS,
        seats=3,
        namespaces=namespaces_needed(load_catalogue()),
        valid_s=8 * 3600,
        out_dir=tmp_path / "kubeconfigs",
    )
    return created


def test_create_makes_labelled_seats_with_edit_in_their_namespaces_only(fake, classroom, tmp_path):
    assert [c.seat.id for c in classroom] == ["k8s101-01", "k8s101-02", "k8s101-03"]
    seat = classroom[1].seat
    assert seat.namespaces == ["k8s101-02-a", "k8s101-02-b"]  # the catalogue's widest exercise needs two
    for ns in seat.namespaces:
        namespace = fake.get("Namespace", None, ns)
        assert namespace["metadata"]["labels"][CLASS_LABEL] == CLASS
        assert namespace["metadata"]["labels"][OWNER_LABEL] == "ckaprep"
        assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
        quota = fake.get("ResourceQuota", ns, "ckaprep-seat-quota")["spec"]["hard"]
        assert quota["services.nodeports"] == "0" and quota["services.loadbalancers"] == "0"
        assert fake.get("LimitRange", ns, "ckaprep-seat-limits")["spec"]["limits"][0]["defaultRequest"]
        assert fake.get("RoleBinding", ns, "ckaprep-seat-admin") is None  # admin could bind its rights to anyone
        binding = fake.get("RoleBinding", ns, "ckaprep-seat-edit")
        assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"}
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "k8s101-02", "namespace": "k8s101-seats"}]
    # The account lives where the seat has no rights: it cannot mint itself a longer-lived token.
    assert fake.get("ServiceAccount", "k8s101-seats", "k8s101-02")["metadata"]["labels"][CLASS_LABEL] == CLASS
    assert fake.list("RoleBinding", "k8s101-seats") == []
    # Nothing cluster-wide beyond namespaces: no ClusterRoleBinding could ever be granted.
    assert {k for k, _, _ in fake.objects} == {
        "Namespace",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ConfigMap",
        "ResourceQuota",
        "LimitRange",
    }
    role = fake.get("Role", seat.home, "ckaprep-seat-endpoints")
    assert {r for rule in role["rules"] for r in rule["resources"]} == {"endpoints", "endpointslices"}
    assert "get" not in {v for rule in role["rules"] for v in rule["verbs"]}  # reading comes with edit
    assert fake.get("Namespace", None, results_namespace(CLASS)) is not None
    assert fake.list("RoleBinding", results_namespace(CLASS)) == []  # no seat may write there
    assert sorted(fake.tokens) == [("k8s101-seats", f"k8s101-0{n}", 8 * 3600) for n in (1, 2, 3)]


def test_each_kubeconfig_holds_the_seat_token_and_home_namespace_readable_by_its_owner_only(classroom):
    path = Path(classroom[0].kubeconfig)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    config = json.loads(path.read_text())
    assert config["contexts"][0]["context"]["namespace"] == "k8s101-01-a"
    assert config["users"][0]["user"]["token"].startswith("fake-token-k8s101-seats-k8s101-01-")
    assert config["clusters"][0]["cluster"]["server"] == "https://fake.invalid:6443"


def test_create_again_adds_seats_keeps_state_and_names_learners(fake, classroom, tmp_path):
    env = seat_env(tmp_path, fake, "k8s101-01-a")
    assert run(env, "start", "clusterip-create", "--seed", "3").exit_code == 0
    learners = tmp_path / "learners.txt"
    learners.write_text("# the class\nAda Lovelace\nGrace Hopper\n\nAlan Turing\nEdsger Dijkstra\n")
    again = create_class(
        fake,
        CLASS,
        seats=2,
        learners=read_learners(learners),
        namespaces=2,
        valid_s=3600,
        out_dir=tmp_path / "kubeconfigs",
    )
    assert [(c.seat.id, c.seat.learner, c.new) for c in again] == [
        ("k8s101-01", "Ada Lovelace", False),
        ("k8s101-02", "Grace Hopper", False),
        ("k8s101-03", "Alan Turing", False),
        ("k8s101-04", "Edsger Dijkstra", True),
    ]
    configmap = fake.get("ConfigMap", "k8s101-01-a", SEAT_CONFIGMAP)
    assert json.loads(configmap["data"][ATTEMPT_KEY])["exercise"] == "clusterip-create"  # state kept
    assert configmap["data"]["learner"] == "Ada Lovelace"


@pytest.mark.parametrize("bad", [dict(seats=0), dict(seats=2, valid_s=60)])
def test_create_refuses_no_seats_and_tokens_shorter_than_the_api_allows(fake, tmp_path, bad):
    options = dict(namespaces=2, valid_s=3600, out_dir=tmp_path) | bad
    with pytest.raises(UsageError):
        create_class(fake, CLASS, **options)
    with pytest.raises(UsageError, match="not a class name"):
        create_class(fake, "Bad_Name", seats=1, namespaces=2, valid_s=3600, out_dir=tmp_path)


def test_durations():
    assert parse_duration("8h") == 28800 and parse_duration("2h30m") == 9000 and parse_duration("600") == 600
    assert parse_duration("366d") == 366 * 86400
    for bad in ("soon", "367d", "9" * 5000, "99999999999h"):
        with pytest.raises(UsageError):
            parse_duration(bad)


def test_a_learners_file_is_read_only_so_far(tmp_path):
    huge = tmp_path / "huge.txt"
    huge.write_text("Ada\n" * 100_000)
    with pytest.raises(UsageError, match="larger than"):
        read_learners(huge)


def test_in_a_seat_the_task_is_the_seats_own(fake, classroom, tmp_path):
    env = seat_env(tmp_path, fake, "k8s101-01-a")
    started = run(env, "start", "clusterip-create", "--seed", "3", "--json")
    assert started.exit_code == 0, started.output
    again = run(env, "task", "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["task"] == json.loads(started.stdout)["task"]
    assert json.loads(again.stdout)["namespaces"][0] == "k8s101-01-a"


def test_a_seat_is_recognised_only_by_its_own_service_account_and_configmap(fake, classroom):
    assert detect_seat(fake) is None  # the trainer's credentials
    fake.read_log.clear()
    fake.account = ("default", "builder")  # another ServiceAccount: not a seat, and no request made
    assert detect_seat(fake) is None and fake.read_log == []
    fake.account = ("k8s101-02-a", "ckaprep-seat")  # an account inside a seat namespace is none of ours
    assert detect_seat(fake) is None
    fake.account = ("k8s101-seats", "k8s101-02")
    seat = detect_seat(fake)
    assert (seat.id, seat.namespaces) == ("k8s101-02", ["k8s101-02-a", "k8s101-02-b"])
    fake.account = ("k8s101-seats", "k8s101-07")  # no such seat
    assert detect_seat(fake) is None


def test_a_learner_starts_checks_and_resets_in_the_seat_without_creating_namespaces(fake, classroom, tmp_path):
    env = seat_env(tmp_path, fake, "k8s101-02-a")
    before = {key for key in fake.objects if key[0] == "Namespace"}
    started = run(env, "start", "clusterip-create", "--seed", "11", "--json")
    assert started.exit_code == 0, started.output
    assert json.loads(started.stdout)["namespaces"] == ["k8s101-02-a"]
    assert {key for key in fake.objects if key[0] == "Namespace"} == before
    # The state is in the seat, not in the learner's directory: the trainer sees it too.
    assert not (tmp_path / "learner-k8s101-02-a" / "attempt.json").exists()
    assert class_seats(fake, CLASS)[1][1]["data"][ATTEMPT_KEY]
    assert run(env, "hint").exit_code == 0
    assert json.loads(fake.get("ConfigMap", "k8s101-02-a", SEAT_CONFIGMAP)["data"][ATTEMPT_KEY])["hints_shown"] == 1
    checked = run(env, "check", "--json")
    assert checked.exit_code == 1 and json.loads(checked.stdout)["score"] == 0.0
    results = fake.get("ConfigMap", "k8s101-02-a", SEAT_CONFIGMAP)["data"][RESULTS_KEY].splitlines()
    assert json.loads(results[-1])["exercise"] == "clusterip-create"
    assert (tmp_path / "learner-k8s101-02-a" / "history.jsonl").exists()  # and the local history
    reset = run(env, "reset", "--json")
    assert reset.exit_code == 0, reset.output
    assert json.loads(reset.stdout) == {"deleted": [], "emptied": ["k8s101-02-a"], "left_alone": []}
    assert {key for key in fake.objects if key[0] == "Namespace"} == before  # never deleted
    left = [key for key in fake.objects if key[1] == "k8s101-02-a" and key[0] in ("Deployment", "Pod", "Service")]
    assert left == []
    kept = fake.get("ConfigMap", "k8s101-02-a", SEAT_CONFIGMAP)
    assert ATTEMPT_KEY not in kept["data"] and kept["data"][RESULTS_KEY]
    assert fake.get("RoleBinding", "k8s101-02-a", "ckaprep-seat-edit")


def test_start_force_in_a_seat_empties_what_the_learner_made(fake, classroom, tmp_path):
    env = seat_env(tmp_path, fake, "k8s101-01-a")
    assert run(env, "start", "clusterip-create", "--seed", "1").exit_code == 0
    fake.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "mine", "namespace": "k8s101-01-a"},
            "spec": {"ports": [{"port": 80}]},
        }
    )
    assert run(env, "start", "clusterip-create", "--seed", "2").exit_code == 2  # one at a time, as ever
    assert run(env, "start", "named-targetport", "--seed", "2", "--force").exit_code == 0
    assert fake.get("Service", "k8s101-01-a", "mine") is None


def test_a_cross_namespace_exercise_uses_two_of_the_seat_namespaces(fake, classroom, tmp_path):
    env = seat_env(tmp_path, fake, "k8s101-03-a")
    started = run(env, "start", "dns-cross-namespace", "--seed", "4", "--json")
    assert started.exit_code == 0, started.output
    data = json.loads(started.stdout)
    assert data["namespaces"] == ["k8s101-03-a", "k8s101-03-b"]
    assert data["params"]["namespace"] == "k8s101-03-a" and data["params"]["client_ns"] == "k8s101-03-b"
    assert "k8s101-03-b" in data["task"]
    attempt = env.state.load()
    exercise = find_exercise("dns-cross-namespace")
    apply_solution(fake, exercise, attempt)
    report, _ = grade(exercise, attempt, fake, options())
    assert report.score == 100.0


def _two_learners(fake, tmp_path):
    """Seat 1 solves clusterip-create, seat 2 starts it and leaves it; seat 3 starts nothing."""
    exercise = find_exercise("clusterip-create")
    for home, solve in (("k8s101-01-a", True), ("k8s101-02-a", False)):
        env = seat_env(tmp_path, fake, home)
        assert run(env, "start", "clusterip-create", "--seed", "5").exit_code == 0
        if solve:
            apply_solution(fake, exercise, env.state.load())
    return exercise


def test_grade_scores_every_seat_like_check_and_records_where_seats_cannot_write(fake, classroom, tmp_path):
    exercise = _two_learners(fake, tmp_path)
    result = grade_class(fake, CLASS, load_catalogue(), now=NOW, options=options(wait_s=10))
    by_seat = {s["seat"]: s for s in result["seats"]}
    assert by_seat["k8s101-01"]["score"] == 100.0 and by_seat["k8s101-01"]["passed"]
    wrong = by_seat["k8s101-02"]
    assert wrong["score"] == 0.0 and not wrong["passed"] and wrong["failed"]
    assert by_seat["k8s101-03"]["score"] is None and by_seat["k8s101-03"]["problem"] == "no active exercise"
    # The same rule and number as the learner's own check.
    env = seat_env(tmp_path, fake, "k8s101-02-a")
    own, _ = grade(exercise, env.state.load(), fake, options())
    assert own.score == wrong["score"] and [c.id for c in own.checks if c.status != "pass"] == wrong["failed"]
    recorded = fake.list("ConfigMap", results_namespace(CLASS))
    assert sorted(json.loads(c["data"]["result.json"])["seat"] for c in recorded) == ["k8s101-01", "k8s101-02"]
    # Each kind was listed once across the cluster for the first round of every seat.
    assert all(count == 1 for count in result["shared_lists"].values())


def test_shared_reads_list_each_kind_once_then_read_live(fake, classroom):
    shared = SharedReads(fake, {"k8s101-01-a", "k8s101-02-a"})
    fake.read_log.clear()
    shared.list("Pod", "k8s101-01-a")
    shared.list("Pod", "k8s101-02-a")
    assert fake.read_log == [("list", "Pod", None)]
    shared.list("Pod", "k8s101-01-a")  # a second round: live
    assert fake.read_log[-1] == ("list", "Pod", "k8s101-01-a")


def test_report_gives_learners_by_exercises_failed_checks_and_topics(fake, classroom, tmp_path):
    _two_learners(fake, tmp_path)
    grade_class(fake, CLASS, load_catalogue(), now=NOW, options=options(wait_s=10))
    report = class_report(fake, CLASS, load_catalogue())
    assert [e["id"] for e in report["exercises"]] == ["clusterip-create"]
    rows = {r["seat"]: r for r in report["learners"]}
    assert rows["k8s101-01"]["exercises"]["clusterip-create"]["score"] == 100.0
    assert rows["k8s101-02"]["exercises"]["clusterip-create"]["score"] == 0.0
    assert rows["k8s101-03"]["exercises"]["clusterip-create"] is None and rows["k8s101-03"]["average"] is None
    assert report["most_failed"] and all(item["seats"] == 1 for item in report["most_failed"])
    topics = find_exercise("clusterip-create").topics
    assert {t["topic"]: t["mastery"] for t in report["topics"]} == {t: 50.0 for t in topics}


def test_report_falls_back_on_the_learners_own_checks(fake, classroom, tmp_path):
    env = seat_env(tmp_path, fake, "k8s101-01-a")
    assert run(env, "start", "clusterip-create", "--seed", "5").exit_code == 0
    assert run(env, "check").exit_code == 1
    cell = class_report(fake, CLASS, load_catalogue())["learners"][0]["exercises"]["clusterip-create"]
    assert cell["graded_by"] == "learner" and cell["score"] == 0.0


def test_the_html_report_is_one_page_with_a_row_per_seat_and_nothing_fetched(fake, classroom, tmp_path):
    _two_learners(fake, tmp_path)
    grade_class(fake, CLASS, load_catalogue(), now=NOW, options=options(wait_s=10))
    page = report_html(class_report(fake, CLASS, load_catalogue()), NOW)
    assert page.count('class="learner-row"') == 3
    assert page.count('class="bar topic"') == len(find_exercise("clusterip-create").topics)
    assert 'data-score="100.0"' in page and 'data-score="0.0"' in page
    for fetch in ("src=", "href=", "@import", "url("):
        assert fetch not in page


def test_the_cli_wires_create_status_grade_report_and_delete(fake, env, tmp_path):
    created = run(env, "classroom", "create", CLASS, "--seats", "2", "--out", str(tmp_path / "k"), "--json")
    assert created.exit_code == 0, created.output
    assert len(json.loads(created.stdout)["seats"]) == 2
    _two_learners(fake, tmp_path)
    status = json.loads(run(env, "classroom", "status", CLASS, "--json").stdout)
    assert [s["exercise"] for s in status["seats"]] == ["clusterip-create", "clusterip-create"]
    graded = run(env, "classroom", "grade", CLASS, "--json")
    assert graded.exit_code == 0, graded.output
    html = tmp_path / "report.html"
    report = run(env, "classroom", "report", CLASS, "--json", "--html", str(html))
    assert report.exit_code == 0, report.output
    assert [r["average"] for r in json.loads(report.stdout)["learners"]] == [100.0, 0.0]
    assert html.read_text().count('class="learner-row"') == 2
    assert run(env, "classroom", "report", CLASS).exit_code == 0
    deleted = run(env, "classroom", "delete", CLASS, "--json")
    assert deleted.exit_code == 0, deleted.output
    assert not [key for key in fake.objects if key[1] and key[1].startswith(CLASS)]
    assert run(env, "classroom", "status", CLASS).exit_code == 2


def test_delete_removes_the_class_and_nothing_else(fake, classroom, tmp_path):
    create_class(fake, "other", seats=1, namespaces=1, valid_s=3600, out_dir=tmp_path / "o")
    fake.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "k8s101-99-a"}})  # not labelled
    deleted = delete_class(fake, CLASS)
    assert len(deleted) == 3 * 2 + 2
    names = {key[2] for key in fake.objects if key[0] == "Namespace"}
    assert names == {"other-01-a", "other-results", "other-seats", "k8s101-99-a"}


def test_doctor_in_a_seat_checks_the_seat_rights_not_namespace_creation(fake, classroom):
    from ckaprep.doctor import diagnose

    fake.account = ("k8s101-seats", "k8s101-01")
    fake.denied = {("create", "namespaces")}
    diagnosis = diagnose(fake)
    assert diagnosis.exit_status == 0
    assert [f.id for f in diagnosis.findings] == ["api", "seat-permissions", "cluster-features"]
    fake.denied = {("delete", "services")}
    diagnosis = diagnose(fake)
    assert diagnosis.exit_status == 3 and "delete services in k8s101-01-a" in diagnosis.findings[1].detail


# -- a class exam ------------------------------------------------------------------------------
def _one_node_catalogue() -> dict:
    """What the one-node fake can run (`classroom exam` leaves the rest out, as doctor found)."""
    return {key: ex for key, ex in load_catalogue().items() if not ex.requires}


def _exam(fake, tmp_path, **options):
    from ckaprep.classroom.exams import start_class_exam

    return start_class_exam(
        fake,
        CLASS,
        _one_node_catalogue(),
        state_dir=tmp_path / "trainer",
        seed=21,
        clock=FakeTime(NOW),
        tasks=2,
        minutes=20,
        topics=("create", "multi-port"),
        **options,
    )


def test_a_class_exam_is_the_same_draw_in_every_seat_with_one_deadline(fake, classroom, tmp_path):
    started = _exam(fake, tmp_path)
    assert len({tuple(s["tasks"]) for s in started["seats"]}) == 1
    exams = [json.loads(cm["data"]["exam.json"]) for _, cm in class_seats(fake, CLASS)]
    assert len({e["deadline"] for e in exams}) == 1 and len({e["id"] for e in exams}) == 1
    seat2 = started["seats"][1]
    assert all(ns.startswith("k8s101-02-e") for ns in seat2["namespaces"])
    for ns in seat2["namespaces"]:  # the task namespaces are the seat's, and only its
        assert fake.get("RoleBinding", ns, "ckaprep-seat-edit")["subjects"][0]["name"] == "k8s101-02"
        assert fake.get("Namespace", None, ns)["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
        assert fake.get("ResourceQuota", ns, "ckaprep-seat-quota") is not None
    # The learner sees and works on the exam the trainer started, and cannot start another.
    env = seat_env(tmp_path, fake, "k8s101-02-a")
    status = run(env, "exam", "status", "--json")
    assert status.exit_code == 0, status.output
    assert [t["exercise"] for t in json.loads(status.stdout)["tasks"]] == seat2["tasks"]
    assert run(env, "exam", "task", "2").exit_code == 0
    assert run(env, "exam", "start").exit_code == 2
    with pytest.raises(Exception, match="active"):
        _exam(fake, tmp_path)  # seats are busy without --force


def test_a_draw_per_seat_differs_between_seats(fake, classroom, tmp_path):
    started = _exam(fake, tmp_path, per_seat=True)
    seeds = {json.loads(cm["data"]["exam.json"])["seed"] for _, cm in class_seats(fake, CLASS)}
    assert len(seeds) == 3
    assert len({tuple(s["tasks"]) for s in started["seats"]}) > 1 or len(load_catalogue()) < 3


def test_the_trainer_grades_a_class_exam_at_the_deadline(fake, classroom, tmp_path):
    from ckaprep.classroom.exams import class_exam_deadline

    _exam(fake, tmp_path)
    seat1 = seat_env(tmp_path, fake, "k8s101-01-a")
    exam = seat1.state.load_exam()
    for attempt in exam.tasks:
        apply_solution(fake, find_exercise(attempt.exercise), attempt)
    deadline = class_exam_deadline(fake, CLASS)
    graded = grade_class(fake, CLASS, load_catalogue(), now=deadline, options=options(wait_s=10))
    by_seat = {s["seat"]: s for s in graded["seats"]}
    assert by_seat["k8s101-01"]["score"] == 100.0 and by_seat["k8s101-01"]["deadline_passed"]
    assert by_seat["k8s101-02"]["score"] == 0.0 and by_seat["k8s101-02"]["verdict"] == "FAIL"
    report = class_report(fake, CLASS, load_catalogue())
    rows = {r["seat"]: r for r in report["learners"]}
    assert rows["k8s101-01"]["exam"]["score"] == 100.0
    assert {e["id"] for e in report["exercises"]} == {t.exercise for t in exam.tasks}
    assert report_html(report, NOW).count('class="cell exam"') == 3
    # The learner submits too: the result goes to the seat as well as the local history.
    submitted = run(seat1, "exam", "submit", "--json")
    assert submitted.exit_code == 0, submitted.output
    records = fake.get("ConfigMap", "k8s101-01-a", SEAT_CONFIGMAP)["data"][RESULTS_KEY].splitlines()
    assert json.loads(records[-1])["kind"] == "exam"
    reset = run(seat1, "exam", "reset", "--json")
    assert reset.exit_code == 0, reset.output
    assert json.loads(reset.stdout)["emptied"] == exam.namespaces and json.loads(reset.stdout)["deleted"] == []
    assert all(fake.get("Namespace", None, ns) for ns in exam.namespaces)  # emptied, not deleted


def _token(claims: dict) -> str:
    import base64

    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part(claims)}.{part({})}"


def test_a_rejected_seat_token_says_why_in_one_line():
    from ckaprep.cluster.kube import _token_expired, token_claims

    seat = {"kubernetes.io": {"namespace": "k8s101-seats", "serviceaccount": {"name": "k8s101-01"}}}
    expired = _token_expired(_token(seat | {"exp": 1_000}), now=2_000)
    assert expired.startswith("the seat's token (ServiceAccount k8s101-seats/k8s101-01) expired at 1970-01-01")
    assert "\n" not in expired
    assert "was rejected: the seat or its class was deleted" in _token_expired(_token(seat | {"exp": 3_000}), now=2_000)
    assert _token_expired(_token({"exp": 3_000}), now=2_000) == ""  # someone else's valid token: no guess
    assert "the token in the kubeconfig expired" in _token_expired(_token({"exp": 1_000}), now=2_000)
    assert _token_expired("not-a-jwt") == "" and token_claims("a.b.c") == {}


def test_a_machine_with_its_own_exercise_never_asks_the_cluster_for_a_seat(env, fake, tmp_path):
    asked = []
    env.cluster_factory = lambda kubeconfig, context: asked.append(1) or fake
    assert run(env, "start", "clusterip-create", "--seed", "3").exit_code == 0
    asked.clear()
    for command in (["status"], ["hint"], ["solution"]):
        assert run(env, *command).exit_code == 0
    assert asked == []  # status, hint and solution stay local and quick


def test_a_seat_whose_namespace_is_gone_is_a_problem_of_that_seat_only(fake, classroom, tmp_path):
    _two_learners(fake, tmp_path)
    assert run(seat_env(tmp_path, fake, "k8s101-02-a"), "start", "dns-cross-namespace", "--force").exit_code == 0
    fake.delete("Namespace", None, "k8s101-02-b")  # by hand, as the trainer might
    result = grade_class(fake, CLASS, load_catalogue(), now=NOW, options=options(wait_s=10))
    by_seat = {s["seat"]: s for s in result["seats"]}
    assert by_seat["k8s101-01"]["score"] == 100.0
    problem = by_seat["k8s101-02"]["problem"]  # the seat's own namespaces are the labelled ones left
    assert by_seat["k8s101-02"]["score"] is None and "needs 2 namespaces and seat k8s101-02 has 1" in problem


def test_kube_paths_for_listing_across_namespaces_and_for_seat_kinds():
    from ckaprep.cluster.kube import KubeCluster

    assert KubeCluster._path("ConfigMap", None) == "/api/v1/configmaps"
    assert (
        KubeCluster._path("ConfigMap", "k8s101-01-a", "ckaprep-seat")
        == "/api/v1/namespaces/k8s101-01-a/configmaps/ckaprep-seat"
    )
    assert KubeCluster._path("RoleBinding", "ns") == "/apis/rbac.authorization.k8s.io/v1/namespaces/ns/rolebindings"
    assert KubeCluster._path("ServiceAccount", "k8s101-seats", "k8s101-01") + "/token" == (
        "/api/v1/namespaces/k8s101-seats/serviceaccounts/k8s101-01/token"
    )


def test_an_exercise_that_reads_the_service_range_is_refused_in_a_seat_and_never_drawn(fake, classroom, tmp_path):
    catalogue = _one_node_catalogue()
    if "service-cidr" not in catalogue:
        pytest.skip("no service-cidr exercise in this catalogue")
    env = seat_env(tmp_path, fake, "k8s101-01-a")
    refused = run(env, "start", "service-cidr")
    assert refused.exit_code == 2 and "Service range" in refused.output
    from ckaprep.classroom.exams import start_class_exam

    started = start_class_exam(
        fake,
        CLASS,
        catalogue,
        state_dir=tmp_path / "t",
        seed=3,
        clock=FakeTime(NOW),
        tasks=len(catalogue) - 1,
        per_seat=True,
    )
    assert all("service-cidr" not in seat["tasks"] for seat in started["seats"])


def test_a_seat_refused_its_own_configmap_is_told_it_was_deleted_with_exit_3(fake, classroom, tmp_path):
    from ckaprep.errors import PermissionDenied

    env = seat_env(tmp_path, fake, "k8s101-01-a")
    assert run(env, "start", "clusterip-create", "--seed", "3").exit_code == 0
    # The class is gone but the token is still accepted: RBAC refuses the seat its own ConfigMap.
    fake.failure = PermissionDenied('permission denied: configmaps "ckaprep-seat" is forbidden')
    for command in (["status"], ["check"], ["reset"]):
        result = run(env, *command)
        assert result.exit_code == 3, (command, result.output)
        assert "the seat or its class was deleted, or its rights were revoked" in result.output
        assert "forbidden" not in result.output and "Traceback" not in result.output
