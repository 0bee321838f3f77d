"""Shared pytest set-up: DDS kept on this machine, one ROS domain per test session."""

from __future__ import annotations

import os

# Discovery and traffic stay on loopback; a per-process domain keeps parallel runs apart.
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
os.environ.setdefault("ROS_DOMAIN_ID", str(1 + os.getpid() % 100))
