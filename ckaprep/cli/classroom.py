"""The command line of a classroom, for the trainer: wiring only.

The work happens in ckaprep.classroom and ckaprep.views.classroom_html.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.text import Text

from ckaprep.cli.base import (
    JsonOption,
    ProbeImageOption,
    Spinner,
    catalogue,
    command_group,
    complete_exam_topic,
    environment,
    err,
    handles_errors,
    on_topics,
    out,
    print_json,
    waiter,
)
from ckaprep.errors import one_line
from ckaprep.views.classroom_tables import (
    class_exam_table,
    grades_table,
    minutes,
    report_view,
    seats_table,
    status_table,
)

commands = command_group(
    name="classroom",
    help=(
        "Run a class on one shared cluster (run these with cluster-admin): a seat of namespaces and a "
        "kubeconfig per learner, one grade and one report for everyone.\n\n"
        "ckaprep classroom create CLASS --seats N → hand out the kubeconfigs → learners use "
        "ckaprep as usual → ckaprep classroom grade CLASS → ckaprep classroom report CLASS → "
        "ckaprep classroom delete CLASS."
    ),
)

ClassName = Annotated[
    str, typer.Argument(metavar="CLASS", help="The class's name (lower-case letters, digits, dashes).")
]
Parallel = Annotated[int, typer.Option("--parallel", min=1, max=64, help="Seats handled at the same time.")]


def _seat_problems(rows: list[dict]) -> None:
    for row in rows:
        if row.get("problem"):
            err.print(Text(f"seat {row['seat']}: {one_line(row['problem'])}"))


@commands.command("create")
@handles_errors
def classroom_create(
    ctx: typer.Context,
    class_name: ClassName,
    seats: Annotated[int, typer.Option("--seats", min=0, metavar="N", help="How many seats (at least).")] = 0,
    learners: Annotated[
        Optional[Path], typer.Option("--learners", metavar="FILE", help="Learners' names, one a line: one seat each.")
    ] = None,
    valid: Annotated[
        str, typer.Option("--valid", metavar="DURATION", help="How long the seats' tokens last, e.g. 8h.")
    ] = "8h",
    out_dir: Annotated[
        Optional[Path],
        typer.Option("--out", metavar="DIR", help="Where the kubeconfigs go (default: ./CLASS-kubeconfigs)."),
    ] = None,
    parallel: Parallel = 8,
    rename: Annotated[
        bool, typer.Option("--rename", help="Give seats whose learner left the list to the new names.")
    ] = False,
    as_json: JsonOption = False,
):
    """Set up one seat per learner (namespaces, a ServiceAccount with `edit` in them only) and
    write a kubeconfig for each. Run again to add seats or renew the tokens (the old ones stop
    working); learners keep their seats by name, and seats keep their state."""
    from ckaprep.classroom.seats import create_class, namespaces_needed, parse_duration, read_learners

    env = environment(ctx)
    names = read_learners(learners) if learners else []
    if not seats and not names:
        from ckaprep.errors import UsageError

        raise UsageError("give --seats N or --learners FILE")
    valid_s = parse_duration(valid)
    needed = namespaces_needed(catalogue(env))
    cluster = env.cluster()
    began = env.clock.monotonic()
    with Spinner() as progress:
        progress("setting up seats")
        created = create_class(
            cluster,
            class_name,
            seats=seats,
            learners=names,
            namespaces=needed,
            valid_s=valid_s,
            out_dir=out_dir or Path(f"{class_name}-kubeconfigs"),
            parallel=parallel,
            progress=progress,
            rename=rename,
        )
    took = env.clock.monotonic() - began
    if as_json:
        print_json(
            {
                "class": class_name,
                "seconds": round(took, 2),
                "seats": [
                    {
                        "seat": c.seat.id,
                        "learner": c.seat.learner,
                        "namespaces": c.seat.namespaces,
                        "kubeconfig": c.kubeconfig,
                        "expires": c.expires,
                        "new": c.new,
                    }
                    for c in created
                ],
            }
        )
        return
    out.print(seats_table(created))
    fresh = sum(c.new for c in created)
    out.print(
        f"class {class_name}: {fresh} new seat(s), {len(created) - fresh} kept; {len(created)} kubeconfig(s) "
        f"written in {took:.1f}s"
    )
    out.print("Each learner runs ckaprep with their file: export KUBECONFIG=<file>; ckaprep start <exercise>")


@commands.command("status")
@handles_errors
def classroom_status(ctx: typer.Context, class_name: ClassName, as_json: JsonOption = False):
    """Each seat: its learner, active exercise or exam, time on it and last score."""
    from ckaprep.classroom.grades import class_status
    from ckaprep.classroom.seats import check_class_name

    env = environment(ctx)
    rows = class_status(env.cluster(), check_class_name(class_name), env.clock.now(), catalogue(env))
    if as_json:
        print_json({"class": class_name, "seats": rows})
        return
    out.print(status_table(rows))
    _seat_problems(rows)


@commands.command("exam")
@handles_errors
def classroom_exam(
    ctx: typer.Context,
    class_name: ClassName,
    tasks: Annotated[Optional[int], typer.Option("--tasks", min=1, metavar="N", help="As for `exam start`.")] = None,
    minutes: Annotated[
        Optional[int], typer.Option("--minutes", min=1, metavar="M", help="As for `exam start`.")
    ] = None,
    seed: Annotated[Optional[int], typer.Option(metavar="S", help="Seed of the draw.")] = None,
    topic: Annotated[
        Optional[list[str]],
        typer.Option("--topic", metavar="TOPIC", autocompletion=complete_exam_topic, help="As for `exam start`."),
    ] = None,
    draw: Annotated[
        str, typer.Option("--draw", metavar="same|per-seat", help="One draw for all, or one per seat.")
    ] = "same",
    force: Annotated[bool, typer.Option("--force", help="Replace the seats' active exercises or exams.")] = False,
    parallel: Parallel = 8,
    as_json: JsonOption = False,
):
    """Start the same mock exam in every seat at once, with one deadline. Learners see it with
    `ckaprep exam status`; `classroom grade CLASS --at-deadline` grades it when time is up."""
    from ckaprep.attempts import new_seed
    from ckaprep.classroom.exams import start_class_exam
    from ckaprep.classroom.seats import check_class_name
    from ckaprep.errors import UsageError

    if draw not in ("same", "per-seat"):
        raise UsageError(f"--draw must be same or per-seat, not {draw!r}")
    env = environment(ctx)
    seed = new_seed(seed)
    everything = catalogue(env)
    # A seat's credentials may not list Nodes nor try a policy: what requires either is left out,
    # whatever this cluster offers, and a fault pool draws only faults that require nothing.
    needing = sorted(key for key, ex in on_topics(everything, topic).items() if ex.requires)
    if needing:
        err.print(
            f"note: left out {len(needing)} exercise{'s' if len(needing) != 1 else ''} a classroom seat "
            f"cannot grade, since {'they require' if len(needing) != 1 else 'it requires'} two nodes or "
            f"NetworkPolicy: {', '.join(needing)}",
            soft_wrap=True,
        )
    with Spinner() as progress:
        progress("setting up the exam in every seat")
        started = start_class_exam(
            env.cluster(),
            check_class_name(class_name),
            {k: ex for k, ex in everything.items() if not ex.requires},
            state_dir=env.state.directory,
            seed=seed,
            clock=env.clock,
            tasks=tasks,
            topics=topic or (),
            minutes=minutes,
            per_seat=draw == "per-seat",
            force=force,
            parallel=parallel,
            progress=progress,
        )
    if as_json:
        print_json(started)
        return
    out.print(class_exam_table(started))
    out.print(f"exam {started['exam']} started in {len(started['seats'])} seats; deadline {started['deadline']}")


@commands.command("grade")
@handles_errors
def classroom_grade(
    ctx: typer.Context,
    class_name: ClassName,
    as_json: JsonOption = False,
    wait: Annotated[
        float, typer.Option(min=0, max=600, help="As for `check`: seconds of polling a seat still settling.")
    ] = 10.0,
    parallel: Parallel = 8,
    probe_image: ProbeImageOption = None,
    at_deadline: Annotated[
        bool, typer.Option("--at-deadline", help="Wait for the class exam's deadline, then grade.")
    ] = False,
):
    """Grade every seat's active exercise or exam with your credentials (the authoritative
    grade), seats in parallel, and record the results in the class's results namespace."""
    from ckaprep.classroom.exams import class_exam_deadline, wait_for_deadline
    from ckaprep.classroom.grades import grade_class
    from ckaprep.classroom.seats import check_class_name

    env = environment(ctx)
    with Spinner() as progress:
        deadline = class_exam_deadline(env.cluster(), check_class_name(class_name)) if at_deadline else None
        wait_for_deadline(
            deadline,
            clock=env.clock,
            waiting=lambda left: progress(f"grading at the deadline, in {minutes(left)}"),
        )
        progress("grading")
        options = env.grading_options(wait_s=wait, probe_image=probe_image, progress=progress)
        result = grade_class(
            env.cluster(),
            check_class_name(class_name),
            catalogue(env),
            now=env.clock.now(),
            options=options,
            parallel=parallel,
        )
    if as_json:
        print_json(result)
        return
    out.print(grades_table(result))
    graded = sum(s["score"] is not None for s in result["seats"])
    out.print(f"graded {graded} of {len(result['seats'])} seats in {result['seconds']:.1f}s")


