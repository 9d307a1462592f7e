"""How the real cluster client names failures that need no live cluster to produce."""

import json

import pytest
from kubernetes.client.rest import ApiException
from websocket import WebSocketBadStatusException

from ckaprep.cluster import kube
from ckaprep.errors import PermissionDenied, UsageError
from tests.cli_process import closed_port, write_kubeconfig


@pytest.fixture
def cluster(tmp_path):
    config = write_kubeconfig(tmp_path / "k", f"https://127.0.0.1:{closed_port()}")
    return kube.KubeCluster(kubeconfig=str(config), environ={})


def failing_websocket_call(inner: BaseException):
    """What the client's websocket_call does: any failure to open it becomes ApiException(status=0)."""

    def websocket_call(*args, **kwargs):
        try:
            raise inner
        except BaseException as exc:
            raise ApiException(status=0, reason=str(exc))

    return websocket_call


def test_ctrl_c_while_opening_an_exec_stays_ctrl_c(cluster, monkeypatch):
    monkeypatch.setattr(kube, "websocket_call", failing_websocket_call(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        cluster.exec("ns", "pod", ["true"], timeout=1)


def test_exec_forbidden_is_permission_denied_with_the_apis_words(cluster, monkeypatch):
    body = json.dumps({"kind": "Status", "message": 'pods "p" is forbidden: User "u" cannot create "pods/exec"'})
    refused = WebSocketBadStatusException("Handshake status %d %s", 403, "Forbidden", resp_body=body.encode())
    monkeypatch.setattr(kube, "websocket_call", failing_websocket_call(refused))
    with pytest.raises(PermissionDenied, match='cannot create "pods/exec"'):
        cluster.exec("ns", "p", ["true"], timeout=1)


def test_exec_refused_connection_says_refused(cluster, monkeypatch):
    monkeypatch.setattr(
        kube, "websocket_call", failing_websocket_call(ConnectionRefusedError(111, "Connection refused"))
    )
    with pytest.raises(kube.ClusterUnreachable, match="refused the connection"):
        cluster.exec("ns", "p", ["true"], timeout=1)


@pytest.mark.parametrize("raw", ["soon", "0", "-1", "nan", "inf", "99999"])
def test_request_timeout_must_be_a_sensible_number(raw):
    with pytest.raises(UsageError, match="CKAPREP_REQUEST_TIMEOUT"):
        kube.request_timeout({"CKAPREP_REQUEST_TIMEOUT": raw})
    assert kube.request_timeout({"CKAPREP_REQUEST_TIMEOUT": "2.5"}) == 2.5
    assert kube.request_timeout({}) == kube.REQUEST_TIMEOUT_S
