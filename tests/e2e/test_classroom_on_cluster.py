"""A class on the real cluster, with real RBAC: three seats, learners working with their own
kubeconfigs, the trainer's grade and report (also as HTML in headless Chromium), isolation
between seats, an expired token, and a delete that leaves nothing behind.

Each run uses a class name of its own and deletes it afterwards, as the cluster is shared.
"""

from __future__ import annotations

import base64
import colorsys
import json
import shutil
import struct
import subprocess
import sys
import time
import uuid
import zlib
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ckaprep.catalogue.loading import find_exercise
from ckaprep.cli.application import app
from ckaprep.environment import Environment
from tests.e2e.conftest import REPO_ROOT


def _env(state: Path, kubeconfig: str) -> Environment:
    return Environment(environ={"CKAPREP_HOME": str(state), "HOME": str(state)}, kubeconfig=kubeconfig)


def _run(env: Environment, *args: str):
    return CliRunner().invoke(app, list(args), obj=env)


class Classroom:
    def __init__(self, tmp: Path, cluster):
        self.name = f"c16e-{uuid.uuid4().hex[:6]}"
        self.tmp, self.cluster = tmp, cluster
        self.trainer = _env(tmp / "trainer", cluster.kubeconfig)
        self.seats: dict[int, Environment] = {}
        self.kubeconfigs: dict[int, str] = {}

    def ckaprep(self, *args: str):
        return _run(self.trainer, *args)

    def learner(self, number: int) -> Environment:
        return self.seats[number]

    def seat_kubectl(self, number: int, *args: str, input: str | None = None, check: bool = True):
        return self.cluster.kubectl(*args, kubeconfig=self.kubeconfigs[number], input=input, check=check)

    def home(self, number: int, letter: str = "a") -> str:
        return f"{self.name}-{number:02d}-{letter}"


def _class_namespaces(kubectl, name: str) -> list[str]:
    out = kubectl("get", "namespaces", "-l", f"ckaprep.io/class={name}", "-o", "jsonpath={.items[*].metadata.name}")
    return out.stdout.split()


@pytest.fixture(scope="module")
def classroom(tmp_path_factory, cluster):
    room = Classroom(tmp_path_factory.mktemp("classroom"), cluster)
    created = room.ckaprep(
        "classroom", "create", room.name, "--seats", "3", "--valid", "1h", "--out", str(room.tmp / "seats"), "--json"
    )
    assert created.exit_code == 0, created.output
    for seat in json.loads(created.stdout)["seats"]:
        number = int(seat["seat"].rsplit("-", 1)[1])
        room.kubeconfigs[number] = seat["kubeconfig"]
        room.seats[number] = _env(room.tmp / f"learner-{number}", seat["kubeconfig"])
    yield room
    if _class_namespaces(cluster.kubectl, room.name):  # a test failed before deleting the class
        cluster.kubectl("delete", "namespaces", "-l", f"ckaprep.io/class={room.name}", "--wait=false", check=False)


def _start(env: Environment, exercise_id: str, seed: int) -> dict:
    started = _run(env, "start", exercise_id, "--seed", str(seed), "--json")
    assert started.exit_code == 0, started.output
    return json.loads(started.stdout)


def _yaml_solution(exercise_id: str, params: dict) -> str:
    exercise = find_exercise(exercise_id)
    return exercise.render(exercise.solution, params)["yaml"]


