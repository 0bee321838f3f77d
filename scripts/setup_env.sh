#!/usr/bin/env bash
# Set up everything the demo and the tests need, on a machine without a ROS install:
#   - system packages open3d and the message build need (when root with apt-get);
#   - a venv at .venv with pinned ROS 2 Kilted wheels and the Python dependencies;
#   - the two include paths the ROS wheels' CMake files have baked in;
#   - the rosidl build of msg/ and srv/ into the venv, and an editable install of the package.
# Idempotent: every step is skipped when its inputs have not changed since the last run.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.venv"
cd "$repo"

log() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }
stamp_ok() { [ -f "$venv/.stamp-$1" ] && [ "$(cat "$venv/.stamp-$1")" = "$2" ]; }
stamp_set() { printf '%s' "$2" >"$venv/.stamp-$1"; }
hash_of() { cat "$@" | sha256sum | cut -c1-16; }

python_bin="${PYTHON:-}"
if [ -z "$python_bin" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null && \
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      python_bin="$candidate"; break
    fi
  done
fi
[ -n "$python_bin" ] || die "Python 3.11 is required (the ROS 2 Kilted wheels are cp311); set PYTHON=/path/to/python3.11"

# --- system packages ---------------------------------------------------------
apt_needed=()
for pkg in libusb-1.0-0 libgl1 libgomp1 cmake g++; do
  dpkg -s "$pkg" >/dev/null 2>&1 || apt_needed+=("$pkg")
done
if [ ${#apt_needed[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "apt-get install ${apt_needed[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${apt_needed[@]}" >/dev/null
  else
    log "warning: missing system packages ${apt_needed[*]} (install them with apt as root)"
  fi
fi

# --- venv and pinned Python packages -----------------------------------------
if [ ! -x "$venv/bin/python" ]; then
  log "creating $venv"
  "$python_bin" -m venv "$venv"
fi
pip() { "$venv/bin/python" -m pip --disable-pip-version-check -q "$@"; }
reqs_hash="$(hash_of requirements/ros-kilted.txt requirements/base.txt)"
if ! stamp_ok requirements "$reqs_hash"; then
  log "installing pinned packages (ROS 2 Kilted wheels, torch CPU, ...)"
  pip install -r requirements/ros-kilted.txt -r requirements/base.txt
  stamp_set requirements "$reqs_hash"
fi

# --- include paths baked into the ROS wheels' CMake files -----------------------
py_include="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
np_include="$("$venv/bin/python" -c 'import numpy; print(numpy.get_include())')"
baked_py=/opt/python/cp311-cp311/include/python3.11
baked_np=/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include
for pair in "$baked_py=$py_include" "$baked_np=$np_include"; do
  link="${pair%%=*}"; target="${pair#*=}"
  if [ "$(readlink "$link" 2>/dev/null)" != "$target" ]; then
    mkdir -p "$(dirname "$link")" 2>/dev/null && ln -sfn "$target" "$link" 2>/dev/null || \
      die "cannot create $link -> $target (run once as root, or create the link by hand)"
  fi
done

# --- messages and services: rosidl build into the venv ----------------------------
# Libraries go to .venv/lib (on the bootstrapper's LD_LIBRARY_PATH); the generated
# Python goes to its own directory that promptdepth_ros/__init__.py joins to the package.
msgs_py_dir="lib/promptdepth_ros_msgs"
msgs_hash="$(hash_of msg/*.msg srv/*.srv CMakeLists.txt package.xml requirements/ros-kilted.txt)"
if ! stamp_ok messages "$msgs_hash"; then
  log "building messages and services with rosidl"
  rm -rf build/msgs && mkdir -p build
  "$venv/bin/python" -c 'import ros_wheels_bootstrapper' >/dev/null
  cmake -S . -B build/msgs -DPROMPTDEPTH_INSTALL_PYTHON=OFF -DBUILD_TESTING=OFF \
    -DCMAKE_INSTALL_PREFIX="$venv" -DCMAKE_PREFIX_PATH="$venv" \
    -DPYTHON_INSTALL_DIR="$msgs_py_dir" -DPython3_EXECUTABLE="$venv/bin/python" \
    >build/msgs.log 2>&1 || { tail -30 build/msgs.log; die "cmake configure failed (build/msgs.log)"; }
  cmake --build build/msgs -j "$(nproc)" >>build/msgs.log 2>&1 && \
    cmake --install build/msgs >>build/msgs.log 2>&1 || \
    { tail -30 build/msgs.log; die "message build failed (build/msgs.log)"; }
  stamp_set messages "$msgs_hash"
fi

# --- the package itself (editable; console scripts in .venv/bin) -----------------
pkg_hash="$(hash_of setup.cfg setup.py)"
if ! stamp_ok package "$pkg_hash"; then
  log "installing promptdepth_ros (editable)"
  mkdir -p build
  pip install --no-deps --no-build-isolation -e . --config-settings editable_mode=compat \
    2>build/pip-editable.log || { cat build/pip-editable.log; die "editable install failed"; }
  stamp_set package "$pkg_hash"
fi
site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
# Sorted after the editable install's .pth so the sources come first on sys.path.
printf '%s\n' "$venv/$msgs_py_dir" >"$site/zz_promptdepth_ros_msgs.pth"

"$venv/bin/python" -c \
  'from promptdepth_ros.msg import GraspArray; from promptdepth_ros.srv import PlanGrasps' || \
  die "the generated messages or services do not import (see build/msgs.log)"
log "ready: $venv"
