"""Image-prompt pairing at every clock phase (drift, jitter, drops), and camera-rate depth."""

from __future__ import annotations

import numpy as np
import pytest

from promptdepth_ros.errors import ConfigError, InputError
from promptdepth_ros.sync.pairing import PromptPairing, SyncConfig

CAMERA_PERIOD_S = 1.0 / 30.0
LIDAR_PERIOD_S = 0.1


def free_running_streams(
    phase_s: float, seed: int, duration_s: float = 3.0, drift_ppm: float = 500.0
) -> tuple[list[tuple[float, int, float, str]], list[float], list[float]]:
    """Arrivals (arrival_s, input, stamp_s, name) of a 30 Hz camera (+ CameraInfo) and a 10 Hz
    LiDAR whose clock runs ``drift_ppm`` fast, ``phase_s`` after the camera, with +-2 ms stamp
    jitter, 5 % dropped images and scans, and transport latency; plus the kept stamps."""
    rng = np.random.default_rng(seed)
    arrivals = []
    images = []
    for k in range(int(duration_s / CAMERA_PERIOD_S)):
        stamp = k * CAMERA_PERIOD_S + rng.uniform(-0.002, 0.002)
        if rng.uniform() < 0.05:
            continue
        images.append(stamp)
        arrival = stamp + rng.uniform(0.005, 0.015)
        arrivals.append((arrival, 0, stamp, f"image{k}"))
        arrivals.append((arrival + rng.uniform(0.0, 0.002), 1, stamp, f"info{k}"))
    scans = []
    for k in range(int(duration_s / LIDAR_PERIOD_S)):
        stamp = phase_s + k * LIDAR_PERIOD_S * (1 + drift_ppm * 1e-6) + rng.uniform(-0.002, 0.002)
        if rng.uniform() < 0.05:
            continue
        scans.append(stamp)
        arrivals.append((stamp + rng.uniform(0.01, 0.03), 2, stamp, f"scan{k}"))
    arrivals.sort()
    return arrivals, images, scans


def run(pairing: PromptPairing, arrivals) -> list[tuple]:
    sets = []
    for arrival, index, stamp, msg in arrivals:
        sets += pairing.add(index, stamp, (msg, stamp), arrival)
    return sets + pairing.poll(float("inf"))


@pytest.mark.parametrize("drift_ppm", [-500.0, 500.0])
def test_every_scan_gets_its_nearest_image_at_every_phase(drift_ppm: float) -> None:
    config = SyncConfig(max_offset_s=CAMERA_PERIOD_S)
    for phase_ms in range(34):
        arrivals, images, scans = free_running_streams(
            phase_ms * 1e-3, phase_ms, drift_ppm=drift_ppm
        )
        sets = run(PromptPairing(3, config), arrivals)
        paired = {s[2][1]: s[0][1] for s in sets}
        assert len(paired) == len(sets), "a scan was emitted twice"
        expected = {}
        for scan in scans:
            nearest = min(images, key=lambda t: (abs(t - scan), t))
            if abs(nearest - scan) <= CAMERA_PERIOD_S:
                expected[scan] = nearest
        assert paired == pytest.approx(expected), f"phase {phase_ms} ms"
        assert all(s[0][0].replace("image", "") == s[1][0].replace("info", "") for s in sets)
        assert len({s[0][0] for s in sets}) == len(sets), "an image was used twice"


def test_the_default_window_is_one_measured_camera_period() -> None:
    pairing = PromptPairing(3, SyncConfig())
    arrivals, _, _ = free_running_streams(0.017, 1, drift_ppm=0.0)
    run(pairing, arrivals)
    assert pairing.max_offset_ns == pytest.approx(CAMERA_PERIOD_S * 1e9, rel=0.1)


def test_camera_rate_gives_one_set_per_image_with_the_newest_prompt() -> None:
    config = SyncConfig(policy="image_rate", max_prompt_age_s=0.25)
    arrivals, images, scans = free_running_streams(0.016, 3)
    sets = run(PromptPairing(3, config), arrivals)
    assert len(sets) >= len(images) - 5  # images before the first scan has no prompt
    for image, _, scan in sets:
        age = image[1] - scan[1]
        assert -CAMERA_PERIOD_S <= age <= 0.25
        newer = [s for s in scans if scan[1] < s <= image[1]]
        assert not newer or min(newer) > image[1] - 0.03  # only a scan still in transit is newer


def test_a_camera_that_stops_is_counted_per_scan() -> None:
    arrivals, _, scans = free_running_streams(0.005, 4, duration_s=1.0)
    arrivals = [a for a in arrivals if a[1] == 2 or a[0] < 0.3]  # the camera dies at 0.3 s
    pairing = PromptPairing(3, SyncConfig(max_offset_s=CAMERA_PERIOD_S))
    sets = run(pairing, arrivals)
    assert len(sets) + pairing.counts["prompt_without_image"] == len(scans)
    assert pairing.counts["prompt_without_image"] >= 6


def test_a_depth_camera_prompt_waits_for_its_own_info() -> None:
    pairing = PromptPairing(4, SyncConfig(max_offset_s=0.02))
    assert pairing.add(0, 1.000, "image", 1.01) == []
    assert pairing.add(1, 1.000, "info", 1.01) == []
    assert pairing.add(2, 1.005, "depth", 1.02) == []
    assert pairing.add(0, 1.033, "image2", 1.04) == []
    assert pairing.add(1, 1.033, "info2", 1.04) == []  # a later image, but no depth info yet
    assert pairing.add(3, 1.005, "depth_info", 1.05) == [("image", "info", "depth", "depth_info")]


def test_a_bag_loop_restarts_pairing_instead_of_stalling() -> None:
    arrivals, _, _ = free_running_streams(0.02, 5, duration_s=2.0)
    pairing = PromptPairing(3, SyncConfig(max_offset_s=CAMERA_PERIOD_S))
    first = run(pairing, arrivals)
    second = run(pairing, [(a + 10.0, i, s, m) for a, i, s, m in arrivals])
    assert len(second) == len(first) > 15
    assert pairing.counts["resets"] == 1


def test_without_a_prompt_every_image_comes_with_its_info() -> None:
    pairing = PromptPairing(2, SyncConfig())
    assert pairing.add(1, 2.0, "info", 2.0) == []
    assert pairing.add(0, 2.0, "image", 2.0) == [("image", "info")]


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ConfigError):
        PromptPairing(5, SyncConfig())
    with pytest.raises(InputError):
        PromptPairing(3, SyncConfig()).add(3, 1.0, "x", 1.0)
    with pytest.raises(InputError):
        PromptPairing(3, SyncConfig()).add(0, float("nan"), "x", 1.0)


def test_a_prompt_just_after_an_image_is_paired_on_arrival() -> None:
    """No wait for the next image when the previous one is surely the nearest."""
    pairing = PromptPairing(3, SyncConfig())
    for k in range(5):  # a 30 Hz camera: period measured
        pairing.add(0, k / 30, f"image{k}", k / 30 + 0.005)
        pairing.add(1, k / 30, f"info{k}", k / 30 + 0.005)
    last = 4 / 30
    assert pairing.add(2, last + 0.002, "scan", last + 0.007) == [("image4", "info4", "scan")]
    assert pairing.add(2, last + 0.020, "late scan", last + 0.025) == []  # nearer the next one
    assert pairing.add(0, 5 / 30, "image5", 5 / 30 + 0.005) == []
    assert pairing.add(1, 5 / 30, "info5", 5 / 30 + 0.005) == [("image5", "info5", "late scan")]
