"""rosbag2 files (MCAP or sqlite3) with the `rosbags` library, messages in ROS's own CDR.

Messages are (de)serialised by rclpy's type support, so a bag written here replays with
``ros2 bag play`` and a bag recorded by ROS reads back as ordinary message objects.
``/tf_static`` is the exception: tf2_msgs may be absent, so it is serialised by the
rosbags type store.
"""

from __future__ import annotations

import importlib
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rclpy.serialization import deserialize_message, serialize_message
from rosbags.interfaces import (
    Qos,
    QosDurability,
    QosHistory,
    QosLiveliness,
    QosReliability,
    QosTime,
)
from rosbags.rosbag2 import Reader, ReaderError, StoragePlugin, Writer
from rosbags.typesys import Stores, get_types_from_msg, get_typestore

from promptdepth_ros.errors import CorruptMessage, InputError
from promptdepth_ros.geometry.transforms import matrix_to_quaternion
from promptdepth_ros.ros.convert.stamps import split_ns
from promptdepth_ros.ros.share import PACKAGE, share_dir

TYPESTORE = get_typestore(Stores.ROS2_KILTED)
TF_MESSAGE = "tf2_msgs/msg/TFMessage"
_INFINITE = QosTime(sec=0x7FFFFFFF, nsec=0xFFFFFFFF)


def _register_package_types() -> None:
    """Teach the rosbags type store this package's messages (for connection metadata)."""
    types: dict[str, Any] = {}
    for path in sorted(share_dir("msg").glob("*.msg")):
        types.update(get_types_from_msg(path.read_text(), f"{PACKAGE}/msg/{path.stem}"))
    TYPESTORE.register(types)


def message_class(msgtype: str) -> type:
    """The Python class of ``pkg/msg/Name``; raises InputError when it is not installed."""
    package, _, name = msgtype.split("/")
    try:
        return getattr(importlib.import_module(f"{package}.msg"), name)  # type: ignore[no-any-return]
    except (ImportError, AttributeError) as error:
        raise InputError(f"message type {msgtype} is not installed: {error}") from None


def _qos(latched: bool) -> Qos:
    return Qos(
        history=QosHistory.KEEP_LAST,
        depth=1 if latched else 10,
        reliability=QosReliability.RELIABLE,
        durability=QosDurability.TRANSIENT_LOCAL if latched else QosDurability.VOLATILE,
        deadline=_INFINITE,
        lifespan=_INFINITE,
        liveliness=QosLiveliness.AUTOMATIC,
        liveliness_lease_duration=_INFINITE,
        avoid_ros_namespace_conventions=False,
    )


class BagWriter:
    """Writes a new rosbag2 (MCAP by default); refuses to overwrite an existing path.

    Use as a context manager; the bag is valid after close, also after an exception.
    """

    def __init__(self, path: Path, storage: str = "mcap") -> None:
        if path.exists():
            raise InputError(f"output bag {path} exists; remove it or choose another path")
        if f"{PACKAGE}/msg/GraspArray" not in TYPESTORE.fielddefs:
            _register_package_types()
        plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
        self._writer = Writer(path, version=9, storage_plugin=plugin)
        self._connections: dict[str, Any] = {}

    def __enter__(self) -> BagWriter:
        self._writer.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self._writer.close()

    def add_topic(self, topic: str, msgtype: str, latched: bool = False) -> None:
        """Declare ``topic`` of ``msgtype`` (e.g. sensor_msgs/msg/Image)."""
        if topic not in self._connections:
            self._connections[topic] = self._writer.add_connection(
                topic, msgtype, typestore=TYPESTORE, offered_qos_profiles=[_qos(latched)]
            )

    def write(self, topic: str, stamp_ns: int, msg: Any) -> None:
        """Serialise an rclpy message and write it at ``stamp_ns`` (receive time)."""
        self.write_raw(topic, stamp_ns, serialize_message(msg))

    def write_raw(self, topic: str, stamp_ns: int, data: bytes) -> None:
        """Write already serialised CDR bytes."""
        self._writer.write(self._connections[topic], stamp_ns, data)


def tf_static_cdr(
    transforms: Sequence[tuple[str, str, NDArray[np.float64]]], stamp_ns: int
) -> bytes:
    """CDR of a tf2_msgs/TFMessage with (parent, child, T_parent_child) edges."""
    msgs = TYPESTORE.types
    sec, nanosec = split_ns(stamp_ns)
    stamp = msgs["builtin_interfaces/msg/Time"](sec=sec, nanosec=nanosec)
    out = []
    for parent, child, T in transforms:
        qx, qy, qz, qw = matrix_to_quaternion(T[:3, :3])
        out.append(
            msgs["geometry_msgs/msg/TransformStamped"](
                header=msgs["std_msgs/msg/Header"](stamp=stamp, frame_id=parent),
                child_frame_id=child,
                transform=msgs["geometry_msgs/msg/Transform"](
                    translation=msgs["geometry_msgs/msg/Vector3"](
                        x=float(T[0, 3]), y=float(T[1, 3]), z=float(T[2, 3])
                    ),
                    rotation=msgs["geometry_msgs/msg/Quaternion"](x=qx, y=qy, z=qz, w=qw),
                ),
            )
        )
    return bytes(TYPESTORE.serialize_cdr(msgs[TF_MESSAGE](transforms=out), TF_MESSAGE))


@dataclass(frozen=True)
class BagRecord:
    """One message of a bag: topic, type name, receive time (ns) and CDR bytes."""

    topic: str
    msgtype: str
    stamp_ns: int
    data: bytes

    def decode(self) -> Any:
        """The message as an rclpy object (tf2_msgs/TFMessage as a rosbags object).

        Raises CorruptMessage when the bytes do not deserialise as ``msgtype``.
        """
        cls = None if self.msgtype == TF_MESSAGE else message_class(self.msgtype)
        try:
            if cls is None:
                return TYPESTORE.deserialize_cdr(self.data, TF_MESSAGE)
            return deserialize_message(self.data, cls)
        # rclpy raises RMWError (a RuntimeError); rosbags' CDR reader whatever the bytes cause.
        except (RuntimeError, ValueError, IndexError, struct.error) as error:
            raise CorruptMessage(
                f"corrupt {self.msgtype} on {self.topic} at {self.stamp_ns * 1e-9:.3f} s: "
                f"{' '.join(str(error).split())}"
            ) from None


def _bag_error(path: Path, error: Exception) -> InputError:
    """A missing, empty or unreadable bag as one InputError line naming it."""
    return InputError(f"bag {path}: {' '.join(str(error).split())}")


def read_bag(path: Path, topics: Sequence[str] | None = None) -> Iterator[BagRecord]:
    """Every message of a rosbag2 directory (MCAP or sqlite3) in time order.

    Raises InputError for a missing, empty or damaged bag (also part-way through).
    """
    try:
        with Reader(path) as reader:
            connections = [c for c in reader.connections if topics is None or c.topic in topics]
            for conn, stamp_ns, data in reader.messages(connections=connections):
                yield BagRecord(conn.topic, conn.msgtype, stamp_ns, bytes(data))
    except (OSError, ReaderError) as error:
        raise _bag_error(path, error) from None


def bag_message_counts(path: Path) -> dict[str, int]:
    """Number of messages per topic, from the bag's metadata; InputError as ``read_bag``."""
    try:
        with Reader(path) as reader:
            return {c.topic: c.msgcount for c in reader.connections}
    except (OSError, ReaderError) as error:
        raise _bag_error(path, error) from None
