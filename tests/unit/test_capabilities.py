"""`requires`: what an exercise needs from the cluster, how ckaprep finds out what a cluster
offers (by trying, on the fake cluster), the cache `list` reads, and what each command leaves
out or refuses."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from ckaprep.catalogue.capabilities import (
    Capabilities,
    Requirement,
    RequiresError,
    fault_draw,
    parse_requires,
    select,
    supported_faults,
)
from ckaprep.catalogue.loading import load_catalogue, load_exercise
from ckaprep.cluster.labels import OWNER_LABEL, OWNER_VALUE
from ckaprep.cluster.waiting import Waiter
from ckaprep.errors import ExerciseFileError
from ckaprep.exit_status import ExitStatus
from ckaprep.grading.capability_probe import CROSS_NODE, find_capabilities, schedulable
from ckaprep.practice.capability_cache import CapabilityCache
from tests.conftest import FakeTime
from tests.fake_cluster import FakeCluster
from tests.fake_network import fake_node

EXERCISES = Path(__file__).resolve().parents[2] / "exercises"

# What the built-in catalogue requires, on top of the two exercises of the trainer's directory
# (np-allow needs NetworkPolicy enforced, two-nodes two nodes): the one-node fake leaves them out.
_BUILT_IN = load_catalogue().values()
LEFT_OUT = 2 + sum(1 for ex in _BUILT_IN if ex.requires)
NEED_POLICY = 1 + sum(1 for ex in _BUILT_IN if [r.capability for r in ex.requires] == ["network-policy"])


def instant() -> Waiter:
    clock = FakeTime()
    return Waiter(clock=clock)


def with_requires(directory: Path, source: str, new_id: str, requires: str) -> Path:
    """A copy of a built-in exercise under another id, requiring `requires`."""
    text = (EXERCISES / f"{source}.yaml").read_text()
    text = re.sub(r"^id: .*$", f"id: {new_id}", text, count=1, flags=re.MULTILINE)
    path = directory / f"{new_id}.yaml"
    path.write_text(text + f"\nrequires: {requires}\n")
    return path


@pytest.fixture
def own(tmp_path) -> Path:
    """A directory of exercises: one needing NetworkPolicy, one needing 2 nodes, one needing nothing."""
    directory = tmp_path / "own"
    directory.mkdir()
    with_requires(directory, "clusterip-create", "np-allow", "[network-policy]")
    with_requires(directory, "clusterip-create", "two-nodes", "[{nodes: 2}]")
    return directory


@pytest.fixture
def kubeconfig(env, tmp_path) -> Path:
    """A kubeconfig where the fake's commands look for one, so the cache knows which cluster it is."""
    path = tmp_path / ".kube" / "config"
    path.parent.mkdir()
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: cka\n"
        "clusters:\n- name: c1\n  cluster: {server: 'https://cka.example:6443'}\n"
        "- name: c2\n  cluster: {server: 'https://other.example:6443'}\n"
        "contexts:\n- name: cka\n  context: {cluster: c1, user: u}\n- name: other\n  context: {cluster: c2, user: u}\n"
        "users:\n- name: u\n  user: {token: secret-token-never-kept}\n"
    )
    return path


def namespaces(fake: FakeCluster, prefix: str) -> list[str]:
    return [name for (kind, _, name) in fake.objects if kind == "Namespace" and name.startswith(prefix)]


# -- the data side ---------------------------------------------------------------------------------
def test_requires_parses_into_typed_requirements():
    assert parse_requires(["network-policy", {"nodes": 2}, "dual-stack"]) == (
        Requirement("network-policy"),
        Requirement("nodes", 2),
        Requirement("dual-stack"),
    )
    assert [r.text for r in parse_requires([{"nodes": 3}])] == ["nodes: 3"]


