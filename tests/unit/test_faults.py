"""Fault injection through the real entry point: every fault is one line and a documented exit status.

No cluster is needed: the network faults are real sockets on 127.0.0.1 (a closed port, a
listener that never answers, TLS servers with certificates the client must refuse).
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ckaprep.exit_status import ExitStatus
from tests.cli_process import (
    assert_one_line_error,
    child_env,
    closed_port,
    run_ckaprep,
    stderr_lines,
    write_kubeconfig,
)
from tests.testcluster import must_have_cluster

CLUSTER, USAGE = ExitStatus.CLUSTER, ExitStatus.USAGE


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def refused(tmp_path) -> Path:
    return write_kubeconfig(tmp_path / "refused.kubeconfig", f"https://127.0.0.1:{closed_port()}")


class Listener:
    """Accepts connections on loopback; optionally speaks TLS with the given context."""

    def __init__(self, tls: ssl.SSLContext | None = None):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = threading.Event()
        self.tls, self._held = tls, []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.set()
            self._held.append(conn)  # never answered
            if self.tls:
                try:
                    self.tls.wrap_socket(conn, server_side=True).recv(1)
                except (OSError, ssl.SSLError):
                    pass

    def close(self):
        self.sock.close()
        for conn in self._held:
            conn.close()


@pytest.fixture
def silent():
    listener = Listener()
    yield listener
    listener.close()


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> Path:
    """A server certificate for 127.0.0.1, and an unrelated one."""
    if not shutil.which("openssl"):
        if must_have_cluster():
            pytest.fail("openssl is not installed; scripts/test installs it")
        pytest.skip("openssl is needed to make test certificates (scripts/test installs it, so CI has it)")
    directory = tmp_path_factory.mktemp("certs")
    for name, extra in (("server", ["-addext", "subjectAltName=IP:127.0.0.1"]), ("other", [])):
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-keyout",
                str(directory / f"{name}.key"),
                "-out",
                str(directory / f"{name}.crt"),
                "-subj",
                f"/CN={name}",
                *extra,
            ],
            check=True,
            capture_output=True,
        )
    return directory


@pytest.fixture
def tls_server(certs):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs / "server.crt", certs / "server.key")
    listener = Listener(context)
    yield listener
    listener.close()


# -- kubeconfig files ------------------------------------------------------------------------


def test_client_certificate_data_of_random_bytes(tmp_path, refused):
    config = write_kubeconfig(
        tmp_path / "random.kubeconfig",
        "https://127.0.0.1:6443",
        user={"client-certificate-data": b64(os.urandom(64)), "client-key-data": b64(os.urandom(64))},
    )
    result = run_ckaprep(tmp_path, "--kubeconfig", str(config), "start", "clusterip-create")
    assert_one_line_error(result, CLUSTER, str(config), "client-certificate-data", "PEM")
    assert list((tmp_path / "tmp").iterdir()) == []  # the client's copies of the inline data are gone


def test_client_key_data_of_random_bytes(tmp_path, certs):
    config = write_kubeconfig(
        tmp_path / "key.kubeconfig",
        "https://127.0.0.1:6443",
        user={
            "client-certificate-data": b64((certs / "server.crt").read_bytes()),
            "client-key-data": b64(os.urandom(300)),
        },
    )
    result = run_ckaprep(tmp_path, "--kubeconfig", str(config), "start", "clusterip-create")
    assert_one_line_error(result, CLUSTER, str(config), "client-key-data")


def test_client_certificate_and_key_that_do_not_match(tmp_path, certs):
    config = write_kubeconfig(
        tmp_path / "pair.kubeconfig",
        "https://127.0.0.1:6443",
        user={
            "client-certificate-data": b64((certs / "server.crt").read_bytes()),
            "client-key-data": b64((certs / "other.key").read_bytes()),
        },
    )
    result = run_ckaprep(tmp_path, "--kubeconfig", str(config), "start", "clusterip-create")
    assert_one_line_error(result, CLUSTER, "client-certificate-data and client-key-data")


def test_kubeconfig_that_is_a_directory(tmp_path):
    result = run_ckaprep(tmp_path, "--kubeconfig", str(tmp_path), "start", "clusterip-create")
    assert_one_line_error(result, CLUSTER, f"kubeconfig {tmp_path} is a directory")


def test_kubeconfig_that_is_not_yaml(tmp_path):
    config = tmp_path / "broken.kubeconfig"
    config.write_text("apiVersion: v1\nclusters: [\n  :: {\n")
    result = run_ckaprep(tmp_path, "--kubeconfig", str(config), "start", "clusterip-create")
    assert_one_line_error(result, CLUSTER, str(config), "not valid YAML", "line 3")


@pytest.mark.parametrize("content", [b"\xff\xfe\x00\x80 not text", b"- a list\n- not a mapping\n", b"just words\n"])
def test_kubeconfig_that_is_not_a_kubeconfig(tmp_path, content):
    config = tmp_path / "odd.kubeconfig"
    config.write_bytes(content)
    result = run_ckaprep(tmp_path, "--kubeconfig", str(config), "start", "clusterip-create")
    assert_one_line_error(result, CLUSTER, f"kubeconfig {config}")


def test_kubeconfig_that_does_not_exist(tmp_path):
    result = run_ckaprep(tmp_path, "--kubeconfig", "/nonexistent", "start", "clusterip-create")
    assert_one_line_error(result, CLUSTER, "/nonexistent", "no such file")


def test_kubeconfig_that_is_a_device(tmp_path):
    result = run_ckaprep(tmp_path, "--kubeconfig", "/dev/zero", "start", "clusterip-create")
    assert_one_line_error(result, CLUSTER, "/dev/zero")


def test_kubeconfig_variable_naming_no_file(tmp_path):
    result = run_ckaprep(tmp_path, "start", "clusterip-create", KUBECONFIG=f"{tmp_path}/a:{tmp_path}/b")
    assert_one_line_error(result, CLUSTER, f"KUBECONFIG={tmp_path}/a:{tmp_path}/b")


def test_no_kubeconfig_at_all(tmp_path):
    result = run_ckaprep(tmp_path, "start", "clusterip-create")
    assert_one_line_error(result, CLUSTER, "~/.kube/config does not exist", "--kubeconfig")


def test_context_that_is_not_in_the_kubeconfig(tmp_path, refused):
    result = run_ckaprep(
        tmp_path, "--kubeconfig", str(refused), "--context", "[bold]nope[/]", "start", "clusterip-create"
    )
    assert_one_line_error(result, CLUSTER, str(refused), "[bold]nope[/]")


# -- the network: refused, timed out, TLS ----------------------------------------------------


def test_connection_refused(tmp_path, refused):
    result = run_ckaprep(tmp_path, "--kubeconfig", str(refused), "start", "clusterip-create")
    assert_one_line_error(result, CLUSTER, "refused the connection", str(refused))


def test_server_that_never_answers(tmp_path, silent):
    config = write_kubeconfig(tmp_path / "silent.kubeconfig", f"https://127.0.0.1:{silent.port}")
    result = run_ckaprep(
        tmp_path, "--kubeconfig", str(config), "start", "clusterip-create", CKAPREP_REQUEST_TIMEOUT="1"
    )
    assert_one_line_error(result, CLUSTER, "did not answer within 1 s", str(config))


def test_server_certificate_that_cannot_be_verified(tmp_path, tls_server, certs):
    config = write_kubeconfig(
        tmp_path / "ca.kubeconfig",
        f"https://127.0.0.1:{tls_server.port}",
        cluster={"certificate-authority-data": b64((certs / "other.crt").read_bytes())},
    )
    result = run_ckaprep(tmp_path, "--kubeconfig", str(config), "start", "clusterip-create")
    assert_one_line_error(result, CLUSTER, "TLS", "cannot be verified", "certificate-authority-data", str(config))


def test_server_that_wants_a_client_certificate(tmp_path, certs):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs / "server.crt", certs / "server.key")
    context.verify_mode = ssl.CERT_REQUIRED
    context.maximum_version = ssl.TLSVersion.TLSv1_2  # the refusal then comes in the handshake, never as a reset
    context.load_verify_locations(certs / "other.crt")
    server = Listener(context)
    try:
        config = write_kubeconfig(
            tmp_path / "mtls.kubeconfig",
            f"https://127.0.0.1:{server.port}",
            cluster={"certificate-authority-data": b64((certs / "server.crt").read_bytes())},
        )
        result = run_ckaprep(
            tmp_path, "--kubeconfig", str(config), "start", "clusterip-create", CKAPREP_REQUEST_TIMEOUT="5"
        )
    finally:
        server.close()
    assert_one_line_error(result, CLUSTER, "TLS", "client-certificate-data", str(config))


def test_request_timeout_that_is_not_a_number(tmp_path, refused):
    result = run_ckaprep(
        tmp_path, "--kubeconfig", str(refused), "start", "clusterip-create", CKAPREP_REQUEST_TIMEOUT="soon"
    )
    assert_one_line_error(result, USAGE, "CKAPREP_REQUEST_TIMEOUT='soon'")


def test_ctrl_c_while_the_cluster_does_not_answer(tmp_path, silent):
    config = write_kubeconfig(tmp_path / "silent.kubeconfig", f"https://127.0.0.1:{silent.port}")
    child = subprocess.Popen(
        [sys.executable, "-m", "ckaprep", "--kubeconfig", str(config), "start", "clusterip-create"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(tmp_path, CKAPREP_REQUEST_TIMEOUT="60"),
    )
    assert silent.accepted.wait(30), "ckaprep never connected"
    time.sleep(0.2)
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=30)
    assert child.returncode == ExitStatus.INTERRUPTED, stderr
    assert "Traceback" not in stderr
    assert [line for line in stderr.splitlines() if line.strip()] == ["interrupted"]


# -- names from the command line are names, never markup or paths ---------------------------


@pytest.mark.parametrize("command", ["start", "explain"])
@pytest.mark.parametrize("name", ["[/]", "[bold red]X[/]", ":thumbs_up:", "a\nb\x1b[31mc"])
def test_names_are_never_markup(tmp_path, command, name):
    result = run_ckaprep(tmp_path, command, name)
    shown = name.replace("\n", "\\n").replace("\x1b", "\\x1b")
    assert_one_line_error(result, USAGE, f"'{shown}'")


def test_bytes_that_are_not_utf8(tmp_path):
    result = run_ckaprep(tmp_path, "explain", b"\xff\xfe-topic")
    assert_one_line_error(result, USAGE, "'\\xff\\xfe-topic'")


def test_exercise_id_is_not_a_path(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    exercises = Path(__file__).parents[2] / "exercises"
    shutil.copy(exercises / "clusterip-create.yaml", elsewhere / "myex.yaml")
    relative = os.path.relpath(elsewhere / "myex", exercises)
    for exercise_id in (relative, str(elsewhere / "myex")):
        result = run_ckaprep(tmp_path, "start", exercise_id)
        assert_one_line_error(result, USAGE, "is not an exercise id")
    assert not (tmp_path / "state" / "attempt.json").exists()


def test_topic_is_not_a_path(tmp_path):
    from ckaprep.study.notes import TOPICS_DIR

    note = tmp_path / "note.md"
    note.write_text("---\nsummary: secret\n---\nSECRET-NOTE-BODY\n")
    relative = os.path.relpath(tmp_path / "note", TOPICS_DIR)
    for topic in (relative, str(tmp_path / "note")):
        result = run_ckaprep(tmp_path, "explain", topic)
        assert_one_line_error(result, USAGE, "no topic")
        assert "SECRET-NOTE-BODY" not in result.stdout


@pytest.mark.parametrize("command", ["start", "explain"])
def test_names_longer_than_a_file_name_may_be(tmp_path, command):
    result = run_ckaprep(tmp_path, command, "x" * 300)
    line = assert_one_line_error(result, USAGE, "xxxx…")
    assert len(line) < 400


# -- the command line itself ------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--bogus"],
        ["start"],
        ["nosuch"],
        ["check", "--wait", "-1"],
        ["check", "--wait", "nan"],
        ["check", "--wait", "inf"],
        ["start", "clusterip-create", "--seed", "soon"],
        ["list", "extra"],
    ],
)
def test_usage_errors_are_one_line(tmp_path, args):
    assert_one_line_error(run_ckaprep(tmp_path, *args), USAGE, "(see `ckaprep")


def test_no_command_shows_the_help(tmp_path):
    result = run_ckaprep(tmp_path)
    assert result.returncode == 0 and "Usage: ckaprep" in result.stdout and result.stderr == ""


# -- the last resort --------------------------------------------------------------------------

INJECT = """
import ckaprep.catalogue.loading

