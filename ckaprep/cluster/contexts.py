"""The context names a kubeconfig holds, read as plain YAML: `--context <TAB>` and the error for
a context that does not exist need them, and neither may wait for the kubernetes client."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

DEFAULT_KUBECONFIG = "~/.kube/config"


def kubeconfig_paths(kubeconfig: str | None, environ: Mapping[str, str]) -> list[Path]:
    """The files kubectl reads: --kubeconfig, else every file in $KUBECONFIG, else ~/.kube/config."""
    if kubeconfig:
        return [Path(kubeconfig).expanduser()]
    if environ.get("KUBECONFIG"):
        return [Path(p).expanduser() for p in environ["KUBECONFIG"].split(os.pathsep) if p]
    return [Path(DEFAULT_KUBECONFIG).expanduser()]  # as the client expands it


def context_names(kubeconfig: str | None, environ: Mapping[str, str]) -> list[str]:
    """Every context name in the kubeconfig files, in their order; a file that cannot be read
    or parsed adds none (the client reports it when it loads the file)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    names: list[str] = []
    for path in kubeconfig_paths(kubeconfig, environ):
        try:
            if not path.is_file():
                continue
            data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeError, ValueError, YAMLError):
            continue
        contexts = data.get("contexts") if isinstance(data, dict) else None
        for entry in contexts if isinstance(contexts, list) else []:
            name = entry.get("name") if isinstance(entry, dict) else None
            if isinstance(name, str) and name not in names:
                names.append(name)
    return names
