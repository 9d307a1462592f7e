"""Driving ckaprep on the live cluster the way a learner does: start, kubectl, check, reset."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from ckaprep.cli.application import app
from ckaprep.environment import Environment


@dataclass
class CheckRun:
    exit_code: int
    report: dict

    @property
    def failed(self) -> set[str]:
        return {c["id"] for c in self.report["checks"] if c["status"] != "pass"}

    def check(self, check_id: str) -> dict:
        return next(c for c in self.report["checks"] if c["id"] == check_id)

    def explain(self) -> str:
        return "\n".join(f"{c['id']}: {c['status']} | {c['found']} | {c['message']}" for c in self.report["checks"])


class Practice:
    """One learner's session with its own ckaprep state directory."""

    def __init__(self, state_dir: Path, cluster):
        self.env = Environment(
            environ={"CKAPREP_HOME": str(state_dir), "HOME": str(state_dir)},
            kubeconfig=cluster.kubeconfig,
        )
        self.cluster = cluster
        self._kubectl = cluster.kubectl
        self.runner = CliRunner()
        self.params: dict = {}
        self.namespaces: list[str] = []

    def ckaprep(self, *args: str):
        return self.runner.invoke(app, list(args), obj=self.env)

    def start(self, exercise_id: str, seed: int = 11) -> dict:
        result = self.ckaprep("start", exercise_id, "--seed", str(seed), "--json")
        assert result.exit_code == 0, result.output
        payload = json.loads(result.stdout)
        self.params, self.namespaces = payload["params"], payload["namespaces"]
        return payload

    def check(self, wait: float = 20) -> CheckRun:
        result = self.ckaprep("check", "--json", "--wait", str(wait))
        assert result.exit_code in (0, 1), result.output
        run = CheckRun(result.exit_code, json.loads(result.stdout))
        assert (run.exit_code == 0) == run.report["passed"]
        return run

    @property
    def ns(self) -> str:
        return self.namespaces[0]

    def kubectl(self, *args: str, namespace: str | None = None, input: str | None = None, check=True):
        return self._kubectl("-n", namespace or self.ns, *args, input=input, check=check)

    def apply(self, manifest_yaml: str, namespace: str | None = None):
        return self.kubectl("apply", "-f", "-", namespace=namespace, input=manifest_yaml)

    def solution(self) -> dict:
        result = self.ckaprep("solution", "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def run_script(self, script: str) -> None:
        """Run a solution's kubectl lines through bash, with our kubectl and kubeconfig."""
        kubectl_dir = os.path.dirname(self.cluster.kubectl_path)
        environ = dict(os.environ, KUBECONFIG=self.env.kubeconfig, PATH=f"{kubectl_dir}:{os.environ['PATH']}")
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script], env=environ, capture_output=True, text=True, timeout=180
        )
        assert done.returncode == 0, f"{script}\n{done.stdout}\n{done.stderr}"

    def reset(self):
        return self.ckaprep("reset", "--json")

    def pod_ip(self, name: str, namespace: str) -> str:
        return self.kubectl("get", "pod", name, "-o", "jsonpath={.status.podIP}", namespace=namespace).stdout

    def cluster_ip(self, service: str) -> str:
        return self.kubectl("get", "svc", service, "-o", "jsonpath={.spec.clusterIP}").stdout

    def wait_rollout(self, deployment: str):
        self.kubectl("rollout", "status", f"deployment/{deployment}", "--timeout=120s")
