"""Global options anywhere, as kubectl allows: before the command or after it."""

import shutil

import pytest
import typer.main
from typer.testing import CliRunner

from ckaprep.cli.application import app
from ckaprep.cli.entry import GLOBAL_OPTIONS, hoist_global_options
from ckaprep.catalogue.locations import exercises_dir
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
        taken = {"--kubeconfig": env.kubeconfig, "--context": env.context,
                 "--exercises": [str(d) for d in env.extra_exercise_dirs]}[option]  # fmt: skip
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
