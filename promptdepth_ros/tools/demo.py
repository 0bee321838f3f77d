"""promptdepth-demo: replay a generated tabletop or room bag through the real nodes over DDS.

Generates a scene, writes it as a rosbag2 (camera 30 Hz, LiDAR or depth camera 10 Hz,
/tf_static), starts
prompt_depth_node and grasp_planner_node as processes, plays the bag to them, records their
outputs to a bag, and writes a depth PNG, a PLY cloud, the grasps as JSON and a summary.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import numpy as np

from promptdepth_ros.camera.projection import depth_to_points
from promptdepth_ros.cloud.ply import points_to_ply
from promptdepth_ros.engines.spec import EngineSpec
from promptdepth_ros.errors import InputError, PromptDepthError
from promptdepth_ros.eval.visualize import save_depth_png
from promptdepth_ros.pipeline.depth import PipelineConfig
from promptdepth_ros.ros.bag import read_bag
from promptdepth_ros.ros.convert.image import image_to_depth_m
from promptdepth_ros.ros.diagnostics import DIAGNOSTICS_TOPIC
from promptdepth_ros.ros.launch_graph import (
    GRAPH_OUTPUTS,
    fastdds_environment,
    shm_free_bytes,
)
from promptdepth_ros.ros.scene_bag import (
    CLOUD_TOPIC,
    IMAGE_TOPIC,
    INFO_TOPIC,
    write_scene_bag,
)
from promptdepth_ros.ros.scene_bag import DEPTH_TOPIC as SENSOR_DEPTH_TOPIC
from promptdepth_ros.sim.room import generate_room_scene
from promptdepth_ros.sim.scene import default_camera, generate_tabletop_scene
from promptdepth_ros.tools.cli import add_debug_option, add_setting_option, run_tool, specs_by_name
from promptdepth_ros.tools.demo_graph import start_graph, stop_graph, wait_for_graph

DEPTH_TOPIC = GRAPH_OUTPUTS["depth"][0]
ENGINE_SETTINGS = specs_by_name(EngineSpec)
POINTS_TOPIC = GRAPH_OUTPUTS["points"][0]
GRASPS_TOPIC = GRAPH_OUTPUTS["grasps"][0]
MARKER = ".promptdepth-demo"  # in an output directory the demo made (so may delete)
OUTPUT_TOPICS = (
    *GRAPH_OUTPUTS.values(),
    (DIAGNOSTICS_TOPIC, "diagnostic_msgs/msg/DiagnosticArray"),
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/demo"), help="output directory")
    parser.add_argument("--seed", type=int, default=3, help="scene seed")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds of sensor data")
    parser.add_argument(
        "--scene",
        choices=("tabletop", "room"),
        default="tabletop",
        help="objects on a table, or a furnished room (depths 1-6 m; grasps optional there)",
    )
    parser.add_argument(
        "--sensor",
        choices=("lidar", "realsense"),
        default="lidar",
        help="prompt: a 32-ring LiDAR cloud, or a RealSense-like depth image registered to "
        "the camera (the node in input.mode depth)",
    )
    add_setting_option(parser, "--engine", ENGINE_SETTINGS["name"])
    add_setting_option(parser, "--backend", ENGINE_SETTINGS["backend"])
    parser.add_argument(
        "--random-init",
        action="store_true",
        help="learned engines with random weights (meaningless depth)",
    )
    parser.add_argument(
        "--input-long-side",
        type=int,
        default=518,
        help="PromptDA network input long side (multiple of 14; CPU-friendly)",
    )
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    add_debug_option(parser)
    return parser.parse_args(argv)


def prepare_out(out: Path) -> None:
    """Create ``out`` (with the demo's marker), emptying it first only when the demo made it.

    InputError for a non-empty directory (or a file) without the marker: never deleted.
    """
    if (out / MARKER).is_file():
        shutil.rmtree(out)
    elif out.exists() and not (out.is_dir() and not any(out.iterdir())):
        raise InputError(
            f"--out {out} exists and was not made by the demo; choose another directory "
            "(the demo deletes only directories it made)"
        )
    (out / "logs").mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("made by promptdepth-demo; the next run deletes this directory\n")


def export_random_onnx(args: argparse.Namespace, path: Path) -> Path:
    """A random-weight PromptDA ONNX model for the demo's image and prompt sizes."""
    from promptdepth_ros.engines.promptda.preprocessing import network_input_size
    from promptdepth_ros.tools import export_onnx

    height, width = network_input_size(args.height, args.width, args.input_long_side)
    # A depth image keeps its own resolution as the prompt (pipeline.depth_native_resolution).
    realsense = args.sensor == "realsense" and PipelineConfig().depth_native_resolution
    prompt_h, prompt_w = (args.height, args.width) if realsense else PipelineConfig().prompt_hw
    sizes = [
        "--input-size",
        str(height),
        str(width),
        "--prompt-size",
        str(prompt_h),
        str(prompt_w),
    ]
    if export_onnx.main(["--engine", "promptda", "--random-init", *sizes, "--output", str(path)]):
        raise PromptDepthError(f"could not export a random-weight ONNX model to {path}")
    return path


def main(argv: list[str] | None = None) -> int:
    """Run the demo; prints a summary and returns 0 when depth and grasps came out (one
    ``error:`` line on stderr and a non-zero status otherwise)."""
    args = parse_args(argv)
    return run_tool(lambda: run_demo(args), args.debug)


def run_demo(args: argparse.Namespace) -> int:
    """The demo's steps: scene bag, nodes, replay, recording, outputs."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.signals import SignalHandlerOptions

    from promptdepth_ros.tools.demo_report import summarise
    from promptdepth_ros.tools.replay import BagPlayer, TopicRecorder, wait_for_subscription

    prepare_out(args.out)
    # The demo's graph talks to itself only: keep DDS discovery on this machine.
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    # Images and clouds through shared memory, as grasp.launch.py does (the nodes inherit it).
    dds_env = fastdds_environment(os.environ, shm_free_bytes())
    os.environ.update(dds_env)
    print(f"[demo] Fast DDS profile: {', '.join(dds_env.values()) or 'unchanged'}")
    onnx = None
    if args.random_init and args.engine == "promptda" and args.backend == "onnxruntime":
        onnx = export_random_onnx(args, args.out / "promptda_random.onnx")
    generate = generate_room_scene if args.scene == "room" else generate_tabletop_scene
    scene = generate(np.random.default_rng(args.seed), default_camera(args.width, args.height))
    prompt_mode = "realsense" if args.sensor == "realsense" else "cloud"
    bag = write_scene_bag(
        args.out / "input_bag", scene, duration_s=args.duration, lidar_mode=prompt_mode
    )
    prompts = "depth images" if args.sensor == "realsense" else "LiDAR scans"
    print(
        f"[demo] wrote {bag.path} ({len(bag.image_stamps_ns)} images at 30 Hz, "
        f"{len(bag.prompt_stamps_ns)} {prompts} at 10 Hz, {args.scene} scene)"
    )
    if args.random_init:
        print(
            "[demo] WARNING: the learned engine runs with RANDOM weights: its depth is "
            "meaningless; this only exercises the pipeline."
        )

    rclpy.init(signal_handler_options=SignalHandlerOptions.NO)  # run_tool handles signals
    node = rclpy.create_node("promptdepth_demo")
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    logs = args.out / "logs"
    procs = start_graph(args, scene.T_world_camera, bag.world_frame, logs, onnx)
    try:
        recorder = TopicRecorder(node, OUTPUT_TOPICS)
        player = BagPlayer(node, list(read_bag(bag.path)))
        spinner.start()
        prompt_topic = SENSOR_DEPTH_TOPIC if args.sensor == "realsense" else CLOUD_TOPIC
        inputs = [IMAGE_TOPIC, INFO_TOPIC, prompt_topic]
        wait_for_graph(
            lambda: player.wait_for_subscribers(inputs, 0.0),
            "the nodes did not subscribe",
            procs,
            logs,
        )
        wait_for_graph(
            lambda: wait_for_subscription(node, POINTS_TOPIC, "grasp_planner_node", 0.0),
            "the grasp planner did not subscribe",
            procs,
            logs,
        )
        # Outputs published before the recorder is matched to their publisher would be lost.
        wait_for_graph(
            lambda: recorder.wait_for_publishers([DEPTH_TOPIC, GRASPS_TOPIC], 0.0),
            "the nodes' outputs did not appear",
            procs,
            logs,
        )
        published = player.play()
        # Done when a grasp plan arrived and no depth or grasps for 3 s (the nodes have
        # drained), or after 60 s.
        deadline = time.monotonic() + 60.0
        last_total, last_change = -1, time.monotonic()
        while time.monotonic() < deadline and (
            time.monotonic() - last_change < 3.0 or recorder.count(GRASPS_TOPIC) == 0
        ):
            total = recorder.count(DEPTH_TOPIC) + recorder.count(GRASPS_TOPIC)
            if total != last_total:
                last_total, last_change = total, time.monotonic()
            time.sleep(0.1)
        recorder.write_bag(args.out / "output_bag")
    finally:
        codes = stop_graph(procs)
        executor.shutdown()
        # The spin thread must leave rclpy's wait before the node and context go; a thread
        # still inside it at exit aborts the process ("terminate called without an active
        # exception").
        if spinner.is_alive():
            spinner.join()
        node.destroy_node()
        rclpy.try_shutdown()
    report = summarise(args, bag, player, recorder, published, codes)
    depth_msgs = recorder.messages(DEPTH_TOPIC)
    if depth_msgs:
        from rclpy.serialization import deserialize_message
        from sensor_msgs.msg import Image

        depth = image_to_depth_m(deserialize_message(depth_msgs[-1].data, Image))
        save_depth_png(args.out / "depth.png", depth)
        save_depth_png(args.out / "depth_ground_truth.png", bag.truth.depth_m)
        points_to_ply(args.out / "cloud.ply", depth_to_points(depth, scene.camera), bag.truth.rgb)
    (args.out / "summary.json").write_text(json.dumps(report, indent=2))
    # Random weights give meaningless depth, on which no grasp need be found; nor need a
    # room's furniture fit the gripper.
    found_grasps = report["grasps"]["newest"] > 0 or args.random_init or args.scene == "room"
    ok = report["frames_out"]["depth"] > 0 and found_grasps
    return 0 if ok and all(c == 0 for c in codes) else 1


if __name__ == "__main__":
    sys.exit(main())
