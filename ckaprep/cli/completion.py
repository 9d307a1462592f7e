"""Shell completion: the scripts `ckaprep completion SHELL` prints, and the candidates they ask for.

Candidates come from file names alone, so a TAB never parses YAML or imports the
kubernetes client.
"""

from __future__ import annotations

import os
from pathlib import Path

SHELLS = ("bash", "zsh", "fish")


def complete_var(prog_name: str) -> str:
    """The environment variable that switches a program into completion mode (click's rule)."""
    return "_{}_COMPLETE".format(prog_name.replace("-", "_").upper())


def script(shell: str, prog_name: str = "ckaprep") -> str:
    from typer.completion import get_completion_script

    return get_completion_script(prog_name=prog_name, complete_var=complete_var(prog_name), shell=shell)


def enable_if_completing(prog_name: str) -> None:
    """Register typer's completion classes when the shell asks for candidates.

    The app is built without typer's --install-completion options (ckaprep has a
    `completion` command instead), so they are registered here, on demand.
    """
    if os.environ.get(complete_var(prog_name)):
        from typer.completion import completion_init

        completion_init()


def _exercise_dirs() -> list[Path]:
    from ckaprep.catalogue.locations import exercises_dir

    extra = [Path(p) for p in os.environ.get("CKAPREP_EXERCISES", "").split(os.pathsep) if p]
    return [exercises_dir(), *extra]


def exercise_ids(incomplete: str) -> list[str]:
    from ckaprep.catalogue.locations import exercise_files

    ids = {p.stem for d in _exercise_dirs() if d.is_dir() for p in exercise_files(d)}
    return sorted(i for i in ids if i.startswith(incomplete))


def topic_names(incomplete: str) -> list[str]:
    from ckaprep.study.vocabulary import topic_names as names

    return [name for name in names() if name.startswith(incomplete.lower())]


def exam_topic_names(incomplete: str) -> list[str]:
    """The topics `exam start --topic` takes: those some exercise covers (the built-in ones;
    reading trainers' files would make TAB slow)."""
    from ckaprep.catalogue.loading import Catalogue
    from ckaprep.parsed_cache import ParsedYamlCache

    exercises, _ = Catalogue(cache=ParsedYamlCache.for_environ(os.environ)).load()
    covered = {topic for exercise in exercises.values() for topic in exercise.topics}
    return [name for name in topic_names(incomplete) if name in covered]


# kubectl's plugin completion protocol (cobra): one candidate a line, then ":<directive>".
COBRA_NO_FILE_COMPLETION = 4


def cobra_candidates(command, args: list[str]) -> str:
    """Candidates for `kubectl ckaprep ARGS`, whose last element is the word being completed."""
    from typer.completion import completion_init, shell_completion

    completion_init()
    *done, incomplete = args or [""]
    # Any registered shell class will do: only its shell-neutral get_completions is used.
    completer_class = shell_completion.get_completion_class("bash")
    completer = completer_class(command, {}, "kubectl ckaprep", complete_var("kubectl-ckaprep"))
    items = completer.get_completions(done, incomplete)
    return "".join(f"{item.value}\n" for item in items) + f":{COBRA_NO_FILE_COMPLETION}\n"
