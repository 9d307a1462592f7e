import pytest

from ckaprep.cluster.fake import FakeCluster
from ckaprep.environment import Environment


@pytest.fixture
def fake() -> FakeCluster:
    return FakeCluster()


@pytest.fixture
def env(tmp_path, fake) -> Environment:
    """An environment whose cluster is the fake and whose state lives in a temp dir."""
    return Environment(
        environ={"CKAPREP_HOME": str(tmp_path / "state"), "HOME": str(tmp_path)},
        cluster_factory=lambda kubeconfig, context: fake,
    )
