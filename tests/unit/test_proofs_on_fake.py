"""Every proof of every exercise, run by the prover against the simulated cluster.

The fake is not the proof (that is `ckaprep prove` on a real cluster), but a
declaration that disagrees with the grading shows up here first, in seconds.
"""

import pytest

from ckaprep.catalogue.exercise import FRESH_START
from ckaprep.catalogue.loading import load_catalogue
from ckaprep.practice.proving import Prover
from tests.conftest import FakeTime
from tests.fake_kubectl import FakeKubectl
from tests.helpers import offer_what_it_needs, options

CATALOGUE = load_catalogue()
CASES = [(ex.id, proof.name) for ex in CATALOGUE.values() for proof in ex.proofs]
CASES += [(exercise_id, FRESH_START) for exercise_id in CATALOGUE]


def _prover(fake) -> Prover:
    clock = FakeTime()
    seeds = iter(range(100, 200))
    return Prover(
        cluster=fake,
        kubectl=FakeKubectl(fake),
        seeds=lambda: next(seeds),
        options=options(probe_image="curl", clock=clock),
    )


@pytest.mark.parametrize("exercise_id, proof_name", CASES, ids=[f"{e}:{p}" for e, p in CASES])
def test_proof_gets_its_declared_verdict_on_the_fake(fake, exercise_id, proof_name):
    exercise = CATALOGUE[exercise_id]
    proofs = [p for p in exercise.proofs if p.name == proof_name]
    offer_what_it_needs(fake, exercise)
    verdicts = _prover(fake).exercise(exercise, proofs, fresh=proof_name == FRESH_START, report=lambda v: None)
    assert len(verdicts) == 1
    assert verdicts[0].ok, verdicts[0].problems
    assert fake.list("Namespace", None) == [], "the proof's namespaces were not deleted"
