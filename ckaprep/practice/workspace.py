"""Where an attempt runs: a cluster of one's own, or a seat in a class.

The two differ in which namespaces an attempt gets, how they are made ready and cleared, and
where the learner's state is kept. Practice works against this interface and implements it
for a cluster of one's own (`OwnCluster`, here); the classroom implements it for a seat
(`classroom.seats.SeatWorkspace`), and the Environment chooses which one a command gets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from ckaprep.cluster.labels import ATTEMPT_LABEL, attempt_of, is_owned
from ckaprep.errors import NotOwnedError, StateError
from ckaprep.practice.state import StateStore

if TYPE_CHECKING:  # the commands that only read state (explain, list) never load these
    from ckaprep.catalogue.exercise import Exercise
    from ckaprep.cluster import Cluster
    from ckaprep.cluster.waiting import Waiter


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


class OwnCluster:
    """A cluster of one's own: each attempt creates namespaces of its own, and reset deletes them."""

    seat_id = None

    def __init__(self, store: StateStore | None = None):
        self.store = store

    def place(self, exercise: Exercise, seed: int, *, faults=None, params=None):
        params = params if params is not None else exercise.choose_params(seed, faults=faults)
        return params, exercise.namespaces_for(params)

    def prepare(self, cluster: Cluster, namespaces: list[str], *, waiter: Waiter) -> None:
        ensure_namespaces_free(cluster, namespaces)

    def clear(self, cluster: Cluster, namespaces: list[str], *, waiter: Waiter) -> None:
        raise StateError(
            f"namespace(s) {', '.join(namespaces)} belong to a classroom seat; reset them with the seat's kubeconfig"
        )


OWN_CLUSTER = OwnCluster()


def ensure_namespaces_free(cluster: Cluster, namespaces: list[str]) -> None:
    """Refuse any namespace that already exists: ckaprep never reuses or replaces one it did not
    create for the attempt at hand, even one labelled as ckaprep's from another state directory."""
    for ns in namespaces:
        existing = cluster.get("Namespace", None, ns)
        if existing is None:
            continue
        if not is_owned(existing):
            raise NotOwnedError(
                f"namespace {ns} already exists and was not created by ckaprep; it will not be touched "
                "(start again with another --seed)"
            )
        raise StateError(
            f"namespace {ns} already exists for another ckaprep attempt ({ATTEMPT_LABEL}="
            f"{attempt_of(existing) or 'none'}); reset that attempt, or start again with another --seed"
        )
