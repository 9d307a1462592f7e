"""Failures a learner meets on a real cluster end in one line and the documented exit status."""

from __future__ import annotations

import base64
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from ckaprep.catalogue.loading import load_catalogue
from ckaprep.cluster.images import CURL_IMAGE
from ckaprep.exit_status import ExitStatus
from tests.e2e.practice import Practice
from tests.testcluster import must_have_cluster


def _ckaprep(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """The real entry point, in a child process, as a learner runs it."""
    env = {"CKAPREP_HOME": str(tmp_path / "state"), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "ckaprep", *args], capture_output=True, text=True, env=env, timeout=120
    )


def _kubeconfig_variant(source: str, tmp_path: Path, *, server=None, token=None, cluster=None, user=None) -> str:
    yaml = YAML(typ="safe", pure=True)
    config = yaml.load(Path(source).read_text())
    if server:
        config["clusters"][0]["cluster"]["server"] = server
    if cluster:
        config["clusters"][0]["cluster"].update(cluster)
    if user:
        config["users"][0]["user"].update(user)
    if token:
        user = config["users"][0]["user"]
        user.pop("client-certificate-data", None)
        user.pop("client-key-data", None)
        user.pop("client-certificate", None)
        user.pop("client-key", None)
        user["token"] = token
    path = tmp_path / "variant.kubeconfig"
    with path.open("w") as handle:
        yaml.dump(config, handle)
    return str(path)


def _assert_one_line_error(result, status: ExitStatus, text: str):
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and text in lines[0], result.stderr


def test_unreachable_cluster(tmp_path, kubeconfig):
    # Loopback port 1: nothing listens, so the connection is refused at once.
    broken = _kubeconfig_variant(kubeconfig, tmp_path, server="https://127.0.0.1:1")
    result = _ckaprep(tmp_path, "--kubeconfig", broken, "start", "clusterip-create")
    _assert_one_line_error(result, ExitStatus.CLUSTER, "refused the connection")
    assert broken in result.stderr


def test_rejected_credentials(tmp_path, kubeconfig):
    bogus = _kubeconfig_variant(kubeconfig, tmp_path, token=base64.b64encode(b"not-a-token").decode())
    result = _ckaprep(tmp_path, "--kubeconfig", bogus, "start", "clusterip-create")
    _assert_one_line_error(result, ExitStatus.CLUSTER, "rejected the credentials")


def test_server_certificate_signed_by_another_ca(tmp_path, kubeconfig):
    # The API server's own CA replaced by an unrelated certificate: verification must fail.
    yaml = YAML(typ="safe", pure=True)
    config = yaml.load(Path(kubeconfig).read_text())
    user = config["users"][0]["user"]
    if "client-certificate-data" not in user:
        if must_have_cluster():
            pytest.fail(
                "the test cluster's kubeconfig has no inline client certificate; scripts/testcluster writes one"
            )
        pytest.skip(
            "this cluster's kubeconfig has no inline client certificate to reuse as a CA (the test cluster's has)"
        )
    wrong = _kubeconfig_variant(
        kubeconfig, tmp_path, cluster={"certificate-authority-data": user["client-certificate-data"]}
    )
    result = _ckaprep(tmp_path, "--kubeconfig", wrong, "start", "clusterip-create")
    _assert_one_line_error(result, ExitStatus.CLUSTER, "certificate cannot be verified")
    assert "certificate-authority-data" in result.stderr and wrong in result.stderr


def test_client_certificate_of_random_bytes(tmp_path, kubeconfig):
    random_data = base64.b64encode(os.urandom(96)).decode()
    broken = _kubeconfig_variant(
        kubeconfig, tmp_path, user={"client-certificate-data": random_data, "client-key-data": random_data}
    )
    result = _ckaprep(tmp_path, "--kubeconfig", broken, "start", "clusterip-create")
    _assert_one_line_error(result, ExitStatus.CLUSTER, "client-certificate-data")


def test_permission_denied_for_a_namespace_limited_user(tmp_path, limited_kubeconfig):
    result = _ckaprep(tmp_path, "--kubeconfig", limited_kubeconfig, "start", "clusterip-create")
    _assert_one_line_error(result, ExitStatus.CLUSTER, "permission denied")
    assert "namespaces" in result.stderr


