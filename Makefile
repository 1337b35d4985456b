# Two entry points for a fresh machine: `make demo` and `make test`. Each sets up .venv itself.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The CPU wheel of this version installs fast where it is cached locally; GPU users install the
# package into their own environment (see README) and keep their CUDA torch.
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: demo test test-all test-gpu bench-gpu lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[test,math]"
	touch $(STAMP)

demo: $(STAMP)
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 OMP_NUM_THREADS=1 $(BIN)/python tools/demo.py

test: $(STAMP)
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q

test-all: $(STAMP)
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q --runslow

# On a CUDA machine with the package installed in the current python (see bench/README.md, "GPU").
GPU_PYTHON ?= python3
test-gpu:
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(GPU_PYTHON) -m pytest -q --rungpu -m gpu tests

bench-gpu:
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 PYTHONUNBUFFERED=1 $(GPU_PYTHON) bench/bench_gpu.py --device cuda --out bench_gpu_out

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) demo_out .pytest_cache
