"""Settings both nodes declare: input QoS, the diagnostics period and log throttling."""

from __future__ import annotations

from dataclasses import dataclass

from promptdepth_ros.settings import check_settings, setting


@dataclass(frozen=True)
class CommonNodeConfig:
    """Parameters of every node of the package."""

    reliable_qos: bool = setting(
        False,
        "Subscribe with RELIABLE instead of sensor-data (BEST_EFFORT) QoS: large messages "
        "(images, clouds) from a publisher without the large-message transport profile lose "
        "data over best-effort (counted as lost.<input>); a reliable subscription gets them all",
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
    no_output_warn_s: float = setting(
        5.0,
        "/diagnostics turns WARN, naming the inputs and the drops, when inputs arrive but "
        "nothing was published for this long, seconds; 0 = off",
        low=0.0,
        high=3600.0,
        read_only=True,
        name="diagnostics.no_output_warn_s",
    )
    log_throttle_s: float = setting(
        5.0, "Minimum seconds between two log lines of one cause", low=0.0, high=600.0
    )

    def __post_init__(self) -> None:
        check_settings(self)
