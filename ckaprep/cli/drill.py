"""The commands of a single exercise: list, start, task, check, status, hint, solution, reset.

During an exam, `task`, `status` and `reset` act as the exam's own commands.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.text import Text

from ckaprep.cli.base import (
    JsonOption,
    ProbeImageOption,
    Spinner,
    active,
    capabilities_unknown,
    catalogue,
    catalogue_and_skipped,
    command_group,
    complete_exercise,
    environment,
    err,
    find_exercise,
    finite,
    forget_if_gone,
    found_capabilities,
    handles_errors,
    known_capabilities,
    list_content,
    out,
    print_json,
    print_rendered,
    print_trimmed,
    refuse_unsupported,
    run_instead,
    suggest,
    supported_only,
    waiter,
)
from ckaprep.errors import CkaprepError, UsageError, one_line
from ckaprep.exit_status import ExitStatus

commands = command_group()


@commands.command("list")
@handles_errors
def list_exercises(
    ctx: typer.Context,
    as_json: JsonOption = False,
    path: Annotated[
        bool, typer.Option("--path", help="In the order of the study path (basics, advanced, troubleshooting).")
    ] = False,
    every: Annotated[
        bool, typer.Option("--all", help="Also the exercises this cluster cannot run (see `ckaprep doctor`).")
    ] = False,
):
    """List the exercises with their difficulty, suggested minutes and topics.

    Exercises that require what this cluster lacks (NetworkPolicy, more nodes, dual-stack), as
    `ckaprep doctor` last found it, are left out and counted; --all lists them too.
    """
    from ckaprep.catalogue.study_path import OFF_PATH, STAGE_OF, step

    env = environment(ctx)
    if as_json:
        everything = catalogue(env)
        # Each item says what it requires; what is not known of the cluster is no note here.
        kept = everything if every else supported_only(everything, known_capabilities(env), unknown_note=False)
        exercises = list(kept.values())
        if path:
            exercises.sort(key=lambda ex: (step(ex.id), ex.id))
        print_json(
            [
                ex.to_summary()
                | {"requires": [r.to_json() for r in ex.requires]}
                | ({"stage": STAGE_OF.get(ex.id, OFF_PATH), "step": step(ex.id)} if path else {})
                for ex in exercises
            ]
        )
        return
    name = ("list-path" if path else "list") + ("-all" if every else "")
    print_rendered(env, name, list_content(env), lambda: _catalogue_view(env, path, every))


def _catalogue_view(env, path: bool = False, every: bool = False):
    """The exercise table; not kept for next time when a file had to be skipped (its warning).
    What the cluster cannot run is left out, and a line under the table says how many and why."""
    from rich.console import Group

    from ckaprep.catalogue.capabilities import select
    from ckaprep.catalogue.study_path import OFF_PATH, STAGE_OF, along_the_path
    from ckaprep.views.render import catalogue_table

    exercises, skipped = catalogue_and_skipped(env)
    capabilities = known_capabilities(env)
    notes = []
    selection = select(exercises, capabilities)
    if every and selection.left_out:  # listed all the same, and named
        cannot = "; ".join(
            f"{exercise_id} ({', '.join(reasons)})" for exercise_id, reasons in selection.left_out.items()
        )
        notes.append(Text(f"This cluster cannot run: {cannot}. ckaprep doctor says what to change.", style="dim"))
    if not every:
        exercises = selection.kept
        if selection.summary():
            notes.append(
                Text(
                    selection.summary() + ". ckaprep list --all lists them too; ckaprep doctor says what to change.",
                    style="dim",
                )
            )
        if capabilities_unknown(exercises, capabilities):
            notes.append(Text(capabilities_unknown(exercises, capabilities), style="dim"))
    if path:
        ordered = [exercises[exercise_id] for exercise_id in along_the_path(exercises)]
        table = catalogue_table(ordered, stages={ex.id: STAGE_OF.get(ex.id, OFF_PATH) for ex in ordered})
        hint = "Start at the top, or let ckaprep choose: ckaprep start --next"
    else:
        table, hint = catalogue_table(list(exercises.values())), "Start one with: ckaprep start <id>"
    return Group(table, *notes, Text(hint)), not skipped


@commands.command()
@handles_errors
def start(
    ctx: typer.Context,
    exercise_id: Annotated[
        Optional[str],
        typer.Argument(
            metavar="[EXERCISE]",
            help="An id from `ckaprep list`.",
            show_default=False,
            autocompletion=complete_exercise,
        ),
    ] = None,
    next_: Annotated[bool, typer.Option("--next", help="Start the exercise `ckaprep next` suggests.")] = False,
    seed: Annotated[
        Optional[int], typer.Option(help="Seed for the random names and ports, to replay an attempt.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the active exercise (its namespaces are deleted).")
    ] = False,
    as_json: JsonOption = False,
):
    """Set an exercise up in your cluster and print the task."""
    from ckaprep.attempts import new_seed
    from ckaprep.practice.lifecycle import start_drill

    env = environment(ctx)
    if (exercise_id is None) == (not next_):
        raise UsageError(
            "give an exercise id, or --next for the one `ckaprep next` suggests (see `ckaprep start --help`)"
        )
    from ckaprep.catalogue.capabilities import fault_draw, needs_any

    seed = new_seed(seed)
    with Spinner() as progress:
        if next_:  # among the exercises this cluster can run, found out now if need be
            everything = catalogue(env)
            capabilities = found_capabilities(env, everything.values(), progress)
            exercise_id = suggest(env, among=supported_only(everything, capabilities, unknown_note=False)).exercise
        exercise = find_exercise(env, exercise_id)
        capabilities = found_capabilities(env, [exercise], progress) if needs_any(exercise) else None
        refuse_unsupported(exercise, capabilities)
        cluster = env.cluster()
        attempt = start_drill(
            env.workspace,
            exercise,
            cluster,
            seed=seed,
            now=env.clock.now(),
            force=force,
            context=env.context,
            waiter=waiter(env, progress),
            faults=fault_draw(exercise.faults, seed, capabilities),
        )
    if as_json:
        print_json(_task_json(exercise, attempt))
        return
    from ckaprep.views.render import task_panel

    out.print(task_panel(exercise, attempt))


def _task_json(exercise, attempt) -> dict:
    """What `start --json` prints, and `task --json` again."""
    return {
        "id": exercise.id,
        "namespace": attempt.namespace,
        "namespaces": attempt.namespaces,
        "params": attempt.params,
        "seed": attempt.seed,
        "task": exercise.task_for(attempt.params),
    }


@commands.command("task")
@handles_errors
def task_command(
    ctx: typer.Context,
    number: Annotated[
        Optional[int],
        typer.Argument(
            metavar="[N]",
            min=1,
            show_default=False,
            help="During an exam: the task's number (default: the one last shown).",
        ),
    ] = None,
    as_json: JsonOption = False,
):
    """Print the active exercise's task again, as `start` did, with the time used.

    During an exam it is `ckaprep exam task N`.
    """
    from ckaprep.views.render import time_used

    env = environment(ctx)
    store = env.state
    if store.load() is None and store.load_exam() is not None:
        number = number if number is not None else store.load_exam().current
        return run_instead(ctx, "exam", "task", [str(number)] + (["--json"] if as_json else []))
    if number is not None:
        raise UsageError("N picks a task of an exam; a single exercise has one task: run `ckaprep task`")
    attempt = store.require()
    exercise = find_exercise(env, attempt.exercise)
    elapsed = attempt.elapsed_s(env.clock.now())
    if as_json:
        print_json(_task_json(exercise, attempt) | {"elapsed_s": round(elapsed, 1), "minutes": exercise.minutes})
        return
    from ckaprep.views.render import task_panel

    out.print(task_panel(exercise, attempt))
    out.print(Text.assemble(("Time used: ", "bold"), time_used(elapsed, exercise.minutes)))


@commands.command()
@handles_errors
def check(
    ctx: typer.Context,
    as_json: JsonOption = False,
    wait: Annotated[
        float,
        typer.Option(
            min=0,
            callback=finite,
            help="At most this many seconds of grading again while the cluster is still changing "
            "(pods starting, endpoints catching up, a controller about to undo the answer): no "
            "check passes or fails before it settles; a settled cluster is graded at once.",
        ),
    ] = 10.0,
    probe_image: ProbeImageOption = None,
):
    """Grade the active exercise on the live cluster.

    Exit status: 0 all checks passed, 1 some failed, 2 no active exercise,
    3 cluster unreachable or access denied, 4 probe image cannot be pulled.
    """
    from ckaprep.practice.checking import check_and_record

    env = environment(ctx)
    with Spinner() as progress:
        options = env.grading_options(wait_s=wait, probe_image=probe_image, progress=progress)
        checked = check_and_record(env.state, env.catalogue().find, env.cluster, options, clock=env.clock)
    for warning in checked.warnings:
        err.print(f"warning: {warning}", soft_wrap=True)
    report = checked.report
    if as_json:
        print_json(report.to_json(checked.elapsed_s))
    else:
        from ckaprep.views.render import report_view

        out.print(report_view(report, checked.elapsed_s, checked.exercise.minutes))
    raise typer.Exit(int(ExitStatus.OK if report.passed else ExitStatus.CHECKS_FAILED))


@commands.command()
@handles_errors
def status(ctx: typer.Context, as_json: JsonOption = False):
    """Show the active exercise, its namespaces and the time used against the suggestion."""
    from ckaprep.views.render import minutes_and_seconds, time_used

    env = environment(ctx)
    if env.state.load() is None and env.state.load_exam() is not None:
        return run_instead(ctx, "exam", "status", ["--json"] if as_json else [])
    attempt = env.state.require()
    elapsed = attempt.elapsed_s(env.clock.now())
    try:
        minutes = find_exercise(env, attempt.exercise).minutes
    except CkaprepError:  # the exercise's file is gone: no suggestion to compare with
        minutes = None
    if as_json:
        print_json(
            {
                "exercise": attempt.exercise,
                "namespace": attempt.namespace,
                "namespaces": attempt.namespaces,
                "started_at": attempt.started_at,
                "elapsed_s": round(elapsed, 1),
                "minutes": minutes,
                "seed": attempt.seed,
                "params": attempt.params,
            }
        )
        return
    out.print(one_line(f"exercise:   {attempt.exercise}"))
    out.print(one_line(f"namespace:  {', '.join(attempt.namespaces)}"))
    used = minutes_and_seconds(elapsed) if minutes is None else time_used(elapsed, minutes)
    out.print(f"time used:  {used}")
    out.print(Text("the task again: ckaprep task", style="dim"))


@commands.command()
@handles_errors
def hint(ctx: typer.Context, as_json: JsonOption = False):
    """Show the next hint for the active exercise; each call reveals one more."""
    from ckaprep.practice.exam import save_current

    env = environment(ctx)
    store = env.state
    store.require_something()
    with store.locked():
        attempt, exercise, exam = active(env, "hint")
        hints = exercise.hints_for(attempt.params)
        shown = min(attempt.hints_shown + 1, len(hints))
        if shown != attempt.hints_shown:
            attempt.hints_shown = shown
            save_current(store, attempt, exam)
    if as_json:
        print_json({"shown": shown, "total": len(hints), "hints": hints[:shown]})
        return
    from ckaprep.views.render import hint_view

    print_trimmed(hint_view(hints[:shown], len(hints)))
    if shown == len(hints):
        out.print(Text("No more hints; ckaprep solution shows a worked answer.", style="dim"))


@commands.command()
@handles_errors
def solution(ctx: typer.Context, as_json: JsonOption = False):
    """Show a worked solution for the active exercise, with its actual names."""
    from ckaprep.practice.exam import save_current

    env = environment(ctx)
    store = env.state
    store.require_something()
    with store.locked():
        attempt, exercise, exam = active(env, "solution")
        if not attempt.solution_shown:
            attempt.solution_shown = True
            save_current(store, attempt, exam)
    if as_json:
        print_json(exercise.solution_for(attempt.params))
        return
    from ckaprep.views.render import solution_view

    out.print(solution_view(exercise, attempt), crop=False)  # a word wider than the terminal stays whole


@commands.command()
@handles_errors
def reset(
    ctx: typer.Context,
    as_json: JsonOption = False,
    forget: Annotated[
        bool,
        typer.Option(
            "--forget",
            help="Only drop the local record (of the exercise or exam), touching no cluster: "
            "for a cluster that is gone for good.",
        ),
    ] = False,
):
    """Delete the active exercise's namespaces (only those ckaprep created) and clear it."""
    from ckaprep.practice.lifecycle import reset_drill

    env = environment(ctx)
    store = env.state
    if forget:
        return _forget(env, as_json)
    if store.load() is None and store.load_exam() is not None:
        return run_instead(ctx, "exam", "reset", ["--json"] if as_json else [])
    with Spinner() as progress, forget_if_gone("exercise"):
        attempt, left_alone = reset_drill(env.workspace, env.cluster, waiter=waiter(env, progress))
    if attempt.seat:  # a classroom seat keeps its namespaces: they were emptied
        if as_json:
            print_json({"deleted": [], "emptied": attempt.namespaces, "left_alone": []})
        else:
            out.print(one_line(f"reset {attempt.exercise}: namespace(s) {', '.join(attempt.namespaces)} emptied"))
        return
    if as_json:
        print_json({"deleted": [ns for ns in attempt.namespaces if ns not in left_alone], "left_alone": left_alone})
        return
    for ns in left_alone:
        err.print(f"left namespace {one_line(ns)} alone: it does not carry ckaprep's labels for this attempt")
    removed = [ns for ns in attempt.namespaces if ns not in left_alone]
    what = f"namespace(s) {', '.join(removed)} removed" if removed else "no namespace removed"
    out.print(one_line(f"reset {attempt.exercise}: {what}"))


def _forget(env, as_json: bool) -> None:
    from ckaprep.cluster.labels import OWNER_LABEL, OWNER_VALUE
    from ckaprep.practice.lifecycle import UnreadableRecord, forget_active

    forgotten = forget_active(env.state)
    namespaces = list(forgotten.namespaces)
    if isinstance(forgotten, UnreadableRecord):
        what = f"the unreadable state file {forgotten.path}"
    else:
        what = f"exercise {forgotten.exercise}" if hasattr(forgotten, "exercise") else f"exam {forgotten.id}"
    if as_json:
        print_json({"forgotten": what, "deleted": [], "left_alone": namespaces, "cluster_touched": False})
        return
    left = f"; its namespace(s) {', '.join(namespaces)} were left as they are" if namespaces else ""
    if isinstance(forgotten, UnreadableRecord):  # which namespaces it named cannot be told
        left = f"; ckaprep's namespaces: kubectl get namespaces -l {OWNER_LABEL}={OWNER_VALUE}"
    out.print(one_line(f"forgot {what} without touching any cluster{left}"), soft_wrap=True)
