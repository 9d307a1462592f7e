"""The real cluster client's requests and answers, against a small HTTP server on loopback.

What the client sends (method, path, query, token, JSON body) and how every answer is read:
JSON, a missing object, each refusal the API server gives, and a server that is not one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from ckaprep.cluster import kube
from ckaprep.errors import (
    AlreadyExists,
    ClusterUnreachable,
    Conflict,
    CredentialsRejected,
    NotFound,
    PermissionDenied,
    Refused,
    UsageError,
)
from tests.cli_process import write_kubeconfig

WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def websocket_frame(opcode: int, payload: bytes) -> bytes:
    """One unmasked frame, as a server sends it."""
    if len(payload) < 126:
        header = struct.pack("!BB", 0x80 | opcode, len(payload))
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, len(payload))
    return header + payload


class FakeApiServer:
    """Answers each request with the next canned answer and records what it got.

    An answer is (status, body), or ("exec", channel frames) for an exec websocket: the
    frames are (channel, bytes) as the API server sends them over v4.channel.k8s.io.
    """

    def __init__(self):
        self.answers: list[tuple[int, bytes]] = []
        self.requests: list[dict] = []
        self.date: str | None = None  # the Date header to send; None sends the real time
        server = self

        class Handler(BaseHTTPRequestHandler):
            def date_time_string(self, timestamp=None):
                return server.date or super().date_time_string(timestamp)

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                server.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": self.rfile.read(length) if length else b"",
                    }
                )
                status, body = server.answers.pop(0)
                if status == "exec":
                    return self._exec(body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _exec(self, frames):
                accept = hashlib.sha1((self.headers["Sec-WebSocket-Key"] + WEBSOCKET_GUID).encode()).digest()
                self.send_response(101)
                self.send_header("Upgrade", "websocket")
                self.send_header("Connection", "Upgrade")
                self.send_header("Sec-WebSocket-Accept", base64.b64encode(accept).decode())
                self.send_header("Sec-WebSocket-Protocol", "v4.channel.k8s.io")
                self.end_headers()
                for channel, data in frames:
                    self.wfile.write(websocket_frame(0x2, bytes([channel]) + data))
                self.wfile.write(websocket_frame(0x8, struct.pack("!H", 1000)))
                self.wfile.flush()
                self.close_connection = True

            do_GET = do_POST = do_DELETE = _answer
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def answer(self, status: int | str, body: dict | bytes | list) -> None:
        self.answers.append((status, json.dumps(body).encode() if isinstance(body, dict) else body))

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
    manifest = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "ns1"},
        "data": {"k": "v ü"},
    }
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
        (401, CredentialsRejected, "rejected the credentials of context c in kubeconfig "),
        (403, PermissionDenied, 'permission denied: services is forbidden: User "u" cannot list'),
        (404, UsageError, "refused POST /api/v1/namespaces/ns1/services: the namespace ns1 is gone"),
        (409, UsageError, 'refused POST /api/v1/namespaces/ns1/services: services "web" already exists'),
        (422, UsageError, 'Service "web" is invalid: spec.ports: Required value'),
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


# -- exec --------------------------------------------------------------------------------------


def exit_status(code: int) -> bytes:
    if code == 0:
        return json.dumps({"metadata": {}, "status": "Success"}).encode()
    return json.dumps(
        {
            "metadata": {},
            "status": "Failure",
            "reason": "NonZeroExitCode",
            "message": f"command terminated with non-zero exit code: error executing command, exit status {code}",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
        }
    ).encode()


def test_exec_sends_the_command_and_reads_the_channels_and_exit_code(server, cluster):
    server.answer("exec", [(1, b"hello "), (2, b"warning\n"), (1, "wörld\n".encode()), (3, exit_status(7))])
    result = cluster.exec("ns1", "probe-1", ["curl", "-s", "http://web:80/a b"], timeout=10)
    assert (result.returncode, result.stdout, result.stderr) == (7, "hello wörld\n", "warning\n")
    [request] = server.requests
    path, _, query = request["path"].partition("?")
    assert path == "/api/v1/namespaces/ns1/pods/probe-1/exec"
    assert parse_qs(query) == {
        "command": ["curl", "-s", "http://web:80/a b"],
        "stdin": ["false"],
        "stdout": ["true"],
        "stderr": ["true"],
        "tty": ["false"],
    }
    assert request["headers"]["authorization"] == "Bearer tok-123"


def test_exec_that_succeeds_has_exit_code_0(server, cluster):
    server.answer("exec", [(1, b"ok"), (3, exit_status(0))])
    result = cluster.exec("ns1", "p", ["true"], timeout=10)
    assert (result.returncode, result.stdout, result.stderr) == (0, "ok", "")


def test_exec_whose_error_channel_is_not_a_status_has_no_exit_code(server, cluster):
    server.answer("exec", [(1, b"partial"), (3, b"container not running")])
    result = cluster.exec("ns1", "p", ["true"], timeout=10)
    assert (result.returncode, result.stdout) == (None, "partial")


def test_exec_forbidden_is_permission_denied_with_the_apis_words(server, cluster):
    server.answer(403, status(403, 'pods "p" is forbidden: User "u" cannot create resource "pods/exec"'))
    with pytest.raises(PermissionDenied, match='cannot create resource "pods/exec"'):
        cluster.exec("ns1", "p", ["true"], timeout=10)


def test_exec_in_a_pod_that_is_gone_names_it(server, cluster):
    server.answer(404, status(404, 'pods "p" not found'))
    with pytest.raises(UsageError, match='refused EXEC ns1/p: pods "p" not found'):
        cluster.exec("ns1", "p", ["true"], timeout=10)


def test_exec_with_a_closed_port_says_refused(tmp_path):
    from tests.cli_process import closed_port

    config = write_kubeconfig(tmp_path / "k", f"https://127.0.0.1:{closed_port()}")
    cluster = kube.KubeCluster(kubeconfig=str(config), environ={})
    with pytest.raises(ClusterUnreachable, match="refused the connection"):
        cluster.exec("ns1", "p", ["true"], timeout=10)


def test_the_server_clock_comes_from_its_date_header_not_the_local_clock(server, cluster):
    from datetime import datetime, timezone

    server.date = "Tue, 01 Jan 2030 00:00:00 GMT"  # years ahead of this machine
    server.answer(200, {"major": "1", "minor": "36"})  # server_time() asks /version first
    now = cluster.server_time()
    assert server.requests[0]["path"] == "/version"
    assert datetime(2030, 1, 1, tzinfo=timezone.utc) <= now < datetime(2030, 1, 1, 0, 0, 5, tzinfo=timezone.utc)
    server.date = "Tue, 01 Jan 2030 00:01:00 GMT"
    server.answer(200, {"kind": "Service", "metadata": {"name": "web"}})
    cluster.get("Service", "ns1", "web")
    assert cluster.server_time() >= datetime(2030, 1, 1, 0, 1, tzinfo=timezone.utc)


def _seat_token(expiry: int) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    claims = {"exp": expiry, "kubernetes.io": {"namespace": "k8s101-seats", "serviceaccount": {"name": "k8s101-01"}}}
    return f"{part({'alg': 'RS256'})}.{part(claims)}.{part({})}"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (401, "Unauthorized"),  # the API server has noticed the ServiceAccount is gone
        (
            403,
            'configmaps "ckaprep-seat" is forbidden: User "system:serviceaccount:k8s101-seats:k8s101-01" '
            'cannot get resource "configmaps" in API group "" in the namespace "k8s101-01-a"',
        ),  # only RBAC has
    ],
)
def test_a_deleted_seat_says_so_whichever_refusal_the_api_server_gives(server, tmp_path, code, message):
    from ckaprep.classroom.seats import detect_seat

    token = _seat_token(expiry=4_000_000_000)  # not expired: the seat was deleted, not timed out
    config = write_kubeconfig(tmp_path / "k", server.url, cluster={}, user={"token": token})
    seat_cluster = kube.KubeCluster(kubeconfig=str(config), environ={})
    server.answer(code, status(code, message))
    with pytest.raises(CredentialsRejected) as caught:
        detect_seat(seat_cluster)
    said = str(caught.value)
    assert "ServiceAccount k8s101-seats/k8s101-01" in said
    assert "the seat or its class was deleted" in said and "ask the trainer for a new kubeconfig" in said
    assert "\n" not in said and "forbidden" not in said
    assert server.requests[0]["path"] == "/api/v1/namespaces/k8s101-01-a/configmaps/ckaprep-seat"


def test_rejected_credentials_name_the_server_and_the_context(server, cluster, tmp_path):
    server.answer(401, status(401, "Unauthorized"))
    with pytest.raises(CredentialsRejected) as caught:
        cluster.version()
    assert str(caught.value) == (
        f"the cluster at {server.url} rejected the credentials of context c in kubeconfig {tmp_path / 'k'} "
        "(Unauthorized)"
    )


@pytest.mark.parametrize(
    ("code", "reason", "error"),
    [
        (404, "NotFound", NotFound),
        (409, "AlreadyExists", AlreadyExists),
        (409, "Conflict", Conflict),
        (422, "Invalid", Refused),
    ],
)
def test_each_refused_write_raises_an_error_of_its_own(server, cluster, code, reason, error):
    server.answer(code, status(code, "refused") | {"reason": reason})
    with pytest.raises(error) as caught:
        cluster.create({"kind": "Service", "metadata": {"name": "web", "namespace": "ns1"}})
    assert type(caught.value) is error
