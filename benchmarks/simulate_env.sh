#!/usr/bin/env bash
# Builds .venv-bench-simulate with the peer simulator (ciw) used by bench_simulate.py.
# The peer is never a project dependency; the project's own .venv runs our code.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv-bench-simulate
.venv-bench-simulate/bin/pip install --quiet --upgrade pip
.venv-bench-simulate/bin/pip install --quiet "ciw==3.2.7" numpy
.venv-bench-simulate/bin/python -c "import ciw; print('ciw', ciw.__version__)"
