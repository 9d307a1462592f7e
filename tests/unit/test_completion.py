"""Shell completion in a real shell, and the kubectl plugin's flags and completion."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ckaprep.cli.application import app
from ckaprep.cli.entry import hoist_kubectl_flags
from ckaprep.exit_status import ExitStatus
from tests.testcluster import find_kubectl, must_have_cluster

BIN = Path(sys.executable).parent


def _installed(name: str) -> Path:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{name} is not installed beside {sys.executable}; run pip install -e .")
    return path


def _isolated_env(tmp_path, **extra) -> dict[str, str]:
    return {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(tmp_path), "CKAPREP_HOME": str(tmp_path / "state"), **extra}


def bash_complete(tmp_path, *words: str, environ: dict | None = None) -> list[str]:
    """Press TAB after `words` in a bash that sourced `ckaprep completion bash`."""
    _installed("ckaprep")
    quoted = " ".join(f"'{w}'" for w in words)
    script = (
        "source <(ckaprep completion bash)\n"
        f"COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}\n"
        "_ckaprep_completion ckaprep\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=60, env=environ or _isolated_env(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if line]


def test_bash_completes_exercise_ids(tmp_path):
    assert bash_complete(tmp_path, "ckaprep", "start", "clu") == ["clusterip-create", "clusterip-direct"]


def test_bash_completes_topics(tmp_path):
    assert bash_complete(tmp_path, "ckaprep", "explain", "dns-r") == ["dns-records"]
    assert "dns" in bash_complete(tmp_path, "ckaprep", "explain", "d")


def test_bash_completes_commands_and_options(tmp_path):
    assert {"start", "check", "explain", "completion"} <= set(bash_complete(tmp_path, "ckaprep", ""))
    assert {"--json", "--wait", "--probe-image"} <= set(bash_complete(tmp_path, "ckaprep", "check", "--"))


def test_bash_completes_exercises_of_a_trainer_directory(tmp_path):
    own = tmp_path / "mine"
    own.mkdir()
    (own / "clusterip-headless.yaml").write_text("id: clusterip-headless\n")
    environ = _isolated_env(tmp_path, CKAPREP_EXERCISES=str(own))
    assert "clusterip-headless" in bash_complete(tmp_path, "ckaprep", "start", "clu", environ=environ)


def test_completion_never_imports_the_kubernetes_client(tmp_path):
    environ = _isolated_env(tmp_path, COMP_WORDS="ckaprep start clu", COMP_CWORD="2", _CKAPREP_COMPLETE="complete_bash")
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "from ckaprep.cli.entry import main; main()"],
        capture_output=True,
        text=True,
        timeout=60,
        env=environ,
    )
    assert "clusterip-create" in done.stdout
    imported = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line]
    assert "ckaprep.cli.completion" in imported  # the probe really saw the completion path
    assert not [m for m in imported if m.split(".")[0] == "kubernetes"]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_name_the_program(shell):
    result = CliRunner().invoke(app, ["completion", shell])
    assert result.exit_code == 0
    assert "_CKAPREP_COMPLETE" in result.stdout and "ckaprep" in result.stdout


def test_completion_for_an_unknown_shell_is_a_usage_error():
    result = CliRunner().invoke(app, ["completion", "tcsh"])
    assert result.exit_code == ExitStatus.USAGE
    assert "bash, zsh, fish" in result.stderr


def test_a_real_zsh_loads_the_script(tmp_path):
    if not shutil.which("zsh"):
        if must_have_cluster():
            pytest.fail("zsh is not installed; scripts/test installs it")
        pytest.skip("zsh is not installed (scripts/test installs it, so CI always has it)")
    script = (
        "autoload -Uz compinit && compinit -u && source <(ckaprep completion zsh) && print -r -- ${_comps[ckaprep]}"
    )
    done = subprocess.run(
        ["zsh", "-c", script], capture_output=True, text=True, timeout=60, env=_isolated_env(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "_ckaprep_completion", done.stdout  # compdef registered the function


# -- kubectl plugin ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv, hoisted",
    [
        (["check", "--context", "kind-cka"], ["--context", "kind-cka", "check"]),
        (["check", "--context=kind-cka", "--json"], ["--context=kind-cka", "check", "--json"]),
        (
            ["--kubeconfig", "/k", "start", "x", "--context", "c"],
            ["--kubeconfig", "/k", "--context", "c", "start", "x"],
        ),
        (["explain", "--", "--context"], ["explain", "--", "--context"]),
        (["list"], ["list"]),
    ],
)
def test_kubectl_global_flags_are_taken_anywhere(argv, hoisted):
    assert hoist_kubectl_flags(argv) == hoisted


CLOSED_PORT_KUBECONFIG = """
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:{port}", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: closed, context: {cluster: c, user: u}}]
current-context: closed
"""


def _closed_port() -> int:
    import socket

    with socket.socket() as s:  # bound, then closed: nothing listens there afterwards
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("flag_style", ["separate", "equals"])
def test_the_plugin_reads_kubeconfig_given_after_the_command(tmp_path, flag_style):
    port = _closed_port()
    kubeconfig = tmp_path / "closed.kubeconfig"
    kubeconfig.write_text(CLOSED_PORT_KUBECONFIG.replace("{port}", str(port)))
    flag = ["--kubeconfig", str(kubeconfig)] if flag_style == "separate" else [f"--kubeconfig={kubeconfig}"]
    done = subprocess.run(
        [str(_installed("kubectl-ckaprep")), "start", "clusterip-create", *flag],
        capture_output=True,
        text=True,
        timeout=60,
        env=_isolated_env(tmp_path),
    )
    assert done.returncode == ExitStatus.CLUSTER, done.stderr
    assert f"127.0.0.1:{port}" in done.stderr


def test_the_plugin_help_speaks_of_kubectl_ckaprep(tmp_path):
    done = subprocess.run(
        [str(_installed("kubectl-ckaprep")), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_isolated_env(tmp_path),
    )
    assert done.returncode == 0 and "Usage: kubectl ckaprep" in done.stdout


def test_kubectl_plugin_completion_speaks_cobra(tmp_path):
    done = subprocess.run(
        [str(_installed("kubectl_complete-ckaprep")), "explain", "dns-r"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_isolated_env(tmp_path),
    )
    assert done.stdout.splitlines() == ["dns-records", ":4"], done.stderr


def test_kubectl_runs_the_plugin(tmp_path):
    kubectl = find_kubectl()
    if not kubectl:
        if must_have_cluster():
            pytest.fail("no kubectl: scripts/testcluster builds one, and CI starts the test cluster first")
        pytest.skip("no kubectl (CKAPREP_KUBECTL, the test cluster's build, PATH); CI always has the test cluster's")
    done = subprocess.run(
        [kubectl, "ckaprep", "explain", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_isolated_env(tmp_path, PATH=f"{BIN}:{os.path.dirname(kubectl)}:/usr/bin:/bin"),
    )
    assert done.returncode == 0, done.stderr
    assert '"topic": "dns"' in done.stdout


def test_exam_topics_complete_only_topics_some_exercise_covers(tmp_path):
    offered = bash_complete(tmp_path, "ckaprep", "exam", "start", "--topic", "")
    assert "udp" in offered and "dns" in offered and "best-practices" not in offered
    assert "best-practices" in bash_complete(tmp_path, "ckaprep", "explain", "b")


def test_too_many_tasks_for_a_topic_say_how_many_exercises_it_has(run):
    result = run("exam", "start", "--topic", "udp", "--tasks", "3")
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --tasks 3: only 1 exercise has topic udp, so the exam has at most 1 task"
