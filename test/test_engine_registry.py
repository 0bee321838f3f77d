"""EngineSpec validation, backend resolution and engine creation."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest

from promptdepth_ros.engines import spec as engine_spec
from promptdepth_ros.engines.promptda.engine import PromptDAEngine
from promptdepth_ros.engines.registry import ENGINE_FACTORIES, create_engine, engine_factory
from promptdepth_ros.engines.spec import EngineName, EngineSpec, resolve_backend
from promptdepth_ros.errors import CheckpointError, ConfigError


@pytest.mark.parametrize(
    ("kwargs", "field", "allowed"),
    [
        ({"engine": "midas"}, "engine", "'guided', 'promptda', 'depth_pro'"),
        ({"backend": "openvino"}, "backend", "'auto', 'numpy', 'torch'"),
        ({"engine": "promptda", "variant": "vith", "random_init": True}, "variant", "'vits'"),
        ({"precision": "int4"}, "precision", "'fp32', 'fp16'"),
        ({"depth_pro_size": "tiny"}, "depth_pro_size", "'full', 'reduced'"),
    ],
)
def test_spec_names_the_bad_field_and_the_allowed_values(
    kwargs: dict[str, object], field: str, allowed: str
) -> None:
    with pytest.raises(ConfigError, match=rf"EngineSpec\.{field}' must be one of \[{allowed}"):
        EngineSpec(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"engine": "promptda", "backend": "torch"}, "weights is required"),
        ({"engine": "promptda", "backend": "onnxruntime"}, "onnx_path is required"),
        ({"engine": "depth_pro", "backend": "tensorrt"}, "engine_path is required"),
        (
            {"engine": "depth_pro", "backend": "tensorrt", "engine_path": Path("m.plan")},
            "onnx_path is required for the tensorrt backend too",
        ),
        ({"engine": "promptda", "focal_source": "estimated"}, "'estimated' is for depth_pro"),
        ({"engine": "promptda", "backend": "numpy"}, "only for guided"),
        ({"engine": "guided", "backend": "torch"}, "'auto' or 'numpy' for guided"),
        ({"engine": "promptda", "random_init": True, "weights": Path("m.ckpt")}, "exclude"),
        ({"engine": "promptda", "input_long_side": 1000}, "multiple of 14"),
        ({"device": "tpu"}, "device"),
    ],
)
def test_inconsistent_specs_are_rejected(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        EngineSpec(**kwargs)  # type: ignore[arg-type]


def test_guided_resolves_to_numpy() -> None:
    assert resolve_backend(EngineSpec(engine="guided")) == "numpy"


def test_auto_prefers_onnx_file_over_torch(tmp_path: Path) -> None:
    onnx_file = tmp_path / "m.onnx"
    spec = EngineSpec(engine="promptda", onnx_path=onnx_file, random_init=True)
    assert resolve_backend(spec) == "torch"  # file does not exist yet
    onnx_file.write_bytes(b"x")
    assert resolve_backend(spec) == "onnxruntime"


def test_auto_picks_tensorrt_only_with_gpu_tensorrt_and_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan, onnx_file = tmp_path / "m.plan", tmp_path / "m.onnx"
    plan.write_bytes(b"x")
    onnx_file.write_bytes(b"x")
    spec = EngineSpec(engine="promptda", onnx_path=onnx_file, engine_path=plan)
    has_trt = importlib.util.find_spec("tensorrt") is not None
    monkeypatch.setattr(engine_spec, "cuda_available", lambda: True)
    assert resolve_backend(spec) == ("tensorrt" if has_trt else "onnxruntime")
    monkeypatch.setattr(engine_spec, "cuda_available", lambda: False)
    assert resolve_backend(spec) == "onnxruntime"


def test_auto_without_any_model_source_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no backend for promptda"):
        resolve_backend(EngineSpec(engine="promptda"))


def test_explicit_backend_is_kept() -> None:
    spec = EngineSpec(engine="depth_pro", backend="torch", random_init=True)
    assert resolve_backend(spec) == "torch"


def test_every_engine_name_has_an_importable_factory() -> None:
    assert set(ENGINE_FACTORIES) == set(get_args(EngineName))
    for name in ENGINE_FACTORIES:
        assert callable(engine_factory(name))


def test_random_init_engine_says_its_weights_are_random() -> None:
    engine = create_engine(EngineSpec(engine="promptda", backend="torch", random_init=True))
    assert isinstance(engine, PromptDAEngine) and engine.name == "promptda"
    assert engine.weights_description.startswith("RANDOM weights")
    assert "meaningless" in engine.weights_description


def test_guided_engine_is_created_without_weights() -> None:
    engine = create_engine(EngineSpec(engine="guided"))
    assert engine.name == "guided" and engine.needs_prompt


def test_missing_weights_file_is_a_checkpoint_error(tmp_path: Path) -> None:
    spec = EngineSpec(engine="promptda", backend="torch", weights=tmp_path / "none.ckpt")
    with pytest.raises(CheckpointError, match=r"none\.ckpt do not exist"):
        create_engine(spec)


def test_depth_pro_weights_must_be_a_model_directory(tmp_path: Path) -> None:
    weights = tmp_path / "depth_pro.pt"
    weights.write_bytes(b"x")
    spec = EngineSpec(engine="depth_pro", backend="torch", weights=weights)
    with pytest.raises(CheckpointError, match="transformers directory"):
        create_engine(spec)


def test_weight_free_engines_never_import_torch() -> None:
    code = (
        "import sys\n"
        "from promptdepth_ros.engines.baselines import NearestUpsampleEngine\n"
        "from promptdepth_ros.engines.registry import create_engine\n"
        "from promptdepth_ros.engines.spec import EngineSpec\n"
        "create_engine(EngineSpec(engine='guided'))\n"
        "print(sorted({'torch', 'transformers', 'onnxruntime', 'tensorrt'} & set(sys.modules)))\n"
    )
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
