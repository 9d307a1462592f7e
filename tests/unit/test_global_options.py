"""Global options anywhere, as kubectl allows: before the command or after it."""

import shutil

import pytest
import typer.main
from typer.testing import CliRunner

from ckaprep.catalogue.locations import exercises_dir
from ckaprep.cli.application import app
from ckaprep.cli.entry import GLOBAL_OPTIONS, hoist_global_options
from tests.cli_process import run_ckaprep


def _command_paths(command, path=()) -> list[tuple[str, ...]]:
    if hasattr(command, "commands"):  # a group
        return [p for name, sub in sorted(command.commands.items()) for p in _command_paths(sub, (*path, name))]
    return [path]


COMMANDS = _command_paths(typer.main.get_command(app))
VALUES = {"--kubeconfig": "/tmp/some-kubeconfig", "--context": "ctx-after", "--exercises": "/tmp/some-exercises"}


def test_the_walk_finds_every_command():
    assert {("check",), ("list",), ("exam", "start"), ("task",)} <= set(COMMANDS)
    assert set(VALUES) == set(GLOBAL_OPTIONS)


@pytest.mark.parametrize("option", GLOBAL_OPTIONS)
@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_a_global_option_after_any_command_is_taken(env, path, option):
    value = VALUES[option]
    for form in ([option, value], [f"{option}={value}"]):
        argv = hoist_global_options([*path, *form, "--help"])
        result = CliRunner().invoke(app, argv, obj=env)
        assert result.exit_code == 0, result.output
        assert "No such option" not in result.output
        taken = {
            "--kubeconfig": env.kubeconfig,
            "--context": env.context,
            "--exercises": [str(d) for d in env.extra_exercise_dirs],
        }[option]
        assert taken in (value, [value]), (path, form, taken)


def test_order_is_kept_and_what_follows_a_double_dash_is_not_an_option():
    argv = ["list", "--exercises", "a", "--json", "--exercises=b", "--", "--context", "x"]
    assert hoist_global_options(argv) == ["--exercises", "a", "--exercises=b", "list", "--json", "--", "--context", "x"]


def test_the_installed_command_takes_them_after_the_command(tmp_path):
    trainer = tmp_path / "mine"
    trainer.mkdir()
    shutil.copy(exercises_dir() / "named-targetport.yaml", trainer / "my-drill.yaml")
    text = (trainer / "my-drill.yaml").read_text().replace("id: named-targetport", "id: my-drill")
    (trainer / "my-drill.yaml").write_text(text)
    listed = run_ckaprep(tmp_path, "list", "--exercises", str(trainer), "--json")
    assert listed.returncode == 0, listed.stderr
    assert '"my-drill"' in listed.stdout
    checked = run_ckaprep(tmp_path, "check", "--context", "nowhere")
    assert checked.returncode == 2 and "no active exercise" in checked.stderr, checked.stderr


KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c1, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u1, user: {token: abc}}]
contexts:
- {name: kind-cka, context: {cluster: c1, user: u1}}
- {name: lab, context: {cluster: c1, user: u1}}
current-context: kind-cka
"""


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_help_lists_the_global_options(env, path):
    shown = CliRunner().invoke(app, [*path, "--help"], obj=env).stdout
    assert "Global options:" in shown, shown
    globals_part = shown.split("Global options:", 1)[1]
    for option in GLOBAL_OPTIONS:
        assert option in globals_part, (path, shown)


def test_completion_after_the_command_offers_the_global_options_and_the_contexts(tmp_path):
    from tests.unit.test_completion import _isolated_env, bash_complete

    assert set(GLOBAL_OPTIONS) <= set(bash_complete(tmp_path, "ckaprep", "check", "--"))
    assert set(GLOBAL_OPTIONS) <= set(bash_complete(tmp_path, "ckaprep", "exam", "start", "--"))
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    environ = _isolated_env(tmp_path, KUBECONFIG=str(kubeconfig))
    assert bash_complete(tmp_path, "ckaprep", "check", "--context", "", environ=environ) == ["kind-cka", "lab"]
    assert bash_complete(tmp_path, "ckaprep", "--context", "l", environ=environ) == ["lab"]
    given = ("ckaprep", "check", "--kubeconfig", str(kubeconfig), "--context", "")
    assert bash_complete(tmp_path, *given) == ["kind-cka", "lab"]  # --kubeconfig given before it


@pytest.mark.parametrize(
    "argv",
    [
        ("check", "--context"),
        ("--context", "check"),
        ("--context", "start", "clusterip-create"),
        ("check", "--context", "--json"),
        ("list", "--kubeconfig"),
    ],
)
def test_a_global_option_without_its_value_is_one_usage_error(tmp_path, argv):
    from tests.cli_process import assert_one_line_error

    done = run_ckaprep(tmp_path, *argv)
    option = next(arg for arg in argv if arg in GLOBAL_OPTIONS)
    assert_one_line_error(done, 2, f"{option} needs a value")
    assert "No such command" not in done.stderr and "Missing command" not in done.stderr


def test_a_context_that_does_not_exist_is_told_with_the_contexts_that_do(tmp_path):
    from ckaprep.cluster.kube import KubeCluster
    from ckaprep.errors import KubeconfigError

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    with pytest.raises(KubeconfigError) as refused:
        KubeCluster(kubeconfig=str(kubeconfig), context="kind-ckaa", environ={})
    assert "no context 'kind-ckaa'" in refused.value.message
    assert "its contexts: kind-cka, lab" in refused.value.message
    done = run_ckaprep(tmp_path, "doctor", "--kubeconfig", str(kubeconfig), "--context", "nope")
    assert done.returncode == 3 and "its contexts: kind-cka, lab" in done.stderr, done.stderr
