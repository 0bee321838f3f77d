"""launch_testing test of grasp.launch.py, run by test_grasp_launch.py (`launch_test` on this
file, with PROMPTDEPTH_TEST_BAG and PROMPTDEPTH_TEST_PARAMS set).

Starts the launch in namespace `arm1` with `use_rviz:=false`, a user `params_file` and one
parameter argument, replays a generated scene bag into the namespace and checks: every scan
gives one depth frame (with its camera_info and cloud) at the LiDAR's rate and grasps, poses
and markers come out in the params file's planning
frame; the params file wins where no argument is given and the argument where one is; the
lifecycle transitions over the lifecycle services, with /diagnostics WARN while inactive; and
after launch_testing's SIGINT every process exits 0 without a traceback.
"""

import os
import time
import unittest
from dataclasses import replace
from pathlib import Path

import launch_testing
import launch_testing.asserts
import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState, GetState
from rcl_interfaces.srv import GetParameters
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile, ReliabilityPolicy

from launch import LaunchDescription
from promptdepth_ros.ros.bag import message_class, read_bag
from promptdepth_ros.ros.convert.stamps import stamp_ns
from promptdepth_ros.ros.launch_graph import GRAPH_OUTPUTS
from promptdepth_ros.ros.scene_bag import CLOUD_TOPIC, IMAGE_TOPIC, INFO_TOPIC
from promptdepth_ros.tools.replay import BagPlayer

NAMESPACE = "arm1"
PROMPT = f"/{NAMESPACE}/prompt_depth_node"
PLANNER = f"/{NAMESPACE}/grasp_planner_node"
LAUNCH_FILE = Path(__file__).resolve().parents[2] / "launch" / "grasp.launch.py"
SENSOR_TOPICS = (IMAGE_TOPIC, INFO_TOPIC, CLOUD_TOPIC)
QOS = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
TIMEOUT_S = 60.0


def generate_test_description():
    """grasp.launch.py in the namespace, with the user's parameter file."""
    grasp = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(str(LAUNCH_FILE)),
        launch_arguments={
            "use_rviz": "false",
            "namespace": NAMESPACE,
            "params_file": os.environ["PROMPTDEPTH_TEST_PARAMS"],
            "reliable_qos": "true",
        }.items(),
    )
    return LaunchDescription([grasp, launch_testing.actions.ReadyToTest()])


class TestGraspLaunch(unittest.TestCase):
    """Run in name order against the running launch."""

    @classmethod
    def setUpClass(cls):
        rclpy.init()
        cls.node = rclpy.create_node("grasp_launch_test")
        cls.executor = SingleThreadedExecutor()
        cls.executor.add_node(cls.node)
        cls.outputs = {name: [] for name in GRAPH_OUTPUTS}
        for name, (topic, msgtype) in GRAPH_OUTPUTS.items():
            cls.node.create_subscription(
                message_class(msgtype), f"/{NAMESPACE}{topic}", cls.outputs[name].append, QOS
            )
        cls.depth, cls.grasps, cls.statuses = cls.outputs["depth"], cls.outputs["grasps"], []
        cls.node.create_subscription(
            DiagnosticArray,
            "/diagnostics",
            lambda msg: cls.statuses.extend(s for s in msg.status if PROMPT in s.hardware_id),
            10,
        )

    @classmethod
    def tearDownClass(cls):
        cls.node.destroy_node()
        rclpy.shutdown()

    def spin_until(self, predicate, timeout_s=TIMEOUT_S):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not predicate():
            self.executor.spin_once(timeout_sec=0.05)
        return predicate()

    def call(self, service_type, name, request):
        client = self.node.create_client(service_type, name)
        self.assertTrue(client.wait_for_service(timeout_sec=TIMEOUT_S), name)
        future = client.call_async(request)
        self.assertTrue(self.spin_until(future.done), name)
        self.node.destroy_client(client)
        return future.result()

    def state(self):
        return self.call(GetState, f"{PROMPT}/get_state", GetState.Request()).current_state.label

    def test_a_every_scan_gives_depth_at_the_lidar_rate_and_grasps_follow(self):
        records = [
            replace(r, topic=f"/{NAMESPACE}{r.topic}") if r.topic in SENSOR_TOPICS else r
            for r in read_bag(Path(os.environ["PROMPTDEPTH_TEST_BAG"]))
        ]
        scans = sorted(
            stamp_ns(r.decode().header) for r in records if r.topic.endswith(CLOUD_TOPIC)
        )
        player = BagPlayer(self.node, records)
        self.assertTrue(self.spin_until(lambda: self.state() == "active"))
        topics = [f"/{NAMESPACE}{t}" for t in SENSOR_TOPICS]
        self.assertTrue(
            self.spin_until(
                lambda: all(player.publishers[t].get_subscription_count() > 0 for t in topics)
            )
        )
        # Both nodes up (the planner on the depth node's cloud, both TF listeners) before the
        # bag's /tf_static goes out.
        self.assertTrue(
            self.spin_until(
                lambda: (
                    self.node.count_subscribers(f"{PROMPT}/points") >= 2
                    and self.node.count_subscribers("/tf_static") >= 2
                )
            )
        )
        player.play()
        self.assertTrue(self.spin_until(lambda: len(self.depth) >= len(scans)), len(self.depth))
        depth_stamps = sorted(stamp_ns(m.header) for m in self.depth)
        self.assertEqual(len(depth_stamps), len(scans))
        period_s = np.median(np.diff(depth_stamps)) * 1e-9
        self.assertAlmostEqual(period_s, np.median(np.diff(scans)) * 1e-9, delta=0.01)
        self.assertTrue(self.spin_until(lambda: all(self.outputs.values())), self.outputs.keys())
        for name in ("info", "points"):  # one per scan, none more
            self.spin_until(lambda n=name: len(self.outputs[n]) >= len(scans))
            self.spin_until(lambda: False, 0.5)
            self.assertEqual(len(self.outputs[name]), len(scans), name)
        self.assertEqual(self.grasps[-1].header.frame_id, "table")  # from the params file

    def test_b_the_params_file_wins_where_no_argument_is_given(self):
        request = GetParameters.Request(
            names=["prompt.fill_k", "input.reliable_qos", "engine.name"]
        )
        values = self.call(GetParameters, f"{PROMPT}/get_parameters", request).values
        self.assertEqual(values[0].integer_value, 3)  # params_file
        self.assertTrue(values[1].bool_value)  # reliable_qos:=true beats the file's false
        self.assertEqual(values[2].string_value, "guided")  # the package's file

    def test_c_lifecycle_transitions_and_an_inactive_node_warns(self):
        def change(transition):
            request = ChangeState.Request()
            request.transition.id = transition
            return self.call(ChangeState, f"{PROMPT}/change_state", request).success

        self.assertTrue(change(Transition.TRANSITION_DEACTIVATE))
        self.assertEqual(self.state(), "inactive")
        self.assertTrue(
            self.spin_until(
                lambda: (
                    self.statuses
                    and self.statuses[-1].level == DiagnosticStatus.WARN
                    and self.statuses[-1].message.startswith("inactive")
                )
            )
        )
        self.assertTrue(change(Transition.TRANSITION_ACTIVATE))
        self.assertEqual(self.state(), "active")


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):
    def test_sigint_ends_every_process_with_0_and_no_traceback(self, proc_info, proc_output):
        launch_testing.asserts.assertExitCodes(proc_info)
        for process in proc_output.processes():
            text = "".join(event.text.decode() for event in proc_output[process])
            self.assertNotIn("Traceback", text, process)
