"""The kubectl verbs the exercises' proofs use, acting on a FakeCluster.

Enough to run every proof offline; the real proof is `ckaprep prove` on a cluster.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess

from ruamel.yaml import YAML

from ckaprep.practice.proving import StepResult
from tests.fake_cluster import DOMAIN, FakeCluster

_yaml = YAML(typ="safe", pure=True)


def _jsonpath(obj, expr: str) -> str:
    value = obj
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", expr.strip("{}").lstrip(".")):
        value = value[int(part[1:-1])] if part.startswith("[") else value.get(part, "")
    return "" if value is None else str(value)


class FakeKubectl:
    def __init__(self, fake: FakeCluster):
        self.fake = fake
        self.calls: list[list[str]] = []

    def __call__(self, args, *, namespace, stdin=None) -> StepResult:
        self.calls.append(list(args))
        args = list(args)
        while "-n" in args:  # the last -n wins, as in kubectl
            i = args.index("-n")
            namespace = args[i + 1]
            del args[i : i + 2]
        flags = {a.split("=", 1)[0]: (a.split("=", 1) + [""])[1] for a in args if a.startswith("--")}
        words = [a for a in args if not a.startswith("--")]
        try:
            out = getattr(self, "_" + words[0].replace("-", "_"))(words[1:], flags, namespace, stdin) or ""
        except (KeyError, ValueError, IndexError) as exc:
            return StepResult(1, "", f"error: {exc}")
        return StepResult(0, out, "")

    # -- helpers ---------------------------------------------------------------------------
    def _obj(self, kind, ns, name):
        obj = self.fake.get(kind, ns, name)
        if obj is None:
            raise KeyError(f"{kind} {name} not found")
        return obj

    def _apply_manifest(self, manifest, ns):
        kind = manifest["kind"]
        meta = manifest.setdefault("metadata", {})
        if kind != "Namespace":
            meta.setdefault("namespace", ns)
        for key in ("resourceVersion", "uid", "creationTimestamp"):
            meta.pop(key, None)
        manifest.pop("status", None)
        manifest.pop("_env", None)
        manifest.pop("_listening", None)
        self.fake.apply(manifest)

    def _replace_spec(self, obj):
        """Write a changed object back the way an API update would."""
        kind = obj["kind"]
        self._apply_manifest(
            {k: v for k, v in obj.items() if k not in ("status", "_env")}, obj["metadata"]["namespace"]
        )
        if kind == "Service" and not obj["spec"].get("selector"):
            self.fake.objects[("Service", obj["metadata"]["namespace"], obj["metadata"]["name"])]["spec"].pop(
                "selector", None
            )

    @staticmethod
    def _kind(word):
        return {
            "svc": "Service",
            "service": "Service",
            "pod": "Pod",
            "pods": "Pod",
            "deployment": "Deployment",
            "deploy": "Deployment",
            "configmap": "ConfigMap",
            "endpoints": "Endpoints",
            "servicecidr": "ServiceCIDR",
            "statefulset": "StatefulSet",
            "sts": "StatefulSet",
            "networkpolicy": "NetworkPolicy",
            "netpol": "NetworkPolicy",
            "networkpolicies": "NetworkPolicy",
            "node": "Node",
            "nodes": "Node",
        }[word]

    # -- verbs -------------------------------------------------------------------------------
    def _apply(self, words, flags, ns, stdin):
        for doc in _yaml.load_all(stdin):
            for item in (doc or {}).get("items", [doc] if doc else []):
                self._apply_manifest(json.loads(json.dumps(item)), ns)

    def _create(self, words, flags, ns, stdin):
        if words[0] == "-f":  # `kubectl create -f -`: the manifests on stdin, each new
            for doc in _yaml.load_all(stdin):
                for item in (doc or {}).get("items", [doc] if doc else []):
                    item = json.loads(json.dumps(item))
                    where = (item["kind"], item.get("metadata", {}).get("namespace", ns), item["metadata"]["name"])
                    if self.fake.get(*where) is not None:
                        raise ValueError(f"{item['kind']} {where[2]} already exists")
                    self._apply_manifest(item, ns)
            return ""
        if words[0] == "service" and words[1] == "externalname":
            self._apply_manifest(
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {"name": words[2]},
                    "spec": {"type": "ExternalName", "externalName": flags["--external-name"]},
                },
                ns,
            )
        elif words[0] == "service":
            name = words[2]
            ports = []
            for protocol in ("tcp", "udp"):
                for item in filter(None, flags.get(f"--{protocol}", "").split(",")):
                    port, target = item.split(":")
                    ports.append(
                        {
                            "name": f"{port}-{target}",
                            "port": int(port),
                            "protocol": protocol.upper(),
                            "targetPort": int(target) if target.isdigit() else target,
                        }
                    )
            kind = {"clusterip": "ClusterIP", "nodeport": "NodePort", "loadbalancer": "LoadBalancer"}[words[1]]
            spec = {"type": kind, "selector": {"app": name}, "ports": ports}
            if flags.get("--clusterip"):
                spec["clusterIP"] = flags["--clusterip"]
            self._apply_manifest({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}, ns)
        elif words[0] == "configmap":
            # Every --from-literal counts (the flags map keeps only the last one).
            literals = [a.split("=", 1)[1] for a in self.calls[-1] if a.startswith("--from-literal=")]
            data = dict(item.split("=", 1) for item in literals)
            self._apply_manifest(
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": words[1]}, "data": data}, ns
            )
        else:
            raise ValueError(f"create {words[0]} is not simulated")

    def _expose(self, words, flags, ns, stdin):
        if self._kind(words[0]) == "StatefulSet":
            raise ValueError("cannot expose a StatefulSet.apps")
        workload = self._obj(self._kind(words[0]), ns, words[1])
        port = int(flags["--port"])
        target = flags.get("--target-port", str(port))
        # A Pod has no selector: kubectl takes its labels, the controller's hash among them.
        pod = workload["kind"] == "Pod"
        selector = workload["metadata"]["labels"] if pod else workload["spec"]["selector"]["matchLabels"]
        spec = {
            "type": flags.get("--type", "ClusterIP"),
            "selector": copy.deepcopy(selector),
            "ports": [
                {
                    "port": port,
                    "targetPort": int(target) if target.isdigit() else target,
                    "protocol": flags.get("--protocol", "TCP"),
                }
            ],
        }
        if "--cluster-ip" in flags:
            spec["clusterIP"] = flags["--cluster-ip"]
        self._apply_manifest(
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": flags.get("--name", words[1])}, "spec": spec},
            ns,
        )

    def _set(self, words, flags, ns, stdin):
        if words[0] == "selector":
            svc = self._obj("Service", ns, words[2])
            svc["spec"]["selector"] = dict(pair.split("=") for pair in words[3].split(","))
            self._replace_spec(svc)
        elif words[0] == "env":
            deployment = self._obj("Deployment", ns, words[1].split("/")[1])
            key, value = words[2].split("=")
            deployment["spec"]["template"]["spec"]["containers"][0].setdefault("env", []).append(
                {"name": key, "value": value}
            )
            self._replace_spec(deployment)

    def _patch(self, words, flags, ns, stdin):
        obj = self._obj(self._kind(words[0]), ns, words[1])
        body = json.loads(words[words.index("-p") + 1])
        if flags.get("--type") == "json":
            for op in body:
                *parents, last = [int(p) if p.isdigit() else p for p in op["path"].strip("/").split("/")]
                target = obj
                for part in parents:
                    target = target[part]
                if op["op"] == "remove":
                    del target[last]
                elif op["op"] == "add" and last == "-":
                    target.append(op["value"])
                elif op["op"] == "add" and isinstance(target, list):
                    target.insert(last, op["value"])
                else:
                    target[last] = op["value"]
        else:
            for key, value in body.items():
                if isinstance(value, dict) and isinstance(obj.get(key), dict):
                    obj[key].update(value)
                else:
                    obj[key] = value
        self._replace_spec(obj)

    def _get(self, words, flags, ns, stdin):
        output = next((words[i + 1] for i, w in enumerate(words) if w == "-o"), "json")
        kind = self._kind(words[0])
        if "-l" in words:
            parts = words[words.index("-l") + 1].split(",")
            present = [p for p in parts if "=" not in p]  # `key` alone: the label is there
            items = self.fake.list(kind, ns, ",".join(p for p in parts if "=" in p))
            obj = {"items": [o for o in items if all(k in (o["metadata"].get("labels") or {}) for k in present)]}
        else:
            obj = self._obj(kind, ns, words[1])
            obj.pop("_env", None)
            obj.pop("_listening", None)
        if output.startswith("jsonpath="):
            return _jsonpath(obj, output[len("jsonpath=") :])
        return json.dumps(obj)

    def _delete(self, words, flags, ns, stdin):
        self.fake.delete(self._kind(words[0]), ns, words[1])
        if flags.get("--wait") != "false":  # kubectl waits until the object is gone
            self.fake.wait_until_gone(self._kind(words[0]), ns, words[1])

    def _replace(self, words, flags, ns, stdin):
        manifest = json.loads(stdin)
        where = (manifest["kind"], manifest["metadata"].get("namespace", ns), manifest["metadata"]["name"])
        self.fake.delete(*where)
        self.fake.wait_until_gone(*where)  # --force deletes, waits, then creates
        self._apply_manifest(manifest, ns)

    def _run(self, words, flags, ns, stdin):
        command = words[1:]  # what followed `--`
        self._apply_manifest(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": words[0], "labels": {"run": words[0]}},
                "spec": {"containers": [{"name": words[0], "image": flags["--image"], "command": command}]},
            },
            ns,
        )

    def _exec(self, words, flags, ns, stdin):
        """A command in a pod: text filters (tr, sed) run here on the step's stdin, as they would
        in the pod; a shell reading the cluster domain gets it; anything else is the simulated
        pod's answer."""
        words = [w for w in words if w not in ("-i", "-it")]
        pod, command = words[0], words[1:]
        if command[0] in ("tr", "sed"):
            done = subprocess.run(command, input=stdin or "", capture_output=True, text=True, timeout=10)
            if done.returncode:
                raise ValueError(done.stderr.strip())
            return done.stdout
        script = " ".join(command)
        if "/etc/resolv.conf" in script and "sed" in script:  # the proofs read the cluster domain
            return DOMAIN + "\n"
        result = self.fake.exec(ns, pod, command, timeout=10)
        if result.returncode:
            raise ValueError(result.stderr.strip() or f"exit {result.returncode}")
        return result.stdout

    def _label(self, words, flags, ns, stdin):
        """`kubectl label KIND (NAME | -l SELECTOR) key=value key- ... [--overwrite]`."""
        kind = self._kind(words[0])
        if "-l" in words:
            at = words.index("-l")
            names = [o["metadata"]["name"] for o in self.fake.list(kind, ns, words[at + 1])]
            changes = words[1:at] + words[at + 2 :]
        else:
            names, changes = [self._obj(kind, ns, words[1])["metadata"]["name"]], words[2:]

        def relabel(obj):
            labels = obj["metadata"].setdefault("labels", {})
            for change in changes:
                if change.endswith("-"):
                    labels.pop(change[:-1], None)
                    continue
                key, value = change.split("=", 1)
                if labels.get(key, value) != value and "--overwrite" not in flags:
                    raise ValueError(f"'{key}' already has a value ({labels[key]}), and --overwrite is false")
                labels[key] = value

        for name in names:
            self.fake.patch(kind, ns, name, relabel)

    def _scale(self, words, flags, ns, stdin):
        if words[0] in ("rs", "replicaset", "replicasets") or words[0].startswith(("rs/", "replicaset/")):
            # The fake has no ReplicaSets: one scaled by hand is scaled back by its Deployment's
            # controller, which leaves the Pods as they were (the real cluster shows the churn).
            return ""
        name = words[1] if len(words) > 1 else words[0].split("/")[1]
        deployment = self._obj("Deployment", ns, name)
        deployment["spec"]["replicas"] = int(flags["--replicas"])
        self._replace_spec(deployment)

    def _wait(self, words, flags, ns, stdin):
        pass

    def _rollout(self, words, flags, ns, stdin):
        if words[0] == "restart":
            deployment = self._obj("Deployment", ns, words[1].split("/")[1])
            meta = deployment["spec"]["template"].setdefault("metadata", {})
            meta.setdefault("annotations", {})["kubectl.kubernetes.io/restartedAt"] = "2026-01-01T00:00:00Z"
            self._replace_spec(deployment)
