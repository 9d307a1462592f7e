"""The command line: wiring only. The work happens in the library modules."""

from __future__ import annotations

import functools
import json
import math
import os
import random
import re
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
import typer.core
import typer.main
from rich.console import Console
from rich.text import Text

from ckaprep import __version__
from ckaprep.environment import Environment
from ckaprep.errors import CkaprepError, Interrupted, UsageError, one_line, shorten
from ckaprep.exit_status import ExitStatus
from ckaprep.pages import attempt_for_notes, list_content, page_key, stdout_console, topic_content

class CommandGroup(typer.core.TyperGroup):
    """Lists each command with its whole first sentence, wrapped under its column: never cut
    short with "..." at 80 columns."""

    def format_commands(self, ctx, formatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


app = typer.Typer(
    cls=CommandGroup,
    name="ckaprep",
    help=(
        "Practise Kubernetes ClusterIP Services for the CKA exam.\n\n"
        "Start an exercise in your own cluster, solve it with kubectl, then let "
        "ckaprep grade the live cluster.\n\n"
        "Typical session: ckaprep list → ckaprep start clusterip-create → "
        "(kubectl …) → ckaprep check → ckaprep reset."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

out = stdout_console()
# No markup or emoji codes: names, messages from the API and file contents print as they are.
err = Console(stderr=True, highlight=False, markup=False, emoji=False, soft_wrap=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]


def _env(ctx: typer.Context) -> Environment:
    root = ctx.find_root()
    if not isinstance(root.obj, Environment):
        root.obj = Environment()
    return root.obj


def _print_json(data) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")
    sys.stdout.flush()


_reported: list[BaseException] = []  # what a command already told the user about


def print_error(message: str) -> None:
    """One line on stderr, whatever the message holds."""
    err.print(Text.assemble(("error:", "bold red"), " ", one_line(message)))


def _say_interrupted() -> None:
    err.print("interrupted")
    _reported.append(KeyboardInterrupt())


def handles_errors(command):
    """One-line errors with a meaningful exit status, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except CkaprepError as exc:
            print_error(exc.message)
            _reported.append(exc)
            raise typer.Exit(int(exc.exit_status)) from None
        except KeyboardInterrupt:
            _say_interrupted()
            raise typer.Exit(int(ExitStatus.INTERRUPTED)) from None

    return wrapper


class _Spinner:
    """A progress line on stderr while the cluster settles."""

    def __init__(self):
        self._status = err.status("")

    def __enter__(self):
        self._status.__enter__()
        return self

    def __call__(self, message: str) -> None:
        self._status.update(Text(one_line(message) + " …"))  # a str here would be read as markup

    def __exit__(self, *exc):
        self._status.__exit__(*exc)


def _waiter(env: Environment, progress):
    from ckaprep.waiting import Waiter

    return Waiter(progress=progress, clock=env.monotonic, sleep=env.sleep)


def complete_exercise(incomplete: str) -> list[str]:
    from ckaprep.completion import exercise_ids

    return exercise_ids(incomplete)


def complete_topic(incomplete: str) -> list[str]:
    from ckaprep.completion import topic_names

    return topic_names(incomplete)


def _doctor_diagnoses():
    from ckaprep.errors import ClusterError, ImagePullError, WaitTimeout

    return (ClusterError, ImagePullError, WaitTimeout)


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise typer.BadParameter("must be a finite number of seconds")
    return value


def _version(value: bool):
    if value:
        out.print(f"ckaprep {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    kubeconfig: Annotated[
        Optional[str],
        typer.Option(help="Path to a kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)."),
    ] = None,
    context: Annotated[
        Optional[str], typer.Option(help="The kubeconfig context to use (default: the current one).")
    ] = None,
    exercises: Annotated[
        Optional[list[Path]],
        typer.Option(
            "--exercises", metavar="DIR",
            help="Add a directory of your own exercise files (repeatable; also $CKAPREP_EXERCISES).",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
):
    env = _env(ctx)
    env.kubeconfig = kubeconfig or env.kubeconfig
    env.context = context or env.context
    env.extra_exercise_dirs = list(exercises or env.extra_exercise_dirs)
    env.seat_aware = ctx.invoked_subcommand in SEAT_AWARE_COMMANDS


# Commands whose state is a classroom seat's, in the cluster, when run with a seat's kubeconfig.
SEAT_AWARE_COMMANDS = {"start", "check", "status", "hint", "solution", "reset", "exam"}


def _catalogue(env: Environment):
    """Every exercise; a broken file in a trainer's directory is reported and skipped."""
    return _catalogue_and_skipped(env)[0]


def _catalogue_and_skipped(env: Environment):
    exercises, skipped = env.catalogue().load()
    for problem in skipped:
        err.print(f"warning: skipped {problem.message}", markup=False, soft_wrap=True)
    return exercises, skipped


def _exercise(env: Environment, exercise_id: str):
    return env.catalogue().find(exercise_id)  # ids are names from the catalogue, never paths


def _active(env: Environment, command: str):
    """The attempt `command` acts on (the single exercise, or a practice exam's current task),
    its exercise, and the exam it belongs to if any; or a state error."""
    from ckaprep.exam import current_attempt
    from ckaprep.state import require_params

    store = env.state
    attempt, exam = current_attempt(store, command)
    exercise = _exercise(env, attempt.exercise)
    where = f"tasks[{exam.current - 1}]" if exam else ""
    require_params(store.exam_path if exam else store.path, attempt, exercise.params, where=where)
    return attempt, exercise, exam


@app.command("list")
@handles_errors
def list_exercises(ctx: typer.Context, as_json: JsonOption = False):
    """List the exercises with their difficulty, suggested minutes and topics."""
    env = _env(ctx)
    if as_json:
        _print_json([ex.to_summary() for ex in _catalogue(env).values()])
        return
    _print_rendered(env, "list", list_content(env), lambda: _catalogue_view(env))


def _catalogue_view(env: Environment):
    """The exercise table; not kept for next time when a file had to be skipped (its warning)."""
    from rich.console import Group

    from ckaprep.render import catalogue_table

    exercises, skipped = _catalogue_and_skipped(env)
    view = Group(catalogue_table(list(exercises.values())), Text("Start one with: ckaprep start <id>"))
    return view, not skipped


@app.command()
@handles_errors
def start(
    ctx: typer.Context,
    exercise_id: Annotated[
        Optional[str],
        typer.Argument(metavar="[EXERCISE]", help="An id from `ckaprep list`.", show_default=False,
                       autocompletion=complete_exercise),
    ] = None,
    next_: Annotated[
        bool, typer.Option("--next", help="Start the exercise `ckaprep next` suggests.")
    ] = False,
    seed: Annotated[
        Optional[int], typer.Option(help="Seed for the random names and ports, to replay an attempt.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the active exercise (its namespaces are deleted).")
    ] = False,
    as_json: JsonOption = False,
):
    """Set an exercise up in your cluster and print the task."""
    from ckaprep.lifecycle import start_drill

    env = _env(ctx)
    if (exercise_id is None) == (not next_):
        raise UsageError(
            "give an exercise id, or --next for the one `ckaprep next` suggests (see `ckaprep start --help`)"
        )
    if next_:
        from ckaprep.cli_exam import suggest

        exercise_id = suggest(env).exercise
    exercise = _exercise(env, exercise_id)
    store = env.state
    cluster = env.cluster()
    seed = seed if seed is not None else random.SystemRandom().randrange(1, 10**6)
    before = store.load()
    try:
        with _Spinner() as progress:
            attempt = start_drill(
                store, exercise, cluster, seed=seed, now=env.now(), force=force,
                context=env.context, waiter=_waiter(env, progress),
            )  # fmt: skip
    except (CkaprepError, KeyboardInterrupt) as exc:
        if isinstance(exc, _doctor_diagnoses()):
            exc.message += " (`ckaprep doctor` checks what this cluster is missing)"
        try:
            partial = store.load()
        except CkaprepError:
            partial = None
        if partial is None or (before is not None and partial.id == before.id):
            raise
        partly = "the exercise was only partly set up: `ckaprep reset` removes it"
        if isinstance(exc, KeyboardInterrupt):
            raise Interrupted(f"interrupted; {partly}") from None
        exc.message = f"{exc.message}; {partly}"
        raise
    if as_json:
        _print_json(_task_json(exercise, attempt))
        return
    from ckaprep.render import task_panel

    out.print(task_panel(exercise, attempt))


def _task_json(exercise, attempt) -> dict:
    """What `start --json` prints, and `task --json` again."""
    return {"id": exercise.id, "namespace": attempt.namespace, "namespaces": attempt.namespaces,
            "params": attempt.params, "seed": attempt.seed, "task": exercise.render(exercise.task, attempt.params)}  # fmt: skip


@app.command("task")
@handles_errors
def task_command(
    ctx: typer.Context,
    number: Annotated[
        Optional[int],
        typer.Argument(metavar="[N]", min=1, show_default=False,
                       help="During an exam: the task's number (default: the one last shown)."),
    ] = None,
    as_json: JsonOption = False,
):
    """Print the active exercise's task again, as `start` did, with the time used.

    During an exam it is `ckaprep exam task N`.
    """
    from ckaprep.render import time_used

    env = _env(ctx)
    store = env.state
    if store.load() is None and store.load_exam() is not None:
        from ckaprep.cli_exam import exam_task

        return exam_task(ctx, number if number is not None else store.load_exam().current, as_json=as_json)
    if number is not None:
        raise UsageError("N picks a task of an exam; a single exercise has one task: run `ckaprep task`")
    attempt = store.require()
    exercise = _exercise(env, attempt.exercise)
    elapsed = attempt.elapsed_s(env.now())
    if as_json:
        _print_json(_task_json(exercise, attempt) | {"elapsed_s": round(elapsed, 1), "minutes": exercise.minutes})
        return
    from ckaprep.render import task_panel

    out.print(task_panel(exercise, attempt))
    out.print(Text.assemble(("Time used: ", "bold"), time_used(elapsed, exercise.minutes)))


@app.command()
@handles_errors
def check(
    ctx: typer.Context,
    as_json: JsonOption = False,
    wait: Annotated[
        float,
        typer.Option(
            min=0, callback=_finite,
            help="At most this many seconds of polling failing checks while the cluster is still "
            "changing (pods starting, endpoints catching up); a settled cluster is graded at once.",
        ),
    ] = 10.0,
    probe_image: Annotated[
        Optional[str],
        typer.Option(
            envvar="CKAPREP_PROBE_IMAGE",
            help="Image for the in-cluster curl probe pod, e.g. a mirror on an air-gapped cluster.",
        ),
    ] = None,
):
    """Grade the active exercise on the live cluster.

    Exit status: 0 all checks passed, 1 some failed, 2 no active exercise,
    3 cluster unreachable or access denied, 4 probe image cannot be pulled.
    """
    from ckaprep.exam import save_current
    from ckaprep.grading.engine import grade
    from ckaprep.history import CHECK, Record

    env = _env(ctx)
    store = env.state
    attempt, exercise, exam = _active(env, "check")
    cluster = env.cluster(attempt.context)
    with _Spinner() as progress:
        progress("grading")
        report, grading = grade(
            exercise, attempt, cluster, wait_s=wait,
            probe_image=probe_image or env.default_probe_image, progress=progress,
            clock=env.monotonic, sleep=env.sleep,
        )  # fmt: skip
    elapsed = attempt.elapsed_s(env.now())
    # Remembering is secondary: a state directory that cannot be written costs a warning, not the grade.
    try:
        domain = next(iter(grading.known_domains().values()), None)
        if domain and domain != attempt.cluster_domain:
            with store.locked():
                fresh, _, current_exam = _active(env, "check")
                if fresh.id == attempt.id:
                    fresh.cluster_domain = domain
                    save_current(store, fresh, current_exam)
        store.remember(Record(
            kind=CHECK, time=env.now().isoformat(), score=report.score, exercise=exercise.id,
            attempt=attempt.id, exam=attempt.exam, seed=attempt.seed,
            failed=[c.id for c in report.checks if c.status != "pass"], hints=attempt.hints_shown,
            solution_shown=attempt.solution_shown, elapsed_s=round(elapsed, 1), passed=report.passed,
            practice=exam is not None,
        ))  # fmt: skip
    except CkaprepError as exc:
        err.print(f"warning: {exc.message}", soft_wrap=True)
    if as_json:
        _print_json(report.to_json(elapsed))
    else:
        from ckaprep.render import report_view

        out.print(report_view(report, elapsed, exercise.minutes))
    raise typer.Exit(int(ExitStatus.OK if report.passed else ExitStatus.CHECKS_FAILED))


@app.command()
@handles_errors
def status(ctx: typer.Context, as_json: JsonOption = False):
    """Show the active exercise, its namespaces and the time used against the suggestion."""
    from ckaprep.render import minutes_and_seconds, time_used

    env = _env(ctx)
    if env.state.load() is None and env.state.load_exam() is not None:
        from ckaprep.cli_exam import exam_status

        return exam_status(ctx, as_json=as_json)
    attempt = env.state.require()
    elapsed = attempt.elapsed_s(env.now())
    try:
        minutes = _exercise(env, attempt.exercise).minutes
    except CkaprepError:  # the exercise's file is gone: no suggestion to compare with
        minutes = None
    if as_json:
        _print_json(
            {"exercise": attempt.exercise, "namespace": attempt.namespace,
             "namespaces": attempt.namespaces, "started_at": attempt.started_at,
             "elapsed_s": round(elapsed, 1), "minutes": minutes, "seed": attempt.seed, "params": attempt.params}
        )  # fmt: skip
        return
    out.print(one_line(f"exercise:   {attempt.exercise}"))
    out.print(one_line(f"namespace:  {', '.join(attempt.namespaces)}"))
    used = minutes_and_seconds(elapsed) if minutes is None else time_used(elapsed, minutes)
    out.print(f"time used:  {used}")
    out.print(Text("the task again: ckaprep task", style="dim"))


@app.command()
@handles_errors
def hint(ctx: typer.Context, as_json: JsonOption = False):
    """Show the next hint for the active exercise; each call reveals one more."""
    from ckaprep.exam import save_current

    env = _env(ctx)
    store = env.state
    with store.locked():
        attempt, exercise, exam = _active(env, "hint")
        hints = exercise.hints_for(attempt.params)
        shown = min(attempt.hints_shown + 1, len(hints))
        if shown != attempt.hints_shown:
            attempt.hints_shown = shown
            save_current(store, attempt, exam)
    if as_json:
        _print_json({"shown": shown, "total": len(hints), "hints": hints[:shown]})
        return
    from ckaprep.render import hint_view

    out.print(hint_view(hints[:shown], len(hints)), crop=False)  # a command in a hint stays whole
    if shown == len(hints):
        out.print(Text("No more hints; `ckaprep solution` shows a worked answer.", style="dim"))


@app.command()
@handles_errors
def solution(ctx: typer.Context, as_json: JsonOption = False):
    """Show a worked solution for the active exercise, with its actual names."""
    from ckaprep.exam import save_current

    env = _env(ctx)
    store = env.state
    with store.locked():
        attempt, exercise, exam = _active(env, "solution")
        if not attempt.solution_shown:
            attempt.solution_shown = True
            save_current(store, attempt, exam)
    if as_json:
        _print_json(exercise.solution_for(attempt.params))
        return
    from ckaprep.render import solution_view

    out.print(solution_view(exercise, attempt), crop=False)  # a word wider than the terminal stays whole


@app.command()
@handles_errors
def reset(
    ctx: typer.Context,
    as_json: JsonOption = False,
    forget: Annotated[
        bool,
        typer.Option("--forget", help="Only drop the local record (of the exercise or exam), touching no cluster: "
                     "for a cluster that is gone for good."),
    ] = False,
):
    """Delete the active exercise's namespaces (only those ckaprep created) and clear it."""
    from ckaprep.lifecycle import reset_drill

    env = _env(ctx)
    store = env.state
    if forget:
        return _forget(env, as_json)
    if store.load() is None and store.load_exam() is not None:
        from ckaprep.cli_exam import exam_reset

        return exam_reset(ctx, as_json=as_json)
    with _Spinner() as progress:
        attempt, left_alone = reset_drill(store, env.cluster, waiter=_waiter(env, progress))
    if attempt.seat:  # a classroom seat keeps its namespaces: they were emptied
        if as_json:
            _print_json({"deleted": [], "emptied": attempt.namespaces, "left_alone": []})
        else:
            out.print(one_line(f"reset {attempt.exercise}: namespace(s) {', '.join(attempt.namespaces)} emptied"))
        return
    if as_json:
        _print_json({"deleted": [ns for ns in attempt.namespaces if ns not in left_alone],
                     "left_alone": left_alone})  # fmt: skip
        return
    for ns in left_alone:
        err.print(f"left namespace {one_line(ns)} alone: it does not carry ckaprep's labels for this attempt")
    removed = [ns for ns in attempt.namespaces if ns not in left_alone]
    what = f"namespace(s) {', '.join(removed)} removed" if removed else "no namespace removed"
    out.print(one_line(f"reset {attempt.exercise}: {what}"))


def _forget(env: Environment, as_json: bool) -> None:
    from ckaprep.lifecycle import forget_active

    forgotten = forget_active(env.state)
    namespaces = forgotten.namespaces
    what = f"exercise {forgotten.exercise}" if hasattr(forgotten, "exercise") else f"exam {forgotten.id}"
    if as_json:
        _print_json({"forgotten": what, "deleted": [], "left_alone": namespaces, "cluster_touched": False})
        return
    left = f"; its namespace(s) {', '.join(namespaces)} were left as they are" if namespaces else ""
    out.print(one_line(f"forgot {what} without touching any cluster{left}"))


@app.command()
@handles_errors
def explain(
    ctx: typer.Context,
    topic: Annotated[
        Optional[str], typer.Argument(help="A topic; omit to list them.", autocompletion=complete_topic)
    ] = None,
    as_json: JsonOption = False,
):
    """Study notes on ClusterIP Services, in the terminal. Needs no cluster."""
    from ckaprep.explain import all_topics, find_topic, personal_note

    env = _env(ctx)
    if topic is None:
        topics = all_topics(cache=env.parsed_cache())
        if as_json:
            _print_json([{"topic": t.id, "summary": t.summary} for t in topics.values()])
            return
        from ckaprep.render import topic_list

        out.print(topic_list(list(topics.values())))
        out.print("\nRead one with: ckaprep explain <topic>")
        return
    found = find_topic(topic, cache=env.parsed_cache())
    note = personal_note(found, attempt_for_notes(env))  # as ckaprep.pages.topic_content
    if as_json:
        _print_json({"topic": found.id, "summary": found.summary, "markdown": found.body,
                     "personal": note, "practice": found.practice})  # fmt: skip
        return
    _print_rendered(env, "topic", (found.body, note), lambda: _topic_view(found.body, note))


def _topic_view(body: str, note: str):
    from ckaprep.render import topic_view

    return topic_view(body, note), True


def _print_rendered(env: Environment, name: str, content: tuple, view) -> None:
    """Print what `view()` renders, rendered once per content and terminal, like man's cached
    pages: Markdown and the catalogue are slow to load, and their output changes rarely.
    `view` returns the renderable and whether it may be kept (`ckaprep.pages` serves it)."""
    from ckaprep.rendered_cache import RenderedCache

    cache = RenderedCache.for_environ(env.environ)
    key = page_key(out, name, content)
    text = cache.get(key)
    if text is None:
        renderable, keep = view()
        with out.capture() as captured:
            out.print(renderable, crop=False)  # a word wider than the terminal stays whole
        text = captured.get()
        if keep:
            cache.put(key, text)
    out.file.write(text)
    out.file.flush()


@app.command()
@handles_errors
def doctor(
    ctx: typer.Context,
    as_json: JsonOption = False,
    probe_image: Annotated[
        Optional[str],
        typer.Option(envvar="CKAPREP_PROBE_IMAGE", help="Image for the curl probe pod, as for `check`."),
    ] = None,
):
    """Check that your cluster can run ckaprep, and say how to fix what is missing.

    Asks the API for the permissions ckaprep needs, then tries the images, DNS,
    the ClusterIP, environment variables and Endpoints mirroring in a temporary
    namespace of its own, which it removes again.

    Exit status: 0 all passed (warnings allowed), 1 a cluster feature failed,
    3 unreachable or missing permissions, 4 an image cannot be pulled, 5 timed out.
    """
    from ckaprep.doctor import diagnose

    env = _env(ctx)
    cluster = env.cluster()
    with _Spinner() as progress:
        diagnosis = diagnose(
            cluster, probe_image=probe_image or env.default_probe_image, waiter=_waiter(env, progress)
        )
    if as_json:
        _print_json(diagnosis.to_json())
    else:
        from ckaprep.render import doctor_view

        out.print(doctor_view(diagnosis))
    raise typer.Exit(int(diagnosis.exit_status))


@app.command()
@handles_errors
def completion(
    shell: Annotated[str, typer.Argument(metavar="SHELL", help="bash, zsh or fish.")],
):
    """Print a shell completion script, like `kubectl completion`.

    Enable it for the current bash session with: source <(ckaprep completion bash)
    """
    from ckaprep.completion import SHELLS, script

    if shell not in SHELLS:
        raise UsageError(f"no completion for shell {shell!r} (choose one of: {', '.join(SHELLS)})")
    sys.stdout.write(script(shell) + "\n")


PROG_NAME = "ckaprep"
PLUGIN_PROG_NAME = "kubectl ckaprep"
# kubectl's global flags that ckaprep also takes, wherever kubectl users put them.
KUBECTL_FLAGS = ("--kubeconfig", "--context")
# Every global option that takes a value; each may come before or after the command.
GLOBAL_OPTIONS = (*KUBECTL_FLAGS, "--exercises")


def hoist_global_options(argv: list[str]) -> list[str]:
    """Move the global options (--kubeconfig, --context, --exercises) to the front, where
    ckaprep reads them, keeping their order; what follows `--` is left as it is.

    kubectl accepts its global flags anywhere (`kubectl ckaprep check --context x`), and
    relocates those written before a plugin's name to after it; ckaprep does the same.
    """
    front, rest = [], []
    args = iter(argv)
    for arg in args:
        if arg == "--":
            rest.append(arg)
            rest.extend(args)
            break
        name = arg.split("=", 1)[0]
        if name in GLOBAL_OPTIONS:
            front.append(arg)
            if "=" not in arg:
                value = next(args, None)
                if value is not None:
                    front.append(value)
        else:
            rest.append(arg)
    return front + rest


hoist_kubectl_flags = hoist_global_options  # the name the kubectl plugin's entry points knew


from ckaprep.cli_authoring import register as _register_authoring  # noqa: E402  (needs the names above)

_register_authoring(app)


def main() -> None:
    """The installed entry point: every outcome is an exit status, a crash is reported as a bug."""
    from ckaprep.completion import enable_if_completing

    from ckaprep.completion import complete_var

    enable_if_completing(PROG_NAME)
    completing = bool(os.environ.get(complete_var(PROG_NAME)))
    _run(None if completing else hoist_global_options(sys.argv[1:]), PROG_NAME)


def kubectl_plugin_main() -> None:
    """`kubectl ckaprep ...`: kubectl runs the kubectl-ckaprep executable with the arguments."""
    _run(hoist_global_options(sys.argv[1:]), PLUGIN_PROG_NAME)


def kubectl_plugin_complete_main() -> None:
    """`kubectl ckaprep <TAB>`: kubectl asks the kubectl_complete-ckaprep executable for candidates."""
    from ckaprep.completion import cobra_candidates

    sys.stdout.write(cobra_candidates(typer.main.get_command(app), hoist_global_options(sys.argv[1:])))


def _run(args: list[str] | None, prog_name: str) -> None:
    env = Environment()
    try:
        status = app(args=args, prog_name=prog_name, standalone_mode=False, obj=env)
    except typer.Exit as exc:
        status = exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        status = ExitStatus.INTERRUPTED
    except typer.TyperException as exc:  # usage errors from parsing the command line
        status = _usage_error(exc)
    except Exception as exc:
        from ckaprep.crash import bug_report

        if env.environ.get("CKAPREP_DEBUG") == "1":
            import traceback

            traceback.print_exception(exc)
        print_error(bug_report(exc, env.environ))
        status = ExitStatus.BUG
    status = int(status) if isinstance(status, int) else 0
    if status == ExitStatus.INTERRUPTED and not _reported:  # Ctrl-C outside a command's own handling
        _say_interrupted()
    sys.exit(status)


def _usage_error(exc: typer.TyperException) -> int:
    ctx = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError":  # bare `ckaprep`: the help is the answer
        sys.stdout.write(exc.format_message() + "\n")
        return ExitStatus.OK
    where = f"`{ctx.command_path} --help`" if ctx is not None else "`ckaprep --help`"
    print_error(f"{exc.format_message().rstrip('.')} (see {where})")
    return int(getattr(exc, "exit_code", ExitStatus.USAGE))


from ckaprep import cli_exam  # noqa: E402,F401  (registers `exam`, `progress` and `next`)
from ckaprep import cli_classroom  # noqa: E402,F401  (registers `classroom`)
