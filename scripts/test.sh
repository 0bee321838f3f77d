#!/usr/bin/env bash
# README command 2: set everything up, then lint, type-check and run the whole test suite.
# Extra arguments go to pytest.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$repo/scripts/setup_env.sh"
cd "$repo"
py="$repo/.venv/bin/python"
echo "[test] ruff"
"$py" -m ruff check .
"$py" -m ruff format --check .
echo "[test] mypy (core)"
"$py" -m mypy
echo "[test] pytest"
exec "$py" -m pytest -q "$@"
