"""At 60, 80 and 120 columns: no fact cut with "…", commands that paste as printed, lists that
keep their indent, help that is never cut short."""

import io
import json
import re
import shlex

import pytest
import typer.main
from rich.console import Console

from ckaprep.catalogue.loading import load_catalogue
from ckaprep.cli import application
from ckaprep.study.notes import all_topics
from ckaprep.views.wrapping import ShellCommand, break_command, commands_apart
from tests.helpers import offer_what_it_needs

WIDTHS = (60, 80, 120)
CATALOGUE = load_catalogue()
FENCE = re.compile(r"```(?:bash|sh|console)\n(.*?)```", re.S)


@pytest.fixture(params=WIDTHS)
def width(request, env):
    env.out.width = request.param  # the console of the command line's Environment
    return request.param


def _render(renderable, width: int) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(renderable, crop=False)
    return console.file.getvalue()


def _pasted(text: str) -> list[str]:
    """The words a shell reads from what was printed, `\\`-newline joining lines."""
    return shlex.split(re.sub(r" \\\n *", " ", text), comments=True)


def _scripts() -> list[str]:
    scripts = [m.group(1) for topic in all_topics().values() for m in FENCE.finditer(topic.body)]
    for exercise in CATALOGUE.values():
        params = exercise.choose_params(7) | {"namespace": "shop-abcde"}
        scripts.append(exercise.render(exercise.solution, params)["kubectl"])
    return scripts


@pytest.mark.parametrize("width_", WIDTHS)
def test_every_command_pastes_as_written_at_any_width(width_):
    for script in _scripts():
        printed = _render(ShellCommand(script), width_)
        assert _pasted(printed) == _pasted(script), printed
        for line in printed.splitlines():
            if len(line) > width_:  # only a word no break can shorten
                assert break_command(line, width_) == [line] or "'" in line or '"' in line, line


def test_a_command_breaks_only_at_spaces_outside_quotes():
    line = 'kubectl -n shop patch svc web -p \'{"spec": {"selector": {"app": "web"}}}\' --type=merge'
    lines = break_command(line, 40)
    assert all(piece.endswith(" \\") for piece in lines[:-1])
    assert '\'{"spec": {"selector": {"app": "web"}}}\'' in "\n".join(lines)
    assert break_command("echo hi  # a comment that is far too long for the line", 30)[0].startswith("# ")


def test_a_line_that_goes_on_keeps_its_backslash_at_its_end():
    line = "kubectl -n shop create configmap answers --from-literal=FQDN=web.shop.svc.cluster.local \\"
    lines = break_command(line, 50)
    assert len(lines) > 1 and all(piece.endswith(" \\") for piece in lines)
    assert all(piece.strip() != "\\" for piece in lines)
    assert break_command("  --from-literal=SRV_NAME=_metrics._tcp.web.shop.svc.cluster.local \\", 50) == [
        "  --from-literal=SRV_NAME=_metrics._tcp.web.shop.svc.cluster.local \\"
    ]


def test_personal_commands_go_apart_from_their_sentence():
    note = "Print its IP: `kubectl get svc web -n shop -o jsonpath='{.spec.clusterIP}'` now."
    assert (
        commands_apart(note)
        == "Print its IP:\n\n```bash\nkubectl get svc web -n shop -o jsonpath='{.spec.clusterIP}'\n```\n\nnow."
    )
    assert commands_apart("Run `kubectl get svc -A`.") == "Run\n\n```bash\nkubectl get svc -A\n```"
    assert commands_apart("First `kubectl get pods -A`, then `curl -s b` and look.") == (
        "First\n\n```bash\nkubectl get pods -A\n```\n\nthen\n\n```bash\ncurl -s b\n```\n\nand look."
    )
    assert (
        commands_apart("`kubectl expose deployment` takes a selector.")
        == "`kubectl expose deployment` takes a selector."
    )


@pytest.mark.parametrize("topic", sorted(all_topics()))
def test_notes_cut_no_fact(run, width, topic):
    page = run("explain", topic)
    assert page.exit_code == 0
    assert "…" not in page.stdout


def test_the_personal_panel_cuts_nothing(run, width):
    assert run("start", "dns-cross-namespace", "--seed", "3").exit_code == 0
    for topic in all_topics():
        page = run("explain", topic)
        assert "…" not in page.stdout


