"""A dishonest learner on the real cluster, with nothing but their own seat's kubeconfig.

They edit the seat ConfigMap (copy, edit and forge its state, point its namespaces elsewhere,
push the deadline, write bad types and terminal escapes), try to reach the node and to share
their rights. After each, the trainer's commands run: no score is raised, nothing outside the
seat is touched, nothing waits past the trainer's deadline, nothing crashes, and a bad seat is
one line. Then every exercise is proven inside a seat, under its Pod Security level and quota.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ckaprep.catalogue.loading import find_exercise, load_catalogue
from ckaprep.cli.application import app
from ckaprep.environment import Environment

SEAT_CM = "ckaprep-seat"


def _env(state: Path, kubeconfig: str) -> Environment:
    return Environment(environ={"CKAPREP_HOME": str(state), "HOME": str(state)}, kubeconfig=kubeconfig)


def _run(env: Environment, *args: str):
    return CliRunner().invoke(app, list(args), obj=env)


class Room:
    def __init__(self, tmp: Path, cluster, seats: int, learners: list[str] | None = None):
        self.name = f"h23-{uuid.uuid4().hex[:6]}"
        self.tmp, self.cluster = tmp, cluster
        self.trainer = _env(tmp / "trainer", cluster.kubeconfig)
        args = ["classroom", "create", self.name, "--valid", "1h", "--out", str(tmp / "seats"), "--json"]
        if learners:
            (tmp / "learners.txt").write_text("\n".join(learners) + "\n")
            args += ["--learners", str(tmp / "learners.txt")]
        else:
            args += ["--seats", str(seats)]
        created = _run(self.trainer, *args)
        assert created.exit_code == 0, created.output
        self.kubeconfigs = {
            int(s["seat"].rsplit("-", 1)[1]): s["kubeconfig"] for s in json.loads(created.stdout)["seats"]
        }

    def learner(self, number: int) -> Environment:
        return _env(self.tmp / f"learner-{number}", self.kubeconfigs[number])

    def home(self, number: int, letter: str = "a") -> str:
        return f"{self.name}-{number:02d}-{letter}"

    def seat_kubectl(self, number: int, *args: str, input: str | None = None, check: bool = True):
        return self.cluster.kubectl(*args, kubeconfig=self.kubeconfigs[number], input=input, check=check)

    def trainer_run(self, *args: str):
        result = _run(self.trainer, *args)
        assert "Traceback" not in result.output and "\x1b]" not in result.output, result.output
        return result

    def seat_data(self, number: int) -> dict:
        out = self.seat_kubectl(number, "get", "configmap", SEAT_CM, "-n", self.home(number), "-o", "json").stdout
        return json.loads(out)["data"]

    def edit_seat(self, number: int, **changes: str | None) -> None:
        """`kubectl edit configmap ckaprep-seat`, with the seat's own credentials."""
        out = self.seat_kubectl(number, "get", "configmap", SEAT_CM, "-n", self.home(number), "-o", "json").stdout
        configmap = json.loads(out)
        data = {**configmap["data"], **changes}
        configmap["data"] = {k: v for k, v in data.items() if v is not None}
        self.seat_kubectl(number, "replace", "-f", "-", input=json.dumps(configmap))

    def grades(self) -> dict[str, dict]:
        graded = self.trainer_run("classroom", "grade", self.name, "--json", "--wait", "20")
        assert graded.exit_code == 0, graded.output
        return {s["seat"]: s for s in json.loads(graded.stdout)["seats"]}

    def delete(self):
        self.cluster.kubectl("delete", "namespaces", "-l", f"ckaprep.io/class={self.name}", "--wait=false", check=False)


def _solution_yaml(exercise_id: str, params: dict) -> str:
    exercise = find_exercise(exercise_id)
    return exercise.render(exercise.solution, params)["yaml"]


@pytest.fixture(scope="module")
def room(tmp_path_factory, cluster):
    created = Room(tmp_path_factory.mktemp("hostile"), cluster, 3, learners=["Ada", "Bob", "Cy"])
    yield created
    created.delete()


@pytest.fixture(scope="module")
def honest(room):
    """Seat 1 answers right, seat 2 wrong; the trainer's grades before any trick."""
    right = json.loads(_run(room.learner(1), "start", "clusterip-create", "--seed", "41", "--json").stdout)
    room.seat_kubectl(1, "apply", "-f", "-", input=_solution_yaml("clusterip-create", right["params"]))
    wrong = json.loads(_run(room.learner(2), "start", "clusterip-create", "--seed", "42", "--json").stdout)
    p = wrong["params"]
    room.seat_kubectl(
        2,
        "-n",
        room.home(2),
        "expose",
        "deployment",
        p["app"],
        f"--name={p['service']}",
        f"--port={p['port']}",
        f"--target-port={p['port']}",
    )
    graded = room.grades()
    assert graded[f"{room.name}-01"]["score"] == 100.0, graded
    assert graded[f"{room.name}-02"]["score"] < 100.0, graded
    return {"wrong": graded[f"{room.name}-02"]["score"], "params": p}


