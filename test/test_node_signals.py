"""Ctrl-C or SIGTERM while data flows through prompt_depth_node: the worker stops before the
context goes, the process exits 0, and nothing (no traceback, no RCLError) is printed."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from ros_helpers import ros_session, wait_until

from promptdepth_ros.geometry.transforms import format_xyz_quat
from promptdepth_ros.ros.bag import read_bag
from promptdepth_ros.ros.scene_bag import (
    CLOUD_TOPIC,
    IMAGE_TOPIC,
    INFO_TOPIC,
    T_CAMERA_LIDAR,
    write_scene_bag,
)
from promptdepth_ros.sim.scene import default_camera, plane_scene
from promptdepth_ros.tools.replay import BagPlayer, TopicRecorder

DEPTH_OUT = "/prompt_depth_node/depth"


@pytest.fixture(scope="module")
def scene_bag(tmp_path_factory: pytest.TempPathFactory) -> Path:
    camera = default_camera(160, 120)
    path = tmp_path_factory.mktemp("signals") / "plane"
    write_scene_bag(path, plane_scene(0.9, camera), 3.0, 30.0, 10.0, "cloud", seed=0)
    return path


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_with_data_flowing_ends_the_node_cleanly(
    scene_bag: Path, sig: signal.Signals, tmp_path: Path
) -> None:
    log = tmp_path / "node.log"
    command = [
        sys.executable,
        "-m",
        "promptdepth_ros.ros.prompt_depth_node",
        "--ros-args",
        "-p",
        "input.reliable_qos:=true",
        "-p",
        f"tf.fallback_camera_from_lidar:={format_xyz_quat(T_CAMERA_LIDAR)}",
        "-r",
        f"image:={IMAGE_TOPIC}",
        "-r",
        f"camera_info:={INFO_TOPIC}",
        "-r",
        f"points:={CLOUD_TOPIC}",
    ]
    records = list(read_bag(scene_bag))
    stop = threading.Event()
    with log.open("w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        with ros_session() as (_, helper, _nodes):
            recorder = TopicRecorder(helper, [(DEPTH_OUT, "sensor_msgs/msg/Image")])
            player = BagPlayer(helper, records)
            assert player.wait_for_subscribers([IMAGE_TOPIC, INFO_TOPIC, CLOUD_TOPIC], 60.0), (
                log.read_text()
            )

            def play_until_stopped() -> None:
                while not stop.is_set() and proc.poll() is None:
                    player.play()

            playing = threading.Thread(target=play_until_stopped, daemon=True)
            playing.start()
            assert wait_until(lambda: recorder.count(DEPTH_OUT) >= 3, 60.0), log.read_text()
            proc.send_signal(sig)  # frames still arriving and being processed
            proc.wait(timeout=30)
            stop.set()
            playing.join(timeout=10)
    finally:
        stop.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = log.read_text()
    assert proc.returncode == 0, output
    for bad in ("Traceback", "RCLError", "context is invalid", "terminate called"):
        assert bad not in output, output
