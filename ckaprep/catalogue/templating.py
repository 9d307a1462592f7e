"""`${param}` substitution in exercise data.

Only the braced, lower-case form is a placeholder, so shell text such as
`$WEB_SERVICE_HOST` or `${WEB_SERVICE_PORT}` passes through untouched.
A filter may follow a bar: `${service|env}` gives `WEB_API` for `web-api`.
"""

from __future__ import annotations

import re
from typing import Any

PLACEHOLDER = re.compile(r"\$\{([a-z][a-z0-9_]*)(?:\|([a-z]+))?\}")


def env_name(name: str) -> str:
    """How Kubernetes turns a Service name into an environment variable prefix."""
    return name.upper().replace("-", "_")


FILTERS = {"upper": str.upper, "env": env_name}


class UnknownPlaceholder(KeyError):
    pass


def _value(match: re.Match, params: dict[str, Any]) -> Any:
    name, filter_name = match.group(1), match.group(2)
    if name not in params:
        raise UnknownPlaceholder(name)
    value = params[name]
    if filter_name:
        if filter_name not in FILTERS:
            raise UnknownPlaceholder(f"{name}|{filter_name}")
        value = FILTERS[filter_name](str(value))
    return value


def render(data: Any, params: dict[str, Any]) -> Any:
    """Substitute placeholders in every string of a nested structure.

    A string that is exactly one placeholder takes the parameter's own type,
    so `port: ${port}` stays a number in a manifest.
    """
    if isinstance(data, str):
        whole = PLACEHOLDER.fullmatch(data)
        if whole:
            return _value(whole, params)
        return PLACEHOLDER.sub(lambda m: str(_value(m, params)), data)
    if isinstance(data, dict):
        return {key: render(value, params) for key, value in data.items()}
    if isinstance(data, list):
        return [render(item, params) for item in data]
    return data


def placeholders(data: Any) -> set[str]:
    if isinstance(data, str):
        return {m.group(1) for m in PLACEHOLDER.finditer(data)}
    if isinstance(data, dict):
        return set().union(*(placeholders(v) for v in data.values())) if data else set()
    if isinstance(data, list):
        return set().union(*(placeholders(v) for v in data)) if data else set()
    return set()
