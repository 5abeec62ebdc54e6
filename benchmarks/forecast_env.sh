#!/usr/bin/env bash
# Build the benchmark-only environment for the forecasting peers that cannot live in
# the project venv: statsforecast 2.x declares pandas<3. Used by bench_forecast.py
# through a subprocess; never a project dependency.
#   usage: benchmarks/forecast_env.sh            (creates .venv-bench-forecast)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv-bench-forecast/bin/python ]; then
  "$PY" -m venv .venv-bench-forecast
fi
.venv-bench-forecast/bin/pip install --quiet --upgrade pip
.venv-bench-forecast/bin/pip install --quiet "statsforecast==2.1.1" "pandas>=2.2,<3" "numpy<2.3"
.venv-bench-forecast/bin/python -c "import statsforecast, pandas; print('statsforecast', statsforecast.__version__, 'pandas', pandas.__version__)"
