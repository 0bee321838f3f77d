"""Strict loading of saved transformers model directories (local files only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from promptdepth_ros.errors import CheckpointError

SHOWN_KEYS = 5  # keys named per kind in an error message


def load_pretrained_strictly(model_class: Any, path: Path, what: str, **kwargs: Any) -> Any:
    """``model_class.from_pretrained(path)`` that refuses missing, unexpected or mis-shaped keys.

    transformers only warns about them and initialises what is missing at random. Raises
    CheckpointError naming the directory, the cause and the offending keys.
    """
    if not (path / "config.json").is_file():
        raise CheckpointError(
            f"{path} is not a transformers model directory (no config.json); "
            "pass a directory written by save_pretrained"
        )
    try:
        model, info = model_class.from_pretrained(
            str(path), local_files_only=True, output_loading_info=True, **kwargs
        )
    except Exception as exc:  # safetensors, pickle and torch each raise their own types
        raise CheckpointError(
            f"cannot load the {what} model in {path}: {type(exc).__name__}: {exc}"
        ) from exc
    problems = []
    for kind in ("missing_keys", "unexpected_keys", "mismatched_keys"):
        keys = [str(k) for k in info.get(kind) or ()]
        if keys:
            more = f" and {len(keys) - SHOWN_KEYS} more" if len(keys) > SHOWN_KEYS else ""
            problems.append(f"{kind.replace('_', ' ')}: {', '.join(keys[:SHOWN_KEYS])}{more}")
    if problems:
        raise CheckpointError(
            f"the weights in {path} do not match the {what} model ({'; '.join(problems)})"
        )
    return model
