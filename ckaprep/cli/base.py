"""What every command shares: the consoles, the global options, one-line errors, progress, and
small readers of the environment. Command modules import this module and nothing else of the CLI."""

from __future__ import annotations

import contextlib
import copy
import functools
import json
import math
from pathlib import Path
from typing import Annotated, Optional

import typer
import typer.core
from rich.text import Text

from ckaprep import __version__
from ckaprep.cli.kept_pages import attempt_for_notes, list_content, page_key  # noqa: F401 (for study)
from ckaprep.environment import Environment
from ckaprep.errors import CkaprepError, one_line
from ckaprep.exit_status import ExitStatus

GLOBAL_OPTION_NAMES = ("kubeconfig", "context", "exercises")


def _take_global_option(ctx, param, value) -> None:
    if value is None or value == () or value == []:
        return
    env = environment(ctx)
    if param.name == "exercises":
        env.extra_exercise_dirs = [*env.extra_exercise_dirs, *map(Path, value)]
    else:
        setattr(env, param.name, value)


def _global_option_after(option):
    """The top level's global option, for a command to take after its name (`ckaprep check
    --context kind-cka`). The command line moves those before the command
    (`ckaprep.cli.entry`), where the top level reads them; this copy puts them in every
    command's --help and completion."""
    after = copy.copy(option)
    after.expose_value, after.callback, after.is_global = False, _take_global_option, True
    return after


def _format_options(self, *, ctx, formatter) -> None:
    """Arguments, the command's options, then the global options it also takes."""
    sections: dict[str, list] = {"Arguments": [], "Options": [], "Global options": []}
    for param in self.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None:
            continue
        kind = "Arguments" if param.param_type_name == "argument" else "Options"
        sections["Global options" if getattr(param, "is_global", False) else kind].append(record)
    for title, rows in sections.items():
        if rows:
            with formatter.section(title):
                formatter.write_dl(rows)


if hasattr(typer.core, "_typer_format_options"):
    typer.core._typer_format_options = _format_options


class CommandGroup(typer.core.TyperGroup):
    """Lists each command with its whole first sentence, wrapped under its column: never cut
    short with "..." at 80 columns. Every command in it also takes the global options."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        shared = [_global_option_after(param) for param in self.params if param.name in GLOBAL_OPTION_NAMES]
        if shared:  # the top level: its commands and their commands take them too
            todo = list(self.commands.values())
            while todo:
                command = todo.pop()
                command.params.extend(copy.copy(param) for param in shared)
                todo += getattr(command, "commands", {}).values()

    def format_commands(self, ctx, formatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _plain_usage_name(self) -> str:
    """An argument in a usage line as click writes it: `FILE...`, `[N]`, never `{FILE}` or `[[N]]`."""
    name = self.display_name_raw
    name = name if self.required or name.startswith("[") else f"[{name}]"
    return name if self.nargs == 1 or name.endswith("...") else name + "..."


def _plain_type(self, ctx) -> str | None:
    """What an option takes, as a word (`N`, `TEXT`), not typer's `<int range>`; arguments show
    their metavar alone."""
    if isinstance(self, typer.core.TyperArgument):
        return None
    if self.metavar:
        return self.metavar
    desc = self.type_descriptor
    words = {int: "N", float: "NUMBER", str: "TEXT"}
    return "PATH" if desc.is_path else words.get(desc.annotation, desc.annotation.__name__.upper())


HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}

# typer's help shows its internal types (`FILE... <list[Path]>`, `--seed <int>`, `[[N]]`).
if hasattr(typer.core.TyperArgument, "_usage_display_name"):
    typer.core.TyperArgument._usage_display_name = _plain_usage_name
if hasattr(typer.core.TyperArgument, "display_type_rich"):
    typer.core.TyperArgument.display_type_rich = _plain_type
    typer.core.TyperOption.display_type_rich = _plain_type


def command_group(name: str | None = None, help: str | None = None) -> typer.Typer:
    """A group of commands: `exam` and `classroom` have a name of their own; a group without
    one adds its commands to the top level."""
    return typer.Typer(
        cls=CommandGroup,
        name=name,
        help=help,
        no_args_is_help=name is not None,
        context_settings=HELP_OPTIONS,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )


_running: list[Environment] = []  # the Environment of the command running now


def running_environment() -> Environment:
    """The Environment the running command was started with; a default one before any command
    has started (an error while reading the command line)."""
    if not _running:
        _running.append(Environment())
    return _running[0]


def run_with(env: Environment) -> Environment:
    """Make `env` the running command's Environment: `out` and `err` print on its streams."""
    _running[:] = [env]
    return env


