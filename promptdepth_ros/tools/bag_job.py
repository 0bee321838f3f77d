"""One bag through the node pipeline: a valid output bag and a result, whatever happens.

A run of ``promptdepth-process-bag`` is a list of :class:`BagJob` sharing one
:class:`BagOptions`; :func:`process_bag` runs one job in this process (the CLI's, a local
worker's or a Ray task's) and returns a :class:`BagResult`. The output directory holds
``process_bag.json`` beside the bag: written at the start and rewritten at the end with the
counts, so a rerun skips a complete output and redoes a partial one.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal, TextIO

from promptdepth_ros.engines.registry import create_engine
from promptdepth_ros.errors import InputError, PromptDepthError
from promptdepth_ros.pipeline.depth import DepthPipeline
from promptdepth_ros.ros.bag import BagWriter, bag_message_counts
from promptdepth_ros.ros.prompt_depth_params import (
    engine_spec_from_params,
    pipeline_config_from_params,
)
from promptdepth_ros.settings import ParamValue
from promptdepth_ros.tools.bag_frames import BagOptions, FrameWriter
from promptdepth_ros.tools.cli import StopSignals, one_line
from promptdepth_ros.tools.progress import Progress

MARKER = "process_bag.json"
PAIRING_TOTALS = ("received", "emitted")
Status = Literal["running", "done", "earlier", "failed", "interrupted", "not started"]


@dataclass(frozen=True)
class BagJob:
    """One input bag and the output bag directory it goes to."""

    input: Path
    output: Path


@dataclass
class BagResult:
    """What happened to one bag: status, frames written, causes counted, wall time (s)."""

    input: Path
    output: Path
    status: Status
    frames: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # frames not produced, by cause
    errors: dict[str, int] = field(default_factory=dict)  # input messages not readable
    pairing: dict[str, int] = field(default_factory=dict)  # PromptPairing counts
    seconds: float = 0.0
    reason: str = ""  # why a bag failed (one line)
    signum: int | None = None  # the signal that interrupted it

    @property
    def ok(self) -> bool:
        """Complete (now or earlier) with at least one frame."""
        return self.status in ("done", "earlier") and self.frames > 0


def _write_marker(result: BagResult) -> None:
    fields = asdict(result)
    fields.update(input=str(result.input), output=str(result.output))
    (result.output / MARKER).write_text(json.dumps(fields, indent=1))


def _earlier_result(job: BagJob) -> BagResult | None:
    """The result of a complete earlier run into ``job.output``; None where there is none.

    A partial output this tool wrote (running when its process died, interrupted or failed)
    is removed, to be redone; InputError for an existing path this tool did not write.
    """
    if not job.output.exists():
        return None
    try:
        marker = json.loads((job.output / MARKER).read_text())
    except (OSError, ValueError):
        raise InputError(
            f"output {job.output} exists and was not written by process-bag; "
            "remove it or choose another output"
        ) from None
    if marker.get("status") == "done":
        names = ("frames", "skipped", "errors", "pairing", "seconds")
        return BagResult(job.input, job.output, "earlier", **{k: marker[k] for k in names})
    shutil.rmtree(job.output)
    return None


def open_pipeline(params: Mapping[str, ParamValue]) -> DepthPipeline:
    """The depth pipeline (and engine) the prompt_depth_node parameters describe."""
    return DepthPipeline(
        pipeline_config_from_params(params), create_engine(engine_spec_from_params(params))
    )


def process_bag(
    job: BagJob,
    options: BagOptions,
    pipeline: DepthPipeline | None = None,
    show_progress: bool = False,
    signals: StopSignals | None = None,
    stop_requested: Callable[[], int | None] | None = None,
) -> BagResult:
    """Run ``job``; never raises for a bad bag, a bug or an interrupt (KeyboardInterrupt,
    :class:`~promptdepth_ros.tools.cli.Stopped`): the result says.

    ``pipeline`` is reused when given (else opened and closed here); ``signals`` defers
    signals while the output bag closes; ``stop_requested`` is polled between messages
    (a signal number stops the bag as that signal would).
    """
    start = time.monotonic()
    result = BagResult(job.input, job.output, "failed")
    own_pipeline = pipeline is None
    writer: BagWriter | None = None
    try:
        earlier = _earlier_result(job)
        if earlier is not None:
            return earlier
        counts = bag_message_counts(job.input)
        if pipeline is None:
            pipeline = open_pipeline(options.params)
        writer = BagWriter(job.output, storage=options.storage)
        writer.__enter__()
        _write_marker(BagResult(job.input, job.output, "running"))
        guard = signals.shielded if signals is not None else nullcontext
        frames = FrameWriter(pipeline, options, writer, guard)
        progress = Progress(frames.total_messages(counts)) if show_progress else None
        if stop_requested is None and signals is not None:
            stop_requested = signals.pending  # a signal deferred while a frame was written
        try:
            frames.run(job.input, progress, stop_requested)
        finally:
            if progress is not None:
                progress.close()
            result.frames, result.pairing = frames.written, dict(frames.pairing.counts)
            result.skipped, result.errors = dict(frames.skipped), dict(frames.errors)
        result.status = "done"
    except KeyboardInterrupt as stop:
        result.status = "interrupted"
        result.signum = getattr(stop, "signum", 2)
    except PromptDepthError as error:
        result.reason = one_line(error)
    except Exception as error:
        if options.debug:
            traceback.print_exc()
        result.reason = f"{type(error).__name__}: {one_line(error)}"
    finally:
        result.seconds = time.monotonic() - start
        with signals.shielded() if signals is not None else nullcontext():
            if writer is not None:
                writer.__exit__(None, None, None)
                _write_marker(result)
            if own_pipeline and pipeline is not None:
                pipeline.close()
    return result


def print_result(result: BagResult, stream: TextIO | None = None, limit: int = 20) -> None:
    """The single-bag summary: frames, pairing, and each skip and error cause (``limit``)."""
    stream = stream or sys.stdout
    if result.status == "earlier":
        print(f"{result.output} is complete from an earlier run", file=stream)
    print(f"wrote {result.frames} frames to {result.output}", file=stream)
    counts = result.pairing
    unused = ", ".join(
        f"{n} {cause}" for cause, n in sorted(counts.items()) if cause not in PAIRING_TOTALS
    )
    print(
        f"pairing: {counts.get('emitted', 0)} sets from {counts.get('received', 0)} messages; "
        f"unused: {unused or 'none'}",
        file=stream,
    )
    lines = [f"skipped {n}: {cause}" for cause, n in sorted(result.skipped.items())]
    lines += [f"error {n}: {cause}" for cause, n in sorted(result.errors.items())]
    if result.status == "interrupted":
        lines.append("interrupted: rest of the bag not read")
    for line in lines[:limit]:
        print(line, file=stream)
    if len(lines) > limit:
        print(f"... and {len(lines) - limit} more causes (see {MARKER})", file=stream)
