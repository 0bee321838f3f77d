"""Camera model: intrinsics and lens distortion (sensor_msgs/CameraInfo without the message)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.errors import InputError, UnsupportedCameraModel

DistortionModel = str  # "plumb_bob" | "rational_polynomial" | "equidistant" | "" (none)
SUPPORTED_DISTORTION_MODELS = ("", "none", "plumb_bob", "rational_polynomial", "equidistant")


@dataclass(frozen=True)
class CameraModel:
    """Intrinsics of an image of ``width`` x ``height`` pixels.

    ``fx, fy, cx, cy`` are in pixels of *this* image (ROI and binning already applied).
    ``distortion`` holds the CameraInfo ``D`` coefficients for ``distortion_model``;
    an empty tuple means a rectified image.
    """

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    distortion_model: DistortionModel = ""
    distortion: tuple[float, ...] = field(default_factory=tuple)
    frame_id: str = ""

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise InputError(f"camera size must be positive, got {self.width}x{self.height}")
        if not (np.isfinite(self.fx) and np.isfinite(self.fy) and self.fx > 0 and self.fy > 0):
            raise InputError(
                f"focal lengths must be finite and > 0, got fx={self.fx} fy={self.fy}"
            )
        if self.distortion_model not in SUPPORTED_DISTORTION_MODELS:
            raise UnsupportedCameraModel(
                f"distortion model '{self.distortion_model}' is not supported; expected one "
                f"of {SUPPORTED_DISTORTION_MODELS} (rectify the image upstream, e.g. image_proc)"
            )
        if self.distortion_model == "equidistant" and len(self.distortion) > 4:
            raise UnsupportedCameraModel(
                f"the equidistant model takes 4 coefficients (k1..k4), got {len(self.distortion)}"
            )

    @property
    def K(self) -> NDArray[np.float64]:  # noqa: N802 - the standard name of the matrix
        """3x3 intrinsic matrix."""
        return np.array(
            [[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]], dtype=np.float64
        )

    @property
    def is_distorted(self) -> bool:
        """True when the distortion coefficients are not all zero."""
        return any(abs(c) > 0.0 for c in self.distortion)

    def scaled(self, width: int, height: int) -> CameraModel:
        """The same camera resampled to ``width`` x ``height`` (pixel-centre convention).

        A pixel centre ``u`` maps to ``(u + 0.5) * s - 0.5``, so ``cx`` scales the same way.
        """
        sx = width / self.width
        sy = height / self.height
        return replace(
            self,
            width=width,
            height=height,
            fx=self.fx * sx,
            fy=self.fy * sy,
            cx=(self.cx + 0.5) * sx - 0.5,
            cy=(self.cy + 0.5) * sy - 0.5,
        )
