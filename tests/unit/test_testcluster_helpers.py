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


def _corefile_plugins(corefile: str) -> set[str]:
    """The plugin directives of a Corefile: the first word of each line inside a server block's
    braces (nested blocks are a plugin's own options)."""
    import re

    plugins, depth = set(), 0
    for line in corefile.splitlines():
        words = line.split()
        if depth == 1 and words and re.fullmatch(r"[a-z_0-9]+", words[0]):
            plugins.add(words[0])
        depth += line.count("{") - line.count("}")
    return plugins


def test_the_coredns_build_links_every_plugin_a_corefile_names():
    """testcluster/build.sh links only the plugins it lists into CoreDNS, whose image serves the
    cluster's DNS and the exercises' own DNS servers: a Corefile naming another one would not
    start there."""
    import re
    from pathlib import Path

    from ruamel.yaml import YAML

    root = Path(__file__).resolve().parents[2]
    built = set(
        re.findall(r'"github.com/coredns/coredns/plugin/([a-z_0-9]+)"', (root / "testcluster/build.sh").read_text())
    )
    corefiles = []
    for path in [root / "testcluster/manifests/coredns.yaml", *sorted((root / "exercises").glob("*.yaml"))]:
        for document in YAML(typ="safe").load_all(path.read_text().replace("@", "")):
            corefiles += [v for v in _nested_values(document, "Corefile") if isinstance(v, str)]
    named = set().union(*(_corefile_plugins(c) for c in corefiles))
    assert {"kubernetes", "template"} <= named  # the cluster's, and udp-service's
    assert named <= built, f"not linked into CoreDNS by testcluster/build.sh: {sorted(named - built)}"


def _nested_values(node, key):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                yield v
            yield from _nested_values(v, key)
    elif isinstance(node, list):
        for item in node:
            yield from _nested_values(item, key)
