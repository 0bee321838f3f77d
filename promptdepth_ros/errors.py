"""Exception hierarchy of promptdepth_ros: one base class, one subclass per kind of failure."""

from __future__ import annotations


class PromptDepthError(Exception):
    """Base class of every error the package raises on purpose."""


class ConfigError(PromptDepthError, ValueError):
    """A configuration value is out of range or inconsistent; the message names the parameter."""


class InputError(PromptDepthError, ValueError):
    """An input message or array cannot be used (bad shape, size mismatch, no valid data)."""


class InvalidStamp(InputError):
    """A header stamp that is no ROS time: negative, nanosec >= 1e9, or far ahead of the clock."""


class CorruptMessage(InputError):
    """Recorded bytes that do not deserialise as their message type (a damaged bag)."""


class UnsupportedEncoding(InputError):
    """An image encoding or point field layout that the package does not read."""


class UnsupportedCameraModel(InputError):
    """A camera distortion model that the package does not handle."""


class NoInput(InputError):
    """A request needs an input (a cloud to plan on) and none has arrived."""


class StaleInput(InputError):
    """The newest input is older than a request accepts."""


class MissingTransform(InputError):
    """The extrinsic between two frames is not known (no TF, no parameter)."""


class TransformExtrapolation(MissingTransform):
    """Both frames are in the TF tree, but a moving link has no transform at the stamp."""


class EngineError(PromptDepthError, RuntimeError):
    """A depth engine failed to load or run."""


class EngineMismatch(EngineError):
    """An engine file or checkpoint does not match what the configuration expects."""


class CheckpointError(EngineError):
    """A weight file is corrupt or its keys do not match the model (names them)."""
