"""prompt_depth_node switches engine and backend by parameter (random weights, real DDS)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from ros_helpers import ros_session, wait_until
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Float64, Header

from promptdepth_ros.ros.convert.camera_info import camera_info_msg_from_model
from promptdepth_ros.ros.convert.image import (
    depth_to_mm_image_msg,
    image_to_depth_m,
    rgb_to_image_msg,
)
from promptdepth_ros.ros.prompt_depth_node import PromptDepthNode
from promptdepth_ros.sim.lidar import simulate_lidar_depth
from promptdepth_ros.sim.render import render
from promptdepth_ros.sim.scene import default_camera, generate_tabletop_scene
from promptdepth_ros.tools import export_onnx

QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)


@pytest.fixture(scope="module")
def frame():
    camera = default_camera(280, 210)
    truth = render(generate_tabletop_scene(np.random.default_rng(4), camera))
    prompt = simulate_lidar_depth(truth.depth_m, np.random.default_rng(0))
    return camera, truth, prompt


def _run(params: dict, frame, depth_mode: bool = True):
    camera, truth, prompt = frame
    overrides = [Parameter("input.reliable_qos", value=True)]
    overrides.append(Parameter("input.mode", value="depth" if depth_mode else "none"))
    overrides += [Parameter(k, value=v) for k, v in params.items()]
    out: dict[str, list] = {"depth": [], "confidence": [], "focal": []}
    with ros_session(lambda ctx: PromptDepthNode(context=ctx, parameter_overrides=overrides)) as (
        _,
        helper,
        (node,),
    ):
        assert node.trigger_configure().name == "SUCCESS"
        node.trigger_activate()
        helper.create_subscription(Image, "/prompt_depth_node/depth", out["depth"].append, QOS)
        helper.create_subscription(
            Image, "/prompt_depth_node/confidence", out["confidence"].append, QOS
        )
        helper.create_subscription(
            Float64, "/prompt_depth_node/focal_length_px", out["focal"].append, QOS
        )
        pubs = [
            helper.create_publisher(Image, "image", QOS),
            helper.create_publisher(CameraInfo, "camera_info", QOS),
        ]
        if depth_mode:
            pubs.append(helper.create_publisher(Image, "depth", QOS))
        assert wait_until(lambda: all(p.get_subscription_count() > 0 for p in pubs), 10.0)
        header = Header(stamp=Time(sec=7), frame_id=camera.frame_id)
        msgs = [rgb_to_image_msg(truth.rgb, header), camera_info_msg_from_model(camera, header)]
        if depth_mode:
            msgs.append(depth_to_mm_image_msg(prompt, header))
        for pub, msg in zip(pubs, msgs, strict=True):
            pub.publish(msg)
        assert wait_until(lambda: out["depth"], 120.0)
        wait_until(lambda: out["confidence"] or out["focal"], 2.0)
    return out


def _check_depth(out, camera, prompt) -> np.ndarray:
    (msg,) = out["depth"]
    assert (msg.encoding, msg.header.stamp.sec) == ("32FC1", 7)
    depth = image_to_depth_m(msg)
    assert depth.shape == (camera.height, camera.width)
    assert np.isfinite(depth).mean() > 0.5
    return depth


def test_promptda_torch_random_weights_stays_inside_the_prompt_range(frame) -> None:
    camera, _, prompt = frame
    out = _run(
        {
            "engine.name": "promptda",
            "engine.backend": "torch",
            "engine.random_init": True,
            "engine.input_long_side": 280,
        },
        frame,
    )
    depth = _check_depth(out, camera, prompt)
    lo, hi = np.nanmin(prompt), np.nanmax(prompt)
    finite = depth[np.isfinite(depth)]
    assert finite.min() >= lo - 1e-3 and finite.max() <= hi + 1e-3
    (confidence,) = out["confidence"]
    values = image_to_depth_m(confidence)
    assert np.nanmax(values) <= 1.0


def test_promptda_through_onnxruntime_from_an_exported_graph(frame, tmp_path: Path) -> None:
    camera, _, prompt = frame
    onnx_path = tmp_path / "promptda.onnx"
    assert (
        export_onnx.main(
            [
                "--engine",
                "promptda",
                "--random-init",
                "--input-size",
                "210",
                "280",
                "--output",
                str(onnx_path),
            ]
        )
        == 0
    )
    out = _run(
        {
            "engine.name": "promptda",
            "engine.backend": "onnxruntime",
            "engine.onnx_path": str(onnx_path),
        },
        frame,
    )
    _check_depth(out, camera, prompt)


def test_depth_pro_monocular_through_onnxruntime_publishes_the_focal_length(
    frame, tmp_path: Path
) -> None:
    camera, _, prompt = frame
    onnx_path = tmp_path / "depth_pro.onnx"
    assert (
        export_onnx.main(
            [
                "--engine",
                "depth_pro",
                "--depth-pro-size",
                "reduced",
                "--random-init",
                "--output",
                str(onnx_path),
            ]
        )
        == 0
    )
    out = _run(
        {
            "engine.name": "depth_pro",
            "engine.backend": "onnxruntime",
            "engine.onnx_path": str(onnx_path),
        },
        frame,
        depth_mode=False,
    )
    _check_depth(out, camera, prompt)
    (focal,) = out["focal"]
    assert focal.data == pytest.approx(camera.fx, rel=1e-6)
