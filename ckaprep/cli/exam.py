"""The `exam` commands: a timed mock exam. The work happens in ckaprep.practice.exam."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.text import Text

from ckaprep.cli.base import (
    JsonOption,
    Spinner,
    catalogue,
    command_group,
    complete_exam_topic,
    environment,
    err,
    forget_if_gone,
    found_capabilities,
    handles_errors,
    on_topics,
    out,
    print_json,
    supported_only,
    waiter,
)
from ckaprep.errors import UsageError
from ckaprep.exit_status import ExitStatus

commands = command_group(
    name="exam",
    help=(
        "A timed mock exam: several tasks at once, one clock, no hints, and a verdict against "
        "the 66% pass line at the end.\n\n"
        "ckaprep exam start → (kubectl …) → ckaprep exam submit → ckaprep exam review → "
        "ckaprep exam reset."
    ),
)

TaskNumber = Annotated[int, typer.Argument(metavar="N", help="The task's number on the exam sheet.", min=1)]


def _load(ctx: typer.Context):
    """The exam and its exercises, submitted first when past its deadline (see `load_exam`)."""
    from ckaprep.practice.exam import load_exam

    env = environment(ctx)

    def submit_overdue():
        err.print("time is up: submitting the exam")
        return _submit(ctx, auto=True)

    return load_exam(env.state, catalogue(env), clock=env.clock, submit_overdue=submit_overdue)


def _submit(ctx: typer.Context, *, auto: bool):
    from ckaprep.practice.exam import SUBMIT_WAIT_S, submit_exam

    env = environment(ctx)
    with Spinner() as progress:
        progress("grading")
        options = env.grading_options(wait_s=SUBMIT_WAIT_S, progress=progress)
        return submit_exam(env.state, catalogue(env), env.cluster, now=env.clock.now(), auto=auto, options=options)


def _show_result(exam, as_json: bool) -> None:
    """Print the result and end with exit 0 on PASS, 1 on FAIL."""
    if as_json:
        print_json(exam.result)
    else:
        from ckaprep.views.render_exam import result_view

        out.print(result_view(exam.result))
    raise typer.Exit(int(ExitStatus.OK if exam.result["passed"] else ExitStatus.CHECKS_FAILED))


def _sheet_json(exam, exercises) -> dict:
    return {
        "exam": exam.id,
        "seed": exam.seed,
        "practice": exam.practice,
        "minutes": exam.minutes,
        "started_at": exam.started_at,
        "deadline": exam.deadline,
        "tasks": [
            {
                "number": n,
                "exercise": ex.id,
                "title": ex.title,
                "weight": exam.weights[n - 1],
                "namespace": exam.task(n).namespace,
                "namespaces": exam.task(n).namespaces,
                "params": exam.task(n).params,
                "task": ex.task_for(exam.task(n).params),
            }
            for n, ex in enumerate(exercises, start=1)
        ],
    }


@commands.command("start")
@handles_errors
def exam_start(
    ctx: typer.Context,
    tasks: Annotated[
        Optional[int],
        typer.Option("--tasks", min=1, metavar="N", help="How many tasks (default: enough to cover every topic)."),
    ] = None,
    minutes: Annotated[
        Optional[int],
        typer.Option("--minutes", min=1, metavar="M", help="Time limit (default: the tasks' suggested minutes)."),
    ] = None,
    seed: Annotated[
        Optional[int], typer.Option(metavar="S", help="Seed of the draw and the names, to replay an exam.")
    ] = None,
    topic: Annotated[
        Optional[list[str]],
        typer.Option(
            "--topic",
            metavar="TOPIC",
            autocompletion=complete_exam_topic,
            help="Draw only exercises with this topic (repeatable).",
        ),
    ] = None,
    practice: Annotated[
        bool, typer.Option("--practice", help="Allow hint, solution and check (on the task `exam task N` shows).")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an earlier exam (its namespaces are deleted).")
    ] = False,
    as_json: JsonOption = False,
):
    """Draw tasks, set them all up in your cluster at once, and print the exam sheet."""
    from ckaprep.attempts import new_seed
    from ckaprep.practice.exam import draw_exam, start_exam

    env = environment(ctx)
    seed = new_seed(seed)
    began = env.clock.monotonic()
    with Spinner() as progress:
        # Only what this cluster can run is drawn: found out now when not known from the last hour.
        everything = catalogue(env)
        drawable = on_topics(everything, topic)
        capabilities = found_capabilities(env, drawable.values(), progress)
        draw = draw_exam(
            supported_only(drawable, capabilities),
            seed=seed,
            tasks=tasks,
            topics=topic or (),
            minutes=minutes,
            capabilities=capabilities,
        )
        cluster = env.cluster()
        progress(f"setting up {len(draw.exercises)} tasks")
        exam = start_exam(
            env.workspace,
            cluster,
            draw,
            seed=seed,
            practice=practice,
            force=force,
            context=env.context,
            waiter=waiter(env, progress),
            catalogue=everything,
        )
    # The exam set up may be one cut short earlier and finished now, not this draw.
    exercises = [everything[task.exercise] for task in exam.tasks]
    err.print(f"set up {len(exam.tasks)} tasks in {env.clock.monotonic() - began:.1f}s", style="dim")
    if as_json:
        print_json(_sheet_json(exam, exercises))
        return
    from ckaprep.views.render_exam import exam_sheet

    out.print(exam_sheet(exam, exercises))


@commands.command("status")
@handles_errors
def exam_status(ctx: typer.Context, as_json: JsonOption = False):
    """Time left, and each task's number, title, weight and flag."""
    exam, exercises, just_submitted = _load(ctx)
    if just_submitted:
        _show_result(exam, as_json)
    env = environment(ctx)
    if as_json:
        data = _sheet_json(exam, exercises)
        for item in data["tasks"]:
            del item["task"], item["params"]
            item["flagged"] = item["number"] in exam.flagged
        result = exam.result or {}
        data |= {
            "time_left_s": round(max(0.0, exam.time_left_s(env.clock.now())), 1),
            "submitted": exam.submitted,
            "score": result.get("score"),
            "verdict": result.get("verdict"),
        }
        print_json(data)
        return
    from ckaprep.views.render_exam import status_view

    out.print(status_view(exam, exercises, env.clock.now()))


