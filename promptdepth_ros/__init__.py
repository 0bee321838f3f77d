"""promptdepth_ros: metric depth from RGB + LiDAR prompts, point clouds and grasps for ROS 2."""

from pkgutil import extend_path

# The rosidl-generated ``promptdepth_ros.msg`` may live in another prefix than these sources
# (a venv build of the messages next to an editable install); let both halves import.
__path__ = extend_path(__path__, __name__)

__version__ = "0.2.0"
