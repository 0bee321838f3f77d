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
from std_msgs.msg import Header

from promptdepth_ros.engines.registry import create_engine
from promptdepth_ros.engines.spec import EngineSpec
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
    out: dict[str, list] = {"depth": [], "confidence": [], "info": []}
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
            CameraInfo, "/prompt_depth_node/camera_info", out["info"].append, QOS
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
        has_confidence = params.get("engine.name") == "promptda"
        wait_until(lambda: out["info"] and (out["confidence"] or not has_confidence), 2.0)
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


def test_depth_pro_publishes_the_focal_it_used_on_the_depth_camera_info(
    frame, tmp_path: Path
) -> None:
    camera, truth, prompt = frame
    onnx_path = tmp_path / "depth_pro.onnx"
    argv = ["--engine", "depth_pro", "--depth-pro-size", "reduced", "--random-init"]
    assert export_onnx.main([*argv, "--output", str(onnx_path)]) == 0
    params = {
        "engine.name": "depth_pro",
        "engine.backend": "onnxruntime",
        "engine.onnx_path": str(onnx_path),
    }
    from_info = _run(params, frame, depth_mode=False)
    estimated = _run({**params, "engine.focal.source": "estimated"}, frame, depth_mode=False)
    # the FOV head's focal for this image, from the same graph outside the node
    spec = EngineSpec(engine="depth_pro", onnx_path=onnx_path, focal_source="estimated")
    focal = create_engine(spec).infer(truth.rgb, None, None).focal_px
    assert focal is not None and abs(focal - camera.fx) > 1.0
    (info,) = from_info["info"]
    np.testing.assert_allclose(info.k, camera.K.reshape(-1))
    (info,) = estimated["info"]
    assert (info.header.stamp.sec, info.header.frame_id) == (7, camera.frame_id)
    assert info.k[0] == pytest.approx(focal, rel=1e-5) and info.p[0] == info.k[0]
    assert info.k[4] == pytest.approx(camera.fy * focal / camera.fx, rel=1e-5)
    assert (info.k[2], info.k[5]) == (camera.cx, camera.cy)
    # metric depth is proportional to the focal length used
    with_fx = _check_depth(from_info, camera, prompt)
    with_estimate = _check_depth(estimated, camera, prompt)
    unclamped = (with_fx < 1e3) & (with_estimate < 1e3)
    ratio = with_estimate[unclamped] / with_fx[unclamped]
    np.testing.assert_allclose(ratio, focal / camera.fx, rtol=1e-4)
