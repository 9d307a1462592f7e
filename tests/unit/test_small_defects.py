"""Small defects a new user trips over: each is one clear line with the documented exit code."""

import http.server
import json
import shutil
import ssl
import subprocess
import threading

import pytest
from typer.testing import CliRunner

from ckaprep.catalogue.locations import exercises_dir
from ckaprep.cli.application import app
from ckaprep.environment import Environment
from ckaprep.exit_status import ExitStatus
from tests.cli_process import run_ckaprep, write_kubeconfig
from tests.conftest import FakeTime

SOURCE = exercises_dir() / "clusterip-create.yaml"


def _one_line(result, status: int, text: str) -> None:
    stderr = result.stderr if hasattr(result, "stderr") else ""
    code = result.exit_code if hasattr(result, "exit_code") else result.returncode
    assert code == status, (code, stderr)
    assert len(stderr.strip().splitlines()) == 1 and text in stderr, stderr
    assert "Traceback" not in stderr


# -- insecure-skip-tls-verify ----------------------------------------------------------------
@pytest.fixture
def tls_server(tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make a certificate for the test server")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            key,
            "-out",
            cert,
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )

    class Refuse(http.server.BaseHTTPRequestHandler):
        def _answer(self):
            body = json.dumps(
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "status": "Failure",
                    "message": "Unauthorized",
                    "reason": "Unauthorized",
                    "code": 401,
                }
            ).encode()
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_insecure_skip_tls_verify_gives_no_urllib3_warning(tmp_path, tls_server):
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", tls_server)  # insecure-skip-tls-verify: true
    result = run_ckaprep(tmp_path, "--kubeconfig", str(kubeconfig), "start", "clusterip-create", "--seed", "1")
    assert "InsecureRequestWarning" not in result.stderr, result.stderr
    _one_line(result, ExitStatus.CLUSTER, "error:")


# -- exercise files ---------------------------------------------------------------------------
def test_an_unused_check_parameter_is_refused_alike_by_validate_list_and_start(run, tmp_path):
    text = SOURCE.read_text().replace("id: clusterip-create", "id: my-create")
    text = text.replace("params:\n", "params:\n  extra_port: {int: [7000, 7001]}\n", 1)
    checks = text.index("checks:\n")
    title = text.index("    title: ", checks)
    text = (
        text[:title]
        + "    title: Port ${extra_port}, which the task never states\n"
        + text[text.index("\n", title) + 1 :]
    )
    path = tmp_path / "my-create.yaml"
    path.write_text(text)
    validated = run("validate", str(path))
    _one_line(validated, ExitStatus.USAGE, "uses ${extra_port}, which the task text never mentions")
    listed = run("--exercises", str(tmp_path), "list", "--json")
    assert listed.exit_code == 0 and "my-create" not in listed.stdout
    assert "uses ${extra_port}" in listed.stderr
    started = run("--exercises", str(tmp_path), "start", "my-create")
    _one_line(started, ExitStatus.USAGE, "uses ${extra_port}, which the task text never mentions")


def test_exercises_option_naming_a_file_and_validate_of_a_directory(run, tmp_path):
    copy = tmp_path / "x.yaml"
    copy.write_text("id: x\n")
    _one_line(
        run("--exercises", str(copy), "list"), ExitStatus.USAGE, f"--exercises takes a directory, and {copy} is a file"
    )
    result = run("validate", str(tmp_path))
    assert result.exit_code == ExitStatus.USAGE
    assert "is a directory; give the exercise files in it" in result.stderr and "Is a directory" not in result.stderr


def test_validate_counts_from_1_and_names_the_yaml_line(run, tmp_path):
    text = SOURCE.read_text()
    path = tmp_path / "clusterip-create.yaml"
    path.write_text(text.replace("    weight: 3\n", "    weight: -3\n", 1))
    line = text[: text.index("    weight: 3\n")].count("\n") + 1
    result = run("validate", str(path))
    assert result.stderr.strip() == f"error: {path}, line {line}: checks #2.weight: must be a positive whole number"