def test_seats_learners_grade_report_and_html(classroom: Classroom, kubectl, tmp_path):
    room = classroom
    # Seat 1 solves clusterip-create right, seat 2 wrong (the Service targets the Service port),
    # seat 3 solves the cross-namespace exercise across two of its namespaces. All with their
    # own kubeconfigs, so with the seat's rights only.
    right = _start(room.learner(1), "clusterip-create", 101)
    assert right["namespaces"] == [room.home(1)]
    room.seat_kubectl(1, "apply", "-f", "-", input=_yaml_solution("clusterip-create", right["params"]))
    wrong = _start(room.learner(2), "clusterip-create", 102)
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
    cross = _start(room.learner(3), "dns-cross-namespace", 103)
    assert cross["namespaces"] == [room.home(3, "a"), room.home(3, "b")]
    room.seat_kubectl(3, "apply", "-f", "-", input=_yaml_solution("dns-cross-namespace", cross["params"]))

    own = _run(room.learner(2), "check", "--json", "--wait", "20")
    assert own.exit_code == 1, own.output
    own_score = json.loads(own.stdout)["score"]
    assert 0 < own_score < 100

    status = room.ckaprep("classroom", "status", room.name, "--json")
    assert status.exit_code == 0, status.output
    assert [s["exercise"] for s in json.loads(status.stdout)["seats"]] == [
        "clusterip-create",
        "clusterip-create",
        "dns-cross-namespace",
    ]

    graded = room.ckaprep("classroom", "grade", room.name, "--json", "--wait", "30")
    assert graded.exit_code == 0, graded.output
    by_seat = {s["seat"]: s for s in json.loads(graded.stdout)["seats"]}
    assert by_seat[f"{room.name}-01"]["score"] == 100.0, by_seat[f"{room.name}-01"]
    assert by_seat[f"{room.name}-02"]["score"] == own_score  # the same rule as the learner's check
    assert by_seat[f"{room.name}-03"]["score"] == 100.0, by_seat[f"{room.name}-03"]
    recorded = kubectl(
        "get", "configmaps", "-n", f"{room.name}-results", "-l", "ckaprep.io/role=result", "-o", "name"
    ).stdout.split()
    assert len(recorded) == 3

    report = room.ckaprep("classroom", "report", room.name, "--json", "--html", str(tmp_path / "report.html"))
    assert report.exit_code == 0, report.output
    rows = {r["seat"]: r for r in json.loads(report.stdout)["learners"]}
    assert rows[f"{room.name}-01"]["exercises"]["clusterip-create"]["score"] == 100.0
    assert rows[f"{room.name}-02"]["exercises"]["clusterip-create"]["score"] == own_score
    assert rows[f"{room.name}-03"]["exercises"]["dns-cross-namespace"]["score"] == 100.0
    assert rows[f"{room.name}-01"]["exercises"]["dns-cross-namespace"] is None
    _html_in_chromium(tmp_path / "report.html", tmp_path, seats=3, scores=[100.0, own_score])

    # Between attempts a seat is emptied, never deleted.
    reset = _run(room.learner(1), "reset", "--json")
    assert reset.exit_code == 0, reset.output
    assert room.home(1) in _class_namespaces(kubectl, room.name)
    left = kubectl("get", "deployments,services", "-n", room.home(1), "-o", "name").stdout.split()
    assert left == [], left
    assert kubectl("get", "configmap", "ckaprep-seat", "-n", room.home(1), "-o", "name").stdout.strip()


def test_a_seat_is_isolated(classroom: Classroom, kubectl):
    room = classroom
    other, results = room.home(2), f"{room.name}-results"
    if not kubectl("get", "pods", "-n", other, "-o", "name").stdout.split():
        kubectl(
            "run",
            "target",
            "-n",
            other,
            "--image=docker.io/library/busybox:1.36.1",
            "--restart=Never",
            "--",
            "sleep",
            "3600",
        )
    pod = kubectl("get", "pods", "-n", other, "-o", "name").stdout.split()[0]

    def denied(*args: str, input: str | None = None):
        done = room.seat_kubectl(1, *args, input=input, check=False)
        assert done.returncode != 0, (args, done.stdout)
        assert "forbidden" in done.stderr.lower(), (args, done.stderr)

    denied("get", "pods", "-n", other)
    denied("get", "configmap", "ckaprep-seat", "-n", other)
    denied("get", "secrets", "-n", other)
    denied("exec", "-n", other, pod.split("/")[1], "--", "true")
    denied("delete", "configmap", "ckaprep-seat", "-n", other)
    denied("create", "configmap", "x", "-n", other)
    denied("get", "namespaces")
    denied("get", "pods", "--all-namespaces")
    denied("get", "nodes")
    denied("get", "secrets", "-n", "kube-system")
    denied("create", "namespace", f"{room.name}-sneaky")
    denied("delete", "namespace", room.home(1))
    denied("label", "namespace", room.home(1), "x=y")
    denied("get", "configmaps", "-n", results)
    denied("create", "configmap", "fake-grade", "-n", results, "--from-literal=score=100")
    denied(
        "create",
        "clusterrolebinding",
        "sneaky",
        "--clusterrole=cluster-admin",
        f"--serviceaccount={room.name}-seats:{room.name}-01",
    )
    # Its account lives outside its namespaces: it can neither mint itself a longer token nor delete it.
    denied("create", "token", f"{room.name}-01", "-n", f"{room.name}-seats", "--duration=48h")
    denied("delete", "serviceaccount", f"{room.name}-01", "-n", f"{room.name}-seats")
    # Its own namespaces are its own.
    allowed = room.seat_kubectl(1, "auth", "can-i", "create", "pods/exec", "-n", room.home(1, "b"), check=False)
    assert allowed.stdout.strip() == "yes"
    doctor = _run(room.learner(1), "doctor", "--json")
    assert doctor.exit_code == 0, doctor.output
    assert [f["status"] for f in json.loads(doctor.stdout)["findings"] if f["id"] == "seat-permissions"] == ["pass"]


