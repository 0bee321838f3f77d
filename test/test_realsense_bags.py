"""Generated room-scale bags with a RealSense-like depth camera: make-bag, process-bag."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from promptdepth_ros.eval.metrics import coverage, depth_metrics
from promptdepth_ros.prompt.conditioning import PromptConditioningConfig
from promptdepth_ros.ros.bag import bag_message_counts, read_bag
from promptdepth_ros.ros.convert.camera_info import camera_model_from_msg
from promptdepth_ros.ros.convert.image import image_to_depth_m
from promptdepth_ros.ros.convert.stamps import stamp_ns
from promptdepth_ros.ros.scene_bag import (
    DEPTH_INFO_TOPIC,
    DEPTH_TOPIC,
    INFO_TOPIC,
    ROOM_FRAME,
    write_scene_bag,
)
from promptdepth_ros.sim.room import generate_room_scene
from promptdepth_ros.sim.scene import default_camera
from promptdepth_ros.tools import make_bag, process_bag

OUTPUT_DEPTH = "/prompt_depth_node/depth"


@pytest.fixture(scope="module")
def room_bag(tmp_path_factory: pytest.TempPathFactory):
    scene = generate_room_scene(np.random.default_rng(3), default_camera(320, 240))
    path = tmp_path_factory.mktemp("room") / "bag"
    return write_scene_bag(path, scene, duration_s=0.3, lidar_mode="realsense", seed=3)


def test_the_bag_holds_what_a_realsense_publishes(room_bag) -> None:
    depth_msgs = [r.decode() for r in read_bag(room_bag.path, [DEPTH_TOPIC])]
    assert len(depth_msgs) == len(room_bag.prompt_stamps_ns) == 3
    info = next(iter(read_bag(room_bag.path, [INFO_TOPIC]))).decode()
    depth_infos = [r.decode() for r in read_bag(room_bag.path, [DEPTH_INFO_TOPIC])]
    assert [stamp_ns(m.header) for m in depth_infos] == [stamp_ns(m.header) for m in depth_msgs]
    assert camera_model_from_msg(depth_infos[0]) == camera_model_from_msg(info)
    gt = room_bag.truth.depth_m
    assert np.isnan(gt).any()  # the open doorway: no surface
    for msg in depth_msgs:
        assert (msg.encoding, msg.width, msg.height) == ("16UC1", 320, 240)
        assert msg.header.frame_id == room_bag.camera_frame
        raw = image_to_depth_m(msg)
        valid = np.isfinite(raw)
        assert 0.5 < valid.mean() < np.isfinite(gt).mean()  # holes at edges and thin parts
        error, z = np.abs(raw[valid] - gt[valid]), gt[valid]
        near, far = z < 2.5, z > 4.0
        # Noise ∝ z² (the model's): faster than z^1.5 (the ratio is about z² here).
        depth_ratio = np.median(z[far]) / np.median(z[near])
        assert np.median(error[far]) / np.median(error[near]) > depth_ratio**1.5
    first, second = (image_to_depth_m(m) for m in depth_msgs[:2])
    assert not np.array_equal(first, second)  # an independent noisy frame each time
    tf = bag_message_counts(room_bag.path)
    assert tf["/tf_static"] == 1
    tf_msg = next(iter(read_bag(room_bag.path, ["/tf_static"]))).decode()
    assert [t.header.frame_id for t in tf_msg.transforms] == [ROOM_FRAME]


def test_process_bag_beats_the_raw_sensor_and_covers_every_surface_in_range(
    room_bag, tmp_path: Path
) -> None:
    """Issue 9's done-when on a room-scale RealSense-like bag, through the node's pipeline."""
    params = tmp_path / "params.yaml"
    params.write_text("prompt_depth_node:\n  ros__parameters:\n    input.mode: depth\n")
    out = tmp_path / "out"
    argv = [str(room_bag.path), str(out), "--no-grasps", "--params", str(params)]
    assert process_bag.main(argv) == 0
    raws = {
        stamp_ns(m.header): image_to_depth_m(m)
        for m in (r.decode() for r in read_bag(room_bag.path, [DEPTH_TOPIC]))
    }
    gt = room_bag.truth.depth_m
    cond = PromptConditioningConfig()
    with np.errstate(invalid="ignore"):
        surface = (gt >= cond.min_range_m) & (gt <= cond.max_range_m)
    outputs = [r.decode() for r in read_bag(out, [OUTPUT_DEPTH])]
    assert len(outputs) == len(raws)
    images = np.asarray(room_bag.image_stamps_ns)
    for msg in outputs:
        depth = image_to_depth_m(msg)
        assert depth.shape == gt.shape
        assert coverage(depth, surface) >= 0.99
        # The scan this output came from: the one whose nearest image is the output's.
        image = stamp_ns(msg.header)
        scan = next(s for s in raws if images[np.argmin(np.abs(images - s))] == image)
        sensor_valid = surface & np.isfinite(raws[scan])
        ours = depth_metrics(depth, gt, sensor_valid).absrel
        sensor = depth_metrics(raws[scan], gt, sensor_valid).absrel
        assert ours < sensor, (ours, sensor)


def test_make_bag_writes_room_and_realsense_bags(tmp_path: Path, capsys) -> None:
    small = ["--width", "80", "--height", "60", "--duration", "0.3"]
    argv = [str(tmp_path / "room"), "--scene", "room", "--lidar", "realsense", *small]
    assert make_bag.main(argv) == 0
    assert "3 depth-camera messages" in capsys.readouterr().out
    counts = bag_message_counts(tmp_path / "room")
    assert counts[DEPTH_TOPIC] == counts[DEPTH_INFO_TOPIC] == 3
    assert "/lidar/points" not in counts
    assert make_bag.main([str(tmp_path / "lidar"), "--scene", "room", *small]) == 0
    assert bag_message_counts(tmp_path / "lidar")["/lidar/points"] == 3
    for bad, said in (
        (["--scene", "room", "--plane-distance", "1.0"], "--plane-distance"),
        (["--scene", "room", "--moving-camera"], "tabletop"),
        (["--lidar", "realsense", "--moving-camera"], "cloud LiDAR"),
    ):
        assert make_bag.main([str(tmp_path / "bad"), *bad, *small]) == 2
        assert said in capsys.readouterr().err
        assert not (tmp_path / "bad").exists()
