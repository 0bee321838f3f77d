"""promptdepth-process-bag: run the node pipeline offline over a rosbag2 and write a new bag.

Reads camera image + camera_info, a LiDAR cloud or depth image, /tf and /tf_static (MCAP or
sqlite3), pairs them as the node does, runs prompt → engine → cloud → grasps with the nodes'
parameters (the same code), and writes the node topics to a new MCAP bag that
``ros2 bag play`` replays. Ctrl-C or a bad message never leaves a broken bag.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from std_msgs.msg import Header

from promptdepth_ros.camera.projection import depth_to_points
from promptdepth_ros.engines.registry import create_engine
from promptdepth_ros.errors import MissingTransform, PromptDepthError, TransformExtrapolation
from promptdepth_ros.geometry.transform_tree import TransformBuffer
from promptdepth_ros.geometry.transforms import parse_xyz_quat
from promptdepth_ros.grasp.planner import plan_grasps_in_frame
from promptdepth_ros.pipeline.depth import DepthPipeline, FrameSkip
from promptdepth_ros.ros.bag import TF_MESSAGE, BagWriter, bag_message_counts, read_bag
from promptdepth_ros.ros.convert.grasps import grasp_plan_messages
from promptdepth_ros.ros.convert.stamps import stamp_ns, stamp_s
from promptdepth_ros.ros.convert.synced_set import (
    frame_from_messages,
    input_topics,
    output_messages,
)
from promptdepth_ros.ros.grasp_planner_params import GRASP_PLANNER_PARAMS, grasp_config_from_params
from promptdepth_ros.ros.launch_graph import GRAPH_OUTPUTS, SENSOR_TOPICS
from promptdepth_ros.ros.prompt_depth_params import (
    PROMPT_DEPTH_PARAMS,
    engine_spec_from_params,
    pipeline_config_from_params,
    sync_config_from_params,
)
from promptdepth_ros.sync.pairing import PromptPairing
from promptdepth_ros.tools.cli import add_setting_option, node_parameters
from promptdepth_ros.tools.progress import Progress

PAIRING_TOTALS = ("received", "emitted")
TF_TOPICS = ("/tf", "/tf_static")
PROMPT_SPECS = {spec.name: spec for spec in PROMPT_DEPTH_PARAMS}
GRASP_SPECS = {spec.name: spec for spec in GRASP_PLANNER_PARAMS}

# The GRAPH_OUTPUTS of grasp_plan_messages(), in its order.
GRASP_KEYS = ("grasps", "poses", "markers")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("input", type=Path, help="input rosbag2 directory (MCAP or sqlite3)")
    p.add_argument("output", type=Path, help="output bag directory (must not exist)")
    p.add_argument("--params", type=Path, help="prompt_depth_node parameter YAML to apply")
    p.add_argument("--grasp-params", type=Path, help="grasp_planner_node parameter YAML")
    add_setting_option(p, "--engine", PROMPT_SPECS["engine.name"], default=None)
    add_setting_option(p, "--backend", PROMPT_SPECS["engine.backend"], default=None)
    p.add_argument("--weights", help="HF model directory or PromptDA model.ckpt")
    p.add_argument("--onnx", help="ONNX model for the onnxruntime backend")
    p.add_argument("--engine-path", help="TensorRT plan for the tensorrt backend")
    p.add_argument("--random-init", action="store_true", help="random weights (testing only)")
    add_setting_option(p, "--mode", PROMPT_SPECS["input.mode"], default=None)
    p.add_argument("--image-topic", default=SENSOR_TOPICS["image"])
    p.add_argument("--info-topic", default=SENSOR_TOPICS["camera_info"])
    p.add_argument("--prompt-topic", help="cloud or depth topic (default by --mode)")
    p.add_argument("--depth-info-topic", default="/lidar/camera_info")
    add_setting_option(p, "--planning-frame", GRASP_SPECS["planning_frame"], default=None)
    p.add_argument("--no-grasps", action="store_true", help="skip grasp planning")
    p.add_argument("--storage", choices=("mcap", "sqlite3"), default="mcap")
    return p.parse_args(argv)


def _params(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """The prompt_depth_node and grasp_planner_node parameters the options ask for."""
    prompt = node_parameters(
        args.params,
        "prompt_depth_node",
        PROMPT_DEPTH_PARAMS,
        {
            "engine.name": args.engine,
            "engine.backend": args.backend,
            "engine.weights": args.weights,
            "engine.onnx_path": args.onnx,
            "engine.engine_path": args.engine_path,
            "input.mode": args.mode,
            "engine.random_init": True if args.random_init else None,
        },
    )
    grasp = node_parameters(
        args.grasp_params,
        "grasp_planner_node",
        GRASP_PLANNER_PARAMS,
        {"planning_frame": args.planning_frame},
    )
    return prompt, grasp


def main(argv: list[str] | None = None) -> int:
    """Process the bag; returns 0 when at least one frame was written."""
    args = parse_args(argv)
    try:
        params, grasp_params = _params(args)
        mode = params["input.mode"]
        pipeline = DepthPipeline(
            pipeline_config_from_params(params), create_engine(engine_spec_from_params(params))
        )
        grasp_config = grasp_config_from_params(grasp_params)
        planning_frame = str(grasp_params["planning_frame"])
        counts = bag_message_counts(args.input)
    except (PromptDepthError, OSError, yaml.YAMLError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    default_prompt = {"cloud": SENSOR_TOPICS["points"], "depth": SENSOR_TOPICS["depth"]}
    prompt_topic = args.prompt_topic or default_prompt.get(mode)
    names = input_topics(mode, bool(params["input.depth_registered"]))
    by_name = {
        "image": args.image_topic,
        "camera_info": args.info_topic,
        "points": prompt_topic,
        "depth": prompt_topic,
        "depth_camera_info": args.depth_info_topic,
    }
    topic_index = {by_name[n]: i for i, n in enumerate(names)}
    tf = TransformBuffer(cache_s=3600.0)
    pairing = PromptPairing(len(names), sync_config_from_params(params))
    fixed_frame = str(params["tf.fixed_frame"])
    fallback = parse_xyz_quat(
        str(params["tf.fallback_camera_from_lidar"]), "tf.fallback_camera_from_lidar"
    )
    skipped: Counter[str] = Counter()
    written = 0

    def lookup(target: str, target_ns: int, source: str, source_ns: int) -> np.ndarray:
        try:
            if fixed_frame:
                return tf.lookup_full(target, target_ns, source, source_ns, fixed_frame)
            return tf.lookup(target, source, source_ns)
        except TransformExtrapolation:
            raise
        except MissingTransform:
            if fallback is None:
                raise
            skipped["used_tf_fallback"] += 1
            return fallback

    wanted = [*topic_index, *TF_TOPICS]
    progress = Progress(sum(counts.get(t, 0) for t in wanted))
    try:
        writer = BagWriter(args.output, storage=args.storage)
    except PromptDepthError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    with writer as bag:
        for topic, msgtype in GRAPH_OUTPUTS.values():
            bag.add_topic(topic, msgtype)
        for topic in TF_TOPICS:  # copied, so the outputs can be placed on replay
            bag.add_topic(topic, TF_MESSAGE, latched=topic == "/tf_static")

        def process_set(synced: tuple[Any, ...], bag_ns: int) -> int:
            """Run one paired set through the pipeline and write its outputs; 1 if written."""
            try:
                frame = frame_from_messages(synced, mode, lookup)
                out = pipeline.process(frame)
                if isinstance(out, FrameSkip):
                    skipped[f"{out.cause} ({out.reason})"] += 1
                    return 0
                header = synced[0].header
                depth, info, points = output_messages(frame, out, header, True)
                bag.write(GRAPH_OUTPUTS["depth"][0], bag_ns, depth)
                bag.write(GRAPH_OUTPUTS["info"][0], bag_ns, info)
                if points is not None:
                    bag.write(GRAPH_OUTPUTS["points"][0], bag_ns, points)
                if not args.no_grasps:
                    image_ns = stamp_ns(header)
                    T = lookup(planning_frame, image_ns, header.frame_id, image_ns)
                    points_cam = depth_to_points(out.depth_m, frame.camera)
                    plan = plan_grasps_in_frame(points_cam, T, grasp_config)
                    gh = Header(stamp=header.stamp, frame_id=planning_frame)
                    messages = grasp_plan_messages(plan.grasps, gh, grasp_config.gripper)
                    for key, plan_msg in zip(GRASP_KEYS, messages, strict=True):
                        bag.write(GRAPH_OUTPUTS[key][0], bag_ns, plan_msg)
            except MissingTransform as error:
                skipped[f"missing_transform ({error})"] += 1
                return 0
            except PromptDepthError as error:
                skipped[f"{type(error).__name__} ({error})"] += 1
                return 0
            return 1

        last_ns = 0
        try:
            for record in read_bag(args.input, wanted):
                progress.step(written)
                last_ns = record.stamp_ns
                try:
                    msg = record.decode()
                    if record.msgtype == TF_MESSAGE:
                        tf.set_transforms(msg.transforms, static=record.topic == "/tf_static")
                        bag.write_raw(record.topic, record.stamp_ns, record.data)
                        continue
                    index = topic_index[record.topic]
                    arrival_s = record.stamp_ns * 1e-9
                    for synced in pairing.add(index, stamp_s(msg.header), msg, arrival_s):
                        written += process_set(synced, record.stamp_ns)
                except PromptDepthError as error:
                    skipped[f"{type(error).__name__} ({error})"] += 1
            for synced in pairing.poll(float("inf")):
                written += process_set(synced, last_ns)
        except KeyboardInterrupt:
            skipped["interrupted: rest of the bag not read"] += 1
    progress.close()
    print(f"wrote {written} frames to {args.output}")
    counts = pairing.counts
    unused = ", ".join(
        f"{n} {cause}"
        for cause, n in sorted(counts.items())
        if cause not in ("received", "emitted")
    )
    emitted, received = counts["emitted"], counts["received"]
    print(f"pairing: {emitted} sets from {received} messages; unused: {unused or 'none'}")
    for reason, n in sorted(skipped.items()):
        print(f"skipped {n}: {reason}")
    pipeline.close()
    return 0 if written > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
