# Two entry points do all set-up on a fresh machine:
#   make example   plan the bundled example centre into out/
#   make test      run the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: example test lint clean bench-erlang bench-forecast bench-simulate bench-scale bench-big-input \
        bench-plan-backtest bench-technion

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

example: $(STAMP)
	$(BIN)/wfm plan --example --out out

# the whole suite, slow end-to-end tests included, spread over every core
test: $(STAMP)
	$(BIN)/python -m pytest -n auto --dist loadfile

# benchmarks (figures go to benchmarks/RESULTS.md); peers live in .venv-bench-* envs
bench-erlang: $(STAMP)
	bash benchmarks/erlang_env.sh && $(BIN)/python benchmarks/bench_erlang.py

bench-forecast: $(STAMP)
	bash benchmarks/forecast_env.sh && $(BIN)/python benchmarks/bench_forecast.py bank \
	  && $(BIN)/python benchmarks/bench_forecast.py technion

bench-simulate: $(STAMP)
	bash benchmarks/simulate_env.sh && $(BIN)/python benchmarks/bench_simulate.py

bench-scale: $(STAMP)
	$(BIN)/python benchmarks/bench_scale.py --queues 1000 --workers 1 2 --prophet-sample 10

lint: $(STAMP)
	$(BIN)/pip install --quiet ruff
	$(BIN)/ruff check forecast tests benchmarks

clean:
	rm -rf $(VENV) out .pytest_cache

bench-big-input: $(STAMP)
	$(BIN)/python benchmarks/bench_big_input.py

bench-plan-backtest: $(STAMP)
	$(BIN)/python benchmarks/bench_plan_backtest.py --replications 20

# the real-centre checks: Erlang C/A against the Technion bank, calibration, replay
bench-technion: $(STAMP)
	$(BIN)/python benchmarks/technion_erlang.py && $(BIN)/python benchmarks/technion_calibrate.py --folds \
	  && $(BIN)/python benchmarks/technion_replay.py --replications 20
