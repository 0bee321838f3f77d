"""promptdepth-process-bag: the node pipeline offline, a valid output bag whatever happens."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from promptdepth_ros.pipeline.depth import DepthPipeline
from promptdepth_ros.ros.bag import bag_message_counts, read_bag
from promptdepth_ros.ros.convert.image import image_to_depth_m
from promptdepth_ros.ros.convert.stamps import stamp_ns
from promptdepth_ros.ros.scene_bag import WORLD_FRAME, write_scene_bag
from promptdepth_ros.sim.scene import default_camera, generate_tabletop_scene
from promptdepth_ros.tools import process_bag
from promptdepth_ros.tools.bag_job import MARKER


@pytest.fixture(scope="module")
def scene_bag(tmp_path_factory: pytest.TempPathFactory):
    scene = generate_tabletop_scene(np.random.default_rng(7), default_camera(320, 240))
    return write_scene_bag(tmp_path_factory.mktemp("in") / "bag", scene, duration_s=1.0)


@pytest.fixture(scope="module")
def small_bag(tmp_path_factory: pytest.TempPathFactory):
    scene = generate_tabletop_scene(np.random.default_rng(5), default_camera(96, 72))
    return write_scene_bag(tmp_path_factory.mktemp("small") / "bag", scene, duration_s=0.5)


def test_every_scan_gives_depth_and_grasps_in_the_output_bag(
    scene_bag, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "out"
    assert process_bag.main([str(scene_bag.path), str(out), "--planning-frame", WORLD_FRAME]) == 0
    counts = bag_message_counts(out)
    scans = len(scene_bag.prompt_stamps_ns)
    assert counts["/prompt_depth_node/depth"] == scans
    assert counts["/prompt_depth_node/points"] == scans
    assert counts["/grasp_planner_node/grasps"] == scans
    depth_records = list(read_bag(out, ["/prompt_depth_node/depth"]))
    images = np.asarray(scene_bag.image_stamps_ns)
    for record in depth_records:
        msg = record.decode()
        assert msg.encoding == "32FC1"
        assert stamp_ns(msg.header) in images
        depth = image_to_depth_m(msg)
        valid = np.isfinite(depth) & np.isfinite(scene_bag.truth.depth_m)
        assert valid.mean() > 0.5
        rel = (
            np.abs(depth[valid] - scene_bag.truth.depth_m[valid]) / scene_bag.truth.depth_m[valid]
        )
        assert np.median(rel) < 0.02
    grasps = next(iter(read_bag(out, ["/grasp_planner_node/grasps"]))).decode()
    assert grasps.header.frame_id == "table"
    assert len(grasps.grasps) > 0
    assert f"wrote {scans} frames" in capsys.readouterr().out
    assert counts["/tf_static"] == bag_message_counts(scene_bag.path)["/tf_static"] > 0


def test_existing_output_is_refused(scene_bag, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("not a bag")
    assert process_bag.main([str(scene_bag.path), str(out)]) == 1
    err = capsys.readouterr().err
    assert err == f"error: output {out} exists and was not written by process-bag; " + (
        "remove it or choose another output\n"
    )
    assert (out / "mine.txt").read_text() == "not a bag"


def test_interrupt_closes_a_valid_bag_and_says_what_was_skipped(
    scene_bag, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = DepthPipeline.process
    calls = {"n": 0}

    def process_then_interrupt(self, frame):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self, frame)

    monkeypatch.setattr(DepthPipeline, "process", process_then_interrupt)
    out = tmp_path / "out"
    assert process_bag.main([str(scene_bag.path), str(out), "--no-grasps"]) == 130
    assert bag_message_counts(out)["/prompt_depth_node/depth"] == 2
    assert "interrupted: rest of the bag not read" in capsys.readouterr().out
    assert json.loads((out / MARKER).read_text())["status"] == "interrupted"


def test_bad_messages_are_skipped_with_their_reason(
    scene_bag, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promptdepth_ros.ros.convert import synced_set

    original = synced_set.image_to_rgb
    calls = {"n": 0}

    def fail_once(msg):
        calls["n"] += 1
        if calls["n"] == 1:
            msg.encoding = "bayer_rggb8"
        return original(msg)

    monkeypatch.setattr(synced_set, "image_to_rgb", fail_once)
    out = tmp_path / "out"
    assert process_bag.main([str(scene_bag.path), str(out), "--no-grasps"]) == 0
    assert (
        bag_message_counts(out)["/prompt_depth_node/depth"] == len(scene_bag.prompt_stamps_ns) - 1
    )
    assert "skipped 1: UnsupportedEncoding" in capsys.readouterr().out


def test_node_parameter_files_apply_and_misspelt_keys_name_the_nearest(
    scene_bag, tmp_path: Path, capsys
) -> None:
    grasp_file = tmp_path / "grasp.yaml"
    grasp_file.write_text(
        "grasp_planner_node:\n  ros__parameters:\n    planning_frame: table\n"
        "    grasp.max_opening_m: 0.14\n    grasp.finger_thickness_m: 0.02\n"
    )
    out = tmp_path / "out"
    assert (
        process_bag.main([str(scene_bag.path), str(out), "--grasp-params", str(grasp_file)]) == 0
    )
    grasps = next(iter(read_bag(out, ["/grasp_planner_node/grasps"]))).decode()
    assert grasps.header.frame_id == "table"
    capsys.readouterr()
    prompt_file = tmp_path / "prompt.yaml"
    prompt_file.write_text("prompt_depth_node:\n  ros__parameters:\n    prompt.max_rnge_m: 5.0\n")
    code = process_bag.main(
        [str(scene_bag.path), str(tmp_path / "o2"), "--params", str(prompt_file)]
    )
    assert code == 2
    assert "did you mean 'prompt.max_range_m'" in capsys.readouterr().err


def test_progress_is_periodic_lines_in_a_log(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from promptdepth_ros.tools import progress

    log = io.StringIO()
    clock = iter(np.arange(0.0, 100.0, 4.0))
    monkeypatch.setattr(progress.time, "monotonic", lambda: float(next(clock)))
    bar = progress.Progress(5, stream=log)
    for frames in range(5):
        bar.step(frames)
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert lines[0].startswith("progress: 3/5 msg (60 %)")  # 10 s after the start
    assert lines[-1].startswith("progress: 5/5 msg (100 %)") and len(lines) == 2


@pytest.mark.parametrize("phase_ms", [0, 16, 17, 30])
def test_free_running_lidar_gives_a_frame_per_scan_at_any_phase(
    tmp_path: Path, phase_ms: int
) -> None:
    """Phases 15-18 ms after an image paired nothing under the old 15 ms approximate-time slop."""
    scene = generate_tabletop_scene(np.random.default_rng(11), default_camera(160, 120))
    bag = write_scene_bag(
        tmp_path / "in",
        scene,
        duration_s=1.0,
        lidar_offset_s=phase_ms * 1e-3,
        lidar_drift_ppm=300.0,
        drop_rate=0.05,
        seed=phase_ms,
    )
    out = tmp_path / "out"
    assert process_bag.main([str(bag.path), str(out), "--no-grasps"]) == 0
    images = np.asarray(bag.image_stamps_ns)
    expected = [s for s in bag.prompt_stamps_ns if np.abs(images - s).min() <= 1e9 / 30.0]
    depth = [record.decode() for record in read_bag(out, ["/prompt_depth_node/depth"])]
    assert len(depth) == len(expected)
    for msg, scan in zip(sorted(depth, key=lambda m: stamp_ns(m.header)), expected, strict=True):
        assert stamp_ns(msg.header) == images[np.argmin(np.abs(images - scan))]


def test_engine_path_reaches_the_engine_spec(scene_bag, tmp_path: Path, capsys) -> None:
    args = ["--engine", "promptda", "--backend", "tensorrt"]
    assert process_bag.main([str(scene_bag.path), str(tmp_path / "o1"), *args]) == 2
    assert "engine_path is required" in capsys.readouterr().err
    args += ["--engine-path", str(tmp_path / "model.plan")]
    assert process_bag.main([str(scene_bag.path), str(tmp_path / "o2"), *args]) == 2
    err = capsys.readouterr().err  # past the spec: what stops it here is the missing TensorRT
    assert "engine_path is required" not in err and err.startswith("error: ")


def test_a_corrupt_message_is_skipped_counted_and_listed(
    small_bag, tmp_path: Path, capsys
) -> None:
    from promptdepth_ros.ros.bag import BagWriter

    damaged = tmp_path / "damaged"
    image_times = []
    with BagWriter(damaged) as bag:
        for record in read_bag(small_bag.path):
            bag.add_topic(record.topic, record.msgtype, latched=record.topic == "/tf_static")
            data = record.data
            if record.topic == "/camera/image_raw":
                image_times.append(record.stamp_ns)
                if len(image_times) == 4:
                    data = data[:40] + bytes(range(256)) * 4  # sizes that overrun the buffer
            bag.write_raw(record.topic, record.stamp_ns, data)
    out = tmp_path / "out"
    assert process_bag.main([str(damaged), str(out), "--no-grasps"]) == 0
    stdout = capsys.readouterr().out
    when = image_times[3] * 1e-9
    assert (
        f"error 1: CorruptMessage (corrupt sensor_msgs/msg/Image on /camera/image_raw at "
        f"{when:.3f} s: failed to deserialize ROS message" in stdout
    )
    depth = bag_message_counts(out)["/prompt_depth_node/depth"]
    assert depth >= len(small_bag.prompt_stamps_ns) - 1  # the rest went on
    assert json.loads((out / MARKER).read_text())["errors"] == {
        line.split(": ", 1)[1]: 1 for line in stdout.splitlines() if line.startswith("error 1:")
    }


def _truncated_copy(bag: Path, to: Path) -> Path:
    to.mkdir()
    for item in bag.iterdir():
        data = item.read_bytes()
        (to / item.name).write_bytes(data[: len(data) // 2] if item.suffix == ".mcap" else data)
    return to


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("missing bag", 1),
        ("empty directory", 1),
        ("truncated mcap", 1),
        ("bad yaml", 2),
        ("parameters not a mapping", 2),
    ],
)
def test_every_error_is_one_line_on_stderr(
    small_bag, tmp_path: Path, capsys, case: str, code: int
) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("prompt_depth_node:\n  ros__parameters: [1, 2\n")
    (tmp_path / "empty").mkdir()
    argv = {
        "missing bag": [str(tmp_path / "nothing")],
        "empty directory": [str(tmp_path / "empty")],
        "truncated mcap": [str(_truncated_copy(small_bag.path, tmp_path / "cut"))],
        "bad yaml": [str(small_bag.path), "--params", str(params)],
        "parameters not a mapping": [str(small_bag.path), "--grasp-params", str(params)],
    }[case]
    if case == "parameters not a mapping":
        params.write_text("grasp_planner_node:\n  ros__parameters: [1, 2]\n")
    out = tmp_path / "out"
    assert process_bag.main([argv[0], str(out), *argv[1:], "--no-grasps"]) == code
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err


def test_debug_prints_the_traceback(small_bag, tmp_path: Path, capsys) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("prompt_depth_node: [\n")
    argv = [str(small_bag.path), str(tmp_path / "out"), "--params", str(params)]
    assert process_bag.main([*argv, "--debug"]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert err.splitlines()[-1].startswith("error: while parsing a flow node")
