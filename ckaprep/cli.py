"""The command line: wiring only. The work happens in the library modules."""

from __future__ import annotations

import functools
import json
import random
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from ckaprep import __version__
from ckaprep.environment import Environment
from ckaprep.errors import CkaprepError
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


def _catalogue(env: Environment):
    """Every exercise; a broken file in a trainer's directory is reported and skipped."""
    exercises, skipped = env.catalogue().load()
    for problem in skipped:
        err.print(f"warning: skipped {problem.message}", markup=False, soft_wrap=True)
    return exercises


def _exercise(env: Environment, exercise_id: str):
    return env.catalogue().find(exercise_id)


def _active(env: Environment):
    """The active attempt and its exercise, or a state error."""
    attempt = env.state.require()
    return attempt, _exercise(env, attempt.exercise)


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
    exercise_id: Annotated[str, typer.Argument(metavar="EXERCISE", help="An id from `ckaprep list`.")],
    seed: Annotated[
        Optional[int], typer.Option(help="Seed for the random names and ports, to replay an attempt.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the active exercise (its namespaces are deleted).")
    ] = False,
    as_json: JsonOption = False,
):
    """Set an exercise up in your cluster and print the task."""
    from ckaprep.errors import StateError
    from ckaprep.lifecycle import delete_namespaces, start_attempt

    env = _env(ctx)
    exercise = _exercise(env, exercise_id)
    store = env.state
    active = store.load()
    cluster = env.cluster()
    if active is not None:
        if not force:
            raise StateError(
                f"exercise {active.exercise} is active in namespace {active.namespace}; "
                "run `ckaprep reset` first, or start with --force to replace it"
            )
        with _Spinner() as progress:
            delete_namespaces(cluster, active.namespaces, waiter=_waiter(env, progress))
        store.clear()
    seed = seed if seed is not None else random.SystemRandom().randrange(1, 10**6)
    try:
        with _Spinner() as progress:
            attempt = start_attempt(
                exercise, cluster, seed=seed, now=env.now(), record=store.save,
                force=force, context=env.context, waiter=_waiter(env, progress),
            )  # fmt: skip
    except (CkaprepError, KeyboardInterrupt):
        if store.load() is not None:
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
    from ckaprep.grading.engine import grade

    env = _env(ctx)
    store = env.state
    attempt, exercise = _active(env)
    cluster = env.cluster(attempt.context)
    with _Spinner() as progress:
        progress("grading")
        report, grading = grade(
            exercise, attempt, cluster, wait_s=wait,
            probe_image=probe_image or env.default_probe_image, progress=progress,
            clock=env.monotonic, sleep=env.sleep,
        )  # fmt: skip
    domain = next(iter(grading.known_domains().values()), None)
    if domain and domain != attempt.cluster_domain:
        attempt.cluster_domain = domain
        store.save(attempt)
    elapsed = attempt.elapsed_s(env.now())
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
    env = _env(ctx)
    store = env.state
    attempt, exercise = _active(env)
    hints = exercise.render(exercise.hints, attempt.params)
    shown = min(attempt.hints_shown + 1, len(hints))
    if shown != attempt.hints_shown:
        attempt.hints_shown = shown
        store.save(attempt)
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
    env = _env(ctx)
    attempt, exercise = _active(env)
    if as_json:
        _print_json(exercise.render(exercise.solution, attempt.params))
        return
    from ckaprep.render import solution_view

    out.print(solution_view(exercise, attempt))


@app.command()
@handles_errors
def reset(ctx: typer.Context, as_json: JsonOption = False):
    """Delete the active exercise's namespaces (only those ckaprep created) and clear it."""
    from ckaprep.lifecycle import delete_namespaces

    env = _env(ctx)
    store = env.state
    attempt = store.require()
    cluster = env.cluster(attempt.context)
    with _Spinner() as progress:
        left_alone = delete_namespaces(cluster, attempt.namespaces, waiter=_waiter(env, progress))
    store.clear()
    if as_json:
        _print_json({"deleted": [ns for ns in attempt.namespaces if ns not in left_alone],
                     "left_alone": left_alone})  # fmt: skip
        return
    for ns in left_alone:
        err.print(f"left namespace {ns} alone: it does not carry ckaprep's label")
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


from ckaprep.cli_authoring import register as _register_authoring  # noqa: E402  (needs the names above)

_register_authoring(app)


def main() -> None:
    app()
