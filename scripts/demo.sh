#!/usr/bin/env bash
# README command 1: set everything up, then replay a generated tabletop bag through the real
# nodes over DDS and print the summary. Extra arguments go to promptdepth-demo.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$repo/scripts/setup_env.sh"
cd "$repo"
exec "$repo/.venv/bin/promptdepth-demo" "$@"
