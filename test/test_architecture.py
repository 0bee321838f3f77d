"""The layering of ARCHITECTURE.md: imports run down, no cycles, ROS only in ros/ and tools/."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "promptdepth_ros"
# Lowest first; a module may import its own layer and the ones below (never a cycle).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors",),
    ("settings", "geometry", "camera"),
    ("prompt", "cloud", "sim", "sync"),
    ("engines", "grasp"),
    ("pipeline",),
    ("eval",),
    ("ros", "msg", "srv"),
    ("tools",),
)
ROS_MODULES = frozenset(
    {
        "rclpy",
        "rcl_interfaces",
        "builtin_interfaces",
        "std_msgs",
        "sensor_msgs",
        "geometry_msgs",
        "visualization_msgs",
        "diagnostic_msgs",
        "tf2_msgs",
        "tf2_ros",
        "message_filters",
        "launch",
        "launch_ros",
        "ament_index_python",
        "moveit_msgs",
        "rosbags",
    }
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at module level or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            # ``from promptdepth_ros.x import y`` may name the submodule y.
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    """Module -> the package's own modules it imports (only those that exist)."""
    modules = {_module_name(p): p for p in PACKAGE_DIR.rglob("*.py")}
    return {
        name: {m for m in _imports(path) if m in modules and m != name}
        for name, path in modules.items()
    }


def _layer(module: str) -> int:
    top = module.split(".")[1] if "." in module else ""
    for index, names in enumerate(LAYERS):
        if top in names:
            return index
    raise AssertionError(f"{module} is in no layer of ARCHITECTURE.md: add its package")


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _package_graph(graph: dict[str, set[str]], depth: int) -> dict[str, set[str]]:
    """Imports between packages ``depth`` levels deep (2: promptdepth_ros.engines)."""
    packages: dict[str, set[str]] = defaultdict(set)
    for module, imported in graph.items():
        source = ".".join(module.split(".")[:depth])
        for other in imported:
            target = ".".join(other.split(".")[:depth])
            if target != source and len(other.split(".")) > depth - 1:
                packages[source].add(target)
    return packages


def test_every_import_runs_down_the_layers() -> None:
    upward = [
        f"{module} imports {other}"
        for module, imported in _graph().items()
        for other in imported
        if _layer(other) > _layer(module)
    ]
    assert not upward


def test_no_module_imports_itself_back_even_lazily() -> None:
    assert not _cycles(_graph())


@pytest.mark.parametrize("depth", [2, 3])
def test_no_package_imports_itself_back(depth: int) -> None:
    assert not _cycles(_package_graph(_graph(), depth))


def test_ros_is_imported_only_in_ros_and_tools() -> None:
    offenders = [
        f"{_module_name(path)} imports {name}"
        for path in PACKAGE_DIR.rglob("*.py")
        if _module_name(path).split(".")[1:2] not in (["ros"], ["tools"])
        for name in _imports(path)
        if name.split(".")[0] in ROS_MODULES
    ]
    assert not offenders


def test_tensorrt_is_imported_only_by_its_backend() -> None:
    offenders = [
        _module_name(path)
        for path in PACKAGE_DIR.rglob("*.py")
        if "tensorrt" in {name.split(".")[0] for name in _imports(path)}
        and not _module_name(path).startswith("promptdepth_ros.engines.backends.tensorrt")
    ]
    assert not offenders


def test_the_checks_see_a_violation() -> None:
    graph = {"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}, "a.w": set()}
    assert _cycles(graph) == [["a.x", "a.y", "a.z"]]
    assert _layer("promptdepth_ros.ros.qos") > _layer("promptdepth_ros.engines.spec")
    modules = {"promptdepth_ros.a.m": {"promptdepth_ros.b.n"}, "promptdepth_ros.b.n": set()}
    assert _package_graph(modules, 2) == {"promptdepth_ros.a": {"promptdepth_ros.b"}}