# -- the node and the seat's rights -------------------------------------------------------------------
POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "x"},
    "spec": {"containers": [{"name": "c", "image": "docker.io/library/busybox:1.36.1", "command": ["sleep", "3600"]}]},
}


@pytest.mark.parametrize(
    "name, change",
    [
        ("privileged", {"containers": [{**POD["spec"]["containers"][0], "securityContext": {"privileged": True}}]}),
        ("host-network", {"hostNetwork": True}),
        ("host-pid", {"hostPID": True}),
        (
            "host-path",
            {
                "volumes": [{"name": "root", "hostPath": {"path": "/"}}],
                "containers": [
                    {**POD["spec"]["containers"][0], "volumeMounts": [{"name": "root", "mountPath": "/host"}]}
                ],
            },
        ),
        (
            "all-capabilities",
            {
                "containers": [
                    {
                        **POD["spec"]["containers"][0],
                        "securityContext": {"capabilities": {"add": ["SYS_ADMIN", "NET_ADMIN"]}},
                    }
                ]
            },
        ),
    ],
)
def test_a_seat_cannot_run_a_pod_that_reaches_the_node(room, name, change):
    pod = json.loads(json.dumps(POD))
    pod["metadata"]["name"] = name
    pod["spec"] |= change
    done = room.seat_kubectl(1, "-n", room.home(1), "create", "-f", "-", input=json.dumps(pod), check=False)
    assert done.returncode != 0 and "violates PodSecurity" in done.stderr, done.stderr


def test_a_seat_cannot_share_its_rights_or_open_node_ports(room):
    for subject in (
        ["--group=system:unauthenticated"],
        [f"--serviceaccount={room.name}-seats:{room.name}-02"],
        ["--user=someone"],
    ):
        done = room.seat_kubectl(
            1, "-n", room.home(1), "create", "rolebinding", "share", "--clusterrole=edit", *subject, check=False
        )
        assert done.returncode != 0 and "forbidden" in done.stderr.lower(), done.stderr
    node_port = room.seat_kubectl(
        1, "-n", room.home(1), "create", "service", "nodeport", "np", "--tcp=80:80", check=False
    )
    assert node_port.returncode != 0 and "services.nodeports" in node_port.stderr, node_port.stderr
    # A plain Pod still runs: what the exercises make is admitted, with the LimitRange's defaults.
    pod = json.loads(json.dumps(POD))
    pod["metadata"]["name"] = "plain"
    room.seat_kubectl(1, "-n", room.home(1, "b"), "create", "-f", "-", input=json.dumps(pod))
    made = json.loads(room.seat_kubectl(1, "-n", room.home(1, "b"), "get", "pod", "plain", "-o", "json").stdout)
    assert made["spec"]["containers"][0]["resources"]["requests"]["memory"] == "16Mi"
    room.seat_kubectl(1, "-n", room.home(1, "b"), "delete", "pod", "plain", "--wait=false")


# -- the seat's state as input ----------------------------------------------------------------------
def test_a_copied_attempt_and_edited_parameters_raise_no_score(room, honest):
    seat1, seat2 = f"{room.name}-01", f"{room.name}-02"
    original = room.seat_data(2)["attempt.json"]
    room.edit_seat(2, **{"attempt.json": room.seat_data(1)["attempt.json"]})  # seat 1's needs no copying
    copied = room.grades()
    assert copied[seat1]["score"] == 100.0 and (copied[seat2]["score"] or 0) < 100.0, copied[seat2]
    attempt = json.loads(original)
    attempt["params"]["target_port"] = attempt["params"]["port"]  # "the task asked for what I did"
    room.edit_seat(2, **{"attempt.json": json.dumps(attempt)})
    assert room.grades()[seat2]["score"] == honest["wrong"]
    room.edit_seat(2, **{"attempt.json": original})