def _expired_token(namespace: str, account: str) -> str:
    """A token shaped like a seat's, expired an hour ago. The API server rejects it (401) like a
    real expired one; the TokenRequest API issues nothing shorter than 10 minutes to wait for."""

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    now = int(time.time())
    claims = {
        "exp": now - 3600,
        "iat": now - 7200,
        "iss": "https://kubernetes.default.svc",
        "sub": f"system:serviceaccount:{namespace}:{account}",
        "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": account, "uid": "0"}},
    }
    return f"{part({'alg': 'RS256', 'kid': 'x'})}.{part(claims)}.{part({'sig': 'none'})}"


def test_an_expired_seat_token_is_one_line_exit_3(classroom: Classroom, tmp_path):
    config = json.loads(Path(classroom.kubeconfigs[1]).read_text())
    config["users"][0]["user"]["token"] = _expired_token(f"{classroom.name}-seats", f"{classroom.name}-01")
    expired = tmp_path / "expired.kubeconfig"
    expired.write_text(json.dumps(config))
    for args in (["status"], ["check"], ["start", "clusterip-create"]):
        done = subprocess.run(
            [sys.executable, "-m", "ckaprep", "--kubeconfig", str(expired), *args],
            capture_output=True,
            text=True,
            env={"CKAPREP_HOME": str(tmp_path / "state"), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
            timeout=60,
            cwd=REPO_ROOT,
        )
        assert done.returncode == 3, (args, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "seat's token" in lines[0] and "expired" in lines[0], done.stderr


def test_a_class_exam_graded_at_the_deadline(classroom: Classroom, kubectl):
    room = classroom
    started = room.ckaprep(
        "classroom",
        "exam",
        room.name,
        "--tasks",
        "1",
        "--minutes",
        "1",
        "--topic",
        "create",
        "--seed",
        "7",
        "--force",
        "--json",
    )
    assert started.exit_code == 0, started.output
    sheet = json.loads(started.stdout)
    assert len({tuple(seat["tasks"]) for seat in sheet["seats"]}) == 1  # the same draw everywhere
    status = _run(room.learner(1), "exam", "status", "--json")
    assert status.exit_code == 0, status.output
    task = json.loads(status.stdout)["tasks"][0]
    assert task["namespaces"][0] == f"{room.name}-01-e1-a"  # the task's own namespace in the seat
    shown = _run(room.learner(1), "exam", "task", "1", "--json")
    assert shown.exit_code == 0, shown.output
    room.seat_kubectl(1, "apply", "-f", "-", input=_yaml_solution(task["exercise"], json.loads(shown.stdout)["params"]))
    graded = room.ckaprep("classroom", "grade", room.name, "--at-deadline", "--json", "--wait", "30")
    assert graded.exit_code == 0, graded.output
    by_seat = {s["seat"]: s for s in json.loads(graded.stdout)["seats"]}
    first, second = by_seat[f"{room.name}-01"], by_seat[f"{room.name}-02"]
    assert first["exam"] == sheet["exam"] and first["deadline_passed"], first
    assert (first["score"], first["verdict"]) == (100.0, "PASS"), first
    assert (second["score"], second["verdict"]) == (0.0, "FAIL"), second


def test_create_again_adds_a_seat_and_renews_the_tokens(classroom: Classroom, tmp_path):
    room = classroom
    learners = tmp_path / "learners.txt"
    learners.write_text("Ada\nGrace\nAlan\nEdsger\n")
    before = _run(room.learner(1), "exam", "status", "--json")
    again = room.ckaprep(
        "classroom",
        "create",
        room.name,
        "--learners",
        str(learners),
        "--valid",
        "1h",
        "--out",
        str(room.tmp / "seats"),
        "--json",
    )
    assert again.exit_code == 0, again.output
    seats = json.loads(again.stdout)["seats"]
    assert [(s["learner"], s["new"]) for s in seats] == [
        ("Ada", False),
        ("Grace", False),
        ("Alan", False),
        ("Edsger", True),
    ]
    # The renewed kubeconfig works, and the seat kept its state.
    renewed = _env(room.tmp / "learner-1-renewed", seats[0]["kubeconfig"])
    after = _run(renewed, "exam", "status", "--json")
    assert after.exit_code == before.exit_code == 0, after.output
    assert json.loads(after.stdout)["exam"] == json.loads(before.stdout)["exam"]
    newcomer = _env(room.tmp / "learner-4", seats[3]["kubeconfig"])
    assert _run(newcomer, "status").exit_code == 2  # a seat, with nothing started yet
    status = json.loads(room.ckaprep("classroom", "status", room.name, "--json").stdout)
    assert [s["learner"] for s in status["seats"]] == ["Ada", "Grace", "Alan", "Edsger"]


def test_delete_leaves_nothing_and_the_seat_credentials_stop_working(classroom: Classroom, kubectl):
    room = classroom
    deleted = room.ckaprep("classroom", "delete", room.name, "--json")
    assert deleted.exit_code == 0, deleted.output
    names = json.loads(deleted.stdout)["deleted"]
    assert {room.home(n, letter) for n in (1, 2, 3) for letter in "ab"} | {
        f"{room.name}-results",
        f"{room.name}-seats",
    } <= set(names)
    assert {f"{room.name}-0{n}-e1-a" for n in (1, 2, 3)} <= set(names)  # the exam's tasks
    assert _class_namespaces(kubectl, room.name) == []
    for kind in ("serviceaccounts", "rolebindings", "configmaps"):
        found = kubectl("get", kind, "-A", "-l", f"ckaprep.io/class={room.name}", "-o", "name").stdout.split()
        assert found == [], (kind, found)
    after = _run(room.learner(1), "status")
    assert after.exit_code == 3, after.output
    assert "the seat or its class was deleted" in after.output


# -- the HTML report in a real browser -------------------------------------------------------------
CHROMIUM_ISOLATION = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--metrics-recording-only",
    "--disable-domain-reliability",
    "--no-pings",
    # Nothing leaves the machine: every host name fails to resolve, any fetch would go nowhere.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
]


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("chromium is not installed (scripts/test installs the Debian package)")
    return found


def _html_in_chromium(page: Path, tmp: Path, seats: int, scores: list[float]) -> None:
    browser = _chromium()
    profile = tmp / "chromium-profile"
    common = [browser, *CHROMIUM_ISOLATION, f"--user-data-dir={profile}", "--window-size=1000,700"]
    dom = subprocess.run([*common, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count('class="learner-row"') == seats
    assert 'data-score="100.0"' in dom.stdout
    shot = tmp / "report.png"
    done = subprocess.run([*common, f"--screenshot={shot}", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    width, height, pixels = _read_png(shot.read_bytes())
    assert (width, height) == (1000, 700)
    colours = Counter(pixels)
    for score in scores:  # each score's heat-map colour fills a cell
        assert _near(colours, _heat_rgb(score)) > 500, (score, _heat_rgb(score), colours.most_common(8))


def _heat_rgb(score: float) -> tuple[int, int, int]:
    """The colour ckaprep.views.classroom_html gives a score: hsl(score × 1.2, 70%, 78%)."""
    r, g, b = colorsys.hls_to_rgb(round(score * 1.2) / 360, 0.78, 0.70)
    return round(r * 255), round(g * 255), round(b * 255)


def _near(colours, wanted: tuple[int, int, int], tolerance: int = 3) -> int:
    return sum(n for c, n in colours.items() if all(abs(a - b) <= tolerance for a, b in zip(c, wanted)))


def _read_png(data: bytes) -> tuple[int, int, list[tuple[int, int, int]]]:
    """An 8-bit RGB or RGBA PNG, decoded: what Chromium writes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    width, height, depth, colour_type, _, _, interlace = header
    assert depth == 8 and colour_type in (2, 6) and interlace == 0, header
    channels = 3 if colour_type == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    previous = bytearray(stride)
    pixels = []
    for row in range(height):
        kind = raw[row * (stride + 1)]
        line = bytearray(raw[row * (stride + 1) + 1 : (row + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                estimate = left + up - corner
                pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        pixels += [tuple(line[i : i + 3]) for i in range(0, stride, channels)]
        previous = line
    return width, height, pixels