def test_a_yaml_syntax_error_names_file_line_and_column(run, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("id: bad\ntitle: x\ntopics: [dns\nminutes: 3\n")
    result = run("validate", str(path))
    assert result.exit_code == ExitStatus.USAGE
    assert result.stderr.startswith(f"error: {path}, line 4, column ")
    assert "YAML syntax" in result.stderr and "unicode string" not in result.stderr


# -- names and state ----------------------------------------------------------------------------
def test_a_name_that_is_not_utf8_is_shown_as_xff(tmp_path):
    result = run_ckaprep(tmp_path, "start", b"\xff")
    _one_line(result, ExitStatus.USAGE, "'\\xff' is not an exercise id")
    assert "udcff" not in result.stderr


def test_progress_reset_with_no_history_in_an_unusable_home(tmp_path):
    home = tmp_path / "a-file"
    home.write_text("")
    env = Environment(environ={"CKAPREP_HOME": str(home / "state"), "HOME": str(tmp_path)})
    result = CliRunner().invoke(app, ["progress", "--reset", "--yes"], obj=env)
    assert result.exit_code == 0, result.output
    assert "no history to clear" in result.stdout and "cannot be removed" not in result.output


def test_a_home_that_is_a_file_is_handled_alike_by_explain_and_list(tmp_path):
    home = tmp_path / "not-a-dir"
    home.write_text("")
    for args in (["explain", "dns"], ["list"]):
        result = run_ckaprep(tmp_path, *args, CKAPREP_HOME=str(home))
        assert result.returncode == 0, (args, result.stderr)


def test_reset_forget_drops_an_attempt_whose_cluster_is_gone(tmp_path, fake):
    env = Environment(
        environ={"CKAPREP_HOME": str(tmp_path / "state"), "HOME": str(tmp_path)}, cluster_factory=lambda *_: fake
    )
    runner = CliRunner()
    assert runner.invoke(app, ["start", "clusterip-create", "--seed", "3"], obj=env).exit_code == 0
    namespaces = env.state.load().namespaces

    def gone(*_):
        raise AssertionError("reset --forget must not reach for a cluster")

    env.cluster_factory = gone
    forgotten = runner.invoke(app, ["reset", "--forget"], obj=env)
    assert forgotten.exit_code == 0, forgotten.output
    assert "without touching any cluster" in forgotten.stdout and namespaces[0] in forgotten.stdout
    assert env.state.load() is None
    assert fake.get("Namespace", None, namespaces[0]) is not None  # left as it was
    again = runner.invoke(app, ["reset", "--forget"], obj=env)
    assert again.exit_code == ExitStatus.USAGE and "no active exercise" in again.stderr


def test_the_built_in_directory_given_again_is_read_once(run):
    builtin = str(exercises_dir())
    listed = run("--exercises", builtin, "--exercises", builtin + "/", "list", "--json")
    assert listed.exit_code == 0 and "warning" not in listed.stderr, listed.stderr
    started = run("--exercises", builtin, "start", "clusterip-create", "--seed", "2", "--json")
    assert started.exit_code == 0, started.output


def test_start_forgives_case_and_suggests_a_close_id(run):
    typo = run("start", "clusterip-creat")
    _one_line(typo, ExitStatus.USAGE, "no exercise 'clusterip-creat'; did you mean clusterip-create")
    assert "try one of" not in typo.stderr
    far = run("start", "zzz")
    _one_line(far, ExitStatus.USAGE, "no exercise 'zzz' (try one of: blue-green, ")
    started = run("start", "Clusterip-Create", "--seed", "2", "--json")
    assert started.exit_code == 0, started.output
    assert json.loads(started.stdout)["id"] == "clusterip-create"
    assert run("task", "--json").exit_code == 0


def test_reset_on_a_gone_cluster_points_to_forget(tmp_path, fake):
    from ckaprep.errors import ClusterUnreachable

    env = Environment(
        environ={"CKAPREP_HOME": str(tmp_path / "state"), "HOME": str(tmp_path)},
        cluster_factory=lambda *_: fake,
        clock=FakeTime(),
    )
    runner = CliRunner()
    assert runner.invoke(app, ["start", "clusterip-create", "--seed", "3"], obj=env).exit_code == 0
    fake.failure = ClusterUnreachable("the cluster at https://x refused the connection", reached_server=False)
    _one_line(
        runner.invoke(app, ["reset"], obj=env),
        ExitStatus.CLUSTER,
        "refused the connection; if that cluster is gone for good, `ckaprep reset --forget` drops the exercise",
    )
    assert env.state.load() is not None  # kept: reset did not happen
    assert runner.invoke(app, ["reset", "--forget"], obj=env).exit_code == 0
    fake.failure = None
    assert runner.invoke(app, ["exam", "start", "--tasks", "2", "--seed", "4"], obj=env).exit_code == 0
    fake.failure = ClusterUnreachable("the cluster at https://x refused the connection", reached_server=False)
    for args in (["exam", "reset"], ["reset"]):
        _one_line(runner.invoke(app, args, obj=env), ExitStatus.CLUSTER, "`ckaprep reset --forget` drops the exam")
    assert runner.invoke(app, ["reset", "--forget"], obj=env).exit_code == 0 and env.state.load_exam() is None


@pytest.mark.parametrize("name", ["attempt.json", "exam.json"])
def test_a_damaged_state_file_does_not_block_forget(tmp_path, name):
    state = tmp_path / "state"
    state.mkdir()
    (state / name).write_text('{"exercise": 3')
    env = Environment(environ={"CKAPREP_HOME": str(state), "HOME": str(tmp_path)})
    runner = CliRunner()
    refused = runner.invoke(app, ["status"], obj=env)
    assert refused.exit_code == ExitStatus.USAGE and "is not valid JSON" in refused.stderr
    forgotten = runner.invoke(app, ["reset", "--forget"], obj=env)
    assert forgotten.exit_code == 0, forgotten.output
    assert forgotten.stdout.startswith(f"forgot the unreadable state file {state / name} without touching any cluster")
    assert not (state / name).exists()
    again = runner.invoke(app, ["reset", "--forget"], obj=env)
    _one_line(again, ExitStatus.USAGE, "no active exercise")


def test_nothing_active_is_said_even_where_no_lock_can_be_taken(tmp_path):
    """A read-only home cannot hold the lock file; a directory in its place stands for it (root
    writes anywhere)."""
    state = tmp_path / "state"
    (state / ".lock").mkdir(parents=True)
    env = Environment(environ={"CKAPREP_HOME": str(state), "HOME": str(tmp_path)})
    for args in (["reset", "--forget"], ["hint"], ["solution"]):
        _one_line(CliRunner().invoke(app, args, obj=env), ExitStatus.USAGE, "no active exercise")


# -- papercuts ------------------------------------------------------------------------------
def test_durations_over_an_hour_read_in_hours():
    from ckaprep.views.render import minutes_and_seconds

    assert minutes_and_seconds(5707) == "1h35m07s" and minutes_and_seconds(247) == "4m07s"


def test_topics_are_listed_in_one_order_and_a_longer_word_finds_its_topic(run):
    listed = [t["topic"] for t in json.loads(run("explain", "--json").stdout)]
    assert listed == sorted(listed) and listed.index("dns") < listed.index("dns-records")
    _one_line(run("explain", "udp-services"), ExitStatus.USAGE, "did you mean udp or ")


def test_next_prints_each_command_whole_at_60_columns(run, env):
    env.out.width = 60
    shown = run("next").stdout.splitlines()
    assert "  ckaprep start --next" in shown and "  ckaprep start clusterip-create" in shown


def test_ctrl_d_at_the_progress_reset_prompt_keeps_the_history(run, env, monkeypatch):
    from ckaprep.practice.history import History, Record

    History(env.state.history_path).append(
        Record(kind="check", time="2026-01-01T00:00:00+00:00", score=5.0, exercise="env-vars", attempt="a")
    )
    monkeypatch.setattr("ckaprep.cli.study.stdin_is_terminal", lambda: True)
    result = run("progress", "--reset", input="")  # end of input at once: Ctrl-D
    assert result.exit_code == 0, result.output
    assert "history kept" in result.stdout and "interrupted" not in result.output
    assert env.state.history_path.exists()


def test_piped_pages_carry_no_trailing_spaces(run, env):
    from ckaprep.errors import NoKubeconfig

    def no_kubeconfig(*_):
        raise NoKubeconfig("no kubeconfig: ~/.kube/config does not exist and KUBECONFIG is not set")

    env.cluster_factory = no_kubeconfig
    for args in (["explain", "dns"], ["explain"], ["list"], ["list", "--path"], ["doctor"]):
        printed = run(*args).stdout
        assert printed.strip() and all(line == line.rstrip() for line in printed.splitlines()), args


# -- check says a shared cause once, as the exam does --------------------------------------------
def test_check_with_nothing_done_says_the_shared_cause_once(run):
    assert run("start", "clusterip-create", "--seed", "3").exit_code == 0
    shown = run("check", "--wait", "0").stdout
    checks = json.loads(run("check", "--wait", "0", "--json").stdout)["checks"]
    assert len(checks) > 2 and len({c["found"] for c in checks}) == 1  # one cause: no Service yet
    assert shown.count(checks[0]["found"]) == 1, shown
    assert f"all {len(checks)} for one cause" in shown
    for check in checks:  # each failed check is still named
        assert f"{check['id']}: {check['title']}" in shown
