"""A command prints on the streams of its Environment: a test can give it its own."""

import io
import json

from typer.testing import CliRunner

from ckaprep.cli.application import app
from ckaprep.environment import Environment
from ckaprep.exit_status import ExitStatus


def streams_env(tmp_path) -> Environment:
    return Environment(
        environ={"CKAPREP_HOME": str(tmp_path / "state"), "HOME": str(tmp_path)},
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )


def test_results_go_to_the_environment_stdout(tmp_path):
    env = streams_env(tmp_path)
    result = CliRunner().invoke(app, ["list", "--json"], obj=env)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert any(row["id"] == "clusterip-create" for row in json.loads(env.stdout.getvalue()))


def test_rendered_pages_go_to_the_environment_stdout(tmp_path):
    env = streams_env(tmp_path)
    result = CliRunner().invoke(app, ["explain", "dns"], obj=env)
    assert result.exit_code == 0
    assert result.stdout == "" and "dns" in env.stdout.getvalue().lower()


def test_errors_go_to_the_environment_stderr(tmp_path):
    env = streams_env(tmp_path)
    result = CliRunner().invoke(app, ["status"], obj=env)
    assert result.exit_code == ExitStatus.USAGE
    assert result.stderr == ""
    assert env.stderr.getvalue().startswith("error: ")


def test_without_streams_of_its_own_it_prints_on_the_process_streams(run):
    result = run("list", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)