@pytest.mark.parametrize("exercise_id", sorted(CATALOGUE))
def test_the_solution_pastes_as_printed(run, env, fake, width, exercise_id):
    offer_what_it_needs(fake, CATALOGUE[exercise_id])
    assert run("start", exercise_id, "--seed", "4").exit_code == 0
    printed = run("solution").stdout
    expected = json.loads(run("solution", "--json").stdout)
    kubectl = printed.split("Imperative (kubectl)\n", 1)[1].split("\nDeclarative (YAML", 1)[0]
    assert _pasted(kubectl) == _pasted(expected["kubectl"])
    yaml = printed.split("apply -f -)\n", 1)[1]
    assert yaml.splitlines() == expected["yaml"].strip().splitlines()
    assert "…" not in printed


def test_the_exercise_list_gives_titles_room(run, width):
    listed = run("list").stdout
    assert "…" not in listed
    lines = listed.splitlines()
    starts = [i for i, line in enumerate(lines) if any(line.startswith(f"│ {e} ") for e in CATALOGUE)]
    assert len(starts) == len(CATALOGUE)
    tallest = max(b - a for a, b in zip(starts, starts[1:]))
    assert tallest <= (4 if width == 60 else 3), listed
    flat = " ".join(listed.replace("│", " ").split())
    for exercise in CATALOGUE.values():
        assert " ".join(exercise.title.split()) in flat


def test_the_topic_list_keeps_its_indent(run, width):
    listing = run("explain").stdout.splitlines()
    column = max(map(len, all_topics())) + 2
    for line in listing[: len(all_topics()) * 3]:
        if not line.strip() or line.startswith("Read one"):
            break
        assert line.split(" ", 1)[0] in all_topics() or line.startswith(" " * column), line


def test_hints_keep_their_indent_and_commands_paste(run, width):
    run("start", "env-vars", "--seed", "5")
    for _ in range(3):
        shown = run("hint").stdout
    exercise = CATALOGUE["env-vars"]
    params = json.loads(run("status", "--json").stdout)["params"]
    joined = re.sub(r" \\\n *", " ", shown)
    for hint in exercise.render(exercise.hints, params):
        for command in re.findall(r"`((?:kubectl|curl) [^`]+)`", hint):
            assert command in joined, (command, shown)  # whole, or broken with ` \` where a paste still works
        assert "then name its port" in joined or "then name its port" not in hint  # no prose is lost
    assert "`" not in shown  # Markdown, not its backticks
    for line in shown.splitlines():
        assert not line or line.startswith(("Hint ", " " * len("Hint 1/3: "), "No more")), line
        assert len(line) <= width or break_command(line.strip(), width) == [line.strip()], line


def _command_paths(command, path=()):
    yield path
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _command_paths(sub, (*path, name))


def test_help_is_never_cut_short_nor_padded(run, width):
    for path in _command_paths(typer.main.get_command(application.app)):
        result = run(*path, "--help")
        assert result.exit_code == 0, path
        for line in result.stdout.splitlines():
            assert line == line.rstrip(), (path, line)
            assert line.startswith("Usage:") or not line.endswith("..."), (path, line)


def test_reports_and_exam_tables_cut_nothing(run, width):
    run("start", "troubleshoot-broken", "--seed", "5")
    assert "…" not in run("check", "--wait", "0").stdout
    assert "…" not in run("status").stdout
    run("reset")
    run("exam", "start", "--tasks", "4", "--seed", "6")
    for args in (["exam", "status"], ["exam", "task", "1"], ["exam", "submit"], ["exam", "review"], ["progress"]):
        assert "…" not in run(*args).stdout, args


def test_the_exam_review_prints_solutions_whole(run, width):
    run("exam", "start", "--tasks", "9", "--seed", "6")
    run("exam", "submit")
    printed = run("exam", "review").stdout.splitlines()
    for task in json.loads(run("exam", "review", "--json").stdout)["tasks"]:
        for line in task["solution"]["yaml"].strip().splitlines():
            assert line in printed, line


def test_progress_keeps_every_id_whole(run, env, width):
    from ckaprep.practice.history import History, Record

    History(env.state.history_path).append(
        *[
            Record(
                kind="check", time="2026-01-01T00:00:00+00:00", score=50.0, exercise=e, attempt=f"{e}-1", failed=["x"]
            )
            for e in CATALOGUE
        ]
    )
    shown = run("progress").stdout
    lines = shown.splitlines()
    for exercise_id in CATALOGUE:
        assert any(line.split()[:1] == [exercise_id] for line in lines), (exercise_id, shown)
    assert any(line.rstrip().endswith("box") for line in lines), shown  # no column cut off
