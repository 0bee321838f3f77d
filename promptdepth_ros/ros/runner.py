"""The one ``main`` of every node: init, spin until Ctrl-C or shutdown, clean up."""

from __future__ import annotations

from collections.abc import Callable

import rclpy
from rclpy.exceptions import ParameterException
from rclpy.executors import (
    Executor,
    ExternalShutdownException,
    MultiThreadedExecutor,
    SingleThreadedExecutor,
)
from rclpy.node import Node

from promptdepth_ros.errors import PromptDepthError


def run_node(
    name: str, make_node: Callable[[], Node], args: list[str] | None = None, threads: int = 1
) -> int:
    """Build the node with ``make_node`` and spin it; 0 on shutdown, 2 on a bad parameter.

    Callbacks only hand work to the nodes' worker threads, so one executor thread suffices,
    except for a callback that waits (a service waiting for a fresh input, in its own callback
    group): ``threads`` > 1 spins a MultiThreadedExecutor. The node's ``release()`` (worker
    threads, engines), when it has one, runs before it is destroyed.
    """
    rclpy.init(args=args)
    node: Node | None = None
    try:
        node = make_node()
        executor: Executor = (
            MultiThreadedExecutor(num_threads=threads) if threads > 1 else SingleThreadedExecutor()
        )
        executor.add_node(node)
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except (PromptDepthError, ParameterException) as error:  # a bad launch-time parameter
        rclpy.logging.get_logger(name).fatal(str(error))
        return 2
    finally:
        if node is not None:
            release: Callable[[], None] | None = getattr(node, "release", None)
            if release is not None:
                release()
            node.destroy_node()
        rclpy.try_shutdown()
    return 0
