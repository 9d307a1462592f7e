"""Where an attempt runs: a cluster of one's own, or a seat in a class.

The two differ in which namespaces an attempt gets, how they are made ready and cleared, and
where the learner's state is kept. Practice works against this interface and implements it
for a cluster of one's own (`lifecycle.OwnCluster`); the classroom implements it for a seat
(`classroom.seats.SeatWorkspace`), and the Environment chooses which one a command gets.
"""

from __future__ import annotations

from typing import Any, Protocol

from ckaprep.catalogue.exercise import Exercise
from ckaprep.cluster import Cluster
from ckaprep.cluster.waiting import Waiter
from ckaprep.practice.state import StateStore


class Workspace(Protocol):
    # The seat an attempt records (its namespaces are then the seat's, emptied and never
    # deleted); None on a cluster of one's own.
    seat_id: str | None
    # Where the active exercise and exam are kept; None where nothing is kept (a proof's run).
    store: StateStore | None

    def place(
        self, exercise: Exercise, seed: int, *, faults: list[str] | None, params: dict[str, Any] | None
    ) -> tuple[dict[str, Any], list[str]]:
        """The attempt's parameters and namespaces. `params` are the seed's own, when drawn already."""
        ...

    def prepare(self, cluster: Cluster, namespaces: list[str], *, waiter: Waiter) -> None:
        """Before the setup: the namespaces are ready to be used."""
        ...

    def clear(self, cluster: Cluster, namespaces: list[str], *, waiter: Waiter) -> None:
        """After a seat's attempt: what was made in its namespaces goes, the namespaces stay."""
        ...
