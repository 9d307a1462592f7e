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

HOSTILE = [
    "[/]", "[bold red]X[/]", "[link=file:///etc/passwd]x[/link]", ":thumbs_up:",
    "../../../../../../etc/passwd", "../../ckaprep/topics/dns", "/", ".", "..", "/dev/null", "/dev/zero",
    "-", "--", "x" * 300, "y" * 5000, "\x1b[31mred\x1b[0m", "two\nlines", "\r", "\t", "\x7f", "\u202etxet",
    "%s%n", "{}", "{0!r}", "${HOME}", "$(id)", "'\"", "é日本語", "clusterip-create", "dns", "0", "-1",
    "1e309", "nan", "99999999999999999999999999",
]  # fmt: skip

texts = st.text(st.characters(exclude_characters="\x00"), max_size=40)
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
    command = draw(st.sampled_from(["list", "start", "check", "status", "hint", "solution", "reset",
                                    "explain", "?"]))  # fmt: skip
    if command == "?":
        return argv + [draw(values)]
    argv.append(command)
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


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    home = tmp_path_factory.mktemp("fuzz")
    kubeconfig = write_kubeconfig(home / "refused.kubeconfig", f"https://127.0.0.1:{closed_port()}")
    return home, str(kubeconfig)


@settings(max_examples=30, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
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
def test_hostile_command_lines(sandbox, argv):
    home, kubeconfig = sandbox
    result = run_ckaprep(home, *argv, KUBECONFIG=kubeconfig)
    assert "Traceback" not in result.stderr, (argv, result.stderr)
    assert result.returncode in EXPECTED_STATUSES, (argv, result.returncode, result.stderr)
    assert len(stderr_lines(result)) <= 1, (argv, result.stderr)
