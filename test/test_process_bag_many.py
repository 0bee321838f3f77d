"""promptdepth-process-bag over many bags (local workers, Ray) and under SIGINT/SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from promptdepth_ros.ros.bag import bag_message_counts, read_bag
from promptdepth_ros.ros.scene_bag import WORLD_FRAME, write_scene_bag
from promptdepth_ros.sim.scene import default_camera, generate_tabletop_scene
from promptdepth_ros.tools import process_bag
from promptdepth_ros.tools.bag_job import MARKER

DEPTH = "/prompt_depth_node/depth"


@pytest.fixture(scope="module")
def six_bags(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """Six tiny bags in one directory, and the LiDAR scans each holds."""
    folder = tmp_path_factory.mktemp("bags")
    scans = {}
    for seed in range(6):
        scene = generate_tabletop_scene(np.random.default_rng(seed), default_camera(64, 48))
        bag = write_scene_bag(folder / f"run{seed}", scene, duration_s=0.4, seed=seed)
        scans[f"run{seed}"] = len(bag.prompt_stamps_ns)
    return folder, scans


def _table_rows(stdout: str) -> dict[str, list[str]]:
    """The summary table's rows by bag name (status, frames, skipped, errors, time)."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["bag", "status"])
    rows = {}
    for line in lines[start + 1 :]:
        if line.startswith("--"):
            break
        name, *values = line.split()
        rows[name] = values
    return rows


def _check_outputs(out: Path, scans: dict[str, int]) -> None:
    """One readable output bag per input, a depth image per scan, marked complete."""
    assert sorted(p.name for p in out.iterdir()) == sorted(scans)
    for name, n in scans.items():
        assert bag_message_counts(out / name)[DEPTH] == n
        assert sum(1 for _ in read_bag(out / name, [DEPTH])) == n  # MCAP readable to the end
        assert json.loads((out / name / MARKER).read_text())["status"] == "done"


def test_six_bags_on_two_local_workers_and_a_rerun_skips_complete_outputs(
    six_bags, tmp_path: Path, capsys
) -> None:
    folder, scans = six_bags
    out = tmp_path / "out"
    argv = [str(folder), str(out), "--jobs", "2", "--planning-frame", WORLD_FRAME]
    assert process_bag.main(argv) == 0
    rows = _table_rows(capsys.readouterr().out)
    assert {name: row[:4] for name, row in rows.items()} == {
        name: ["done", str(n), "0", "0"] for name, n in scans.items()
    }
    _check_outputs(out, scans)

    marker = out / "run2" / MARKER
    partial = json.loads(marker.read_text()) | {"status": "interrupted"}
    marker.write_text(json.dumps(partial))
    assert process_bag.main(argv) == 0
    rows = _table_rows(capsys.readouterr().out)
    assert {name: row[0] for name, row in rows.items()} == {
        name: "done" if name == "run2" else "earlier" for name in scans
    }
    _check_outputs(out, scans)


def test_a_failed_bag_is_reported_and_the_others_finish(six_bags, tmp_path: Path, capsys) -> None:
    folder, scans = six_bags
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "metadata.yaml").write_text("rosbag2_bagfile_information: [\n")
    out = tmp_path / "out"
    argv = [str(folder / "run0"), str(broken), str(folder / "run1"), str(out), "--no-grasps"]
    assert process_bag.main([*argv, "--jobs", "2"]) == 1
    captured = capsys.readouterr()
    rows = _table_rows(captured.out)
    assert [rows[name][:2] for name in ("run0", "broken", "run1")] == [
        ["done", str(scans["run0"])],
        ["failed", "0"],
        ["done", str(scans["run1"])],
    ]
    assert f"failed {broken}: bag {broken}: Could not load YAML" in captured.out
    assert captured.err == "error: 1 of 3 bags not complete\n"


@pytest.mark.slow
def test_six_bags_as_tasks_on_an_in_process_ray_cluster(six_bags, tmp_path: Path, capsys) -> None:
    pytest.importorskip("ray", reason="ray is not installed (pip install ray)")
    folder, scans = six_bags
    out = tmp_path / "out"
    pattern = str(folder / "run*")
    argv = [pattern, str(out), "--ray", "local", "--jobs", "2", "--planning-frame", WORLD_FRAME]
    assert process_bag.main(argv) == 0
    rows = _table_rows(capsys.readouterr().out)
    assert {name: row[:2] for name, row in rows.items()} == {
        name: ["done", str(n)] for name, n in scans.items()
    }
    _check_outputs(out, scans)


