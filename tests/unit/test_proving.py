"""The prover is honest: a declaration that does not match the grading is reported."""

import dataclasses
import json

import pytest

from ckaprep.catalogue.exercise import FRESH_START, Proof
from ckaprep.catalogue.loading import load_catalogue
from ckaprep.errors import UsageError
from ckaprep.practice.proving import Kubectl, Prover, find_kubectl, judge, run_steps
from tests.conftest import FakeTime
from tests.fake_kubectl import FakeKubectl
from tests.helpers import options

CATALOGUE = load_catalogue()


def _prove(fake, exercise, proofs, fresh=False):
    clock = FakeTime()
    prover = Prover(
        cluster=fake,
        kubectl=FakeKubectl(fake),
        seeds=lambda: 5,
        options=options(probe_image="curl", clock=clock),
    )
    return prover.exercise(exercise, proofs, fresh=fresh, report=lambda v: None)


def _proof(exercise_id, name):
    return next(p for p in CATALOGUE[exercise_id].proofs if p.name == name)


def test_a_right_answer_declared_wrong_is_a_difference(fake):
    proof = dataclasses.replace(_proof("clusterip-create", "expose"), fails=("selector",))
    [verdict] = _prove(fake, CATALOGUE["clusterip-create"], [proof])
    assert not verdict.ok
    assert verdict.problems == ["selector passed, but this answer must fail it"]


def test_a_wrong_answer_failing_more_than_declared_is_a_difference(fake):
    proof = dataclasses.replace(_proof("clusterip-create", "target-port-is-service-port"), fails=("port",))
    [verdict] = _prove(fake, CATALOGUE["clusterip-create"], [proof])
    assert not verdict.ok
    assert any(p.startswith("probe-short failed:") for p in verdict.problems), verdict.problems


def test_a_text_the_report_lacks_is_a_difference(fake):
    proof = dataclasses.replace(_proof("clusterip-create", "type-nodeport"), says={"service-type": "LoadBalancer"})
    [verdict] = _prove(fake, CATALOGUE["clusterip-create"], [proof])
    assert not verdict.ok and "does not say 'LoadBalancer'" in verdict.problems[0]


def test_a_fresh_start_that_earns_points_is_a_difference(fake):
    exercise = CATALOGUE["troubleshoot-broken"]
    checks = [dict(c, constraint=False) for c in exercise.checks]  # as before constraints existed
    [verdict] = _prove(fake, dataclasses.replace(exercise, checks=checks), [], fresh=True)
    assert verdict.proof == FRESH_START and not verdict.ok
    assert "service-kept" in verdict.problems[0] and "deployment-unchanged" in verdict.problems[0]


def test_fresh_start_is_graded_in_the_first_proofs_attempt(fake):
    exercise = CATALOGUE["clusterip-create"]
    verdicts = _prove(fake, exercise, exercise.proofs[:2], fresh=True)
    assert [v.proof for v in verdicts] == [FRESH_START, "expose", "yaml"]
    assert all(v.ok for v in verdicts) and verdicts[0].score == 0


def test_a_failing_step_is_reported_and_cleaned_up(fake):
    proof = Proof(
        name="broken", steps=[{"kubectl": ["expose", "deployment", "nope", "--port=80"]}], fails=("selector",)
    )
    [verdict] = _prove(fake, CATALOGUE["clusterip-create"], [proof])
    assert not verdict.ok and "step 1 (kubectl -n" in verdict.problems[0] and "exited 1" in verdict.problems[0]
    assert fake.list("Namespace", None) == []


def test_steps_are_argument_vectors_with_parameters_and_captures():
    seen = []

    class Recorder:
        def __call__(self, args, *, namespace, stdin=None):
            from ckaprep.practice.proving import StepResult

            seen.append((args, namespace, stdin))
            return StepResult(0, " 10.0.0.7\n", "")

    proof = Proof(
        name="p",
        steps=[
            {"capture": "ip", "kubectl": ["get", "svc", "${service}", "-o", "jsonpath={.spec.clusterIP}"]},
            {"kubectl": ["create", "configmap", "c", "--from-literal=IP=${ip}; rm -rf /"]},
            {
                "apply": "kind: Service\nspec: {ports: [{port: ${port}}]}\n---\nkind: ConfigMap\n"
                "metadata: {name: c, namespace: mine}\n",
                "namespace": "${other}",
            },
        ],
    )
    values = run_steps(proof, {"service": "web", "port": 80, "other": "ns2"}, "ns1", Recorder())
    assert values["ip"] == "10.0.0.7"
    assert seen[1] == (["create", "configmap", "c", "--from-literal=IP=10.0.0.7; rm -rf /"], "ns1", None)
    args, namespace, stdin = seen[2]
    assert (args, namespace) == (["apply", "-f", "-"], None)
    service, configmap = json.loads(stdin)["items"]
    assert service["metadata"]["namespace"] == "ns2" and service["spec"]["ports"] == [{"port": 80}]
    assert configmap["metadata"]["namespace"] == "mine"