@commands.command("task")
@handles_errors
def exam_task(ctx: typer.Context, number: TaskNumber, as_json: JsonOption = False):
    """Print one task again. In a practice exam, hint, solution and check then act on it."""
    from ckaprep.practice.exam import update_exam

    exam, exercises, just_submitted = _load(ctx)
    if just_submitted:
        _show_result(exam, as_json)
    exam.task(number)  # a clear error for a number off the sheet
    if not exam.submitted:
        exam = update_exam(environment(ctx).state, lambda e: setattr(e, "current", number))
    exercise = exercises[number - 1]
    if as_json:
        print_json(_sheet_json(exam, exercises)["tasks"][number - 1] | {"flagged": number in exam.flagged})
        return
    from ckaprep.views.render import minutes_and_seconds
    from ckaprep.views.render_exam import task_view

    out.print(task_view(exam, number, exercise))
    if not exam.submitted:
        left = minutes_and_seconds(exam.time_left_s(environment(ctx).clock.now()))
        out.print(Text.assemble(("Time left: ", "bold"), f"{left} of {exam.minutes} min"))


@commands.command("flag")
@handles_errors
def exam_flag(
    ctx: typer.Context,
    number: TaskNumber,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the flag instead.")] = False,
):
    """Mark a task for review (shown in `exam status`), or remove the mark with --clear."""
    from ckaprep.practice.exam import update_exam

    exam, _, just_submitted = _load(ctx)
    if just_submitted:
        _show_result(exam, False)
    exam.task(number)

    def change(e):
        flagged = set(e.flagged) - {number} if clear else set(e.flagged) | {number}
        e.flagged = sorted(flagged)

    update_exam(environment(ctx).state, change)
    out.print(f"task {number} {'unflagged' if clear else 'flagged for review'}")


@commands.command("submit")
@handles_errors
def exam_submit(ctx: typer.Context, as_json: JsonOption = False):
    """Grade every task and give the verdict against 66%.

    Exit status: 0 PASS, 1 FAIL, 2 no exam, 3 cluster unreachable or access denied.
    """
    exam, _, _ = _load(ctx)
    if not exam.submitted:
        exam = _submit(ctx, auto=False)
    _show_result(exam, as_json)


@commands.command("review")
@handles_errors
def exam_review(ctx: typer.Context, as_json: JsonOption = False):
    """After submitting: each task's solution, with your names, next to what your answer got wrong."""
    exam, exercises, _ = _load(ctx)
    if not exam.submitted:
        raise UsageError("the exam is still running; results and solutions come after `ckaprep exam submit`")
    if as_json:
        tasks = [
            task | {"solution": ex.solution_for(attempt.params)}
            for task, ex, attempt in zip(exam.result["tasks"], exercises, exam.tasks)
        ]
        print_json(exam.result | {"tasks": tasks})
        return
    from ckaprep.views.render_exam import review_view

    out.print(review_view(exam, exercises), crop=False)


@commands.command("reset")
@handles_errors
def exam_reset(ctx: typer.Context, as_json: JsonOption = False):
    """Delete every namespace of the exam (only those labelled as its own) and forget it."""
    from ckaprep.practice.exam import reset_exam

    env = environment(ctx)
    with forget_if_gone("exam"):
        _, _, just_submitted = _load(ctx)
    with Spinner() as progress, forget_if_gone("exam"):
        exam, left_alone = reset_exam(env.workspace, env.cluster, waiter=waiter(env, progress))
    seated = all(task.seat for task in exam.tasks)  # a classroom seat's exam: emptied, not deleted
    deleted = [] if seated else [ns for ns in exam.namespaces if ns not in left_alone]
    if seated:
        if as_json:
            result = exam.result or {}
            print_json(
                {
                    "exam": exam.id,
                    "deleted": [],
                    "emptied": exam.namespaces,
                    "left_alone": [],
                    "score": result.get("score"),
                    "verdict": result.get("verdict"),
                }
            )
        else:
            out.print(f"reset exam {exam.id}: namespace(s) {', '.join(exam.namespaces)} emptied")
        return
    if as_json:
        result = exam.result or {}
        print_json(
            {
                "exam": exam.id,
                "deleted": deleted,
                "left_alone": left_alone,
                "score": result.get("score"),
                "verdict": result.get("verdict"),
            }
        )
        return
    if just_submitted:
        out.print(f"exam {exam.id} was submitted first: {exam.result['score']:.1f}% {exam.result['verdict']}")
    for ns in left_alone:
        err.print(f"left namespace {ns} alone: it does not carry ckaprep's labels for this exam")
    out.print(f"reset exam {exam.id}: namespace(s) {', '.join(deleted) or '(none left)'} removed")