class _EnvironmentConsole:
    """`out` or `err` of the running command's Environment, looked up at each use: a test that
    gives the command line an Environment with streams of its own gets what it prints."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str):
        return getattr(getattr(running_environment(), self._name), attr)


out = _EnvironmentConsole("out")
err = _EnvironmentConsole("err")

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]


def environment(ctx: typer.Context) -> Environment:
    """The Environment the command line was started with (tests pass their own)."""
    root = ctx.find_root()
    if not isinstance(root.obj, Environment):
        root.obj = Environment()
    return run_with(root.obj)


def print_json(data) -> None:
    out.file.write(json.dumps(data, indent=2) + "\n")
    out.file.flush()


reported: list[BaseException] = []  # what a command already told the user about


def print_error(message: str) -> None:
    """One line on stderr, whatever the message holds."""
    err.print(Text.assemble(("error:", "bold red"), " ", one_line(message)))


def say_interrupted() -> None:
    err.print("interrupted")
    reported.append(KeyboardInterrupt())


def handles_errors(command):
    """One-line errors with a meaningful exit status, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except CkaprepError as exc:
            print_error(exc.message)
            reported.append(exc)
            raise typer.Exit(int(exc.exit_status)) from None
        except KeyboardInterrupt:
            say_interrupted()
            raise typer.Exit(int(ExitStatus.INTERRUPTED)) from None

    return wrapper


@contextlib.contextmanager
def forget_if_gone(what: str):
    """A cluster that cannot be reached, for a command that cleans it up (`reset`, `exam
    reset`): the error says how to drop the local record without it."""
    from ckaprep.errors import ClusterUnreachable, CredentialsRejected, KubeconfigError

    try:
        yield
    except (ClusterUnreachable, CredentialsRejected, KubeconfigError) as exc:
        raise type(exc)(
            f"{exc.message}; if that cluster is gone for good, `ckaprep reset --forget` drops the {what} "
            "without touching it"
        ) from None


class Spinner:
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


def waiter(env: Environment, progress):
    return env.waiter(progress)


def finite(value: float) -> float:
    if not math.isfinite(value):
        raise typer.BadParameter("must be a finite number of seconds")
    return value


def complete_exercise(incomplete: str) -> list[str]:
    from ckaprep.cli.completion import exercise_ids

    return exercise_ids(incomplete)


def complete_topic(incomplete: str) -> list[str]:
    from ckaprep.cli.completion import topic_names

    return topic_names(incomplete)


def complete_exam_topic(incomplete: str) -> list[str]:
    from ckaprep.cli.completion import exam_topic_names

    return exam_topic_names(incomplete)


def completion_script(shell: str) -> str:
    from ckaprep.cli.completion import SHELLS, script
    from ckaprep.errors import UsageError

    if shell not in SHELLS:
        raise UsageError(f"no completion for shell {shell!r} (choose one of: {', '.join(SHELLS)})")
    return script(shell)


ProbeImageOption = Annotated[
    Optional[str],
    typer.Option(
        "--probe-image",
        metavar="IMAGE",
        help="Image for the in-cluster curl probe pod, e.g. a mirror on an air-gapped cluster "
        "(default: $CKAPREP_PROBE_IMAGE, then the pinned curl image).",
    ),
]


# -- the global options ---------------------------------------------------------------------
def _version(ctx: typer.Context, value: bool):
    if value:
        environment(ctx).out.print(f"ckaprep {__version__}")
        raise typer.Exit()


KUBECONFIG_HELP = "Path to a kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)."
CONTEXT_HELP = "The kubeconfig context to use (default: the current one)."
EXERCISES_HELP = "Add a directory of your own exercise files (repeatable; also $CKAPREP_EXERCISES)."


def complete_context(ctx: typer.Context, incomplete: str) -> list[str]:
    """The contexts of the kubeconfig in use (--kubeconfig if given before, else as kubectl finds it)."""
    import os

    from ckaprep.cluster.contexts import context_names

    kubeconfig, at = None, ctx
    while at is not None and kubeconfig is None:
        kubeconfig, at = at.params.get("kubeconfig"), at.parent
    if kubeconfig is None and isinstance(ctx.find_root().obj, Environment):  # given after the command
        kubeconfig = ctx.find_root().obj.kubeconfig
    return [name for name in context_names(kubeconfig, os.environ) if name.startswith(incomplete)]


