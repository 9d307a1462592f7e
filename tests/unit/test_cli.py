"""The command line through typer's test runner: exit codes, JSON shapes, one-line errors."""

import json

import pytest
from typer.testing import CliRunner

from ckaprep.cli.application import app
from ckaprep.cluster.images import BUSYBOX_IMAGE
from ckaprep.errors import ClusterUnreachable, ImagePullError, PermissionDenied
from ckaprep.exit_status import ExitStatus
from tests.helpers import solution_manifests


def test_list_json_has_the_contract_fields(run):
    result = run("list", "--json")
    assert result.exit_code == 0
    items = json.loads(result.stdout)
    assert {"clusterip-create", "multi-port-named"} <= {i["id"] for i in items}
    for item in items:
        assert {"id", "title", "difficulty", "minutes", "topics"} <= set(item)
        assert item["difficulty"] in ("easy", "medium", "hard")


def test_check_without_an_exercise_is_a_state_error(run):
    result = run("check")
    assert result.exit_code == ExitStatus.USAGE
    assert "no active exercise" in result.stderr
    assert "Traceback" not in result.output


def test_start_unknown_exercise_suggests_ids(run):
    result = run("start", "nope")
    assert result.exit_code == ExitStatus.USAGE
    assert "clusterip-create" in result.stderr


def test_start_check_solve_reset_round_trip(run, env, fake):
    started = run("start", "clusterip-create", "--seed", "5", "--json")
    assert started.exit_code == 0, started.output
    payload = json.loads(started.stdout)
    assert {"id", "namespace", "params", "task"} <= set(payload)
    assert payload["params"]["service"] in payload["task"]

    first = run("check", "--json", "--wait", "0")
    assert first.exit_code == ExitStatus.CHECKS_FAILED
    report = json.loads(first.stdout)
    assert set(report) >= {"exercise", "score", "passed", "elapsed_s", "checks"}
    assert report["passed"] is False
    for check in report["checks"]:
        assert set(check) >= {"id", "title", "status", "weight", "expected", "found", "message"}
        assert check["status"] in ("pass", "fail", "error")

    from ckaprep.catalogue.loading import find_exercise

    attempt = env.state.load()
    for manifest in solution_manifests(find_exercise("clusterip-create"), attempt):
        fake.apply(manifest)
    second = run("check", "--json")
    assert second.exit_code == ExitStatus.OK, second.stdout
    assert json.loads(second.stdout)["score"] == 100.0

    table = run("check")
    assert "Score: 100.0%" in table.stdout

    reset = run("reset")
    assert reset.exit_code == 0
    assert fake.get("Namespace", None, payload["namespace"]) is None
    assert env.state.load() is None


def test_start_refuses_while_another_is_active(run):
    assert run("start", "clusterip-create", "--seed", "1").exit_code == 0
    again = run("start", "multi-port-named")
    assert again.exit_code == ExitStatus.USAGE
    assert "reset" in again.stderr and "--force" in again.stderr
    forced = run("start", "multi-port-named", "--force", "--json")
    assert forced.exit_code == 0
    assert json.loads(forced.stdout)["id"] == "multi-port-named"


def test_start_refuses_a_namespace_it_does_not_own(run, env, fake):
    from ckaprep.catalogue.loading import find_exercise

    namespace = find_exercise("clusterip-create").choose_params(3)["namespace"]
    fake.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    result = run("start", "clusterip-create", "--seed", "3")
    assert result.exit_code == ExitStatus.USAGE
    assert "not created by ckaprep" in result.stderr
    assert fake.get("Namespace", None, namespace) is not None


def test_reset_never_deletes_a_namespace_without_the_label(run, env, fake):
    assert run("start", "clusterip-create", "--seed", "2").exit_code == 0
    attempt = env.state.load()
    fake.patch("Namespace", None, attempt.namespace, lambda ns: ns["metadata"].update(labels={}))
    result = run("reset")
    assert result.exit_code == 0
    assert "left namespace" in result.stderr
    assert fake.get("Namespace", None, attempt.namespace) is not None


@pytest.mark.parametrize(
    "failure, status, text",
    [
        (ClusterUnreachable("cannot reach the cluster at https://x"), ExitStatus.CLUSTER, "cannot reach"),
        (PermissionDenied("permission denied: services is forbidden"), ExitStatus.CLUSTER, "forbidden"),
        (
            ImagePullError("example.com/curl:1", "ImagePullBackOff", "probe"),
            ExitStatus.IMAGE_PULL,
            "example.com/curl:1",
        ),
    ],
)
def test_cluster_failures_are_one_line_errors(run, env, fake, failure, status, text):
    assert run("start", "clusterip-create", "--seed", "4").exit_code == 0
    fake.failure = failure
    result = run("check")
    assert result.exit_code == status
    assert text in result.stderr
    assert "Traceback" not in result.output
    assert env.state.load() is not None  # the attempt survives


