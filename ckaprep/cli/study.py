"""Study and progress, with no cluster: explain, progress and next."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ckaprep.cli.base import (
    JsonOption,
    attempt_for_notes,
    catalogue,
    command_group,
    complete_topic,
    environment,
    handles_errors,
    out,
    print_json,
    print_rendered,
    print_trimmed,
    read_history,
    suggest,
)
from ckaprep.errors import UsageError

commands = command_group()


@commands.command()
@handles_errors
def explain(
    ctx: typer.Context,
    topic: Annotated[
        Optional[str], typer.Argument(help="A topic; omit to list them.", autocompletion=complete_topic)
    ] = None,
    as_json: JsonOption = False,
):
    """Study notes on ClusterIP Services, in the terminal. Needs no cluster."""
    from ckaprep.study.notes import all_topics, find_topic, personal_note

    env = environment(ctx)
    if topic is None:
        topics = all_topics(cache=env.parsed_cache())
        if as_json:
            print_json([{"topic": t.id, "summary": t.summary} for t in topics.values()])
            return
        from ckaprep.views.render import topic_list

        print_trimmed(topic_list(list(topics.values())))
        out.print("\nRead one with: ckaprep explain <topic>")
        return
    found = find_topic(topic, cache=env.parsed_cache())
    note = personal_note(found, attempt_for_notes(env))  # as ckaprep.cli.kept_pages.topic_content
    if as_json:
        print_json(
            {
                "topic": found.id,
                "summary": found.summary,
                "markdown": found.body,
                "personal": note,
                "practice": found.practice,
            }
        )
        return
    print_rendered(env, "topic", (found.body, note), lambda: _topic_view(found.body, note))


def _topic_view(body: str, note: str):
    from ckaprep.views.render import topic_view

    return topic_view(body, note), True


def stdin_is_terminal() -> bool:
    import sys

    return sys.stdin is not None and sys.stdin.isatty()


@commands.command("progress")
@handles_errors
def progress_command(
    ctx: typer.Context,
    as_json: JsonOption = False,
    reset: Annotated[bool, typer.Option("--reset", help="Clear the history (asks first).")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="With --reset: do not ask.")] = False,
):
    """Your attempts, best and last scores, topic mastery, and exam results over time."""
    from ckaprep.practice.history import History

    env = environment(ctx)
    if reset:
        path = env.state.history_path
        history = History(path)
        if not history.exists():
            if as_json:
                print_json({"cleared": None})
            else:
                out.print(f"no history to clear ({path} does not exist)")
            return
        if not yes:
            if not stdin_is_terminal():
                raise UsageError("progress --reset asks before deleting the history; without a terminal, add --yes")
            try:
                delete = typer.confirm(f"Delete the history in {path}?", err=True)
            except typer.Abort as exc:  # Ctrl-D is an answer (no); Ctrl-C still interrupts
                if not isinstance(exc.__context__, EOFError):
                    raise
                delete = False
            if not delete:
                out.print("history kept")
                return
        history.clear()
        if as_json:
            print_json({"cleared": str(path)})
        else:
            out.print(f"history cleared ({path})")
        return
    from ckaprep.practice.progress import summarize

    summary = summarize(read_history(env), catalogue(env))
    if as_json:
        print_json(summary)
        return
    from ckaprep.views.render_exam import progress_view

    out.print(progress_view(summary, env.clock.now()))


@commands.command("next")
@handles_errors
def next_command(ctx: typer.Context, as_json: JsonOption = False):
    """Which exercise to practise now, and why (weakest topic first, spaced repetition)."""
    suggestion = suggest(environment(ctx), quiet=True)
    if as_json:
        print_json(
            {"exercise": suggestion.exercise, "reason": suggestion.reason, "box": suggestion.box, "due": suggestion.due}
        )
        return
    out.print(suggestion.reason)
    out.print("start it with:", style="bold cyan")
    for command in (f"ckaprep start {suggestion.exercise}", "ckaprep start --next"):  # each whole, to paste
        out.print(f"  {command}", style="bold cyan", no_wrap=True, overflow="ignore", crop=False)
