"""ROS 2 parameter files: the sections a node reads, matched by node name as rcl matches them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from promptdepth_ros.errors import ConfigError


def _key_pattern(key: str) -> re.Pattern[str]:
    """The node names a file key selects: ``/**`` any namespace depth (none too), ``*`` one
    name token; a key without the leading slash is absolute all the same."""
    tokens = key.strip("/").split("/") if key.strip("/") else []
    pattern = ""
    for token in tokens:
        if token == "**":
            pattern += r"(?:/[^/]+)*"
        else:
            pattern += "/" + "[^/]+".join(re.escape(part) for part in token.split("*"))
    return re.compile(pattern + r"\Z")


def full_node_name(namespace: str, node_name: str) -> str:
    """``/namespace/node_name`` (``/node_name`` outside any namespace)."""
    return "/" + "/".join(part for part in (namespace.strip("/"), node_name) if part)


def node_parameters_in_file(
    document: Any, namespace: str, node_name: str
) -> dict[str, Any] | None:
    """The parameters a node gets from a loaded parameter file: every section whose key
    matches the node (``/**``, ``/**/<node>``, ``<node>``, ``/<ns>/<node>``, ...) merged in
    file order, a later section winning; None when no section matches.

    Raises ConfigError for a matching section without a ``ros__parameters`` mapping.
    """
    if not isinstance(document, Mapping):
        return None
    full_name = full_node_name(namespace, node_name)
    merged: dict[str, Any] | None = None
    for key, section in document.items():
        if not isinstance(key, str) or not _key_pattern(key).match(full_name):
            continue
        parameters = section.get("ros__parameters") if isinstance(section, Mapping) else None
        if not isinstance(parameters, Mapping):
            raise ConfigError(f"section '{key}' has no ros__parameters mapping")
        merged = {**(merged or {}), **parameters}
    return merged
