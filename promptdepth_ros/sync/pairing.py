"""Pair camera images with depth prompts (LiDAR scans, depth images) at any clock phase.

Inputs, in set order: ``image``, its ``camera_info``, optionally a ``prompt`` and the prompt's
own ``prompt_info`` (an unregistered depth camera). An image is usable once its CameraInfo (same
stamp, within 1 ms) has arrived; likewise a prompt that needs its info.

* ``prompt_rate``: each prompt is paired with the usable image nearest to it in time, within
  ``max_offset_s``, decided once a usable image at or after the prompt (or less than 0.4 camera
  periods before it) has arrived or the prompt has waited ``max_wait_s`` (arrival time); each
  image is used at most once.
* ``image_rate``: every usable image is paired with the newest prompt at most
  ``max_prompt_age_s`` older (or ``max_offset_s`` newer) than it; prompts are reused.
* Without a prompt input every usable image is emitted with its CameraInfo.

``max_offset_s = 0`` means one camera period, measured from the image stamps. A stamp more than
``reset_on_jump_back_s`` older than the newest on its input (a bag loop, a restarted driver)
clears every buffer. Every message that leaves without being emitted is counted by cause.
"""

from __future__ import annotations

import itertools
import math
import statistics
import threading
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any, Literal

from promptdepth_ros.errors import ConfigError, InputError
from promptdepth_ros.settings import check_settings, setting

SyncPolicy = Literal["prompt_rate", "image_rate"]
INFO_TOLERANCE_NS = 1_000_000  # a CameraInfo belongs to the image within 1 ms of its stamp
DEFAULT_PERIOD_NS = 33_333_333  # camera period assumed until two images were seen
IMAGE, CAMERA_INFO, PROMPT, PROMPT_INFO = range(4)
SURE_FRACTION = 0.4  # of a camera period: a nearer image before the prompt is decided at once


@dataclass(frozen=True)
class SyncConfig:
    """How images and prompts are paired (parameters ``sync.*``)."""

    policy: SyncPolicy = setting(
        "prompt_rate",
        "'prompt_rate': one depth frame per prompt (scan or depth image) with its nearest "
        "image; 'image_rate': one per image, with the newest prompt no older than "
        "max_prompt_age_s (moved into the image's time through TF)",
        read_only=True,
    )
    max_offset_s: float = setting(
        0.0,
        "Largest stamp difference of a paired image and prompt, seconds; 0 = one camera period, "
        "measured from the image stamps",
        low=0.0,
        high=2.0,
    )
    max_wait_s: float = setting(
        0.1,
        "How long a prompt waits (arrival time) for an image after it before it is paired with "
        "the nearest image so far, seconds",
        low=0.0,
        high=5.0,
    )
    max_prompt_age_s: float = setting(
        0.2,
        "image_rate: oldest prompt an image may use, seconds",
        low=0.0,
        high=10.0,
    )
    queue_size: int = setting(
        30, "Messages kept per input while they wait to be paired", low=1, high=1000
    )
    reset_on_jump_back_s: float = setting(
        1.0,
        "A stamp this much older than the newest on its input (bag loop, driver restart) "
        "clears every buffer, seconds",
        low=0.001,
        high=3600.0,
    )

    def __post_init__(self) -> None:
        check_settings(self)


@dataclass(frozen=True)
class _Pending:
    stamp_ns: int
    arrival_s: float
    msg: Any