# Commands whose state is a classroom seat's, in the cluster, when run with a seat's kubeconfig.
SEAT_AWARE_COMMANDS = {"start", "check", "status", "hint", "solution", "reset", "exam", "task"}


def global_options(
    ctx: typer.Context,
    kubeconfig: Annotated[Optional[str], typer.Option(metavar="PATH", help=KUBECONFIG_HELP)] = None,
    context: Annotated[
        Optional[str], typer.Option(metavar="NAME", help=CONTEXT_HELP, autocompletion=complete_context)
    ] = None,
    exercises: Annotated[Optional[list[Path]], typer.Option("--exercises", metavar="DIR", help=EXERCISES_HELP)] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
):
    env = environment(ctx)
    env.kubeconfig = kubeconfig or env.kubeconfig
    env.context = context or env.context
    env.extra_exercise_dirs = list(exercises or env.extra_exercise_dirs)
    env.seat_aware = ctx.invoked_subcommand in SEAT_AWARE_COMMANDS


# -- readers shared by several commands ---------------------------------------------------------
def catalogue(env: Environment):
    """Every exercise; a broken file in a trainer's directory is reported and skipped."""
    return catalogue_and_skipped(env)[0]


def catalogue_and_skipped(env: Environment):
    exercises, skipped = env.catalogue().load()
    for problem in skipped:
        err.print(f"warning: skipped {problem.message}", markup=False, soft_wrap=True)
    return exercises, skipped


def find_exercise(env: Environment, exercise_id: str):
    return env.catalogue().find(exercise_id)  # ids are names from the catalogue, never paths


def active(env: Environment, command: str):
    """The attempt `command` acts on, its exercise, and its exam if any (see
    `ckaprep.practice.checking.active_attempt`)."""
    from ckaprep.practice.checking import active_attempt

    return active_attempt(env.state, env.catalogue().find, command)


def read_history(env: Environment):
    from ckaprep.practice.history import History

    records, warnings = History(env.state.history_path).read()
    for warning in warnings:
        err.print(f"warning: {warning}", soft_wrap=True)
    return records


def suggest(env: Environment, *, quiet: bool = False, among: dict | None = None):
    """The exercise to practise now (`next`, `start --next`); its reason goes to stderr unless quiet.
    Chosen `among` these exercises, by default those the cluster can run as far as the cache knows."""
    from ckaprep.practice.progress import next_exercise

    exercises = (
        among if among is not None else supported_only(catalogue(env), known_capabilities(env), unknown_note=False)
    )  # a suggestion, not a listing
    suggestion = next_exercise(read_history(env), exercises, env.clock.now())
    if not quiet:
        err.print(f"next: {suggestion.reason}", soft_wrap=True)
    return suggestion


def print_rendered(env: Environment, name: str, content: tuple, view) -> None:
    """Print what `view()` renders, rendered once per content and terminal, like man's cached
    pages: Markdown and the catalogue are slow to load, and their output changes rarely.
    `view` returns the renderable and whether it may be kept (`ckaprep.cli.kept_pages` serves it)."""
    from ckaprep.views.rendered_cache import RenderedCache

    cache = RenderedCache.for_environ(env.environ)
    key = page_key(out, name, content)
    text = cache.get(key)
    if text is None:
        renderable, keep = view()
        text = rendered(renderable)
        if keep:
            cache.put(key, text)
    out.file.write(text)
    out.file.flush()


def rendered(renderable) -> str:
    """What `out` prints for a renderable. Into a pipe or a file, lines lose the spaces rich
    pads them with up to the width."""
    import re

    with out.capture() as captured:
        out.print(renderable, crop=False)  # a word wider than the terminal stays whole
    text = captured.get()
    return text if out.is_terminal else re.sub(r"[ \t]+$", "", text, flags=re.MULTILINE)


def print_trimmed(renderable) -> None:
    out.file.write(rendered(renderable))
    out.file.flush()


def run_instead(ctx: typer.Context, group: str, command: str, args: list[str]) -> None:
    """Run another group's command in place of this one (`status` during an exam is `exam
    status`), found by name in the assembled command line rather than imported."""
    root = ctx.find_root()
    found = root.command.get_command(root, group)
    found = found.get_command(ctx, command) if found is not None else None
    if found is None:
        raise RuntimeError(f"no command `{group} {command}`")
    with found.make_context(f"{group} {command}", list(args), parent=ctx) as instead:
        return found.invoke(instead)


