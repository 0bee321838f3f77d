"""Every drop is said: input loss seen in the stamps, the no-output watchdog, and the README's
table of prompt_depth_node's counters matching the causes the code counts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import numpy as np
import pytest

from promptdepth_ros import errors
from promptdepth_ros.pipeline.depth import SkipCause
from promptdepth_ros.ros.convert.synced_set import input_topics
from promptdepth_ros.ros.diagnostics import NO_OUTPUT
from promptdepth_ros.ros.health import HealthMonitor
from promptdepth_ros.ros.sync_adapter import FRAME_LOSSES
from promptdepth_ros.sync.gaps import MIN_INTERVALS, StampGaps

README = Path(__file__).resolve().parents[1] / "README.md"
PERIOD_NS = 33_333_333
# Input errors only ~/plan_grasps raises (grasp_planner_node), never prompt_depth_node.
REQUEST_ONLY_ERRORS = {"NoInput", "StaleInput"}
# Raised only when reading a recorded bag (process-bag lists them); rmw drops an undecodable
# DDS message before the node sees it.
BAG_ONLY_ERRORS = {"CorruptMessage"}


def _stamps(n: int, drop: set[int], jitter_ns: int, seed: int = 0) -> list[int]:
    rng = np.random.default_rng(seed)
    return [
        10**9 + i * PERIOD_NS + int(rng.integers(-jitter_ns, jitter_ns + 1))
        for i in range(n)
        if i not in drop
    ]


def test_missing_messages_are_counted_from_the_stamp_gaps_despite_jitter() -> None:
    dropped = {20, 21, 22, 40, 77}
    gaps = StampGaps()
    lost = [gaps.add(stamp) for stamp in _stamps(100, dropped, jitter_ns=2_000_000)]
    assert gaps.missing == len(dropped) and sum(lost) == len(dropped)
    assert gaps.received == 100 - len(dropped)
    assert gaps.period_ns == pytest.approx(PERIOD_NS, rel=0.05)


def test_a_steady_stream_loses_nothing_and_a_gap_before_the_estimate_is_not_guessed() -> None:
    gaps = StampGaps()
    for stamp in _stamps(200, set(), jitter_ns=3_000_000, seed=1):
        assert gaps.add(stamp) == 0
    early = StampGaps()
    assert [early.add(s) for s in _stamps(MIN_INTERVALS, {2}, jitter_ns=0)] == [0] * 4


def test_a_bag_loop_starts_over_and_a_rate_change_is_learnt_not_counted_forever() -> None:
    gaps = StampGaps()
    for stamp in _stamps(30, set(), jitter_ns=0):
        gaps.add(stamp)
    assert gaps.add(10**9) == 0  # back to the start of the bag
    assert gaps.period_ns is None
    halved = StampGaps()
    stamps = _stamps(30, set(), jitter_ns=0)
    stamps += [stamps[-1] + 2 * PERIOD_NS * k for k in range(1, 30)]
    lost = [halved.add(stamp) for stamp in stamps]
    assert sum(lost) == MIN_INTERVALS  # one per gap until five equal gaps make the new period
    assert halved.period_ns == pytest.approx(2 * PERIOD_NS)


def test_the_watchdog_names_the_arriving_inputs_and_the_drops_since_the_last_output() -> None:
    health = HealthMonitor()
    health.count("received.image", 3)
    assert health.silence(5.0, now=100.0) is None  # not watching
    health.watch(now=0.0)
    health.output(now=1.0)
    for _ in range(37):
        health.count("received.points")
    health.problem("prompt_without_image", "37 prompts had no image within 33 ms", kind="skipped")
    assert health.silence(5.0, now=5.9) is None
    text = health.silence(5.0, now=6.0)
    assert text is not None
    assert text.startswith("nothing published for 5.0 s while inputs arrive (37 points)")
    assert "skipped.prompt_without_image (+1): 37 prompts had no image within 33 ms" in text
    health.output(now=6.5)
    assert health.silence(5.0, now=12.0) is None  # no input since the output: nothing expected
    health.count("received.points")
    assert "no drop was counted" in (health.silence(5.0, now=12.0) or "")
    health.unwatch()
    assert health.silence(5.0, now=100.0) is None


def _readme_counters() -> set[str]:
    text = README.read_text()
    start = text.index("`prompt_depth_node`'s counters:")
    table = text[start : text.index("\n\n", text.index("| counter |", start))]
    return set(re.findall(r"^\| `([^`]+)` \|", table, flags=re.MULTILINE))


def test_the_readme_counter_table_lists_exactly_the_causes_the_code_counts() -> None:
    inputs = {name for mode in ("cloud", "depth") for name in input_topics(mode, False)}
    errors_counted = (
        {
            cls.__name__
            for cls in vars(errors).values()
            if isinstance(cls, type) and issubclass(cls, errors.InputError)
        }
        - REQUEST_ONLY_ERRORS
        - BAG_ONLY_ERRORS
    )
    code = (
        {f"error.{name}" for name in errors_counted}
        | {f"skipped.{cause}" for cause in (*get_args(SkipCause), *FRAME_LOSSES)}
        | {f"{kind}.{name}" for kind in ("lost", "incompatible_qos") for name in inputs}
        | {f"stalled.{NO_OUTPUT}"}
    )
    readme = _readme_counters()
    problems = {key for key in readme if key.split(".")[0] in ("error", "skipped", "stalled")}
    for kind in ("lost", "incompatible_qos"):
        problems |= {f"{kind}.{name}" for name in inputs if f"{kind}.<input>" in readme}
    assert problems - {"error.<other>"} == code