def test_kubectl_gets_its_own_argument_vector_never_a_shell():
    calls = []

    def run(argv, **kw):
        calls.append((argv, kw))
        import subprocess

        return subprocess.CompletedProcess(argv, 0, "", "")

    kubectl = Kubectl("/bin/kubectl", {"PATH": "/bin"}, kubeconfig="/k", context="c", run=run)
    kubectl(["get", "pods"], namespace="ns")
    argv, kw = calls[0]
    assert argv == ["/bin/kubectl", "--kubeconfig", "/k", "--context", "c", "-n", "ns", "get", "pods"]
    assert "shell" not in kw


def test_missing_kubectl_is_a_clear_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no kubectl on PATH"):
        find_kubectl({"PATH": str(tmp_path)})


def test_judge_accepts_may_fail():
    from ckaprep.grading.report import CheckResult, Report

    checks = [
        CheckResult("a", "A", "fail", 1, "", ""),
        CheckResult("b", "B", "fail", 1, "", ""),
        CheckResult("c", "C", "pass", 1, "", ""),
    ]
    report = Report("x", checks, 0.0)
    assert judge(Proof(name="p", steps=[], fails=("a",), may_fail=("b",)), report, {}) == []
    assert judge(Proof(name="p", steps=[], fails=("a",)), report, {}) == ["b failed: "]


def test_qualified_proof_names_pick_one_exercises_proof_only():
    from ckaprep.practice.proving import select_proofs, selecting_names

    create, direct = CATALOGUE["clusterip-create"], CATALOGUE["clusterip-direct"]
    names = ["clusterip-create:yaml", f"clusterip-direct:{FRESH_START}"]
    assert [p.name for p in select_proofs(create, names)[0]] == ["yaml"]
    assert select_proofs(create, names)[1] is False
    assert select_proofs(direct, names) == ([], True)
    assert [p.name for p in select_proofs(direct, ["yaml"])[0]] == ["yaml"]  # plain names still pick in all
    assert "clusterip-create:yaml" in selecting_names(create) and "clusterip-direct:yaml" not in selecting_names(create)


class RefusingWaiter:
    """A waiter that fails the test if anything waits."""

    progress = None

    def until(self, *args, **kwargs):
        raise AssertionError("waited")


def test_a_proofs_namespaces_are_deleted_without_waiting_and_awaited_at_the_end(fake):
    from ckaprep.clock import SYSTEM_CLOCK
    from ckaprep.practice.lifecycle import delete_attempts, start_attempt

    attempt = start_attempt(CATALOGUE["clusterip-create"], fake, seed=3, now=SYSTEM_CLOCK.now(), record=lambda a: None)
    deleting: list[str] = []
    delete_attempts(fake, [attempt], waiter=RefusingWaiter(), deleting_out=deleting)
    assert deleting == attempt.namespaces
    exercise = CATALOGUE["clusterip-create"]
    clock = FakeTime()
    prover = Prover(
        cluster=fake,
        kubectl=FakeKubectl(fake),
        seeds=lambda: 5,
        options=options(probe_image="curl", clock=clock),
    )
    prover.exercise(exercise, exercise.proofs[:2], fresh=False, report=lambda v: None)
    assert prover.deleting == [] and fake.list("Namespace", None) == []


def _prove_on(env, fake, *args):
    from typer.testing import CliRunner

    from ckaprep.cli.application import app

    env.kubectl = FakeKubectl(fake)
    return CliRunner().invoke(app, ["prove", "clusterip-create", *args], obj=env)


def test_prove_on_a_cluster_that_refuses_the_connection_says_nothing_may_remain(env, fake):
    from ckaprep.errors import ClusterUnreachable

    fake.failure = ClusterUnreachable("the cluster at https://x refused the connection", reached_server=False)
    result = _prove_on(env, fake)
    assert result.exit_code == 3, result.output
    assert result.stderr.splitlines() == [
        "      … clusterip-create expose",
        "error: the cluster at https://x refused the connection",
    ]


def test_prove_stopped_after_creating_names_what_may_remain(env, fake, monkeypatch):
    from ckaprep.errors import ClusterUnreachable

    create = fake.create

    def create_then_fail(manifest, *args, **kwargs):
        created = create(manifest, *args, **kwargs)
        if manifest["kind"] == "Namespace":
            fake.failure = ClusterUnreachable("the cluster at https://x did not answer within 15 s")
        return created

    monkeypatch.setattr(fake, "create", create_then_fail)
    result = _prove_on(env, fake, "--proof", "expose")
    assert result.exit_code == 3, result.output
    [remain] = [line for line in result.stderr.splitlines() if "may remain" in line]
    fake.failure = None
    [namespace] = [ns["metadata"]["name"] for ns in fake.list("Namespace", None)]  # left: the cluster went away
    assert (
        remain == f"prove stopped; namespaces {namespace} may remain: "
        "kubectl get namespaces -l app.kubernetes.io/managed-by=ckaprep"
    )