# -- what the cluster offers, for exercises that require something (`requires`) -----------------
def capability_cache(env: Environment):
    from ckaprep.practice.capability_cache import CapabilityCache

    return CapabilityCache.for_environ(env.environ)


def known_capabilities(env: Environment):
    """What a recent `doctor` (or `start`) found this cluster to offer, from the cache alone:
    no request to the cluster. None when nothing fresh is known."""
    cache = capability_cache(env)
    return cache.fresh(cache.cluster_of(env.environ, env.kubeconfig, env.context), env.clock.now())


def found_capabilities(env: Environment, exercises, progress=None):
    """What the cluster offers as far as `exercises` need it: the cache when fresh, else found
    out now by trying (Pods in a scratch namespace; see ckaprep.grading.capability_probe) and
    kept. None when the exercises require nothing."""
    from ckaprep.grading.capability_probe import find_capabilities
    from ckaprep.practice.capability_cache import capabilities_for

    cache = capability_cache(env)

    def probe(want):
        from ckaprep.catalogue.capabilities import Capabilities

        if getattr(env.state, "seat", None) is not None:  # a seat may not make a namespace to try things in
            return Capabilities()
        (progress or (lambda message: None))("finding out what the cluster offers: " + ", ".join(sorted(want)))
        return find_capabilities(
            env.cluster(), want=want, curl_image=env.default_probe_image, waiter=env.waiter(progress)
        ).capabilities

    return capabilities_for(
        exercises,
        cache=cache,
        cluster_name=cache.cluster_of(env.environ, env.kubeconfig, env.context),
        now=env.clock.now(),
        probe=probe,
    )


def refuse_unsupported(exercise, capabilities) -> None:
    """One line naming what the cluster lacks, with exit status 6, when it cannot run the exercise."""
    from ckaprep.catalogue.capabilities import unmet_reasons
    from ckaprep.errors import MissingCapability

    reasons = unmet_reasons(exercise, capabilities)
    unknown = capabilities.unknown(exercise.requires) if capabilities is not None else list(exercise.requires)
    wants = ", ".join(r.text for r in exercise.requires)
    if reasons:
        raise MissingCapability(
            f"exercise {exercise.id} cannot run on this cluster: {'; '.join(reasons)} "
            f"(it requires {wants or 'what its faults need'}); `ckaprep doctor` says what to change"
        )
    if unknown:
        raise MissingCapability(
            f"exercise {exercise.id} requires {wants}, and whether this cluster has "
            f"{', '.join(r.described for r in unknown)} cannot be found out with these credentials "
            "(a classroom seat, or a user who may not list nodes); practise it on a cluster of "
            "your own, where `ckaprep doctor` finds out"
        )


def on_topics(exercises: dict, topics) -> dict:
    """The exercises an exam on these topics may draw (all of them without topics): what the
    cluster offers is found out for those only."""
    from ckaprep.study.vocabulary import resolve

    if not topics:
        return exercises
    with_exercises = sorted({t for ex in exercises.values() for t in ex.topics})
    wanted = {resolve(topic, among=with_exercises) for topic in topics}
    return {key: ex for key, ex in exercises.items() if wanted & set(ex.topics)}


def supported_only(exercises: dict, capabilities, *, unknown_note: bool = True) -> dict:
    """The exercises the cluster can run; how many were left out and why goes to stderr, as does
    a note on those kept that require what is not known of this cluster."""
    from ckaprep.catalogue.capabilities import select

    selection = select(exercises, capabilities)
    if selection.summary():
        err.print(f"note: {selection.summary()}; `ckaprep doctor` says what to change", soft_wrap=True)
    unknown = capabilities_unknown(selection.kept, capabilities)
    if unknown and unknown_note:
        err.print(f"note: {unknown}", soft_wrap=True)
    return selection.kept


def capabilities_unknown(exercises: dict, capabilities) -> str:
    """A note on the exercises that require what is not known of this cluster, or ""."""
    from ckaprep.catalogue.capabilities import all_requirements

    unknown: dict[str, None] = {}
    count = 0
    for exercise in exercises.values():
        requirements = all_requirements(exercise)
        missing = capabilities.unknown(requirements) if capabilities is not None else requirements
        count += bool(missing)
        unknown.update(dict.fromkeys(r.capability for r in missing))
    if not count:
        return ""
    return (
        f"{count} exercise{'s' if count != 1 else ''} require{'s' if count == 1 else ''} "
        f"{', '.join(unknown)}, which is not known of this cluster (not found out in the last hour): "
        f"listed all the same; `ckaprep doctor` finds out"
    )