@pytest.mark.parametrize(
    "value, field, words",
    [
        (["network-polcy"], "[0]", "did you mean network-policy?"),
        (["dualstack"], "[0]", "did you mean dual-stack?"),
        ([{"node": 2}], "[0]", "did you mean nodes?"),
        ([{"nodes": 0}], "[0].nodes", "1 or more"),
        ([{"nodes": "2"}], "[0].nodes", "whole number"),
        ([{"nodes": True}], "[0].nodes", "whole number"),
        (["nodes: 2"], "[0]", "{nodes: N}"),
        (["network-policy", "network-policy"], "[1]", "twice"),
        ("network-policy", "", "a list"),
        ([3], "[0]", "a list of capabilities"),
    ],
)
def test_a_malformed_requires_names_the_item_and_the_problem(value, field, words):
    with pytest.raises(RequiresError) as raised:
        parse_requires(value)
    assert raised.value.field == field and words in raised.value.problem


def test_an_exercise_file_carries_its_requires(own):
    exercise = load_exercise(own / "two-nodes.yaml")
    assert exercise.requires == (Requirement("nodes", 2),)
    assert load_exercise(EXERCISES / "clusterip-create.yaml").requires == ()


def test_validate_refuses_an_unknown_capability_with_the_closest_name(run, tmp_path):
    path = with_requires(tmp_path, "clusterip-create", "typo", "[network-polcy]")
    result = run("validate", str(path))
    assert result.exit_code == ExitStatus.USAGE
    assert "requires #1: unknown capability 'network-polcy'; did you mean network-policy?" in result.output


def test_a_fault_may_require_a_capability_and_is_checked_like_the_exercise(tmp_path):
    text = (EXERCISES / "troubleshoot-pool.yaml").read_text()
    text = text.replace("    - id: selector-typo\n", "    - id: selector-typo\n      requires: [netpol]\n", 1)
    path = tmp_path / "troubleshoot-pool.yaml"
    path.write_text(text)
    with pytest.raises(ExerciseFileError) as raised:
        load_exercise(path)
    assert "faults.pool #1.requires #1" in raised.value.message and "did you mean" in raised.value.message


def test_what_a_cluster_lacks_is_named_and_what_is_unknown_is_not_held_against_it():
    one_node = Capabilities(nodes=1, network_policy=False, dual_stack=False)
    assert one_node.unmet(parse_requires(["network-policy"])) == ["NetworkPolicy is not enforced"]
    assert one_node.unmet(parse_requires([{"nodes": 2}])) == ["2 schedulable nodes needed, 1 found"]
    assert one_node.unmet(parse_requires([{"nodes": 1}])) == []
    assert Capabilities(nodes=2, cross_node=False).unmet(parse_requires([{"nodes": 2}])) == [
        "Service traffic between nodes fails"
    ]
    assert Capabilities().unmet(parse_requires(["network-policy", {"nodes": 5}])) == []
    assert Capabilities(nodes=3).unknown(parse_requires(["network-policy", {"nodes": 2}])) == [
        Requirement("network-policy")
    ]


def test_the_selection_leaves_out_what_the_cluster_cannot_run_and_says_why(own):
    exercises = {p.stem: load_exercise(p) for p in own.glob("*.yaml")}
    exercises["clusterip-create"] = load_exercise(EXERCISES / "clusterip-create.yaml")
    selection = select(exercises, Capabilities(nodes=1, network_policy=False))
    assert set(selection.kept) == {"clusterip-create"}
    assert set(selection.left_out) == {"np-allow", "two-nodes"}
    assert selection.summary().startswith("left out 2 exercises this cluster cannot support:")
    assert "NetworkPolicy is not enforced (1 exercise)" in selection.summary()
    assert select(exercises, None).kept == exercises  # nothing known: nothing left out


def test_a_fault_pool_draws_only_the_faults_the_cluster_supports(tmp_path):
    text = (EXERCISES / "troubleshoot-pool.yaml").read_text()
    for fault in ("selector-typo", "target-port-number", "bind-localhost"):
        text = text.replace(f"    - id: {fault}\n", f"    - id: {fault}\n      requires: [network-policy]\n", 1)
    path = tmp_path / "troubleshoot-pool.yaml"
    path.write_text(text)
    exercise = load_exercise(path)
    lacking = Capabilities(network_policy=False)
    usable = supported_faults(exercise.faults, lacking)
    assert {"selector-typo", "target-port-number", "bind-localhost"}.isdisjoint(usable)
    draws = [fault_draw(exercise.faults, seed, lacking) for seed in range(60)]
    assert all(d and set(d) <= set(usable) for d in draws)
    assert len({tuple(d) for d in draws}) > 1  # still drawn at random
    assert fault_draw(exercise.faults, 5, lacking) == fault_draw(exercise.faults, 5, lacking)  # by the seed
    everything = Capabilities(nodes=2, network_policy=True, cross_node=True, dual_stack=False)
    assert fault_draw(exercise.faults, 5, everything) is None  # the usual draw