def test_interrupted_check_keeps_the_state_file(run, env, fake):
    assert run("start", "clusterip-create", "--seed", "4").exit_code == 0
    before = env.state.path.read_text()
    fake.failure = KeyboardInterrupt()
    result = run("check")
    assert result.exit_code == ExitStatus.INTERRUPTED
    assert env.state.path.read_text() == before


def test_hints_are_revealed_one_at_a_time(run):
    run("start", "clusterip-create", "--seed", "9")
    first = json.loads(run("hint", "--json").stdout)
    second = json.loads(run("hint", "--json").stdout)
    assert (first["shown"], second["shown"]) == (1, 2)
    assert second["hints"][0] == first["hints"][0]


def test_solution_uses_the_attempts_names(run, env):
    run("start", "clusterip-create", "--seed", "9")
    params = env.state.load().params
    result = run("solution", "--json")
    solution = json.loads(result.stdout)
    assert params["service"] in solution["kubectl"] and params["namespace"] in solution["yaml"]
    assert "${" not in solution["yaml"]


def test_status_reports_the_attempt(run, env):
    run("start", "clusterip-create", "--seed", "9")
    status = json.loads(run("status", "--json").stdout)
    assert status["exercise"] == "clusterip-create"
    assert status["namespace"] == env.state.load().namespace


def test_explain_lists_renders_and_suggests(run):
    listing = run("explain")
    assert listing.exit_code == 0 and "dns" in listing.stdout
    page = run("explain", "dns")
    assert page.exit_code == 0 and "Practice:" in page.stdout
    unknown = run("explain", "dsn")
    assert unknown.exit_code == ExitStatus.USAGE
    assert "did you mean dns" in unknown.stderr


def test_explain_is_personal_during_an_exercise(run, env):
    run("start", "clusterip-create", "--seed", "9")
    attempt = env.state.load()
    page = json.loads(run("explain", "dns", "--json").stdout)
    fqdn = f"{attempt.params['service']}.{attempt.namespace}.svc.cluster.local"
    assert fqdn in page["personal"]


def test_explain_never_touches_the_cluster(tmp_path):
    def no_cluster(*_):
        raise AssertionError("explain must not need a cluster")

    from ckaprep.environment import Environment

    env = Environment(environ={"CKAPREP_HOME": str(tmp_path)}, cluster_factory=no_cluster)
    result = CliRunner().invoke(app, ["explain", "env-vars"], obj=env)
    assert result.exit_code == 0


def test_hints_with_brackets_print_literally(run, env):
    run("start", "named-targetport", "--seed", "3")
    for _ in range(3):
        result = run("hint")
        assert result.exit_code == 0, result.output
    assert "containers[*].ports" in result.stdout


def test_namespace_stuck_terminating_is_a_timeout(run, env, fake):
    assert run("start", "clusterip-create", "--seed", "8").exit_code == 0
    namespace = env.state.load().namespace
    fake.delete = lambda kind, ns, name: None  # a finalizer that never finishes
    result = run("reset")
    assert result.exit_code == ExitStatus.TIMEOUT
    assert f"namespace(s) {namespace} still terminating" in result.stderr
    assert env.state.load() is not None  # still active, so reset can be retried


def test_setup_image_that_cannot_be_pulled(run, env, fake):
    fake.unpullable = {BUSYBOX_IMAGE}
    result = run("start", "clusterip-create", "--seed", "8")
    assert result.exit_code == ExitStatus.IMAGE_PULL
    assert "docker.io/library/busybox:1.36.1" in result.stderr
    assert "ckaprep reset" in result.stderr  # the half-made attempt can be removed
    assert env.state.load() is not None


def test_check_after_the_namespace_was_deleted_by_hand(run, env, fake):
    assert run("start", "clusterip-create", "--seed", "8").exit_code == 0
    fake.delete("Namespace", None, env.state.load().namespace)
    result = run("check")
    assert result.exit_code == ExitStatus.USAGE
    assert "no longer exists" in result.stderr and "ckaprep reset" in result.stderr


def _command_paths(command, path=()):
    yield path
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _command_paths(sub, (*path, name))


def test_help_speaks_plainly_and_h_is_help(run):
    """No typer internals (`<str>`, `<int range>`, `{FILE...}...`, `[[N]]`) in any help, and `-h`
    is `--help`, as in kubectl."""
    import re

    import typer.main

    from ckaprep.cli.application import app

    for path in _command_paths(typer.main.get_command(app)):
        shown = run(*path, "--help")
        assert shown.exit_code == 0, path
        assert not re.search(r"<[a-z][a-z \[\]]*>|\{[A-Z]|\[\[", shown.stdout), (path, shown.stdout)
        assert run(*path, "-h").stdout == shown.stdout, path
