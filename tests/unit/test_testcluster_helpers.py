"""The e2e tests' reading of "the namespace is gone": NotFound, and nothing else."""

import subprocess

import pytest

from tests.testcluster import namespace_state


def _kubectl(returncode: int, stdout: str = "", stderr: str = ""):
    def run(*args, check=True):
        assert args[:3] == ("get", "namespace", "ns-1") and check is False
        return subprocess.CompletedProcess(list(args), returncode, stdout, stderr)

    return run


def test_not_found_is_gone():
    assert (
        namespace_state(_kubectl(1, stderr='Error from server (NotFound): namespaces "ns-1" not found'), "ns-1")
        == "gone"
    )


def test_a_namespace_still_there_gives_its_phase():
    assert namespace_state(_kubectl(0, stdout="Terminating"), "ns-1") == "Terminating"


def test_an_api_server_that_is_down_is_never_taken_for_a_deleted_namespace():
    refused = "The connection to the server 172.31.254.2:6443 was refused - did you specify the right host or port?"
    with pytest.raises(pytest.fail.Exception, match="was refused"):
        namespace_state(_kubectl(1, stderr=refused), "ns-1")