def broken(*args, **kwargs):
    raise RuntimeError("injected fault [bold]not markup[/]")

ckaprep.catalogue.loading.Catalogue.load = broken
"""


@pytest.fixture
def injected(tmp_path) -> dict[str, str]:
    """PYTHONPATH with a sitecustomize that breaks `list` inside the real entry point."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(INJECT)
    return {"PYTHONPATH": str(site)}


def test_an_unexpected_error_is_reported_as_a_bug(tmp_path, injected):
    result = run_ckaprep(tmp_path, "list", **injected)
    line = assert_one_line_error(
        result, ExitStatus.BUG, "bug in ckaprep", "RuntimeError: injected fault [bold]not markup[/]"
    )
    saved = tmp_path / "state" / "last-traceback.txt"
    assert str(saved) in line
    assert "Traceback" in saved.read_text() and "injected fault" in saved.read_text()


def test_debug_shows_the_traceback(tmp_path, injected):
    result = run_ckaprep(tmp_path, "list", CKAPREP_DEBUG="1", **injected)
    assert result.returncode == ExitStatus.BUG
    assert "Traceback" in result.stderr
    assert "bug in ckaprep" in stderr_lines(result)[-1]


def test_traceback_goes_to_the_temp_dir_when_the_state_dir_is_unusable(tmp_path, injected):
    not_a_dir = tmp_path / "home-file"
    not_a_dir.write_text("")
    result = run_ckaprep(tmp_path, "list", CKAPREP_HOME=str(not_a_dir), **injected)
    line = assert_one_line_error(result, ExitStatus.BUG, "bug in ckaprep", str(tmp_path / "tmp"))
    [saved] = (tmp_path / "tmp").glob("ckaprep-traceback-*.txt")
    assert str(saved) in line and "injected fault" in saved.read_text()


