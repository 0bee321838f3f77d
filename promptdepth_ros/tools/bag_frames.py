"""The nodes' steps on a recorded bag: pair, run the pipeline, plan grasps, write outputs.

Reads camera image + camera_info, a LiDAR cloud or depth image, /tf and /tf_static, pairs
them as prompt_depth_node does and writes the node topics (and the TF it read, so the outputs
can be placed on replay) with the same functions the nodes call.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from std_msgs.msg import Header

from promptdepth_ros.camera.projection import depth_to_points
from promptdepth_ros.errors import MissingTransform, PromptDepthError, TransformExtrapolation
from promptdepth_ros.geometry.transform_tree import TransformBuffer
from promptdepth_ros.geometry.transforms import parse_xyz_quat
from promptdepth_ros.grasp.planner import plan_grasps_in_frame
from promptdepth_ros.pipeline.depth import DepthPipeline, FrameSkip
from promptdepth_ros.ros.bag import TF_MESSAGE, BagWriter, read_bag
from promptdepth_ros.ros.convert.grasps import grasp_plan_messages
from promptdepth_ros.ros.convert.stamps import stamp_ns, stamp_s
from promptdepth_ros.ros.convert.synced_set import (
    frame_from_messages,
    input_topics,
    output_messages,
)
from promptdepth_ros.ros.grasp_planner_params import grasp_config_from_params
from promptdepth_ros.ros.launch_graph import GRAPH_OUTPUTS
from promptdepth_ros.ros.prompt_depth_params import sync_config_from_params
from promptdepth_ros.settings import ParamValue
from promptdepth_ros.sync.pairing import PromptPairing
from promptdepth_ros.tools.cli import Stopped, one_line
from promptdepth_ros.tools.progress import Progress

TF_TOPICS = ("/tf", "/tf_static")
# The GRAPH_OUTPUTS of grasp_plan_messages(), in its order.
GRASP_KEYS = ("grasps", "poses", "markers")


@dataclass(frozen=True)
class BagOptions:
    """What every bag of a run shares: both nodes' parameters and the tool's options."""

    params: Mapping[str, ParamValue]  # prompt_depth_node
    grasp_params: Mapping[str, ParamValue]  # grasp_planner_node
    topics: Mapping[str, str]  # input name (image, camera_info, points, ...) -> bag topic
    no_grasps: bool = False
    storage: str = "mcap"
    debug: bool = False  # print tracebacks of unexpected errors


def _cause(error: BaseException) -> str:
    return f"{type(error).__name__} ({one_line(error)})"


class FrameWriter:
    """Processes one input bag into ``writer``; counts frames, skips (frames not produced)
    and errors (input messages not readable) by cause.

    A frame's messages are written and counted together inside ``write_guard()`` (a context
    that defers SIGINT/SIGTERM), so a signal never leaves half a frame or a frame counted but
    not written; a deferred signal stops the bag at the next message via ``stop_requested``.
    """

    def __init__(
        self,
        pipeline: DepthPipeline,
        options: BagOptions,
        writer: BagWriter,
        write_guard: Callable[[], AbstractContextManager[object]] = nullcontext,
    ) -> None:
        params = options.params
        self._pipeline, self._writer, self._options = pipeline, writer, options
        self._write_guard = write_guard
        self._mode = str(params["input.mode"])
        names = input_topics(self._mode, bool(params["input.depth_registered"]))  # type: ignore[arg-type]
        self.topic_index = {options.topics[name]: i for i, name in enumerate(names)}
        self.pairing = PromptPairing(len(names), sync_config_from_params(params))
        self._tf = TransformBuffer(cache_s=3600.0)
        self._fixed_frame = str(params["tf.fixed_frame"])
        self._fallback = parse_xyz_quat(
            str(params["tf.fallback_camera_from_lidar"]), "tf.fallback_camera_from_lidar"
        )
        self._grasp_config = grasp_config_from_params(options.grasp_params)
        self._planning_frame = str(options.grasp_params["planning_frame"])
        self.skipped: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.written = 0
        for topic, msgtype in GRAPH_OUTPUTS.values():
            writer.add_topic(topic, msgtype)
        for topic in TF_TOPICS:
            writer.add_topic(topic, TF_MESSAGE, latched=topic == "/tf_static")

    def total_messages(self, counts: Mapping[str, int]) -> int:
        """Messages of the bag (per-topic ``counts``) this writer reads."""
        return sum(counts.get(t, 0) for t in (*self.topic_index, *TF_TOPICS))

    def _lookup(self, target: str, target_ns: int, source: str, source_ns: int) -> np.ndarray:
        try:
            if self._fixed_frame:
                return self._tf.lookup_full(
                    target, target_ns, source, source_ns, self._fixed_frame
                )
            return self._tf.lookup(target, source, source_ns)
        except TransformExtrapolation:
            raise
        except MissingTransform:
            if self._fallback is None:
                raise
            self.skipped["used_tf_fallback"] += 1
            return self._fallback

    def run(
        self,
        path: Path,
        progress: Progress | None,
        stop_requested: Callable[[], int | None] | None = None,
    ) -> None:
        """Read ``path`` to the end; InputError for a bag that cannot be read on.

        ``stop_requested`` (asked before each message) returns a signal number to stop on:
        :class:`~promptdepth_ros.tools.cli.Stopped` is raised with it.
        """
        last_ns = 0
        for record in read_bag(path, [*self.topic_index, *TF_TOPICS]):
            if stop_requested is not None and (signum := stop_requested()) is not None:
                raise Stopped(signum)
            if progress is not None:
                progress.step(self.written)
            last_ns = record.stamp_ns
            try:
                msg = record.decode()
                if record.msgtype == TF_MESSAGE:
                    self._tf.set_transforms(msg.transforms, static=record.topic == "/tf_static")
                    with self._write_guard():
                        self._writer.write_raw(record.topic, record.stamp_ns, record.data)
                    continue
                index = self.topic_index[record.topic]
                arrival_s = record.stamp_ns * 1e-9
                for synced in self.pairing.add(index, stamp_s(msg.header), msg, arrival_s):
                    self._process_set(synced, record.stamp_ns)
            except PromptDepthError as error:
                self.errors[_cause(error)] += 1
        for synced in self.pairing.poll(float("inf")):
            self._process_set(synced, last_ns)

    def _process_set(self, synced: tuple[Any, ...], bag_ns: int) -> None:
        """Run one paired set through the pipeline and write its outputs (or count a skip)."""
        try:
            frame = frame_from_messages(synced, self._mode, self._lookup)  # type: ignore[arg-type]
            out = self._pipeline.process(frame)
            if isinstance(out, FrameSkip):
                self.skipped[f"{out.cause} ({out.reason})"] += 1
                return
            header = synced[0].header
            depth, info, points = output_messages(frame, out, header, True)
            outputs = [("depth", depth), ("info", info)]
            if points is not None:
                outputs.append(("points", points))
            if not self._options.no_grasps:
                image_ns = stamp_ns(header)
                T = self._lookup(self._planning_frame, image_ns, header.frame_id, image_ns)
                points_cam = depth_to_points(out.depth_m, frame.camera)
                plan = plan_grasps_in_frame(points_cam, T, self._grasp_config)
                gh = Header(stamp=header.stamp, frame_id=self._planning_frame)
                messages = grasp_plan_messages(plan.grasps, gh, self._grasp_config.gripper)
                outputs.extend(zip(GRASP_KEYS, messages, strict=True))
        except MissingTransform as error:
            self.skipped[f"missing_transform ({error})"] += 1
            return
        except PromptDepthError as error:
            self.skipped[_cause(error)] += 1
            return
        with self._write_guard():
            for key, message in outputs:
                self._writer.write(GRAPH_OUTPUTS[key][0], bag_ns, message)
            self.written += 1