def test_a_fault_whose_requirement_is_not_found_out_is_not_drawn():
    """A classroom seat may not list Nodes nor make a scratch namespace: what it cannot find out,
    it does not draw, since the fault might not show and its check could not tell."""
    exercise = load_exercise(EXERCISES / "troubleshoot-pool.yaml")
    needing = {f["id"] for f in exercise.faults["pool"] if "requires" in f}
    assert needing  # the pool has faults that need NetworkPolicy or two nodes
    for capabilities in (None, Capabilities(), Capabilities(nodes=1)):
        usable = supported_faults(exercise.faults, capabilities)
        assert needing.isdisjoint(usable) and usable
        draws = [fault_draw(exercise.faults, seed, capabilities) for seed in range(40)]
        assert all(d and needing.isdisjoint(d) for d in draws)
    usable = supported_faults(exercise.faults, Capabilities(nodes=2, network_policy=True, cross_node=True))
    assert needing <= set(usable)


# -- the fake cluster's nodes and policies -----------------------------------------------------------
def test_the_fake_has_one_node_and_ignores_network_policy_unless_told(fake):
    assert [n["metadata"]["name"] for n in fake.list("Node", None)] == ["fake-node-a"]
    probed = find_capabilities(fake, waiter=instant())
    assert probed.capabilities == Capabilities(nodes=1, network_policy=False, cross_node=None, dual_stack=False)


def test_the_fake_enforces_a_deny_all_policy_when_told(fake):
    fake.enforces_network_policy = True
    probed = find_capabilities(fake, waiter=instant())
    assert probed.capabilities.network_policy is True


