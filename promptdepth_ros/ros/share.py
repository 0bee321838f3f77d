"""Where the package's data directories (config/, msg/) are: the source tree or the install."""

from __future__ import annotations

from pathlib import Path

PACKAGE = "promptdepth_ros"


def share_dir(name: str) -> Path:
    """The package's ``name`` directory: the source tree's, else the installed share one."""
    root = Path(__file__).resolve().parents[2]
    if (root / "package.xml").is_file():  # running from the source tree
        return root / name
    from ament_index_python.packages import get_package_share_directory

    return Path(get_package_share_directory(PACKAGE)) / name