@pytest.fixture(scope="module")
def long_bag(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A bag that takes far longer to process than the tests wait before signalling."""
    scene = generate_tabletop_scene(np.random.default_rng(1), default_camera(64, 48))
    bag = write_scene_bag(tmp_path_factory.mktemp("long") / "long", scene, duration_s=60.0)
    return bag.path, len(bag.prompt_stamps_ns)


def _run_and_signal(argv: list[str], markers: list[Path], signum: int) -> subprocess.Popen:
    """Start process-bag, wait until each output has begun and processed a while, signal it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "promptdepth_ros.tools.process_bag", *argv, "--no-grasps"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120.0
    while not all(m.is_file() for m in markers):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.1)
    time.sleep(1.5)
    proc.send_signal(signum)
    return proc


def _check_interrupted(output: Path, scans: int, signum: int) -> None:
    """A readable bag to its end (MCAP footer present), marked interrupted, fewer frames."""
    records = list(read_bag(output))
    depth = sum(1 for r in records if r.topic == DEPTH)
    assert records and depth < scans
    marker = json.loads((output / MARKER).read_text())
    assert (marker["status"], marker["signum"], marker["frames"]) == ("interrupted", signum, depth)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_closes_a_valid_bag_and_exits_128_plus_its_number(
    long_bag, tmp_path: Path, signum: int
) -> None:
    path, scans = long_bag
    out = tmp_path / "out"
    proc = _run_and_signal([str(path), str(out)], [out / MARKER], signum)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signum
    assert "Traceback" not in stderr
    assert "interrupted: rest of the bag not read" in stdout
    _check_interrupted(out, scans, signum)


@pytest.mark.parametrize("runner", ["local", pytest.param("ray", marks=pytest.mark.slow)])
def test_a_signal_reaches_every_running_bag(long_bag, tmp_path: Path, runner: str) -> None:
    if runner == "ray":
        pytest.importorskip("ray", reason="ray is not installed (pip install ray)")
    path, scans = long_bag
    second = tmp_path / "second"
    second.symlink_to(path)
    out = tmp_path / "out"
    argv = [str(path), str(second), str(out), "--jobs", "2"]
    argv += ["--ray", "local"] if runner == "ray" else []
    markers = [out / "long" / MARKER, out / "second" / MARKER]
    proc = _run_and_signal(argv, markers, signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143
    assert "Traceback" not in stderr
    rows = _table_rows(stdout)
    assert [rows[name][0] for name in ("long", "second")] == ["interrupted", "interrupted"]
    for name in ("long", "second"):
        _check_interrupted(out / name, scans, signal.SIGTERM)


def test_inputs_are_bags_globs_or_directories_of_bags(tmp_path: Path) -> None:
    from promptdepth_ros.errors import InputError

    for name in ("a/x", "a/y", "b/x", "c"):
        (tmp_path / name).mkdir(parents=True)
        (tmp_path / name / "metadata.yaml").write_text("")
    out = tmp_path / "out"
    find = process_bag.find_jobs
    assert find([str(tmp_path / "c")], out) == ([process_bag.BagJob(tmp_path / "c", out)], True)
    jobs, single = find([str(tmp_path / "a")], out)  # a directory of bags
    assert not single
    assert [(j.input, j.output) for j in jobs] == [
        (tmp_path / "a/x", out / "x"),
        (tmp_path / "a/y", out / "y"),
    ]
    jobs, single = find([str(tmp_path / "a" / "*")], out)  # a glob, even matching one
    assert not single and [j.output for j in jobs] == [out / "x", out / "y"]
    jobs, single = find([str(tmp_path / "[c]")], out)
    assert not single and [j.output for j in jobs] == [out / "c"]
    with pytest.raises(InputError, match="several input bags are named x"):
        find([str(tmp_path / "a"), str(tmp_path / "b")], out)
    with pytest.raises(InputError, match="no bag matches"):
        find([str(tmp_path / "none*")], out)