class PromptPairing:
    """Thread-safe pairing of ``n_inputs`` (2, 3 or 4) inputs; see the module docstring.

    ``add`` and ``poll`` return the sets completed by that call (tuples in input order).
    ``counts`` holds ``emitted`` and every cause of an unused message.
    """

    def __init__(self, n_inputs: int, config: SyncConfig) -> None:
        if n_inputs not in (2, 3, 4):
            raise ConfigError(f"n_inputs must be 2, 3 or 4, got {n_inputs}")
        self.n_inputs = n_inputs
        self.config = config
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._buffers: list[dict[int, Any]] = [{} for _ in range(n_inputs)]
        self._pending: deque[_Pending] = deque()
        self._newest_ns: list[int | None] = [None] * n_inputs
        self._image_stamps: deque[int] = deque(maxlen=31)
        self._last_prompt: tuple[int, tuple[Any, ...]] | None = None  # stamp, set part

    @property
    def camera_period_ns(self) -> int:
        """Median interval of the recent image stamps (``DEFAULT_PERIOD_NS`` until measured)."""
        steps = [b - a for a, b in itertools.pairwise(sorted(self._image_stamps)) if b > a]
        return round(statistics.median(steps)) if steps else DEFAULT_PERIOD_NS

    @property
    def max_offset_ns(self) -> int:
        """The pairing window: ``max_offset_s``, or one measured camera period when it is 0."""
        if self.config.max_offset_s > 0.0:
            return round(self.config.max_offset_s * 1e9)
        return self.camera_period_ns

    def add(self, index: int, stamp_s: float, msg: Any, arrival_s: float) -> list[tuple[Any, ...]]:
        """Take ``msg`` stamped ``stamp_s`` on input ``index``, received at ``arrival_s``.

        Raises InputError for a bad index or a non-finite stamp.
        """
        if not 0 <= index < self.n_inputs:
            raise InputError(f"input index must be in [0, {self.n_inputs}), got {index}")
        if not math.isfinite(stamp_s):
            raise InputError(f"stamp must be finite seconds, got {stamp_s}")
        stamp_ns = round(stamp_s * 1e9)
        with self._lock:
            self.counts["received"] += 1
            newest = self._newest_ns[index]
            if newest is not None and newest - stamp_ns > self.config.reset_on_jump_back_s * 1e9:
                self._reset()
            self._newest_ns[index] = max(stamp_ns, self._newest_ns[index] or stamp_ns)
            if index == PROMPT:
                self._pending.append(_Pending(stamp_ns, arrival_s, msg))
                self._trim_pending()
            else:
                buffer = self._buffers[index]
                if stamp_ns in buffer:
                    self.counts["duplicate"] += 1
                buffer[stamp_ns] = msg
                if index == IMAGE:
                    self._image_stamps.append(stamp_ns)
                self._trim(index)
            return self._emit(arrival_s)

    def poll(self, now_s: float) -> list[tuple[Any, ...]]:
        """Sets whose prompts have waited ``max_wait_s`` by ``now_s`` (call periodically)."""
        with self._lock:
            return self._emit(now_s)

    def _emit(self, now_s: float) -> list[tuple[Any, ...]]:
        if self.n_inputs == 2:
            taken = self._take_usable_images()
            self.counts["emitted"] += len(taken)
            return [(image, info) for _, image, info in taken]
        if self.config.policy == "image_rate":
            return self._emit_image_rate()
        return self._emit_prompt_rate(now_s)

    def _info_for(self, index: int, stamp_ns: int) -> Any | None:
        """The message of input ``index`` within 1 ms of ``stamp_ns`` (nearest), or None."""
        buffer = self._buffers[index]
        if stamp_ns in buffer:
            return buffer[stamp_ns]
        near = [s for s in buffer if abs(s - stamp_ns) <= INFO_TOLERANCE_NS]
        return buffer[min(near, key=lambda s: abs(s - stamp_ns))] if near else None

    def _usable_images(self) -> dict[int, tuple[Any, Any]]:
        """Images whose CameraInfo has arrived: stamp -> (image, info)."""
        usable = {}
        for stamp, image in self._buffers[IMAGE].items():
            info = self._info_for(CAMERA_INFO, stamp)
            if info is not None:
                usable[stamp] = (image, info)
        return usable

    def _take_usable_images(self) -> list[tuple[int, Any, Any]]:
        """Remove and return every usable image (stamp order) with its CameraInfo."""
        taken = []
        for stamp, (image, info) in sorted(self._usable_images().items()):
            del self._buffers[IMAGE][stamp]
            self._drop_info(CAMERA_INFO, stamp)
            taken.append((stamp, image, info))
        return taken

    def _drop_info(self, index: int, stamp_ns: int) -> None:
        buffer = self._buffers[index]
        for s in [s for s in buffer if abs(s - stamp_ns) <= INFO_TOLERANCE_NS]:
            del buffer[s]

    def _prompt_set(self, prompt: _Pending) -> tuple[Any, ...] | None:
        """(prompt,) or (prompt, prompt_info) when the prompt's info has arrived, else None."""
        if self.n_inputs < 4:
            return (prompt.msg,)
        info = self._info_for(PROMPT_INFO, prompt.stamp_ns)
        return None if info is None else (prompt.msg, info)

    def _emit_prompt_rate(self, now_s: float) -> list[tuple[Any, ...]]:
        sets = []
        usable = self._usable_images()
        window = self.max_offset_ns
        # An image this close before the prompt is its nearest: a regular camera's next one
        # comes a period after it (jitter within a tenth of a period), farther from the prompt.
        sure_ns = round(SURE_FRACTION * self.camera_period_ns)
        while self._pending:
            prompt = self._pending[0]
            waited = now_s - prompt.arrival_s >= self.config.max_wait_s
            later_image = any(s >= prompt.stamp_ns - sure_ns for s in usable)
            prompt_part = self._prompt_set(prompt)
            if not waited and (not later_image or prompt_part is None):
                break
            self._pending.popleft()
            if prompt_part is None:
                self.counts["prompt_without_info"] += 1
                continue
            near = [s for s in usable if abs(s - prompt.stamp_ns) <= window]
            if not near:
                self.counts["prompt_without_image"] += 1
                continue
            best = min(near, key=lambda s: (abs(s - prompt.stamp_ns), s))
            image, info = usable.pop(best)
            del self._buffers[IMAGE][best]
            self._drop_info(CAMERA_INFO, best)
            if self.n_inputs == 4:
                self._drop_info(PROMPT_INFO, prompt.stamp_ns)
            sets.append((image, info, *prompt_part))
            self.counts["emitted"] += 1
        self._forget_images_before(self._pending[0].stamp_ns - window if self._pending else None)
        return sets

    def _forget_images_before(self, oldest_needed_ns: int | None) -> None:
        """Drop images too old for any pending or future prompt (counted as unpaired)."""
        if oldest_needed_ns is None:
            newest_prompt = self._newest_ns[PROMPT]
            if newest_prompt is None:
                return
            oldest_needed_ns = newest_prompt - self.max_offset_ns
        for stamp in [s for s in self._buffers[IMAGE] if s < oldest_needed_ns]:
            del self._buffers[IMAGE][stamp]
            self._drop_info(CAMERA_INFO, stamp)
            self.counts["image_unpaired"] += 1

    def _emit_image_rate(self) -> list[tuple[Any, ...]]:
        while self._pending:
            part = self._prompt_set(self._pending[0])
            if part is None:
                break
            prompt = self._pending.popleft()
            if self.n_inputs == 4:
                self._drop_info(PROMPT_INFO, prompt.stamp_ns)
            self._last_prompt = (prompt.stamp_ns, part)
        sets = []
        max_age_ns = self.config.max_prompt_age_s * 1e9
        for stamp, image, info in self._take_usable_images():
            last = self._last_prompt
            if last is None or not -self.max_offset_ns <= stamp - last[0] <= max_age_ns:
                self.counts["image_without_prompt"] += 1
                continue
            sets.append((image, info, *last[1]))
            self.counts["emitted"] += 1
        return sets

    def _trim(self, index: int) -> None:
        buffer = self._buffers[index]
        while len(buffer) > self.config.queue_size:
            del buffer[min(buffer)]
            self.counts["evicted_by_queue"] += 1

    def _trim_pending(self) -> None:
        while len(self._pending) > self.config.queue_size:
            self._pending.popleft()
            self.counts["evicted_by_queue"] += 1

    def _reset(self) -> None:
        """Drop everything buffered (counted as ``reset``) and forget the time history."""
        self.counts["reset"] += sum(len(b) for b in self._buffers) + len(self._pending)
        self.counts["resets"] += 1
        for buffer in self._buffers:
            buffer.clear()
        self._pending.clear()
        self._newest_ns = [None] * self.n_inputs
        self._image_stamps.clear()
        self._last_prompt = None
