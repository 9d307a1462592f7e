"""Every exercise's proofs on the real cluster, through `ckaprep prove`.

One pytest case per exercise and proof, parametrised from the exercise files. The
proofs selected for a session run in one `prove` call per exercise (several at once),
and each case then asserts its own verdict, so a declaration that is wrong fails its case.
The fresh start (0%) is a case of its own, graded in the attempt of the exercise's first proof.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ckaprep.catalogue.exercise import FRESH_START
from ckaprep.catalogue.loading import exercises_dir, load_catalogue
from ckaprep.cli.application import app
from ckaprep.environment import Environment
from tests.e2e.conftest import namespace_state
from tests.e2e.practice import Practice

CATALOGUE = load_catalogue()
# Cases that need what only the third configuration offers (NetworkPolicy enforced, two nodes):
# an exercise's `requires`, or those of the faults a proof pins. They are proven on the third
# configuration (scripts/test names the configuration it runs on), and left out elsewhere.
ON_THIRD = os.environ.get("CKAPREP_TEST_CLUSTER_CONFIG") == "third"


def _needs_third(ex, proof=None) -> bool:
    pool = {f["id"]: f for f in (ex.faults or {}).get("pool") or []}
    return bool(ex.requires) or (proof is not None and any(pool.get(f, {}).get("requires") for f in proof.faults))


ALL_CASES = [(ex.id, FRESH_START, _needs_third(ex)) for ex in CATALOGUE.values()]
ALL_CASES += [(ex.id, p.name, _needs_third(ex, p)) for ex in CATALOGUE.values() for p in ex.proofs]
CASES = [(ex_id, name) for ex_id, name, third in ALL_CASES if ON_THIRD or not third]
NEEDS_THIRD = {(ex_id, name) for ex_id, name, third in ALL_CASES if third}
# On the second and third configurations: the fresh start, every right answer and the first two
# wrong answers of each exercise; on the third, also every proof of what needs it.
SECOND_CONFIG = {(ex.id, FRESH_START) for ex in CATALOGUE.values()}
SECOND_CONFIG |= {(ex.id, p.name) for ex in CATALOGUE.values() for p in ex.proofs if p.is_right}
SECOND_CONFIG |= {(ex.id, p.name) for ex in CATALOGUE.values() for p in [q for q in ex.proofs if not q.is_right][:2]}
THIRD_CONFIG = SECOND_CONFIG | NEEDS_THIRD
SECOND_CONFIG -= NEEDS_THIRD


def _marks(case: tuple[str, str]) -> list:
    return [
        mark
        for mark, chosen in ((pytest.mark.second_config, SECOND_CONFIG), (pytest.mark.third_config, THIRD_CONFIG))
        if case in chosen
    ]


PARAMS = [pytest.param(*case, id=f"{case[0]}:{case[1]}", marks=_marks(case)) for case in CASES]
JOBS = int(os.environ.get("CKAPREP_PROVE_JOBS", "4"))  # 68 proofs: 3m05s at 4 jobs, 4m17s at 3


def _environment(cluster, home: Path, **extra) -> Environment:
    kubectl_dir = os.path.dirname(cluster.kubectl_path)
    environ = {"CKAPREP_HOME": str(home), "HOME": str(home), "PATH": f"{kubectl_dir}:{os.environ.get('PATH', '')}"}
    return Environment(environ=environ | extra, kubeconfig=cluster.kubeconfig)


def _prove(cluster, home: Path, *args: str) -> tuple[int, dict, str]:
    result = CliRunner().invoke(app, ["prove", "--json", "--keep-going", *args], obj=_environment(cluster, home))
    payload = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result.exit_code, payload, result.output


@pytest.fixture(scope="session")
def verdicts(request, cluster, tmp_path_factory):
    """Verdicts of every proof this session selected, from one `prove` run over all of them, so
    its jobs stay busy across exercises."""
    selected: list[tuple[str, str]] = []
    for item in request.session.items:
        spec = getattr(item, "callspec", None)
        if spec and item.originalname == "test_proof_verdict_is_as_declared":
            selected.append((spec.params["exercise_id"], spec.params["proof_name"]))
    runs: list[tuple[int, dict, str]] = []

    def get(exercise_id: str):
        if not runs:
            exercises = list(dict.fromkeys(ex for ex, _ in selected))
            names = [arg for ex, name in selected for arg in ("--proof", f"{ex}:{name}")]
            runs.append(_prove(cluster, tmp_path_factory.mktemp("prove"), *exercises, "--jobs", str(JOBS), *names))
        return runs[0]

    return get


@pytest.mark.parametrize("exercise_id, proof_name", PARAMS)
def test_proof_verdict_is_as_declared(verdicts, exercise_id, proof_name):
    exit_code, payload, output = verdicts(exercise_id)
    assert payload, output
    rows = {row["proof"]: row for row in payload["proofs"] if row["exercise"] == exercise_id}
    assert proof_name in rows, output
    row = rows[proof_name]
    assert row["ok"], f"{exercise_id} {proof_name} (seed {row['seed']}, score {row['score']}):\n" + "\n".join(
        row["problems"]
    )
    if proof_name == FRESH_START:
        assert row["score"] == 0
    elif not next(p for p in CATALOGUE[exercise_id].proofs if p.name == proof_name).fails:
        assert row["score"] == 100
    if all(r["ok"] for r in payload["proofs"]):
        assert exit_code == 0, output


def test_a_wrong_declaration_fails_the_proof_in_a_trainers_directory(cluster, tmp_path):
    """A trainer's exercise proves from its own directory, and a declaration that is wrong is caught."""
    trainer = tmp_path / "trainer"
    trainer.mkdir()
    text = (exercises_dir() / "clusterip-create.yaml").read_text()
    text = text.replace("id: clusterip-create", "id: trainer-expose")
    text = text.replace("    fails: [service-type]\n", "    fails: [selector]\n")  # type-nodeport, declared wrongly
    (trainer / "trainer-expose.yaml").write_text(text)
    env = _environment(cluster, tmp_path / "home", CKAPREP_EXERCISES=str(trainer))
    result = CliRunner().invoke(
        app,
        [
            "prove",
            "trainer-expose",
            "--proof",
            "expose",
            "--proof",
            "type-nodeport",
            "--keep-going",
            "--json",
            "--jobs",
            "2",
        ],
        obj=env,
    )
    assert result.exit_code == 1, result.output
    right, row = json.loads(result.stdout)["proofs"]
    assert right["proof"] == "expose" and right["ok"] and right["score"] == 100, right
    assert not row["ok"]
    assert "selector passed, but this answer must fail it" in row["problems"]
    assert any(p.startswith("service-type failed:") for p in row["problems"]), row["problems"]


def test_reset_deletes_the_namespaces_and_the_state(tmp_path, cluster):
    practice = Practice(tmp_path / "state", cluster)
    practice.start("dns-cross-namespace", seed=4242)
    result = practice.reset()
    assert result.exit_code == 0, result.output
    assert sorted(json.loads(result.stdout)["deleted"]) == sorted(practice.namespaces)
    for ns in practice.namespaces:
        assert namespace_state(cluster.kubectl, ns) == "gone", ns
    assert practice.env.state.load() is None