@commands.command("report")
@handles_errors
def classroom_report(
    ctx: typer.Context,
    class_name: ClassName,
    as_json: JsonOption = False,
    html: Annotated[
        Optional[Path], typer.Option("--html", metavar="FILE", help="Also write a self-contained HTML page.")
    ] = None,
):
    """Learners × exercises with scores and time, the checks failed most often, and topic mastery."""
    from ckaprep.classroom.grades import class_report
    from ckaprep.classroom.seats import check_class_name

    env = environment(ctx)
    report = class_report(env.cluster(), check_class_name(class_name), catalogue(env), env.clock.now())
    if html is not None:
        from ckaprep.errors import UsageError
        from ckaprep.views.classroom_html import report_html

        try:
            html.write_text(report_html(report, env.clock.now()), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--html {html}: {exc.strerror or exc}") from None
        err.print(f"wrote {html}")
    if as_json:
        print_json(report)
        return
    out.print(report_view(report))
    _seat_problems(report["learners"])


@commands.command("delete")
@handles_errors
def classroom_delete(ctx: typer.Context, class_name: ClassName, as_json: JsonOption = False):
    """Remove everything the class created (its labelled namespaces, with the seats and results
    in them) and nothing else, and wait until it is gone."""
    from ckaprep.classroom.seats import delete_class

    env = environment(ctx)
    with Spinner() as progress:
        deleted = delete_class(env.cluster(), class_name, waiter=waiter(env, progress))
    if as_json:
        print_json({"class": class_name, "deleted": deleted})
        return
    out.print(f"class {class_name}: {len(deleted)} namespace(s) deleted")
