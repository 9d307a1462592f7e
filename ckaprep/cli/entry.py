"""Where the command line starts: the installed executables, and what is done with argv before
the commands see it. Kept pages are served before typer or the commands are even imported."""

from __future__ import annotations

import os
import sys

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


def main() -> None:
    """The installed `ckaprep` command: a kept page if there is one, else the full command line."""
    from ckaprep.cli import streams
    from ckaprep.errors import OutputError

    streams.prepare()
    try:
        from ckaprep.cli.kept_pages import serve_kept_page

        if serve_kept_page(sys.argv[1:]):
            streams.finish()
            return
    except KeyboardInterrupt:  # Ctrl-C while still starting up
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except OutputError as exc:  # before the command line (and its coloured errors) is loaded
        from ckaprep.errors import one_line

        sys.stderr.write(f"error: {one_line(exc.message)}\n")
        sys.exit(int(exc.exit_status))
    command_line()


def command_line() -> None:
    """The full command line: every outcome is an exit status, a crash is reported as a bug."""
    from ckaprep.cli.completion import complete_var, enable_if_completing

    enable_if_completing(PROG_NAME)
    completing = bool(os.environ.get(complete_var(PROG_NAME)))
    run(None if completing else hoist_global_options(sys.argv[1:]), PROG_NAME)


def kubectl_plugin_main() -> None:
    """`kubectl ckaprep ...`: kubectl runs the kubectl-ckaprep executable with the arguments."""
    from ckaprep.cli import streams

    streams.prepare()
    run(hoist_global_options(sys.argv[1:]), PLUGIN_PROG_NAME)


def kubectl_plugin_complete_main() -> None:
    """`kubectl ckaprep <TAB>`: kubectl asks the kubectl_complete-ckaprep executable for candidates."""
    import typer.main

    from ckaprep.cli import streams
    from ckaprep.cli.application import app
    from ckaprep.cli.completion import cobra_candidates
    from ckaprep.errors import OutputError

    streams.prepare()
    try:
        sys.stdout.write(cobra_candidates(typer.main.get_command(app), hoist_global_options(sys.argv[1:])))
        streams.finish()
    except OutputError:  # nobody reads the candidates: kubectl says nothing either
        sys.exit(int(OutputError.exit_status))


def run(args: list[str] | None, prog_name: str) -> None:
    import typer

    from ckaprep.cli.application import app
    from ckaprep.cli.base import print_error, reported, run_with, say_interrupted
    from ckaprep.environment import Environment
    from ckaprep.errors import CkaprepError
    from ckaprep.exit_status import ExitStatus

    env = run_with(Environment())
    try:
        _refuse_an_option_as_value(args or [])
        status = app(args=args, prog_name=prog_name, standalone_mode=False, obj=env)
    except typer.Exit as exc:
        status = exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        status = ExitStatus.INTERRUPTED
    except typer.TyperException as exc:  # usage errors from parsing the command line
        status = _usage_error(exc, args or [])
    except CkaprepError as exc:  # raised outside a command: the output of --help or --version
        print_error(exc.message)
        status = exc.exit_status
    except Exception as exc:
        from ckaprep.cli.crash import bug_report

        if env.environ.get("CKAPREP_DEBUG") == "1":
            import traceback

            traceback.print_exception(exc)
        print_error(bug_report(exc, env.environ))
        status = ExitStatus.BUG
    status = int(status) if isinstance(status, int) else 0
    if status == ExitStatus.INTERRUPTED and not reported:  # Ctrl-C outside a command's own handling
        say_interrupted()
    status = _flushed(status)
    sys.exit(status)


def _flushed(status: int) -> int:
    """The exit status once the output is written out: what a failing write leaves unsaid is an
    OutputError, said here rather than in a traceback at exit."""
    from ckaprep.cli import streams
    from ckaprep.cli.base import print_error
    from ckaprep.errors import OutputError

    try:
        streams.finish()
    except OutputError as exc:
        print_error(exc.message)
        return int(exc.exit_status)
    return status


def _usage_error(exc, args: list[str]) -> int:
    from ckaprep.cli.base import print_error
    from ckaprep.exit_status import ExitStatus

    ctx = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError":  # bare `ckaprep`: the help is the answer
        sys.stdout.write(exc.format_message() + "\n")
        return ExitStatus.OK
    swallowed = _command_taken_as_value(args, ctx)
    if swallowed:
        option, command = swallowed
        print_error(
            f"{option} needs a value: {command!r} is a command, not its value "
            f"(e.g. ckaprep {command} {option} {GLOBAL_METAVARS[option]}; see `ckaprep --help`)"
        )
        return int(ExitStatus.USAGE)
    where = f"`{ctx.command_path} --help`" if ctx is not None else "`ckaprep --help`"
    print_error(f"{exc.format_message().rstrip('.')} (see {where})")
    return int(getattr(exc, "exit_code", ExitStatus.USAGE))


def _refuse_an_option_as_value(args: list[str]) -> None:
    """`ckaprep check --context --json`: the global option has no value (click would take
    `--json` as the context's name)."""
    from ckaprep.errors import UsageError

    for option, value in zip(args, args[1:]):
        if value == "--":
            return
        if option in GLOBAL_OPTIONS and value.startswith("-") and value != "-":
            raise UsageError(
                f"{option} needs a value, not the option {value!r} "
                f"(e.g. {option} {GLOBAL_METAVARS[option]}; see `ckaprep --help`)"
            )


GLOBAL_METAVARS = {"--kubeconfig": "PATH", "--context": "NAME", "--exercises": "DIR"}


def _command_taken_as_value(args: list[str], ctx) -> tuple[str, str] | None:
    """(option, command) when a global option with no value of its own took the name of a
    command as its value (`ckaprep check --context`), and so no command was left."""
    root = ctx.find_root() if ctx is not None else None
    names = set(getattr(root.command, "commands", {})) if root is not None else set()
    for option, value in zip(args, args[1:]):
        if option in GLOBAL_OPTIONS and value in names:
            return option, value
    return None