def test_probe_image_that_cannot_be_pulled(tmp_path, cluster):
    practice = Practice(tmp_path / "state", cluster)
    practice.start("clusterip-create", seed=424242)
    try:
        x = practice.params
        practice.kubectl(
            "expose",
            "deployment",
            x["app"],
            f"--name={x['service']}",
            f"--port={x['port']}",
            f"--target-port={x['target_port']}",
        )
        image = "docker.io/library/ckaprep-missing:0.0"
        result = practice.ckaprep("check", "--probe-image", image)
        assert result.exit_code == ExitStatus.IMAGE_PULL, result.output
        assert image in result.stderr
        assert practice.env.state.load() is not None
    finally:
        assert practice.reset().exit_code == 0


def test_status_through_the_real_entry_point(tmp_path, kubeconfig):
    result = _ckaprep(tmp_path, "--kubeconfig", kubeconfig, "status")
    _assert_one_line_error(result, ExitStatus.USAGE, "no active exercise")
    listing = _ckaprep(tmp_path, "list", "--json")
    assert listing.returncode == 0 and len(json.loads(listing.stdout)) == len(load_catalogue())


def test_ctrl_c_during_start_leaves_a_resettable_attempt(tmp_path, kubeconfig):
    import signal
    import time

    env = {"CKAPREP_HOME": str(tmp_path / "state"), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ckaprep",
            "--kubeconfig",
            kubeconfig,
            "start",
            "clusterip-create",
            "--seed",
            str(random.SystemRandom().randrange(10**6)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    state_file = tmp_path / "state" / "attempt.json"
    deadline = time.monotonic() + 30
    while not state_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)  # while the exercise is being set up
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == ExitStatus.INTERRUPTED, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    attempt = json.loads(state_file.read_text())  # whole, never half-written
    assert attempt["exercise"] == "clusterip-create"
    reset = _ckaprep(tmp_path, "--kubeconfig", kubeconfig, "reset")
    assert reset.returncode == 0, reset.stderr
    assert not state_file.exists()


PROBE_SELECTOR = "ckaprep.io/role=probe"
UNPULLABLE = "docker.io/library/ckaprep-missing:0.0"


def _probe_pods(practice: Practice, *, until_none: bool = False) -> list[str]:
    """`name image` of each probe pod in the exercise's namespace; optionally wait for them to go."""
    deadline = time.monotonic() + 60
    template = "jsonpath={range .items[*]}{.metadata.name} {.spec.containers[0].image}{'\\n'}{end}"
    while True:
        out = practice.kubectl("get", "pods", "-l", PROBE_SELECTOR, "-o", template).stdout
        pods = [line for line in out.splitlines() if line.strip()]
        if not (until_none and pods) or time.monotonic() > deadline:
            return pods
        time.sleep(1)


def test_probe_pods_never_left_behind_and_run_the_image_asked_for(tmp_path, cluster, kubeconfig):
    practice = Practice(tmp_path / "state", cluster)
    practice.start("clusterip-create", seed=515151)
    env = {"CKAPREP_HOME": str(tmp_path / "state"), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}

    def check(*args, **extra):
        return subprocess.run(
            [sys.executable, "-m", "ckaprep", "--kubeconfig", kubeconfig, "check", *args],
            capture_output=True,
            text=True,
            env={**env, **extra},
            timeout=300,
        )

    try:
        x = practice.params
        practice.kubectl(
            "expose",
            "deployment",
            x["app"],
            f"--name={x['service']}",
            f"--port={x['port']}",
            f"--target-port={x['target_port']}",
        )
        graded = check("--wait", "30")
        assert graded.returncode == ExitStatus.OK, graded.stdout + graded.stderr
        [running] = _probe_pods(practice)
        assert running.endswith(CURL_IMAGE)

        # A running probe pod with another image must not stand in for the one asked for.
        for args, extra in ((["--probe-image", UNPULLABLE], {}), ([], {"CKAPREP_PROBE_IMAGE": UNPULLABLE})):
            failed = check(*args, **extra)
            _assert_one_line_error(failed, ExitStatus.IMAGE_PULL, UNPULLABLE)
            assert _probe_pods(practice, until_none=True) == [], "a probe pod was left behind"
    finally:
        assert practice.reset().exit_code == 0
