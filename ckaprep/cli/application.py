"""The whole command line, assembled: the global options and every group of commands, in the
order `ckaprep --help` lists them."""

from __future__ import annotations

import typer

from ckaprep.cli import authoring, classroom, drill, exam, setup, study
from ckaprep.cli.base import HELP_OPTIONS, CommandGroup, global_options

app = typer.Typer(
    cls=CommandGroup,
    name="ckaprep",
    help=(
        "Practise Kubernetes ClusterIP Services for the CKA exam.\n\n"
        "Start an exercise in your own cluster, solve it with kubectl, then let "
        "ckaprep grade the live cluster.\n\n"
        "Typical session: ckaprep list → ckaprep start clusterip-create → "
        "(kubectl …) → ckaprep check → ckaprep reset."
    ),
    callback=global_options,
    context_settings=HELP_OPTIONS,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

# A new command goes in the module of its group; a new group is one more line here.
for group in (drill.commands, study.commands, setup.commands, authoring.commands, exam.commands, classroom.commands):
    app.add_typer(group)
