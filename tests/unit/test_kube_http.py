"""The real cluster client's requests and answers, against a small HTTP server on loopback.

What the client sends (method, path, query, token, JSON body) and how every answer is read:
JSON, a missing object, each refusal the API server gives, and a server that is not one.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

pytest.importorskip("kubernetes")

from ckaprep.cluster import kube  # noqa: E402
from ckaprep.errors import ClusterUnreachable, CredentialsRejected, PermissionDenied, UsageError  # noqa: E402
from tests.cli_process import write_kubeconfig  # noqa: E402


class FakeApiServer:
    """Answers each request with the next canned (status, body) and records what it got."""

    def __init__(self):
        self.answers: list[tuple[int, bytes]] = []
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                server.requests.append({
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": self.rfile.read(length) if length else b"",
                })  # fmt: skip
                status, body = server.answers.pop(0)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_DELETE = _answer

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def answer(self, status: int, body: dict | bytes) -> None:
        self.answers.append((status, body if isinstance(body, bytes) else json.dumps(body).encode()))

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def status(code: int, message: str) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "code": code}


@pytest.fixture
def server():
    fake = FakeApiServer()
    yield fake
    fake.close()


@pytest.fixture
def cluster(server, tmp_path):
    config = write_kubeconfig(tmp_path / "k", server.url, cluster={}, user={"token": "tok-123"})
    return kube.KubeCluster(kubeconfig=str(config), environ={})


def test_get_sends_the_token_and_reads_the_json(server, cluster):
    server.answer(200, {"kind": "Service", "metadata": {"name": "web"}})
    assert cluster.get("Service", "ns1", "web") == {"kind": "Service", "metadata": {"name": "web"}}
    [request] = server.requests
    assert (request["method"], request["path"]) == ("GET", "/api/v1/namespaces/ns1/services/web")
    assert request["headers"]["authorization"] == "Bearer tok-123"
    assert request["headers"]["Accept"] == "application/json"


def test_list_passes_the_label_selector(server, cluster):
    server.answer(200, {"kind": "PodList", "items": [{"metadata": {"name": "a"}}]})
    assert cluster.list("Pod", "ns1", "app=web,tier in (x)") == [{"metadata": {"name": "a"}}]
    path, _, query = server.requests[0]["path"].partition("?")
    assert path == "/api/v1/namespaces/ns1/pods"
    assert parse_qs(query) == {"labelSelector": ["app=web,tier in (x)"]}  # clients differ on space: + or %20


def test_create_posts_the_manifest_as_json(server, cluster):
    manifest = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "ns1"},
                "data": {"k": "v ü"}}  # fmt: skip
    server.answer(201, manifest)
    assert cluster.create(manifest) == manifest
    [request] = server.requests
    assert (request["method"], request["path"]) == ("POST", "/api/v1/namespaces/ns1/configmaps")
    assert request["headers"]["Content-Type"] == "application/json"
    assert json.loads(request["body"]) == manifest


def test_a_missing_object_is_none_for_get_and_delete(server, cluster):
    server.answer(404, status(404, 'services "web" not found'))
    server.answer(404, status(404, 'services "web" not found'))
    assert cluster.get("Service", "ns1", "web") is None
    assert cluster.delete("Service", "ns1", "web") is None
    assert [r["method"] for r in server.requests] == ["GET", "DELETE"]


@pytest.mark.parametrize(
    ("code", "error", "words"),
    [
        (401, CredentialsRejected, "rejected the credentials (Unauthorized)"),
        (403, PermissionDenied, 'permission denied: services is forbidden: User "u" cannot list'),
        (404, UsageError, "refused POST /api/v1/namespaces/ns1/services: the namespace ns1 is gone"),
        (409, UsageError, 'refused POST /api/v1/namespaces/ns1/services: services "web" already exists'),
        (422, UsageError, "Service \"web\" is invalid: spec.ports: Required value"),
        (500, ClusterUnreachable, "POST /api/v1/namespaces/ns1/services failed with HTTP 500: etcd is down"),
    ],
)
def test_each_refusal_keeps_the_api_servers_words(server, cluster, code, error, words):
    messages = {
        401: "Unauthorized",
        403: 'services is forbidden: User "u" cannot list',
        404: "the namespace ns1 is gone",
        409: 'services "web" already exists',
        422: 'Service "web" is invalid: spec.ports: Required value',
        500: "etcd is down",
    }
    server.answer(code, status(code, messages[code]))
    with pytest.raises(error) as caught:
        cluster.create({"kind": "Service", "metadata": {"name": "web", "namespace": "ns1"}})
    assert words in str(caught.value)


def test_a_refusal_that_is_not_json_still_names_the_status(server, cluster):
    server.answer(503, b"<html>maintenance</html>")
    with pytest.raises(ClusterUnreachable, match="GET /version failed with HTTP 503"):
        cluster.version()


def test_a_server_that_is_not_an_api_server(server, cluster):
    server.answer(200, b"<html>hello</html>")
    with pytest.raises(ClusterUnreachable, match="did not answer GET /version with Kubernetes JSON"):
        cluster.version()
