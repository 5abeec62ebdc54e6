#!/usr/bin/env bash
# Build the benchmark-only environment holding the Erlang C peer, pyworkforce
# (0.5.1 on Python 3.11; 0.5.4 needs 3.12+, same ErlangC). bench_erlang.py runs it in
# a subprocess, side by side with our code. Never a project dependency.
#   usage: benchmarks/erlang_env.sh            (creates .venv-bench-erlang)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv-bench-erlang/bin/python ]; then
  "$PY" -m venv .venv-bench-erlang
fi
.venv-bench-erlang/bin/pip install --quiet --upgrade pip
.venv-bench-erlang/bin/pip install --quiet "pyworkforce==0.5.1"
.venv-bench-erlang/bin/python -c "import pyworkforce, numpy; print('pyworkforce', pyworkforce.__version__ if hasattr(pyworkforce, '__version__') else '0.5.1', 'numpy', numpy.__version__)"
