"""Text from the cluster, files and the state is printed as it is: never markup, never more than said."""

import dataclasses
import io

from rich.console import Console
from typer.testing import CliRunner

from ckaprep.catalogue.loading import find_exercise
from ckaprep.cli.application import app
from ckaprep.errors import UsageError
from ckaprep.exit_status import ExitStatus
from ckaprep.grading.report import CheckResult, Report

MARKUP = "[bold red]X[/] [link=http://x]y[/link] [/]"
REGEX = "a lowercase RFC 1123 label (regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"


def rendered(renderable) -> str:
    """Through a console that does read markup, to prove the renderable carries none."""
    console = Console(file=io.StringIO(), width=400, markup=True, emoji=True, color_system=None)
    console.print(renderable)
    return console.file.getvalue()


def test_messages_from_the_api_are_printed_in_full(env, fake):
    runner = CliRunner()
    assert runner.invoke(app, ["start", "clusterip-create", "--seed", "4"], obj=env).exit_code == 0
    fake.failure = UsageError(f"the cluster refused POST /api/v1/namespaces: {REGEX}")
    result = runner.invoke(app, ["check"], obj=env)
    assert result.exit_code == ExitStatus.USAGE
    assert REGEX in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_report_shows_markup_literally():
    from ckaprep.views.render import report_view

    check = CheckResult(
        id="c", title=MARKUP, weight=1, status="fail", expected=MARKUP, found=MARKUP, message=MARKUP, hint=MARKUP
    )
    text = rendered(report_view(Report(exercise="e", checks=[check], grading_s=0.1, notes=[MARKUP]), 5, 8))
    # title (in the table and above the detail block), expected, found, why, hint and the note
    assert text.count("[bold red]X[/]") == 7


def test_the_task_and_the_catalogue_show_markup_literally(env):
    from ckaprep.practice.lifecycle import start_attempt
    from ckaprep.views.render import catalogue_table, task_panel
    from tests.helpers import NOW

    exercise = dataclasses.replace(find_exercise("clusterip-create"), title=MARKUP)
    attempt = start_attempt(exercise, env.cluster(), seed=3, now=NOW, record=lambda a: None)
    assert "[bold red]X[/]" in rendered(task_panel(exercise, attempt))
    assert "[bold red]X[/]" in rendered(catalogue_table([exercise]))


def test_status_prints_the_state_file_literally(env):
    runner = CliRunner()
    assert runner.invoke(app, ["start", "clusterip-create", "--seed", "4"], obj=env).exit_code == 0
    attempt = env.state.load()
    attempt.exercise = MARKUP
    env.state.save(attempt)
    result = runner.invoke(app, ["status"], obj=env)
    assert MARKUP in result.stdout


def test_reset_says_only_what_it_removed(env, fake):
    runner = CliRunner()
    assert runner.invoke(app, ["start", "dns-cross-namespace", "--seed", "6"], obj=env).exit_code == 0
    mine, kept = env.state.load().namespaces
    fake.patch("Namespace", None, kept, lambda ns: ns["metadata"].update(labels={}))
    result = runner.invoke(app, ["reset"], obj=env)
    assert result.exit_code == 0
    assert f"namespace(s) {mine} removed" in result.stdout
    assert kept not in result.stdout
    assert f"left namespace {kept} alone" in result.stderr
    assert fake.get("Namespace", None, kept) is not None and fake.get("Namespace", None, mine) is None


def test_reset_that_removed_nothing_says_so(env, fake):
    runner = CliRunner()
    assert runner.invoke(app, ["start", "clusterip-create", "--seed", "6"], obj=env).exit_code == 0
    namespace = env.state.load().namespace
    fake.patch("Namespace", None, namespace, lambda ns: ns["metadata"].update(labels={}))
    result = runner.invoke(app, ["reset"], obj=env)
    assert "no namespace removed" in result.stdout and "removed" not in result.stdout.replace(
        "no namespace removed", ""
    )


def test_a_failed_start_says_how_to_clean_up_in_the_same_line(env, fake):
    original = fake._admit_pod

    def backoff(pod):
        original(pod)
        pod["status"] = {
            "phase": "Pending",
            "containerStatuses": [{"image": "busybox", "state": {"waiting": {"reason": "ErrImagePull"}}}],
        }

    fake._admit_pod = backoff
    result = CliRunner().invoke(app, ["start", "clusterip-create", "--seed", "8"], obj=env)
    assert result.exit_code == ExitStatus.IMAGE_PULL
    [line] = result.stderr.strip().splitlines()
    assert "busybox" in line and "ckaprep reset" in line


def test_progress_lines_show_markup_literally(env, fake):
    from tests.helpers import apply_solution

    runner = CliRunner()
    assert runner.invoke(app, ["start", "clusterip-create", "--seed", "4"], obj=env).exit_code == 0
    apply_solution(fake, find_exercise("clusterip-create"), env.state.load())
    result = runner.invoke(app, ["check", "--probe-image", "[/]"], obj=env)  # named in "starting probe pod"
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == ExitStatus.OK, result.output


ESCAPES = {"title": '"Expose \\e]0;pwned\\a it"', "hint": '"Press \\e[2J to start"', "check": '"Type is \\e[31mright"'}


def _exercise_with_escapes(directory):
    """clusterip-create as a trainer's file whose texts hold terminal escape sequences."""
    from ckaprep.catalogue.locations import exercises_dir

    text = (exercises_dir() / "clusterip-create.yaml").read_text().replace("id: clusterip-create", "id: escapes")
    text = text.replace("\ntitle: ", f"\ntitle: {ESCAPES['title']}\nold_title: ", 1)
    text = "\n".join(line for line in text.splitlines() if not line.startswith("old_title: ")) + "\n"
    text = text.replace("hints:\n", f"hints:\n  - {ESCAPES['hint']}\n", 1)
    text = text.replace("    title: Service ${service} exists with type ClusterIP", f"    title: {ESCAPES['check']}", 1)
    path = directory / "escapes.yaml"
    path.write_text(text)
    return path


def test_control_characters_from_exercise_files_are_shown_escaped(env, tmp_path):
    path = _exercise_with_escapes(tmp_path)
    runner = CliRunner()
    listed = runner.invoke(app, ["--exercises", str(tmp_path), "list"], obj=env)
    started = runner.invoke(app, ["--exercises", str(tmp_path), "start", "escapes", "--seed", "3"], obj=env)
    hinted = runner.invoke(app, ["--exercises", str(tmp_path), "hint"], obj=env)
    checked = runner.invoke(app, ["--exercises", str(tmp_path), "check", "--wait", "0"], obj=env)
    for result in (listed, started, hinted, checked):
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout, result.stdout
    assert "Expose \\x1b]0;pwned\\x07 it" in " ".join(listed.stdout.replace("│", " ").split())
    assert "\\x1b]0;pwned" in started.stdout
    assert "Press \\x1b[2J to start" in hinted.stdout
    assert "Type is \\x1b[31mright" in checked.stdout
    validated = runner.invoke(app, ["validate", str(path)], obj=env)
    assert validated.exit_code == 0, validated.output
    warnings = validated.stderr.splitlines()
    assert len(warnings) == 3 and all("holds a control character (\\x1b)" in w for w in warnings), warnings
    assert [w.split(": ")[2] for w in warnings] == ["title", "checks #1.title", "hints #1"]