def test_forged_results_and_names_stay_the_learners_own(room, honest, tmp_path):
    forged = [
        json.dumps({"kind": "check", "exercise": "dns-records", "score": 100.0, "passed": True}),
        json.dumps({"kind": "check", "exercise": "env-vars", "score": 1e308}),
        "NaN",
    ]
    room.edit_seat(3, **{"results.jsonl": "\n".join(forged) + "\n", "learner": "Mallory\x1b]0;x\x07\x1b[31m"})
    status = room.trainer_run("classroom", "status", room.name, "--json")
    assert [s["learner"] for s in json.loads(status.stdout)["seats"]] == ["Ada", "Bob", "Cy"]
    report = room.trainer_run("classroom", "report", room.name, "--json", "--html", str(tmp_path / "r.html"))
    assert report.exit_code == 0, report.output
    body = json.loads(report.stdout)
    cy = next(r for r in body["learners"] if r["seat"] == f"{room.name}-03")
    assert cy["average"] is None and cy["exercises"].get("dns-records", {}).get("graded_by") == "learner"
    assert "env-vars" not in cy["exercises"] and "dns-records" not in {t["topic"] for t in body["topics"]}
    text = room.trainer_run("classroom", "report", room.name)
    assert text.exit_code == 0 and "Mallory" not in text.output and "nan" not in text.output.lower()


def test_bad_types_are_one_line_and_the_class_goes_on(room, honest, tmp_path):
    original = room.seat_data(2)["attempt.json"]
    for bad in (
        {"attempt.json": json.dumps({"exercise": "clusterip-create", "seed": "x"})},
        {"attempt.json": "{not json"},
        {"exam.json": json.dumps({"id": 7, "deadline": "soon"})},
    ):
        room.edit_seat(2, **bad)
        for args in (
            ["status"],
            ["grade", "--wait", "5"],
            ["grade", "--at-deadline", "--wait", "5"],
            ["report"],
            ["report", "--html", str(tmp_path / "r.html")],
        ):
            result = room.trainer_run("classroom", args[0], room.name, *args[1:])
            assert result.exit_code == 0, (bad, args, result.output)
        status = room.trainer_run("classroom", "status", room.name)
        if "attempt.json" in bad:
            assert f"seat {room.name}-02: its state is unreadable" in " ".join(status.output.split())
        assert room.grades()[f"{room.name}-01"]["score"] == 100.0
    room.edit_seat(2, **{"attempt.json": original, "exam.json": None})


def test_the_trainer_never_empties_what_a_seat_points_at(room, honest, cluster):
    victim = f"h23-victim-{uuid.uuid4().hex[:5]}"  # not ckaprep's: nothing may touch it
    cluster.kubectl("create", "namespace", victim)
    try:
        cluster.kubectl("-n", victim, "create", "configmap", "precious", "--from-literal=k=v")
        before_seat1 = cluster.kubectl("-n", room.home(1), "get", "deployments,services", "-o", "name").stdout.split()
        attempt = json.loads(room.seat_data(2)["attempt.json"])
        attempt["namespaces"] = [room.home(2), room.home(1), victim, "kube-system"]
        attempt["seat"] = None
        room.edit_seat(2, **{"attempt.json": json.dumps(attempt)})
        # Seat 1 is idle in this round: its work stays, since only seat 2 asked to be replaced.
        room.seat_kubectl(1, "-n", room.home(1), "delete", "configmap", SEAT_CM, "--ignore-not-found", check=False)
        started = room.trainer_run(
            "classroom", "exam", room.name, "--force", "--tasks", "1", "--minutes", "1", "--seed", "7", "--json"
        )
        assert started.exit_code != 0  # seat 1's ConfigMap is gone: refused whole, before anything is emptied
        assert "is gone" in started.output
        assert cluster.kubectl("-n", victim, "get", "configmap", "precious", "-o", "name").stdout.strip()
        after_seat1 = cluster.kubectl("-n", room.home(1), "get", "deployments,services", "-o", "name").stdout.split()
        assert after_seat1 == before_seat1
        recreate = room.trainer_run(
            "classroom",
            "create",
            room.name,
            "--learners",
            str(room.tmp / "learners.txt"),
            "--valid",
            "1h",
            "--out",
            str(room.tmp / "seats"),
            "--json",
        )
        assert recreate.exit_code == 0, recreate.output
        room.kubeconfigs = {
            int(s["seat"].rsplit("-", 1)[1]): s["kubeconfig"] for s in json.loads(recreate.stdout)["seats"]
        }
        started = room.trainer_run(
            "classroom", "exam", room.name, "--force", "--tasks", "1", "--minutes", "1", "--seed", "7", "--json"
        )
        assert started.exit_code == 0, started.output
        assert cluster.kubectl("-n", victim, "get", "configmap", "precious", "-o", "name").stdout.strip()
        core = cluster.kubectl("-n", "kube-system", "get", "pods", "-o", "name").stdout.split()
        assert core, "kube-system emptied"
        deadline = json.loads(started.stdout)["deadline"]
        # The learner pushes their deadline a day ahead: the trainer's wait ends at the real one.
        exam = json.loads(room.seat_data(3)["exam.json"])
        exam["deadline"] = "2099-01-01T00:00:00+00:00"
        room.edit_seat(3, **{"exam.json": json.dumps(exam)})
        began = time.monotonic()
        graded = room.trainer_run("classroom", "grade", room.name, "--at-deadline", "--json", "--wait", "5")
        assert graded.exit_code == 0, graded.output
        assert time.monotonic() - began < 180
        seats = {s["seat"]: s for s in json.loads(graded.stdout)["seats"]}
        assert seats[f"{room.name}-03"]["deadline"] == deadline and seats[f"{room.name}-03"]["score"] == 0.0
        text = room.trainer_run("classroom", "grade", room.name, "--wait", "5")
        assert "FAIL" in text.output and "exam:" in " ".join(text.output.split())
    finally:
        cluster.kubectl("delete", "namespace", victim, "--wait=false", check=False)


