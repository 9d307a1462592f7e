"""The command line: wiring only. The work happens in the library modules."""

from __future__ import annotations

import functools
import json
import random
import sys
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from ckaprep import __version__
from ckaprep.environment import Environment
from ckaprep.errors import CkaprepError, UsageError
from ckaprep.exit_status import ExitStatus

app = typer.Typer(
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

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]


def _env(ctx: typer.Context) -> Environment:
    root = ctx.find_root()
    if not isinstance(root.obj, Environment):
        root.obj = Environment()
    return root.obj


def _print_json(data) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")
    sys.stdout.flush()


def handles_errors(command):
    """One-line errors with a meaningful exit status, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except CkaprepError as exc:
            err.print(f"[bold red]error:[/] {exc.message}", soft_wrap=True)
            raise typer.Exit(int(exc.exit_status)) from None
        except KeyboardInterrupt:
            err.print("interrupted")
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
        self._status.update(message + " …")

    def __exit__(self, *exc):
        self._status.__exit__(*exc)


def _waiter(env: Environment, progress):
    from ckaprep.waiting import Waiter

    return Waiter(progress=progress, clock=env.monotonic, sleep=env.sleep)


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
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
):
    env = _env(ctx)
    env.kubeconfig = kubeconfig or env.kubeconfig
    env.context = context or env.context


def _catalogue(env: Environment):
    from ckaprep.catalogue import load_catalogue

    return load_catalogue(env.exercises_dir)


def _exercise(env: Environment, exercise_id: str):
    from ckaprep.catalogue import find_exercise

    return find_exercise(exercise_id, env.exercises_dir)


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
    exercises = list(_catalogue(_env(ctx)).values())
    if as_json:
        _print_json([ex.to_summary() for ex in exercises])
        return
    from ckaprep.render import catalogue_table

    out.print(catalogue_table(exercises))
    out.print("Start one with: ckaprep start <id>")


@app.command()
@handles_errors
def start(
    ctx: typer.Context,
    exercise_id: Annotated[
        Optional[str], typer.Argument(metavar="[EXERCISE]", help="An id from `ckaprep list`.", show_default=False)
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
        raise UsageError("give an exercise id, or --next for the one `ckaprep next` suggests")
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
    except (CkaprepError, KeyboardInterrupt):
        try:
            partial = store.load()
        except CkaprepError:
            partial = None
        if partial is not None and (before is None or partial.id != before.id):
            err.print("the exercise was only partly set up; `ckaprep reset` removes it")
        raise
    if as_json:
        task = exercise.render(exercise.task, attempt.params)
        _print_json(
            {"id": exercise.id, "namespace": attempt.namespace, "namespaces": attempt.namespaces,
             "params": attempt.params, "seed": seed, "task": task}
        )  # fmt: skip
        return
    from ckaprep.render import task_panel

    out.print(task_panel(exercise, attempt))


@app.command()
@handles_errors
def check(
    ctx: typer.Context,
    as_json: JsonOption = False,
    wait: Annotated[
        float,
        typer.Option(
            min=0, help="Seconds to keep polling checks that wait on the cluster settling (endpoints, pods)."
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
    from ckaprep.history import CHECK, History, Record

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
        History(store.history_path).append(Record(
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
    """Show the active exercise, its namespaces and the time spent so far."""
    from ckaprep.render import minutes_and_seconds

    env = _env(ctx)
    if env.state.load() is None and env.state.load_exam() is not None:
        from ckaprep.cli_exam import exam_status

        return exam_status(ctx, as_json=as_json)
    attempt = env.state.require()
    elapsed = attempt.elapsed_s(env.now())
    if as_json:
        _print_json(
            {"exercise": attempt.exercise, "namespace": attempt.namespace,
             "namespaces": attempt.namespaces, "started_at": attempt.started_at,
             "elapsed_s": round(elapsed, 1), "seed": attempt.seed, "params": attempt.params}
        )  # fmt: skip
        return
    out.print(f"exercise:   {attempt.exercise}")
    out.print(f"namespace:  {', '.join(attempt.namespaces)}")
    out.print(f"started:    {attempt.started_at}")
    out.print(f"elapsed:    {minutes_and_seconds(elapsed)}")


@app.command()
@handles_errors
def hint(ctx: typer.Context, as_json: JsonOption = False):
    """Show the next hint for the active exercise; each call reveals one more."""
    from ckaprep.exam import save_current

    env = _env(ctx)
    store = env.state
    with store.locked():
        attempt, exercise, exam = _active(env, "hint")
        hints = exercise.render(exercise.hints, attempt.params)
        shown = min(attempt.hints_shown + 1, len(hints))
        if shown != attempt.hints_shown:
            attempt.hints_shown = shown
            save_current(store, attempt, exam)
    if as_json:
        _print_json({"shown": shown, "total": len(hints), "hints": hints[:shown]})
        return
    for number, text in enumerate(hints[:shown], start=1):
        out.print(f"[bold]Hint {number}/{len(hints)}:[/] {escape(text)}")
    if shown == len(hints):
        out.print("[dim]No more hints; `ckaprep solution` shows a worked answer.[/]")


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
        _print_json(exercise.render(exercise.solution, attempt.params))
        return
    from ckaprep.render import solution_view

    out.print(solution_view(exercise, attempt))


@app.command()
@handles_errors
def reset(ctx: typer.Context, as_json: JsonOption = False):
    """Delete the active exercise's namespaces (only those ckaprep created) and clear it."""
    from ckaprep.lifecycle import reset_drill

    env = _env(ctx)
    store = env.state
    if store.load() is None and store.load_exam() is not None:
        from ckaprep.cli_exam import exam_reset

        return exam_reset(ctx, as_json=as_json)
    with _Spinner() as progress:
        attempt, left_alone = reset_drill(store, env.cluster, waiter=_waiter(env, progress))
    if as_json:
        _print_json({"deleted": [ns for ns in attempt.namespaces if ns not in left_alone],
                     "left_alone": left_alone})  # fmt: skip
        return
    for ns in left_alone:
        err.print(f"left namespace {ns} alone: it does not carry ckaprep's labels for this attempt")
    out.print(f"reset {attempt.exercise}: namespace(s) {', '.join(attempt.namespaces)} removed")


@app.command()
@handles_errors
def explain(
    ctx: typer.Context,
    topic: Annotated[Optional[str], typer.Argument(help="A topic; omit to list them.")] = None,
    as_json: JsonOption = False,
):
    """Study notes on ClusterIP Services, in the terminal. Needs no cluster."""
    from ckaprep.explain import all_topics, find_topic, personal_note

    env = _env(ctx)
    if topic is None:
        topics = all_topics()
        if as_json:
            _print_json([{"topic": t.id, "summary": t.summary} for t in topics.values()])
            return
        width = max(map(len, topics))
        for item in topics.values():
            out.print(f"[bold]{item.id.ljust(width)}[/]  {item.summary}")
        out.print("\nRead one with: ckaprep explain <topic>")
        return
    found = find_topic(topic)
    note = personal_note(found, env.state.load())
    if as_json:
        _print_json({"topic": found.id, "summary": found.summary, "markdown": found.body,
                     "personal": note, "practice": found.practice})  # fmt: skip
        return
    from ckaprep.render import topic_view

    out.print(topic_view(found.body, note))


from ckaprep import cli_exam  # noqa: E402,F401  (registers `exam`, `progress` and `next`)


def main() -> None:
    app()
