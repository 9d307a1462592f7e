"""Hostile command lines through the real entry point: never a traceback, a documented exit
status, and at most one line on stderr.

Every argument and option gets random text, markup, paths, control characters, very long
strings and bytes that are not UTF-8. No cluster: KUBECONFIG names a closed loopback port.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.cli_process import EXPECTED_STATUSES, closed_port, run_ckaprep, stderr_lines, write_kubeconfig
from tests.conftest import FakeTime

HOSTILE = [
    "[/]",
    "[bold red]X[/]",
    "[link=file:///etc/passwd]x[/link]",
    ":thumbs_up:",
    "../../../../../../etc/passwd",
    "../../ckaprep/study/topics/dns",
    "/",
    ".",
    "..",
    "/dev/null",
    "/dev/zero",
    "-",
    "--",
    "x" * 300,
    "y" * 5000,
    "\x1b[31mred\x1b[0m",
    "two\nlines",
    "\r",
    "\t",
    "\x7f",
    "\u202etxet",
    "%s%n",
    "{}",
    "{0!r}",
    "${HOME}",
    "$(id)",
    "'\"",
    "é日本語",
    "clusterip-create",
    "dns",
    "0",
    "-1",
    "1e309",
    "nan",
    "99999999999999999999999999",
]

# A command line cannot hold a lone surrogate (the OS passes bytes; what is not UTF-8
# arrives as raw_bytes below), and subprocess could not even encode one.
texts = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=40)
raw_bytes = st.binary(min_size=1, max_size=24).filter(lambda b: b"\x00" not in b)
values = st.one_of(st.sampled_from(HOSTILE), texts, raw_bytes)
EXERCISES = ["clusterip-create", "dns-cross-namespace"]
TOPICS = ["dns", "clusterip"]


@st.composite
def command_lines(draw) -> list[str | bytes]:
    argv: list[str | bytes] = []
    if draw(st.booleans()):
        argv += ["--kubeconfig", draw(values)]
    if draw(st.booleans()):
        argv += ["--context", draw(values)]
    command = draw(
        st.sampled_from(
            [
                "list",
                "start",
                "check",
                "status",
                "hint",
                "solution",
                "reset",
                "explain",
                "task",
                "exam",
                "classroom",
                "?",
            ]
        )
    )
    if command == "?":
        return argv + [draw(values)]
    argv.append(command)
    if command in GROUPS:
        subcommand = draw(st.one_of(st.sampled_from(sorted(GROUPS[command])), values))
        argv.append(subcommand)
        if command == "classroom":
            argv.append(draw(st.one_of(values, st.just("k8s101"))))  # CLASS
        options = GROUPS[command].get(subcommand, {}) if isinstance(subcommand, str) else {}
        chosen = draw(st.lists(st.sampled_from(sorted(options.items())), max_size=3)) if options else []
        for option, takes_value in chosen:
            argv += [option, draw(values)] if takes_value else [option]
    if command == "start":
        argv.append(draw(st.one_of(values, st.sampled_from(EXERCISES))))
        if draw(st.booleans()):
            argv += ["--seed", draw(st.one_of(values, st.integers().map(str)))]
        argv += draw(st.lists(st.sampled_from(["--force", "--json"]), max_size=2))
    elif command == "check":
        if draw(st.booleans()):
            argv += ["--wait", draw(st.one_of(values, st.floats().map(str)))]
        if draw(st.booleans()):
            argv += ["--probe-image", draw(values)]
    elif command == "explain":
        if draw(st.booleans()):
            argv.append(draw(st.one_of(values, st.sampled_from(TOPICS))))
    if draw(st.booleans()):
        argv.append("--json")
    if draw(st.integers(0, 9)) == 0:
        argv.append(draw(values))  # a stray argument
    return argv


# Each group's commands, with their options and whether each takes a value.
GROUPS = {
    "exam": {
        "start": {"--tasks": True, "--minutes": True, "--seed": True, "--topic": True, "--practice": False},
        "status": {},
        "task": {},
        "flag": {"--clear": False},
        "submit": {},
        "review": {},
        "reset": {},
    },
    "classroom": {
        "create": {"--seats": True, "--learners": True, "--valid": True, "--out": True, "--parallel": True},
        "status": {},
        "exam": {"--tasks": True, "--draw": True, "--seed": True, "--topic": True},
        "grade": {"--wait": True, "--parallel": True, "--at-deadline": False, "--probe-image": True},
        "report": {"--html": True},
        "delete": {},
    },
}

ENVIRONMENT = ["CKAPREP_PROBE_IMAGE", "CKAPREP_REQUEST_TIMEOUT", "KUBECONFIG"]
environments = st.dictionaries(st.sampled_from(ENVIRONMENT), values, max_size=2)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    home = tmp_path_factory.mktemp("fuzz")
    kubeconfig = write_kubeconfig(home / "refused.kubeconfig", f"https://127.0.0.1:{closed_port()}")
    return home, str(kubeconfig)


@pytest.fixture(scope="module")
def active_sandbox(tmp_path_factory):
    """An exercise started (on the fake cluster) so that check, hint, reset and the rest get further."""
    from typer.testing import CliRunner

    from ckaprep.cli.application import app
    from ckaprep.environment import Environment
    from tests.fake_cluster import FakeCluster

    home = tmp_path_factory.mktemp("fuzz-active")
    fake = FakeCluster()
    env = Environment(
        environ={"CKAPREP_HOME": str(home / "state"), "HOME": str(home)},
        cluster_factory=lambda kubeconfig, context: fake,
        clock=FakeTime(),
    )
    started = CliRunner().invoke(app, ["start", "dns-cross-namespace", "--seed", "3"], obj=env)
    assert started.exit_code == 0, started.output
    kubeconfig = write_kubeconfig(home / "refused.kubeconfig", f"https://127.0.0.1:{closed_port()}")
    return home, str(kubeconfig)


def assert_contract(home, kubeconfig, argv, environ=None):
    environ = {"KUBECONFIG": kubeconfig, **(environ or {})}
    result = run_ckaprep(home, *argv, **environ)
    assert "Traceback" not in result.stderr, (argv, environ, result.stderr)
    assert result.returncode in EXPECTED_STATUSES, (argv, environ, result.returncode, result.stderr)
    assert len(stderr_lines(result)) <= 1, (argv, environ, result.stderr)


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(argv=command_lines())
@example(argv=["start", "[/]"])
@example(argv=["explain", "[bold red]X[/]"])
@example(argv=["--kubeconfig", "[/]", "start", "clusterip-create", "--seed", "1"])
@example(argv=["--context", b"\xff\xfe", "start", "clusterip-create"])
@example(argv=["start", "z" * 5000])
@example(argv=["explain", "../../../../../../etc/passwd"])
@example(argv=["check", "--wait", "1e309", "--probe-image", "[/]"])
@example(argv=["--kubeconfig", "/dev/zero", "start", "dns-cross-namespace", "--json"])
@example(argv=[b"\xc3\x28", "--json"])
@example(argv=["classroom", "create", "k8s101", "--learners", "/dev/zero"])
@example(argv=["classroom", "create", "k8s101", "--seats", "2", "--valid", "9" * 5000])
@example(argv=["classroom", "create", "k8s101", "--seats", "2", "--valid", "99999999d"])
@example(argv=["classroom", "report", "[/]", "--html", "/dev/full"])
@example(argv=["exam", "start", "--tasks", "99999999999999999999", "--topic", "\x1b[31mred"])
@example(argv=["exam", "task", "0"])
def test_hostile_command_lines(sandbox, argv):
    assert_contract(*sandbox, argv)


@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(argv=command_lines(), environ=environments)
@example(argv=["check", "--probe-image", "[/]"], environ={})
@example(argv=["hint"], environ={"CKAPREP_REQUEST_TIMEOUT": "[/]"})
@example(argv=["check"], environ={"CKAPREP_REQUEST_TIMEOUT": "nan", "CKAPREP_PROBE_IMAGE": b"\xff"})
@example(argv=["explain", "dns"], environ={"KUBECONFIG": "/dev/zero"})
@example(argv=["reset", "--json"], environ={"KUBECONFIG": "[bold]x[/]"})
def test_hostile_command_lines_during_an_exercise(active_sandbox, argv, environ):
    """The exercise stays active: a closed port means check and reset never get to change it."""
    assert_contract(*active_sandbox, argv, environ)