# -- every exercise inside a seat -------------------------------------------------------------------
def _refused_by_the_seat(problems: list[str]) -> bool:
    """A wrong answer the seat's quota or Pod Security level does not even admit."""
    return len(problems) == 1 and ("exceeded quota" in problems[0] or "violates PodSecurity" in problems[0])


def test_every_exercise_is_proven_inside_a_seat(tmp_path_factory, cluster):
    """The fresh start, every right answer and the first wrong one of every exercise, each in a
    seat of its own, with the seat's credentials: what a seat changes is what it admits (Pod
    Security, quota, `edit`), not how answers are graded. A seat of its own per proof, since
    cluster DNS may answer a name from its cache (up to 30 s) with the address a Service of the
    same name had in the seat's previous attempt."""
    from ckaprep.classroom.seats import Seat, SeatWorkspace, not_for_seats
    from ckaprep.cluster.kube import KubeCluster
    from ckaprep.grading.options import GradingOptions
    from ckaprep.practice.proving import WRONG, Kubectl, Prover, find_kubectl, plan_tasks

    # What needs two nodes or NetworkPolicy is left out: a seat may not find that out, nor list Nodes.
    catalogue = {k: e for k, e in load_catalogue().items() if not not_for_seats(e) and not e.requires}
    tasks = []
    for exercise in catalogue.values():
        pool = {f["id"]: f for f in (exercise.faults or {}).get("pool") or []}
        plain = [p for p in exercise.proofs if not any(pool.get(f, {}).get("requires") for f in p.faults)]
        proofs = [p for p in plain if p.is_right] + [p for p in plain if not p.is_right][:1]
        tasks += plan_tasks(exercise, proofs, True)
    room = Room(tmp_path_factory.mktemp("seat-proofs"), cluster, len(tasks))
    home = tmp_path_factory.mktemp("seat-proofs-home")  # kubectl keeps its discovery cache there
    environ = {"PATH": f"{os.path.dirname(cluster.kubectl_path)}:{os.environ.get('PATH', '')}", "HOME": str(home)}
    verdicts, failures, guard = [], [], threading.Lock()
    try:

        def prove_in_seat(number: int, task: tuple) -> None:
            kubeconfig = room.kubeconfigs[number]
            seat = Seat(room.name, number, [room.home(number, "a"), room.home(number, "b")])
            prover = Prover(
                cluster=KubeCluster(kubeconfig=kubeconfig, environ={}),
                workspace=SeatWorkspace(seat),
                options=GradingOptions(),
                kubectl=Kubectl(find_kubectl(environ), environ, kubeconfig=kubeconfig),
            )
            try:
                prover.run(*task, record=lambda v: verdicts.append(v))
            except Exception as exc:  # noqa: BLE001 (reported below, with the exercise)
                with guard:
                    failures.append(f"{task[0].id}: {type(exc).__name__}: {exc}")

        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=int(os.environ.get("CKAPREP_PROVE_JOBS", "4"))) as pool:
            list(pool.map(lambda item: prove_in_seat(*item), enumerate(tasks, start=1)))
    finally:
        room.delete()
    wrong = [v for v in verdicts if not v.ok and not (v.kind == WRONG and _refused_by_the_seat(v.problems))]
    assert failures == [] and wrong == [], "\n".join(
        failures + [f"{v.exercise} {v.proof}: {v.problems}" for v in wrong]
    )
    proven = {v.exercise for v in verdicts if v.ok}
    assert proven == set(catalogue), set(catalogue) - proven
    assert len(verdicts) == sum(1 + (task[1] is not None and task[2]) for task in tasks)