@pytest.mark.parametrize(
    "node, counted",
    [
        (fake_node("n"), True),
        (fake_node("n", ready=False), False),
        (fake_node("n", unschedulable=True), False),
        (fake_node("n", taints=[{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]), False),
        (fake_node("n", taints=[{"key": "dedicated", "effect": "NoExecute"}]), False),
        (fake_node("n", taints=[{"key": "spot", "effect": "PreferNoSchedule"}]), True),
        (fake_node("n", taints=[{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}]), True),
    ],
)
def test_a_node_is_schedulable_when_ready_uncordoned_and_untainted_for_a_plain_pod(node, counted):
    assert schedulable(node) is counted


def test_two_nodes_pin_server_and_client_to_different_nodes(fake):
    fake.set_nodes(3)
    fake.nodes[2]["spec"]["unschedulable"] = True  # cordoned: not counted, never used
    fake.enforces_network_policy = True
    created = []
    create = fake.create
    fake.create = lambda manifest: created.append(manifest) or create(manifest)
    probed = find_capabilities(fake, waiter=instant())
    assert probed.capabilities == Capabilities(nodes=2, network_policy=True, cross_node=True, dual_stack=False)
    placed = {m["metadata"]["name"]: m["spec"].get("nodeName") for m in created if m["kind"] == "Pod"}
    assert placed == {"server": "fake-node-a", "client": "fake-node-b"}
    lines = {f.id: f.detail for f in probed.findings}
    assert lines["nodes"].startswith("2 nodes are schedulable") and "1 more not schedulable" in lines["nodes"]
    assert lines[CROSS_NODE].startswith("cross-node Service: ok")
    assert lines["network-policy"].startswith("NetworkPolicy enforced")
    namespace = next(m for m in created if m["kind"] == "Namespace")
    assert namespace["metadata"]["labels"][OWNER_LABEL] == OWNER_VALUE
    assert namespaces(fake, "ckaprep-capabilities") == []  # deleted again


def test_broken_traffic_between_nodes_is_found_and_policy_is_not_judged_on_it(fake):
    fake.set_nodes(2)
    fake.cross_node = False
    fake.enforces_network_policy = True
    probed = find_capabilities(fake, waiter=instant())
    assert probed.capabilities.cross_node is False and probed.capabilities.network_policy is None
    found = {f.id: f for f in probed.findings}
    assert found[CROSS_NODE].status == "fail" and found["network-policy"].detail.startswith("not judged")


def test_ctrl_c_while_trying_still_deletes_the_scratch_namespace(fake):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    fake.exec = interrupted
    with pytest.raises(KeyboardInterrupt):
        find_capabilities(fake, waiter=instant())
    assert namespaces(fake, "ckaprep-capabilities") == []


def test_only_what_is_asked_is_tried(fake):
    probed = find_capabilities(fake, want={"nodes"}, waiter=instant())
    assert probed.capabilities == Capabilities(nodes=1)
    assert not [k for k in fake.objects if k[0] in ("Namespace", "Pod")] and fake.exec_log == []


# -- doctor ------------------------------------------------------------------------------------------
def doctor_lines(run, *before) -> dict[str, str]:
    result = run(*before, "doctor", "--json")
    assert result.exit_code == 0, result.output
    return {f["id"]: f["detail"] for f in json.loads(result.stdout)["findings"]}


def test_doctor_on_one_node_without_policy_says_so_with_what_to_do(run, fake, own):
    fake.mirrors_endpoints = True
    lines = doctor_lines(run, "--exercises", str(own))
    assert "one node" in lines["nodes"] and "NetworkPolicy not enforced" in lines["network-policy"]
    assert CROSS_NODE not in lines
    report = json.loads(run("--exercises", str(own), "doctor", "--json").stdout)
    status = {f["id"]: f["status"] for f in report["findings"]}
    assert status["nodes"] == status["network-policy"] == "warn"  # exercises here require them
    assert status["dual-stack"] == "pass"  # none requires dual-stack: only a note
    fixes = {f["id"]: f["fix"] for f in report["findings"]}
    assert "kind" in fixes["nodes"] and "minikube start --nodes 2" in fixes["nodes"]
    assert "kind v0.24" in fixes["network-policy"] and "--cni calico" in fixes["network-policy"]
    assert "fix:" in run("--exercises", str(own), "doctor").stdout


def test_what_no_exercise_requires_is_only_a_note(run, fake):
    fake.mirrors_endpoints = True
    report = json.loads(run("doctor", "--json").stdout)
    rows = {f["id"]: f for f in report["findings"]}
    assert rows["network-policy"]["status"] == "warn"  # built-in exercises require it
    assert rows["network-policy"]["detail"].startswith("NetworkPolicy not enforced")
    assert rows["dual-stack"]["status"] == "pass"  # no built-in exercise does
    assert "no exercise here requires more" in rows["dual-stack"]["detail"]


def test_doctor_on_two_enforcing_nodes_says_so(run, fake):
    fake.mirrors_endpoints = True
    fake.set_nodes(2)
    fake.enforces_network_policy = True
    lines = doctor_lines(run)
    assert "2 nodes" in lines["nodes"] and lines["network-policy"].startswith("NetworkPolicy enforced")
    assert lines[CROSS_NODE].startswith("cross-node Service: ok")


# -- the cache ---------------------------------------------------------------------------------------
def test_the_cache_is_per_server_and_context_and_keeps_no_credential(env, kubeconfig, clock, tmp_path):
    cache = CapabilityCache.for_environ(env.environ)
    here = cache.cluster_of(env.environ, None, None)
    assert here == "https://cka.example:6443 cka"
    assert cache.cluster_of(env.environ, None, "other") == "https://other.example:6443 other"
    cache.put(here, Capabilities(nodes=1, network_policy=False), clock[0])
    assert cache.fresh(here, clock[0]) == Capabilities(nodes=1, network_policy=False)
    assert cache.fresh(cache.cluster_of(env.environ, None, "other"), clock[0]) is None
    assert cache.fresh(here, clock[0] + timedelta(minutes=61)) is None  # an hour old: found out again
    assert "secret-token-never-kept" not in cache.path.read_text()


def test_without_a_kubeconfig_nothing_is_cached(env):
    assert CapabilityCache.for_environ(env.environ).cluster_of(env.environ, None, None) is None


# -- list, next, start, exam start ------------------------------------------------------------------
def test_list_never_tries_anything_and_says_what_it_does_not_know(run, fake, own, kubeconfig):
    result = run("--exercises", str(own), "list")
    assert result.exit_code == 0
    assert "np-allow" in result.stdout and "two-nodes" in result.stdout
    assert "not known" in result.stdout and "ckaprep doctor" in result.stdout
    assert fake.exec_log == [] and not namespaces(fake, "") and ("list", "Node", None) not in fake.read_log


def test_list_leaves_out_what_doctor_found_missing_and_says_how_many(run, fake, own, kubeconfig):
    fake.mirrors_endpoints = True
    assert run("doctor").exit_code == 0
    fake.read_log.clear()
    listed = run("--exercises", str(own), "list")
    assert "np-allow" not in listed.stdout and "two-nodes" not in listed.stdout
    assert "clusterip-create" in listed.stdout
    text = " ".join(listed.stdout.split())
    assert (
        f"left out {LEFT_OUT} exercises this cluster cannot support" in text and "NetworkPolicy is not enforced" in text
    )
    assert fake.read_log == []  # from the cache: not a single request
    every = run("--exercises", str(own), "list", "--all")
    assert "np-allow" in every.stdout
    cannot = " ".join(every.stdout.split())
    assert "This cluster cannot run: " in cannot and "np-allow (NetworkPolicy is not enforced)" in cannot
    as_json = run("--exercises", str(own), "list", "--json")
    assert "np-allow" not in {item["id"] for item in json.loads(as_json.stdout)}
    assert f"left out {LEFT_OUT} exercises" in as_json.stderr
    everything = json.loads(run("--exercises", str(own), "list", "--json", "--all").stdout)
    assert next(i for i in everything if i["id"] == "two-nodes")["requires"] == [{"nodes": 2}]


def test_list_follows_the_cluster_the_context_names(run, fake, own, kubeconfig):
    fake.mirrors_endpoints = True
    run("doctor")
    assert "np-allow" not in run("--exercises", str(own), "list").stdout
    assert "np-allow" in run("--exercises", str(own), "--context", "other", "list").stdout


def test_start_refuses_what_the_cluster_cannot_run_in_one_line(run, env, fake, own, kubeconfig):
    result = run("--exercises", str(own), "start", "np-allow")
    assert result.exit_code == ExitStatus.UNSUPPORTED
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "NetworkPolicy is not enforced" in lines[0] and "network-policy" in lines[0]
    assert not namespaces(fake, "web") and not namespaces(fake, "ckaprep-capabilities")  # tried, then gone
    assert env.state.load() is None  # no attempt recorded
    refused = run("--exercises", str(own), "start", "two-nodes")
    assert refused.exit_code == ExitStatus.UNSUPPORTED and "2 schedulable nodes needed, 1 found" in refused.stderr


def test_start_tries_once_then_uses_what_it_found(run, fake, own, kubeconfig):
    fake.enforces_network_policy = True
    first = run("--exercises", str(own), "start", "np-allow", "--seed", "3")
    assert first.exit_code == 0, first.output
    tried = len(fake.exec_log)
    assert tried > 0
    assert run("reset").exit_code == 0
    again = run("--exercises", str(own), "start", "np-allow", "--seed", "3")
    assert again.exit_code == 0 and len(fake.exec_log) == tried  # the cache answered


def test_start_of_an_exercise_that_requires_nothing_tries_nothing(run, fake):
    assert run("start", "clusterip-create", "--seed", "1").exit_code == 0
    assert ("list", "Node", None) not in fake.read_log and not namespaces(fake, "ckaprep-capabilities")


def test_exam_and_next_leave_out_what_the_cluster_cannot_run(run, fake, own, kubeconfig):
    fake.mirrors_endpoints = True
    run("doctor")
    for seed in range(4):
        started = run("--exercises", str(own), "exam", "start", "--seed", str(seed), "--tasks", "3", "--json")
        assert started.exit_code == 0, started.output
        drawn = {task["exercise"] for task in json.loads(started.stdout)["tasks"]}
        assert not drawn & {"np-allow", "two-nodes"}
        assert f"left out {LEFT_OUT} exercises" in started.stderr
        assert run("exam", "reset").exit_code == 0
    suggestion = run("--exercises", str(own), "next", "--json")
    assert json.loads(suggestion.stdout)["exercise"] not in ("np-allow", "two-nodes")


def test_start_draws_only_the_faults_the_cluster_supports(run, fake, tmp_path, kubeconfig):
    own = tmp_path / "pool"
    own.mkdir()
    text = (EXERCISES / "troubleshoot-pool.yaml").read_text().replace("id: troubleshoot-pool", "id: np-pool", 1)
    needing = ("selector-typo", "target-port-number", "bind-localhost", "service-name")
    for fault in needing:
        text = text.replace(f"    - id: {fault}\n", f"    - id: {fault}\n      requires: [network-policy]\n", 1)
    (own / "np-pool.yaml").write_text(text)
    for seed in range(3):
        started = run("--exercises", str(own), "start", "np-pool", "--seed", str(seed), "--json")
        assert started.exit_code == 0, started.output
        assert not set(json.loads(started.stdout)["params"]["faults"]) & set(needing)
        assert run("reset").exit_code == 0


def test_prove_refuses_a_named_exercise_the_cluster_cannot_run_and_leaves_it_out_of_the_catalogue(
    run, env, fake, own, kubeconfig
):
    from tests.fake_kubectl import FakeKubectl

    env.kubectl = FakeKubectl(fake)
    named = run("--exercises", str(own), "prove", "np-allow")
    assert named.exit_code == ExitStatus.UNSUPPORTED and "NetworkPolicy is not enforced" in named.stderr
    everything = run(
        "--exercises",
        str(own),
        "prove",
        "--proof",
        "np-allow:fresh-start",
        "--proof",
        "clusterip-create:fresh-start",
        "--json",
    )
    assert everything.exit_code == 0, everything.output
    assert [p["exercise"] for p in json.loads(everything.stdout)["proofs"]] == ["clusterip-create"]
    assert f"left out {LEFT_OUT} exercises" in everything.stderr
    only_left_out = run("--exercises", str(own), "prove", "--proof", "np-allow:fresh-start")
    assert only_left_out.exit_code == ExitStatus.UNSUPPORTED and "no proof named" not in only_left_out.stderr


def test_a_kept_list_page_is_not_served_once_the_cluster_is_known_or_forgotten(run, env, own, kubeconfig, clock):
    env.environ["CKAPREP_EXERCISES"] = str(own)
    assert "np-allow" in run("list").stdout  # nothing known yet: everything, and the page is kept
    cache = CapabilityCache.for_environ(env.environ)
    cache.put(cache.cluster_of(env.environ, None, None), Capabilities(nodes=1, network_policy=False), clock[0])
    assert "np-allow" not in run("list").stdout
    clock[0] += timedelta(hours=2)  # what was found is too old to trust
    assert "np-allow" in run("list").stdout


def test_a_class_exam_draws_only_what_the_cluster_can_run(run, fake, own, kubeconfig, tmp_path):
    from ckaprep.classroom.seats import create_class, namespaces_needed

    create_class(
        fake,
        "k8s101",
        seats=2,
        namespaces=namespaces_needed(load_catalogue()),
        valid_s=3600,
        out_dir=tmp_path / "kubeconfigs",
    )
    fake.mirrors_endpoints = True
    run("doctor")
    for seed in range(3):
        started = run(
            "--exercises",
            str(own),
            "classroom",
            "exam",
            "k8s101",
            "--tasks",
            "3",
            "--seed",
            str(seed),
            "--force",
            "--json",
        )
        assert started.exit_code == 0, started.output
        drawn = {task for seat in json.loads(started.stdout)["seats"] for task in seat["tasks"]}
        assert drawn and not drawn & {"np-allow", "two-nodes"}
        assert f"left out {LEFT_OUT} exercises" in started.stderr


def test_what_is_only_partly_known_is_said_and_a_damaged_cache_is_no_cache(run, env, own, kubeconfig, clock):
    cache = CapabilityCache.for_environ(env.environ)
    here = cache.cluster_of(env.environ, None, None)
    cache.put(here, Capabilities(nodes=1), clock[0])  # as `start` of a nodes-only exercise leaves it
    listed = " ".join(run("--exercises", str(own), "list").stdout.split())
    assert "two-nodes" not in listed and "np-allow" in listed
    unknown = re.search(r"(\d+) exercises require network-policy, which is not known of this cluster", listed)
    assert unknown and int(unknown.group(1)) >= NEED_POLICY, listed
    cache.path.write_text('{"clusters": {"%s": {"found_at": "yesterday", "capabilities": {"nodes": "many"}}}}' % here)
    assert cache.get(here) is None
    assert "two-nodes" in run("--exercises", str(own), "list").stdout


def test_one_lost_connection_is_not_taken_for_an_enforced_policy(fake):
    from ckaprep.cluster import ExecResult

    real_exec, calls = fake.exec, []

    def flaky(namespace, pod, argv, timeout):
        calls.append(argv)
        if len(calls) == 2:  # the first request after the deny-all policy is lost
            return ExecResult(28, "", "curl: (28) Connection timed out")
        return real_exec(namespace, pod, argv, timeout)

    fake.exec = flaky
    probed = find_capabilities(fake, waiter=instant())
    assert probed.capabilities.network_policy is False and len(calls) > 2


def test_a_seat_never_starts_an_exercise_whose_requirements_it_cannot_find_out(fake, own, tmp_path):
    """A seat may not make a namespace to try things in: what requires something is refused there."""
    from typer.testing import CliRunner

    from ckaprep.classroom.seats import create_class, namespaces_needed
    from ckaprep.cli.application import app
    from ckaprep.environment import Environment

    create_class(
        fake,
        "k8s101",
        seats=1,
        namespaces=namespaces_needed(load_catalogue()),
        valid_s=3600,
        out_dir=tmp_path / "kubeconfigs",
    )

    class Seat:  # the shared fake, through the seat's ServiceAccount token
        def __getattr__(self, name):
            return getattr(fake, name)

        def service_account(self):
            return "k8s101-seats", "k8s101-01"

    env = Environment(
        environ={"CKAPREP_HOME": str(tmp_path / "learner"), "HOME": str(tmp_path)},
        cluster_factory=lambda kubeconfig, context: Seat(),
        clock=FakeTime(),
    )
    before = sorted(k for k in fake.objects if k[0] in ("Namespace", "Pod"))
    result = CliRunner().invoke(app, ["--exercises", str(own), "start", "np-allow"], obj=env)
    assert result.exit_code == ExitStatus.UNSUPPORTED, result.output
    assert "cannot be found out" in result.stderr and "classroom seat" in result.stderr
    assert sorted(k for k in fake.objects if k[0] in ("Namespace", "Pod")) == before  # nothing tried, nothing made
    assert CliRunner().invoke(app, ["start", "clusterip-create"], obj=env).exit_code == 0


def test_an_exam_on_topics_that_require_nothing_tries_nothing(run, fake, own, kubeconfig):
    started = run("--exercises", str(own), "exam", "start", "--topic", "env-vars", "--seed", "1", "--json")
    assert started.exit_code == 0, started.output
    assert not namespaces(fake, "ckaprep-capabilities") and ("list", "Node", None) not in fake.read_log
    assert run("exam", "reset").exit_code == 0
    started = run("--exercises", str(own), "exam", "start", "--topic", "clusterip", "--seed", "1", "--tasks", "1")
    assert started.exit_code == 0, started.output
    assert ("list", "Node", None) in fake.read_log  # np-allow and two-nodes are clusterip exercises: found out
