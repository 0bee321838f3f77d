"""The demo's summary: frames in and out, latencies, depth error, grasps (printed and JSON)."""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np
from rclpy.serialization import deserialize_message
from sensor_msgs.msg import Image

from promptdepth_ros.eval.metrics import depth_metrics
from promptdepth_ros.msg import GraspArray
from promptdepth_ros.ros.convert.image import image_to_depth_m
from promptdepth_ros.ros.convert.stamps import stamp_ns
from promptdepth_ros.ros.diagnostics import DIAGNOSTICS_TOPIC
from promptdepth_ros.ros.launch_graph import GRAPH_OUTPUTS
from promptdepth_ros.ros.scene_bag import IMAGE_TOPIC, TRANSPORT_LATENCY_NS, SceneBag
from promptdepth_ros.tools.replay import BagPlayer, TopicRecorder


def _last_diagnostics(recorder: TopicRecorder) -> dict[str, dict[str, str]]:
    from diagnostic_msgs.msg import DiagnosticArray

    latest: dict[str, dict[str, str]] = {}
    for r in recorder.messages(DIAGNOSTICS_TOPIC):
        for status in deserialize_message(r.data, DiagnosticArray).status:
            latest[status.name] = {kv.key: kv.value for kv in status.values}
    return latest


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"median": None, "p90": None}
    return {"median": float(np.median(values)), "p90": float(np.percentile(values, 90))}


def summarise(
    args: argparse.Namespace,
    bag: SceneBag,
    player: BagPlayer,
    recorder: TopicRecorder,
    published: int,
    exit_codes: list[int],
) -> dict[str, Any]:
    """Build, print and return the summary; writes grasps.json next to the outputs."""
    latencies, errors = [], []
    for r in recorder.messages(GRAPH_OUTPUTS["depth"][0]):
        msg = deserialize_message(r.data, Image)
        sent = player.published_at_s.get(
            (IMAGE_TOPIC, stamp_ns(msg.header) + TRANSPORT_LATENCY_NS)
        )
        if sent is not None:
            latencies.append((r.arrival_s - sent) * 1e3)
        errors.append(depth_metrics(image_to_depth_m(msg), bag.truth.depth_m))
    plans = [
        deserialize_message(r.data, GraspArray)
        for r in recorder.messages(GRAPH_OUTPUTS["grasps"][0])
    ]
    # The newest plan that found grasps (a plan on a noisy cloud can find none).
    with_grasps = [p for p in plans if p.grasps]
    newest = with_grasps[-1] if with_grasps else None
    newest_grasps = newest.grasps if newest is not None else []
    grasps_json = [
        {
            "object_id": g.object_id,
            "score": g.score,
            "width_m": g.width,
            "position_m": [g.pose.position.x, g.pose.position.y, g.pose.position.z],
            "orientation_xyzw": [
                g.pose.orientation.x,
                g.pose.orientation.y,
                g.pose.orientation.z,
                g.pose.orientation.w,
            ],
            "frame_id": newest.header.frame_id if newest is not None else "",
        }
        for g in newest_grasps
    ]
    (args.out / "grasps.json").write_text(json.dumps(grasps_json, indent=2))
    diagnostics = _last_diagnostics(recorder)
    stage_ms = {
        f"{name.split(':')[0]}.{key[:-3]}": float(value)
        for name, values in diagnostics.items()
        for key, value in values.items()
        if key.endswith("_ms")
    }
    counters = {
        f"{name.split(':')[0]}.{key}": value
        for name, values in diagnostics.items()
        for key, value in values.items()
        if not key.endswith("_ms")
    }
    report: dict[str, Any] = {
        "engine": args.engine,
        "random_weights": bool(args.random_init),
        "frames_in": {
            "messages_published": published,
            "images": len(bag.image_stamps_ns),
            "prompt_sensor": args.sensor,
            "lidar_scans": len(bag.prompt_stamps_ns),  # depth images with --sensor realsense
            "not_replayed_topics": sorted(player.unpublishable),
        },
        "frames_out": {
            "depth": recorder.count(GRAPH_OUTPUTS["depth"][0]),
            "points": recorder.count(GRAPH_OUTPUTS["points"][0]),
            "grasp_plans": len(plans),
        },
        "latency_ms": {"image_to_depth": _percentiles(latencies), "last_stage": stage_ms},
        "depth_error": {
            "absrel": float(np.mean([e.absrel for e in errors])) if errors else None,
            "mae_m": float(np.mean([e.mae for e in errors])) if errors else None,
            "rmse_m": float(np.mean([e.rmse for e in errors])) if errors else None,
            "delta1": float(np.mean([e.delta1 for e in errors])) if errors else None,
        },
        "grasps": {
            "plans": len(plans),
            "plans_with_grasps": len(with_grasps),
            "newest": len(newest_grasps),
            "best_score": float(newest_grasps[0].score) if newest_grasps else None,
        },
        "diagnostics": counters,
        "node_exit_codes": exit_codes,
    }
    _print(report, args)
    return report


def _print(report: dict[str, Any], args: argparse.Namespace) -> None:
    fin, fout = report["frames_in"], report["frames_out"]
    lat, err = report["latency_ms"], report["depth_error"]
    print("\n=== promptdepth_ros demo summary ===")
    print(
        f"engine              : {report['engine']}"
        + ("  (RANDOM WEIGHTS: depth is meaningless)" if report["random_weights"] else "")
    )
    prompts = "depth images" if fin["prompt_sensor"] == "realsense" else "LiDAR scans"
    print(
        f"frames in           : {fin['images']} images (30 Hz), {fin['lidar_scans']} {prompts} "
        f"(10 Hz); not replayed (type not installed here): "
        f"{', '.join(fin['not_replayed_topics']) or 'none'}"
    )
    print(
        f"frames out          : {fout['depth']} depth, {fout['points']} clouds, "
        f"{fout['grasp_plans']} grasp plans"
    )
    med, p90 = lat["image_to_depth"]["median"], lat["image_to_depth"]["p90"]
    if med is not None:
        print(f"latency image→depth : median {med:.1f} ms, p90 {p90:.1f} ms (over DDS)")
    for stage, ms in sorted(lat["last_stage"].items()):
        print(f"  stage {stage:<28}: {ms:8.1f} ms")
    if err["absrel"] is not None:
        print(
            f"depth error vs GT   : AbsRel {err['absrel']:.4f}, MAE {err['mae_m'] * 1000:.1f} mm,"
            f" RMSE {err['rmse_m'] * 1000:.1f} mm, δ<1.25 {err['delta1']:.3f}"
        )
    print(
        f"grasps              : {report['grasps']['newest']} in the newest plan that found any "
        f"({report['grasps']['plans_with_grasps']} of {report['grasps']['plans']} plans did)"
        + (
            f", best score {report['grasps']['best_score']:.3f}"
            if report["grasps"]["best_score"] is not None
            else ""
        )
    )
    print(
        f"outputs             : {args.out}/ (input_bag, output_bag, depth.png, "
        "depth_ground_truth.png, cloud.ply, grasps.json, summary.json, logs/)"
    )
