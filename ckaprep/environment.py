"""Everything a command takes from the world, in one injectable object.

Tests pass their own Environment (a fake cluster, a temporary state
directory, a fixed clock, streams of their own) instead of patching globals.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ckaprep.clock import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    from rich.console import Console

    from ckaprep.cluster import Cluster
    from ckaprep.practice.state import StateStore
    from ckaprep.practice.workspace import Workspace

# The cluster seam and the state are imported where used: `list` and `explain`, served from the
# kept pages, start with this module.
ClusterFactory = Callable[[str | None, str | None], "Cluster"]


def connect_to_kubernetes(kubeconfig: str | None, context: str | None) -> Cluster:
    # Imported here: the kubernetes client is slow to import and most commands never need it.
    from ckaprep.cluster.kube import KubeCluster

    return KubeCluster(kubeconfig=kubeconfig, context=context)


@dataclass
class Environment:
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    cluster_factory: ClusterFactory = connect_to_kubernetes
    # The wall clock, the monotonic one and sleep: tests pass a fake so that waits take no time.
    clock: Clock = SYSTEM_CLOCK
    exercises_dir: Path | None = None  # the built-in catalogue; tests point it elsewhere
    extra_exercise_dirs: list[Path] = field(default_factory=list)  # from --exercises
    kubectl: Callable | None = None  # how `prove` runs kubectl steps; None finds kubectl on PATH
    kubeconfig: str | None = None
    context: str | None = None
    # Set for the commands that act on the active exercise: in a classroom seat, its state is
    # kept in the cluster. Other commands never reach the cluster for it.
    seat_aware: bool = False
    # Where a command writes; None is sys.stdout or sys.stderr as they are when it writes, so
    # that typer's CliRunner, which swaps them while a command runs, gets what it prints.
    stdout: TextIO | None = None
    stderr: TextIO | None = None
    _workspace: Workspace | None = field(default=None, repr=False, compare=False)
    _clusters: dict[tuple, Cluster] = field(default_factory=dict, repr=False, compare=False)
    _consoles: dict[str, tuple] = field(default_factory=dict, repr=False, compare=False)

    @property
    def workspace(self) -> Workspace:
        """Where this command's attempt runs and its state is kept: the seat these credentials
        belong to, for the commands that act on the active exercise, else a cluster of one's own."""
        # Imported here, as everything a command may not need: startup time is a feature.
        from ckaprep.practice.state import StateStore, state_dir
        from ckaprep.practice.workspace import OwnCluster

        local = StateStore(state_dir(self.environ))
        if not self.seat_aware:
            return OwnCluster(local)
        if self._workspace is None:
            self._workspace = self._find_seat(local) or OwnCluster(local)
        return self._workspace

    @property
    def out(self) -> Console:
        """The console on this environment's stdout: what a command prints as its result."""
        from ckaprep.views.consoles import output_console

        return self._console("out", lambda: output_console(self.stdout))

    @property
    def err(self) -> Console:
        """The console on this environment's stderr: errors, warnings, notes and progress."""
        from ckaprep.views.consoles import error_console

        return self._console("err", lambda: error_console(self.stderr))

    def _console(self, name: str, make: Callable[[], Console]) -> Console:
        # rich reads the terminal's size from COLUMNS and LINES when a console is made, if they
        # are set: a console is made again when they change (as tests change them per command).
        size = (os.environ.get("COLUMNS"), os.environ.get("LINES"))
        made = self._consoles.get(name)
        if made is None or made[0] != size:
            made = self._consoles[name] = (size, make())
        return made[1]

    @property
    def state(self) -> StateStore:
        store = self.workspace.store
        assert store is not None  # both workspaces a command gets keep state
        return store

    def _find_seat(self, local: StateStore) -> Workspace | None:
        """The seat's workspace when the credentials are a classroom seat's; a cluster that cannot
        be reached is left for the command itself to report."""
        from ckaprep.classroom.seats import seat_workspace
        from ckaprep.cluster.labels import seat_of_account
        from ckaprep.errors import CkaprepError

        try:
            if local.path.is_file() or local.exam_path.is_file():
                return None  # an exercise of this machine's own: a seat keeps none here
            cluster = self.cluster()
            account = cluster.service_account()
        except (CkaprepError, OSError):
            return None
        if account is None or seat_of_account(*account) is None:
            return None
        return seat_workspace(local, cluster)

    @property
    def default_probe_image(self) -> str:
        """The one place that reads $CKAPREP_PROBE_IMAGE."""
        from ckaprep.cluster.images import CURL_IMAGE

        return self.environ.get("CKAPREP_PROBE_IMAGE") or CURL_IMAGE

    def grading_options(self, *, wait_s: float, probe_image: str | None = None, progress=None):
        """How a command grades: --probe-image, else $CKAPREP_PROBE_IMAGE, else the pinned curl
        image; waits on this environment's clock."""
        from ckaprep.grading.options import GradingOptions

        return GradingOptions(
            probe_image=probe_image or self.default_probe_image, wait_s=wait_s, waiter=self.waiter(progress)
        )

    def waiter(self, progress=None):
        """How to wait in this environment: on its clock, progress to `progress`."""
        from ckaprep.cluster.waiting import Waiter, no_progress

        return Waiter(progress=progress or no_progress, clock=self.clock)

    def exercise_dirs(self) -> list[Path]:
        """The built-in exercises, then --exercises directories, then $CKAPREP_EXERCISES."""
        from ckaprep.catalogue.locations import ENV_EXERCISES, exercise_dirs_from, exercises_dir

        extra = [*self.extra_exercise_dirs, *exercise_dirs_from(self.environ.get(ENV_EXERCISES))]
        return [self.exercises_dir or exercises_dir(), *dict.fromkeys(extra)]

    def catalogue(self):
        from ckaprep.catalogue.loading import Catalogue

        builtin, *extra = self.exercise_dirs()
        return Catalogue(builtin, extra, self.parsed_cache())

    def parsed_cache(self):
        from ckaprep.parsed_cache import ParsedYamlCache

        return ParsedYamlCache.for_environ(self.environ)

    def cluster(self, context: str | None = None) -> Cluster:
        """The cluster client for a context, made once: a command that reaches the cluster from
        several steps (the seat, then the command itself) loads the kubeconfig once."""
        key = (self.cluster_factory, self.kubeconfig, self.context or context)
        if key not in self._clusters:
            self._clusters[key] = self.cluster_factory(self.kubeconfig, self.context or context)
        return self._clusters[key]
