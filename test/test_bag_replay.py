"""Replay generated bags through prompt_depth_node over DDS (in the spirit of Isaac ROS ESS).

A plane at a known distance, camera 30 Hz and LiDAR 10 Hz: every published depth frame must
read that distance within 1 cm in the plane's interior, every LiDAR scan must yield exactly
one output, paired with the image nearest to it in time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rclpy.parameter import Parameter
from rclpy.serialization import deserialize_message
from ros_helpers import ros_session, wait_until
from sensor_msgs.msg import Image

from promptdepth_ros.geometry.transforms import format_xyz_quat
from promptdepth_ros.ros.bag import read_bag
from promptdepth_ros.ros.convert.image import image_to_depth_m
from promptdepth_ros.ros.convert.stamps import stamp_ns
from promptdepth_ros.ros.prompt_depth_node import PromptDepthNode
from promptdepth_ros.ros.scene_bag import (
    CLOUD_TOPIC,
    DEPTH_TOPIC,
    IMAGE_TOPIC,
    INFO_TOPIC,
    T_CAMERA_LIDAR,
    write_scene_bag,
)
from promptdepth_ros.sim.scene import default_camera, plane_scene
from promptdepth_ros.tools.replay import BagPlayer, TopicRecorder

DISTANCE_M = 0.9


def _replay(bag_dir: Path, mode: str) -> tuple[list[Image], int]:
    tf_text = format_xyz_quat(T_CAMERA_LIDAR)
    overrides = [
        Parameter("input.reliable_qos", value=True),
        Parameter("input.mode", value=mode),
        # Every scan must yield depth: room for all of them, so a stall (a cold first frame,
        # a busy CI machine) delays frames instead of dropping them.
        Parameter("processing.queue_depth", value=20),
        Parameter("tf.fallback_camera_from_lidar", value=tf_text),
        Parameter("output.publish_points", value=False),
    ]
    prompt_topic = CLOUD_TOPIC if mode == "cloud" else DEPTH_TOPIC
    with ros_session(
        lambda ctx: PromptDepthNode(
            context=ctx,
            parameter_overrides=overrides,
            cli_args=[
                "--ros-args",
                "-r",
                f"image:={IMAGE_TOPIC}",
                "-r",
                f"camera_info:={INFO_TOPIC}",
                "-r",
                f"points:={CLOUD_TOPIC}",
                "-r",
                f"depth:={DEPTH_TOPIC}",
            ],
        )
    ) as (_, helper, (node,)):
        node.trigger_configure()
        node.trigger_activate()
        recorder = TopicRecorder(helper, [("/prompt_depth_node/depth", "sensor_msgs/msg/Image")])
        # A quarter of real time: this test checks pairing and accuracy, not speed (that is
        # benchmarks/engines.py).
        player = BagPlayer(helper, list(read_bag(bag_dir)), rate=0.25)
        assert player.wait_for_subscribers([IMAGE_TOPIC, INFO_TOPIC, prompt_topic], 10.0)
        player.play()
        expected = sum(1 for r in read_bag(bag_dir, [prompt_topic]))
        wait_until(lambda: recorder.count("/prompt_depth_node/depth") >= expected, 30.0)
        skipped = node._worker.stats.skipped if node._worker else -1
    frames = [
        deserialize_message(r.data, Image) for r in recorder.messages("/prompt_depth_node/depth")
    ]
    return frames, skipped


@pytest.mark.parametrize("mode", ["cloud", "depth"])
def test_plane_replay_reads_the_distance_and_pairs_each_scan_once(
    tmp_path: Path, mode: str
) -> None:
    camera = default_camera(320, 240)
    bag = write_scene_bag(
        tmp_path / "bag",
        plane_scene(DISTANCE_M, camera),
        duration_s=2.0,
        lidar_mode=mode,
        seed=5,
        lidar_noise_m=0.003,
        lidar_relative_noise=0.0,
    )
    assert len(bag.image_stamps_ns) == 60 and len(bag.prompt_stamps_ns) == 20

    frames, skipped = _replay(bag.path, mode)

    assert skipped == 0, "the worker dropped a set although it had room for all"
    assert len(frames) == len(bag.prompt_stamps_ns)
    images = np.asarray(bag.image_stamps_ns)
    expected = sorted(int(images[np.argmin(np.abs(images - s))]) for s in bag.prompt_stamps_ns)
    assert sorted(stamp_ns(f.header) for f in frames) == expected
    for frame in frames:
        depth = image_to_depth_m(frame)
        interior = depth[24:-24, 32:-32]
        assert np.isfinite(interior).all()
        assert np.abs(interior - DISTANCE_M).max() < 0.01
