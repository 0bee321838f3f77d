"""Helpers for tests that run real rclpy nodes over DDS in this process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import rclpy
from rclpy.context import Context
from rclpy.executors import MultiThreadedExecutor
from rclpy.node import Node


@contextmanager
def ros_session(
    *node_factories: Callable[[Context], Node],
) -> Iterator[tuple[Context, Node, list[Node]]]:
    """A fresh ROS context with a helper node plus the given nodes, spun in a thread."""
    context = Context()
    rclpy.init(context=context)
    executor = MultiThreadedExecutor(num_threads=4, context=context)
    helper = rclpy.create_node("test_helper", context=context)
    nodes = [factory(context) for factory in node_factories]
    for node in (helper, *nodes):
        executor.add_node(node)
    thread = threading.Thread(target=executor.spin, daemon=True)
    thread.start()
    try:
        yield context, helper, nodes
    finally:
        executor.shutdown(timeout_sec=5.0)
        for node in (*nodes, helper):
            node.destroy_node()
        rclpy.try_shutdown(context=context)
        thread.join(timeout=5.0)


def wait_until(predicate: Callable[[], Any], timeout_s: float, period_s: float = 0.02) -> bool:
    """Poll ``predicate`` until it is truthy or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(period_s)
    return bool(predicate())
