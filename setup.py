"""pip install entry point; metadata lives in setup.cfg (colcon builds through CMakeLists.txt)."""

from setuptools import setup

setup()
