"""promptdepth-process-bag: run the node pipeline offline over rosbag2 files into new bags.

Reads camera image + camera_info, a LiDAR cloud or depth image, /tf and /tf_static (MCAP or
sqlite3), pairs them as the node does, runs prompt → engine → cloud → grasps with the nodes'
parameters (the same code), and writes the node topics to a new MCAP bag that
``ros2 bag play`` replays. Many bags run in parallel, in local worker processes or on a Ray
cluster. A bad message, a failed bag, SIGINT or SIGTERM never leave a broken bag.
"""

from __future__ import annotations

import argparse
import glob
import sys
from pathlib import Path
from typing import Any

from promptdepth_ros.errors import ConfigError, InputError
from promptdepth_ros.ros.grasp_planner_params import GRASP_PLANNER_PARAMS
from promptdepth_ros.ros.launch_graph import SENSOR_TOPICS
from promptdepth_ros.ros.prompt_depth_params import PROMPT_DEPTH_PARAMS, engine_spec_from_params
from promptdepth_ros.tools.bag_batch import run_local, run_ray, summary_table
from promptdepth_ros.tools.bag_frames import BagOptions
from promptdepth_ros.tools.bag_job import (
    BagJob,
    BagResult,
    open_pipeline,
    print_result,
    process_bag,
)
from promptdepth_ros.tools.cli import (
    StopSignals,
    add_debug_option,
    add_setting_option,
    node_parameters,
    run_tool,
)

PROMPT_SPECS = {spec.name: spec for spec in PROMPT_DEPTH_PARAMS}
GRASP_SPECS = {spec.name: spec for spec in GRASP_PLANNER_PARAMS}
GLOB_CHARACTERS = frozenset("*?[")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "inputs",
        nargs="+",
        help="input rosbag2 directories (MCAP or sqlite3), globs, or directories of bags",
    )
    p.add_argument(
        "output",
        type=Path,
        help="output bag directory for one input bag; for several (or a glob or a directory "
        "of bags) the directory that gets one output bag per input, named as the input",
    )
    p.add_argument("--jobs", type=int, default=1, help="bags processed at once (processes)")
    p.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="run each bag as a task on the Ray cluster at ADDRESS ('auto', 'ray://host:10001', "
        "or 'local' for a cluster in this process with --jobs CPUs)",
    )
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
    p.add_argument("--depth-info-topic", default=SENSOR_TOPICS["depth_camera_info"])
    add_setting_option(p, "--planning-frame", GRASP_SPECS["planning_frame"], default=None)
    p.add_argument("--no-grasps", action="store_true", help="skip grasp planning")
    p.add_argument("--storage", choices=("mcap", "sqlite3"), default="mcap")
    add_debug_option(p)
    return p.parse_args(argv)


def _is_bag(path: Path) -> bool:
    return (path / "metadata.yaml").is_file()


def find_jobs(inputs: list[str], output: Path) -> tuple[list[BagJob], bool]:
    """The bags ``inputs`` name and their outputs; True when it is a single bag (``output``
    is then the output bag itself).

    A glob is expanded here (also when the shell did not), a directory that is no bag stands
    for the bags in it. InputError when nothing is found or two inputs share a name.
    """
    single = len(inputs) == 1 and not GLOB_CHARACTERS & set(inputs[0])
    bags: list[Path] = []
    for text in inputs:
        matches = sorted(glob.glob(text)) if GLOB_CHARACTERS & set(text) else [text]
        for path in map(Path, matches):
            if path.is_dir() and not _is_bag(path) and any(map(_is_bag, path.iterdir())):
                single = False
                bags += sorted(child for child in path.iterdir() if _is_bag(child))
            else:
                bags.append(path)
    if not bags:
        raise InputError(f"no bag matches {' '.join(inputs)}")
    if single:
        return [BagJob(bags[0], output)], True
    names = [bag.name or bag.resolve().name for bag in bags]  # "." has no name
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise InputError(f"several input bags are named {', '.join(twice)}; outputs would clash")
    return [BagJob(bag, output / name) for bag, name in zip(bags, names, strict=True)], False


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


def _options(args: argparse.Namespace) -> BagOptions:
    """Both nodes' validated parameters and the topics to read; ConfigError when bad."""
    params, grasp_params = _params(args)
    engine_spec_from_params(params)  # a bad engine setting fails here, before any bag
    default_prompt = {"cloud": SENSOR_TOPICS["points"], "depth": SENSOR_TOPICS["depth"]}
    prompt_topic = args.prompt_topic or default_prompt.get(str(params["input.mode"]), "")
    topics = {
        "image": args.image_topic,
        "camera_info": args.info_topic,
        "points": prompt_topic,
        "depth": prompt_topic,
        "depth_camera_info": args.depth_info_topic,
    }
    return BagOptions(params, grasp_params, topics, args.no_grasps, args.storage, args.debug)


def _exit_status(results: list[BagResult], signum: int | None) -> int:
    """128 + the signal after one, 0 when every bag is complete with frames, else 1."""
    if signum is not None:
        return 128 + signum
    return 0 if all(result.ok for result in results) else 1


def _one_bag(job: BagJob, options: BagOptions) -> int:
    """One bag in this process, with a progress bar and the full summary."""
    pipeline = open_pipeline(options.params)
    try:
        with StopSignals() as signals:
            result = process_bag(job, options, pipeline, show_progress=True, signals=signals)
    finally:
        pipeline.close()
    if result.status != "failed" or result.pairing:  # else the bag was not read at all
        print_result(result)
    if result.status == "failed":
        print(f"error: {result.reason}", file=sys.stderr)
    return _exit_status([result], signals.signum or result.signum)


def _many_bags(jobs: list[BagJob], options: BagOptions, args: argparse.Namespace) -> int:
    """The bags in parallel, a line as each ends, then the table."""
    done = [0]

    def report(result: BagResult) -> None:
        done[0] += 1
        print(
            f"[{done[0]}/{len(jobs)}] {result.input.name}: {result.status}, "
            f"{result.frames} frames, {result.seconds:.1f} s",
            flush=True,
        )

    for job in jobs:
        job.output.parent.mkdir(parents=True, exist_ok=True)
    if args.ray:
        results, signum = run_ray(jobs, options, args.ray, args.jobs, report)
    else:
        results, signum = run_local(jobs, options, args.jobs, report)
    summary_table(results)
    failed = [r for r in results if not r.ok]
    if failed:
        print(f"error: {len(failed)} of {len(results)} bags not complete", file=sys.stderr)
    return _exit_status(results, signum)


def main(argv: list[str] | None = None) -> int:
    """Process the bags; 0 when each is complete with frames, 1 when one is not, 2 for bad
    options or input, 128 + signal number after SIGINT/SIGTERM."""
    args = parse_args(argv)

    def body() -> int:
        if args.jobs < 1:
            raise ConfigError(f"--jobs must be >= 1, got {args.jobs}")
        options = _options(args)
        jobs, single = find_jobs(args.inputs, args.output)
        if single and not args.ray:
            return _one_bag(jobs[0], options)
        return _many_bags(jobs, options, args)

    return run_tool(body, args.debug)


if __name__ == "__main__":
    sys.exit(main())
