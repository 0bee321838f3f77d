"""config/fastdds_large_data.xml: chosen when nothing else is, and really applied by Fast DDS."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from promptdepth_ros.ros.launch_graph import (
    FASTDDS_PROFILE_VARIABLES,
    MIN_SHM_FREE_BYTES,
    fastdds_environment,
    shm_free_bytes,
)
from promptdepth_ros.ros.share import share_dir

SEGMENT_BYTES = 64 * 1024 * 1024

# Publishes one 1 MB image to itself and prints the Fast DDS shared-memory segments it created.
PUBLISH_AND_LIST_SEGMENTS = """
import glob, os, re, time
import rclpy
from sensor_msgs.msg import Image
before = set(glob.glob("/dev/shm/fastdds_*"))
rclpy.init()
node = rclpy.create_node("fastdds_profile_probe")
received = []
node.create_subscription(Image, "probe", received.append, 1)
pub = node.create_publisher(Image, "probe", 1)
deadline = time.monotonic() + 10.0
while pub.get_subscription_count() == 0 and time.monotonic() < deadline:
    time.sleep(0.05)
pub.publish(Image(height=1, width=1_000_000, encoding="mono8", step=1_000_000,
                  data=bytes(1_000_000)))
while not received and time.monotonic() < deadline:
    rclpy.spin_once(node, timeout_sec=0.1)
print("received", len(received))
for path in set(glob.glob("/dev/shm/fastdds_*")) - before:
    if re.fullmatch(r"fastdds_[0-9a-f]{16}", os.path.basename(path)):
        print("segment", os.path.getsize(path))
node.destroy_node()
rclpy.shutdown()
"""


def test_the_package_profile_is_used_when_none_is_set() -> None:
    profile = str(share_dir("config") / "fastdds_large_data.xml")
    assert Path(profile).is_file()
    env = fastdds_environment({}, MIN_SHM_FREE_BYTES)
    assert env == {"FASTDDS_DEFAULT_PROFILES_FILE": profile}
    assert fastdds_environment({"RMW_IMPLEMENTATION": "rmw_fastrtps_cpp"}, 2**40) == env
    assert fastdds_environment({"ROS_DISTRO": "kilted"}, 2**40) == env


@pytest.mark.parametrize("distro", ["humble", "jazzy"])
def test_fast_dds_2_distributions_get_their_variable(distro: str) -> None:
    env = fastdds_environment({"ROS_DISTRO": distro}, 2**40)
    assert env == {
        "FASTRTPS_DEFAULT_PROFILES_FILE": str(share_dir("config") / "fastdds_large_data.xml")
    }


@pytest.mark.parametrize(
    "environ",
    [
        {"FASTDDS_DEFAULT_PROFILES_FILE": "/etc/mine.xml"},
        {"FASTRTPS_DEFAULT_PROFILES_FILE": "/etc/mine.xml"},
        {"RMW_IMPLEMENTATION": "rmw_cyclonedds_cpp"},
    ],
)
def test_a_users_profile_or_another_rmw_is_left_alone(environ: dict[str, str]) -> None:
    assert fastdds_environment(environ, 2**40) == {}


def test_a_small_dev_shm_keeps_the_fast_dds_defaults() -> None:
    assert fastdds_environment({}, 64 * 1024 * 1024) == {}
    assert shm_free_bytes("/no/such/dir") == 0


@pytest.mark.skipif(
    shm_free_bytes() < MIN_SHM_FREE_BYTES, reason="/dev/shm is missing or too small here"
)
@pytest.mark.skipif(
    os.environ.get("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp") != "rmw_fastrtps_cpp",
    reason="Fast DDS is not the selected RMW",
)
def test_fast_dds_loads_the_profile_and_sends_a_megabyte_through_shared_memory() -> None:
    env = {k: v for k, v in os.environ.items() if k not in FASTDDS_PROFILE_VARIABLES}
    env.update(fastdds_environment(env, shm_free_bytes()))
    run = subprocess.run(
        [sys.executable, "-c", PUBLISH_AND_LIST_SEGMENTS],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "XMLPARSER" not in run.stderr, run.stderr[-2000:]
    assert "received 1" in run.stdout
    sizes = [
        int(line.split()[1]) for line in run.stdout.splitlines() if line.startswith("segment")
    ]
    assert sizes and max(sizes) >= SEGMENT_BYTES, run.stdout
