# Every target builds .venv on first use, so each works on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# CPU build of torch for machines without a GPU (an unpinned torch pulls GBs of CUDA).
TORCH := torch==2.13.0

.PHONY: demo toy-demo test test-all lint bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml $(BIN)/activate
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

# The main job: PPO learns GridNavigation while ALP-GMM picks each episode's room size, goal
# distance, walls and lava; writes a run folder (plots, checkpoints, eval) and prints mastery.
DEMO_RUN = runs/demo-$(shell date +%Y%m%d-%H%M%S)
demo: $(VENV)/.installed
	$(BIN)/teachgym train teachgym/GridNavigation-v0 --backend batched --teacher alp-gmm \
		--steps 1000000 --eval-interval 250000 --seed 0 --out $(DEMO_RUN)

toy-demo: $(VENV)/.installed
	$(BIN)/teachgym bench toy --teachers random alp-gmm covar-gmm riac --seeds 2 --episodes 20000 --jobs 2

test: $(VENV)/.installed
	$(BIN)/python -m pytest -n 2

test-all: $(VENV)/.installed
	$(BIN)/python -m pytest -n 2 -m ""

lint: $(VENV)/.installed
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy teachgym && $(BIN)/lint-imports

bench: $(VENV)/.installed
	$(BIN)/teachgym bench toy --teachers random alp-gmm covar-gmm riac oracle --seeds 8 \
		--episodes 20000 --jobs 2 --json benchmarks/results/toy_paper.json
	$(BIN)/python benchmarks/bench_teacher_speed.py
	$(BIN)/python benchmarks/bench_env_speed.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
