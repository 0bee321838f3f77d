"""The one ``main`` of every node: init, spin until SIGINT/SIGTERM or shutdown, clean up."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType

import rclpy
from rclpy.exceptions import ParameterException
from rclpy.executors import (
    Executor,
    ExternalShutdownException,
    MultiThreadedExecutor,
    SingleThreadedExecutor,
)
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from promptdepth_ros.errors import PromptDepthError

# How often the spin loop returns to Python, so a signal is handled within this time.
SIGNAL_POLL_S = 0.1


def run_node(
    name: str, make_node: Callable[[], Node], args: list[str] | None = None, threads: int = 1
) -> int:
    """Build the node with ``make_node`` and spin it; 0 on SIGINT/SIGTERM or shutdown, 2 on a
    bad parameter.

    The package handles SIGINT and SIGTERM itself: rclpy's handler could miss a signal that
    arrives while the executor is idle (the process then never ended). A signal only sets a
    flag, so a second one during cleanup interrupts nothing. Callbacks only hand work to the
    nodes' worker threads, so one executor thread suffices, except for a callback that waits
    (a service waiting for a fresh input, in its own callback group): ``threads`` > 1 spins a
    MultiThreadedExecutor. The node's ``release()`` (worker
    threads, engines), when it has one, runs before it is destroyed; a node whose ``finished``
    turns True (a lifecycle node after its shutdown transition) ends the process with 0.
    """
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    executor: Executor = (
        MultiThreadedExecutor(num_threads=threads) if threads > 1 else SingleThreadedExecutor()
    )
    node: Node | None = None
    try:
        node = make_node()
        executor.add_node(node)
        while not stop.is_set() and rclpy.ok() and not getattr(node, "finished", False):
            executor.spin_once(timeout_sec=SIGNAL_POLL_S)
    except ExternalShutdownException:
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
        executor.shutdown()
        rclpy.try_shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
