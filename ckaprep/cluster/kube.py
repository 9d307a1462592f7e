"""The real cluster, through the official kubernetes client.

Imported only by commands that need a cluster: `kubernetes` is slow to import,
and `--help` and `explain` must stay fast.
"""

from __future__ import annotations

import json
import threading

import urllib3
from kubernetes import client, config
from kubernetes.client.rest import ApiException
from kubernetes.config.config_exception import ConfigException
from kubernetes.stream import stream
from kubernetes.stream.ws_client import ERROR_CHANNEL, STDERR_CHANNEL, STDOUT_CHANNEL

from ckaprep.cluster import KINDS, ExecResult
from ckaprep.errors import ClusterUnreachable, CredentialsRejected, PermissionDenied, UsageError

REQUEST_TIMEOUT_S = 15
# The client's websocket reader cuts frames around this size; output this long may be cut.
EXEC_TRUNCATION_BYTES = 32 * 1024


def _error_message(exc: ApiException) -> str:
    try:
        return json.loads(exc.body).get("message") or exc.reason
    except (TypeError, ValueError, AttributeError):
        return str(exc.reason)


class KubeCluster:
    def __init__(self, kubeconfig: str | None = None, context: str | None = None):
        self._configuration = client.Configuration()
        try:
            config.load_kube_config(
                config_file=kubeconfig, context=context, client_configuration=self._configuration
            )
        except ConfigException as exc:
            try:
                config.load_incluster_config(client_configuration=self._configuration)
            except ConfigException:
                raise CredentialsRejected(f"no usable kubeconfig: {exc}") from None
        except FileNotFoundError as exc:
            raise CredentialsRejected(f"kubeconfig not found: {exc.filename}") from None
        # Fail fast on an unreachable server instead of retrying for a minute.
        self._configuration.retries = 0
        self._context = context
        self._local = threading.local()

    def describe(self) -> str:
        return self._configuration.host

    def _api_client(self) -> client.ApiClient:
        # One ApiClient per thread: the client is not safe to share during exec.
        api = getattr(self._local, "api", None)
        if api is None:
            api = self._local.api = client.ApiClient(self._configuration)
        return api

    def _call(self, method: str, path: str, *, query=None, body=None) -> dict | None:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = self._api_client().call_api(
                path,
                method,
                query_params=query or [],
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
                _preload_content=False,
                _return_http_data_only=True,
                _request_timeout=REQUEST_TIMEOUT_S,
            )
        except ApiException as exc:
            if exc.status == 404 and method in ("GET", "DELETE"):
                return None
            raise self._translate(exc, method, path) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ClusterUnreachable(
                f"cannot reach the cluster at {self.describe()}: {type(exc).__name__}"
            ) from None
        return json.loads(response.data or b"null")

    def _translate(self, exc: ApiException, method: str, path: str):
        message = _error_message(exc)
        if exc.status == 401:
            return CredentialsRejected(f"the cluster rejected the credentials ({message})")
        if exc.status == 403:
            return PermissionDenied(f"permission denied: {message}")
        if exc.status in (404, 409, 422):  # a write the cluster refused as stated
            return UsageError(f"the cluster refused {method} {path}: {message}")
        if exc.status == 0 or exc.status is None:
            return ClusterUnreachable(f"cannot reach the cluster at {self.describe()}: {message}")
        return ClusterUnreachable(f"{method} {path} failed with HTTP {exc.status}: {message}")

    @staticmethod
    def _path(kind: str, namespace: str | None, name: str | None = None) -> str:
        group, plural, namespaced = KINDS[kind]
        path = f"{group}/namespaces/{namespace}/{plural}" if namespaced else f"{group}/{plural}"
        return f"{path}/{name}" if name else path

    def version(self):
        return self._call("GET", "/version") or {}

    def can_i(self, verb, group, resource, subresource="", *, namespace):
        attributes = {"verb": verb, "group": group, "resource": resource, "subresource": subresource}
        if namespace:
            attributes["namespace"] = namespace
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attributes},
        }
        answer = self._call("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body=review)
        return bool(((answer or {}).get("status") or {}).get("allowed"))

    def get(self, kind, namespace, name):
        return self._call("GET", self._path(kind, namespace, name))

    def list(self, kind, namespace, label_selector=""):
        query = [("labelSelector", label_selector)] if label_selector else []
        result = self._call("GET", self._path(kind, namespace), query=query)
        return (result or {}).get("items", [])

    def create(self, manifest):
        namespace = manifest.get("metadata", {}).get("namespace")
        return self._call("POST", self._path(manifest["kind"], namespace), body=manifest)

    def delete(self, kind, namespace, name):
        self._call("DELETE", self._path(kind, namespace, name))

    def exec(self, namespace, pod, argv, timeout):
        core = client.CoreV1Api(self._api_client())
        try:
            ws = stream(
                core.connect_get_namespaced_pod_exec,
                pod,
                namespace,
                command=argv,
                stdin=False,
                stdout=True,
                stderr=True,
                tty=False,
                _preload_content=False,
            )
        except ApiException as exc:
            raise self._translate(exc, "EXEC", f"{namespace}/{pod}") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ClusterUnreachable(f"exec in {namespace}/{pod} failed: {exc}") from None
        try:
            ws.run_forever(timeout=timeout)
            # Read the exit status first: draining the channels can lose it.
            try:
                returncode = ws.returncode
            except (ValueError, TypeError):
                # Known client bug: an error channel that is not a Status object.
                returncode = _returncode_from_status(ws.read_channel(ERROR_CHANNEL))
            stdout = ws.read_channel(STDOUT_CHANNEL)
            stderr = ws.read_channel(STDERR_CHANNEL)
        finally:
            ws.close()
        return ExecResult(
            returncode=returncode,
            stdout=stdout,
            stderr=stderr,
            truncated=len(stdout.encode()) >= EXEC_TRUNCATION_BYTES,
        )


def _returncode_from_status(raw: str) -> int | None:
    try:
        status = json.loads(raw)
    except ValueError:
        return None
    if status.get("status") == "Success":
        return 0
    for cause in (status.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode":
            return int(cause.get("message", "1"))
    return None
