import signal
from datetime import datetime

import pytest
import typer.testing

from ckaprep.clock import Clock
from ckaprep.environment import Environment
from tests.fake_cluster import FakeCluster

# A shell starts a background job with SIGINT ignored, and every child inherits that. The
# Ctrl-C tests need children that get SIGINT as a terminal delivers it, wherever pytest runs.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _command_built_once(get_command):
    """typer rebuilds the whole click command tree on every CliRunner.invoke (about 30 ms for
    ckaprep); the unit tests invoke the same app thousands of times, so each app is built once."""
    built = {}

    def cached(app):
        if id(app) not in built:
            built[id(app)] = (app, get_command(app))  # the app is kept, so its id is never reused
        return built[id(app)][1]

    return cached


if hasattr(typer.testing, "_get_command"):
    typer.testing._get_command = _command_built_once(typer.testing._get_command)


@pytest.fixture
def fake() -> FakeCluster:
    return FakeCluster()


class FakeTime(Clock):
    """A monotonic clock that only moves when something sleeps (`elapsed` seconds so far), then
    calls `on_sleep`; the wall clock is the real one until a test fixes it (`wall`)."""

    def __init__(self, wall: datetime | None = None, on_sleep=lambda seconds: None):
        self.elapsed = 0.0
        self.wall = [wall] if wall is not None else None
        self.on_sleep = on_sleep

    def now(self) -> datetime:
        return self.wall[0] if self.wall else super().now()

    def monotonic(self) -> float:
        return self.elapsed

    def sleep(self, seconds: float) -> None:
        self.elapsed += seconds
        self.on_sleep(seconds)


@pytest.fixture
def env(tmp_path, fake) -> Environment:
    """An environment whose cluster is the fake, whose state lives in a temp dir,
    and whose waits take no real time."""
    return Environment(
        environ={"CKAPREP_HOME": str(tmp_path / "state"), "HOME": str(tmp_path)},
        cluster_factory=lambda kubeconfig, context: fake,
        clock=FakeTime(),
    )


@pytest.fixture
def run(env):
    """The command line through typer's test runner, on the `env` fixture's fake cluster."""
    from typer.testing import CliRunner

    from ckaprep.cli.application import app

    runner = CliRunner()
    return lambda *args, **kw: runner.invoke(app, list(args), obj=env, **kw)


@pytest.fixture
def clock(env):
    """The wall clock of `env`, fixed at NOW until a test moves it: `clock[0] += timedelta(...)`."""
    from tests.helpers import NOW

    env.clock.wall = [NOW]
    return env.clock.wall