# -- a broken state directory (state.py validates it; here: never a traceback) ---------------


def _attempt_is_a_directory(home: Path) -> dict:
    (home / "state" / "attempt.json").mkdir(parents=True)
    return {}


def _home_is_a_file(home: Path) -> dict:
    (home / "file").write_text("")
    return {"CKAPREP_HOME": str(home / "file")}


def _attempt_of_wrong_types(home: Path) -> dict:
    (home / "state").mkdir()
    (home / "state" / "attempt.json").write_text(
        '{"exercise": "clusterip-create", "params": {}, "namespaces": ["ns"], '
        '"started_at": "yesterday", "seed": 1, "hints_shown": "x"}'
    )
    return {}


@pytest.mark.parametrize("fault", [_attempt_is_a_directory, _home_is_a_file, _attempt_of_wrong_types])
@pytest.mark.parametrize("command", ["status", "hint", "solution"])
def test_a_broken_state_directory_is_never_a_traceback(tmp_path, fault, command):
    result = run_ckaprep(tmp_path, command, **fault(tmp_path))
    assert "Traceback" not in result.stderr
    assert len(stderr_lines(result)) == 1, result.stderr
    # USAGE once state.py validates the file; until then the last resort reports a bug.
    assert result.returncode in (ExitStatus.USAGE, ExitStatus.BUG), result.stderr


def test_ctrl_c_outside_any_command_still_says_interrupted(monkeypatch, capsys):
    import typer

    from ckaprep.cli import application, base, entry

    def swallowed(**_):  # what typer does with Ctrl-C while it parses the command line
        raise typer.Exit(130)

    monkeypatch.setattr(application, "app", swallowed)
    monkeypatch.setattr(base, "reported", [])
    with pytest.raises(SystemExit) as exited:
        entry.command_line()
    assert exited.value.code == ExitStatus.INTERRUPTED
    assert capsys.readouterr().err.strip() == "interrupted"
