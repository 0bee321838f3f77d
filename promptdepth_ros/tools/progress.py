"""Progress of a long tool run: a tqdm bar on a terminal, periodic lines in a log file."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from tqdm import tqdm

LOG_PERIOD_S = 10.0  # seconds between two progress lines when the output is not a terminal


class Progress:
    """Counts processed messages of ``total``; ``step(frames)`` reports frames written so far."""

    def __init__(self, total: int, unit: str = "msg", stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr
        self._total, self._done, self._unit = max(total, 1), 0, unit
        self._start = self._last_line = time.monotonic()
        self._bar = (
            tqdm(total=self._total, unit=unit, file=self._stream, dynamic_ncols=True)
            if self._stream.isatty()
            else None
        )

    def step(self, frames: int) -> None:
        """One more message done; ``frames`` = output frames written so far."""
        self._done += 1
        if self._bar is not None:
            self._bar.set_postfix(frames=frames, refresh=False)
            self._bar.update(1)
            return
        now = time.monotonic()
        if now - self._last_line >= LOG_PERIOD_S or self._done == self._total:
            self._last_line = now
            rate = self._done / max(now - self._start, 1e-9)
            self._stream.write(
                f"progress: {self._done}/{self._total} {self._unit} "
                f"({100.0 * self._done / self._total:.0f} %), {rate:.1f} {self._unit}/s, "
                f"{frames} frames\n"
            )
            self._stream.flush()

    def close(self) -> None:
        """End the bar (a terminal) or do nothing more (a log)."""
        if self._bar is not None:
            self._bar.close()
