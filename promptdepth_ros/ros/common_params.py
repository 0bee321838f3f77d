"""Settings both nodes declare: input QoS, the diagnostics period and log throttling."""

from __future__ import annotations

from dataclasses import dataclass

from promptdepth_ros.settings import check_settings, setting


@dataclass(frozen=True)
class CommonNodeConfig:
    """Parameters of every node of the package."""

    reliable_qos: bool = setting(
        False,
        "Subscribe with RELIABLE instead of sensor-data (BEST_EFFORT) QoS, e.g. for bag "
        "replay with `ros2 bag play --qos-profile-overrides-path`",
        read_only=True,
        name="input.reliable_qos",
    )
    diagnostics_period_s: float = setting(
        1.0,
        "Period of the /diagnostics status, seconds",
        low=0.1,
        high=60.0,
        read_only=True,
        name="diagnostics.period_s",
    )
    log_throttle_s: float = setting(
        5.0, "Minimum seconds between two log lines of one cause", low=0.0, high=600.0
    )

    def __post_init__(self) -> None:
        check_settings(self)
