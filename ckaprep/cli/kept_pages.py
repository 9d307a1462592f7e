"""Study notes and the exercise list as printed last time, served before the command line loads.

`ckaprep explain TOPIC` and `ckaprep list`, typed exactly like that, print the same bytes
as the last time nothing they depend on changed: the page, the learner's own note, the
exercise files and the terminal. Those bytes are kept in the rendered cache by the full
command, and this module finds them without loading typer, Markdown or the catalogue.
Anything else (an option, a page not yet kept, any problem at all) goes to the full
command line, which renders, prints and keeps the page.
"""

from __future__ import annotations

from rich.console import Console

from ckaprep.environment import Environment
from ckaprep.views.rendered_cache import RenderedCache


def page_key(console: Console, name: str, content: tuple) -> str:
    terminal = (
        console.width,
        console.color_system,
        console.is_terminal,
        console.no_color,
        console.legacy_windows,
        console.encoding,
    )
    return RenderedCache.key(name, *content, *terminal)


def topic_content(env: Environment, topic: str) -> tuple[str, str]:
    """The page and the learner's note for it; a UsageError for an unknown topic."""
    from ckaprep.study.notes import find_topic, personal_note

    found = find_topic(topic, cache=env.parsed_cache())
    return found.body, personal_note(found, attempt_for_notes(env))


def attempt_for_notes(env: Environment):
    """The active attempt, for the notes' personal panel. Notes need no state, so a state
    directory that cannot be read (CKAPREP_HOME naming a file, say) leaves the panel out, as
    `list` ignores it, rather than refusing the notes."""
    from ckaprep.errors import CkaprepError

    try:
        return env.state.load()
    except CkaprepError:
        return None


def list_content(env: Environment) -> tuple:
    """What the exercise list depends on: the exercise files, and what this cluster was found
    to offer (a list leaves out what it cannot run), as the cache knows it now."""
    from ckaprep.catalogue.locations import exercise_files_stamp
    from ckaprep.practice.capability_cache import CapabilityCache

    cache = CapabilityCache.for_environ(env.environ)
    known = cache.fresh(cache.cluster_of(env.environ, env.kubeconfig, env.context), env.clock.now())
    return (exercise_files_stamp(env.exercise_dirs()), known.to_json() if known is not None else None)


def kept_page(args: list[str], env: Environment) -> str | None:
    """The page these arguments print, if it was kept and nothing it depends on changed."""
    if args == ["list"]:
        name, content = "list", list_content(env)
    elif len(args) == 2 and args[0] == "explain" and not args[1].startswith("-"):
        name, content = "topic", topic_content(env, args[1])
    else:
        return None
    return RenderedCache.for_environ(env.environ).get(page_key(env.out, name, content))


def serve_kept_page(args: list[str]) -> bool:
    """Print the kept page and say so; False leaves everything to the full command line."""
    env = Environment()
    if any(key.endswith("_COMPLETE") for key in env.environ) or env.environ.get("CKAPREP_DEBUG"):
        return False
    try:
        text = kept_page(args, env)
    except Exception:  # the full command reports it properly
        return False
    if text is None:
        return False
    env.out.file.write(text)  # an OutputError, if any, is the caller's to report (ckaprep.cli.streams)
    env.out.file.flush()
    return True
