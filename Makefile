# Two commands do all the set-up on a fresh clone:
#   make lab    create the environment on first use, then open the lessons in JupyterLab
#   make test   create the environment on first use, then run every test (unit, notebooks, browser)
# On a laptop without an NVIDIA GPU, create it with PyTorch's CPU-only build: make lab TORCH=cpu
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.coursekit-installed
PORT ?= 8888
# TORCH=cpu installs PyTorch's CPU-only build from PyTorch's own wheel index: no NVIDIA libraries,
# the right choice for a laptop without an NVIDIA GPU (see the README). The default, TORCH=default,
# takes the package registry's build, which on Linux brings about 3 GB of CUDA libraries.
TORCH ?= default
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
# The same ranges as pyproject.toml (tests/test_environment_sync.py checks them).
TORCH_SPECS := 'torch>=2.2' 'torchvision>=0.17'
ifeq ($(filter default cpu,$(TORCH)),)
$(error TORCH=$(TORCH) is not known: use TORCH=cpu (PyTorch's CPU-only build) or leave it out)
endif
# JupyterLab refuses to run as root unless told to (containers often run as root).
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test env notebooks exercises clean-env bubblewrap

env: $(STAMP)

# nbgrader (a dev dependency: the instructors' tool, tested in tests/test_nbgrader.py) ships
# JupyterLab and server extensions; the learners' JupyterLab keeps them off. An instructor who
# wants them here: $(BIN)/jupyter labextension enable --level=sys_prefix @jupyter/nbgrader (and
# jupyter server extension enable --sys-prefix for the four below).
NBGRADER_LAB := @jupyter/nbgrader
NBGRADER_SERVER := nbgrader.server_extensions.formgrader nbgrader.server_extensions.validate_assignment \
	nbgrader.server_extensions.assignment_list nbgrader.server_extensions.course_list

# Re-created when the dependencies change. The named kernel lives inside the environment, so
# JupyterLab started from it runs the lessons on this environment's Python.
$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory bubblewrap
	$(PYTHON) -m venv $(VENV)
ifeq ($(TORCH),cpu)
	$(BIN)/python -m pip install --index-url $(TORCH_CPU_INDEX) $(TORCH_SPECS)
endif
	$(BIN)/python -m pip install -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name coursekit --display-name "Python (coursekit)"
	$(BIN)/jupyter labextension disable --level=sys_prefix $(NBGRADER_LAB)
	$(BIN)/jupyter server extension disable --sys-prefix $(NBGRADER_SERVER)
	touch $(STAMP)

# The grader isolates each submission with bubblewrap (Debian package bubblewrap; see the README's
# instructor section). Installed here when this runs as root with apt-get; otherwise it says what to do.
bubblewrap:
	@command -v bwrap >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		{ apt-get install -y -qq bubblewrap >/dev/null 2>&1 || \
		  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; }; }; } || \
		echo "NOTE: bubblewrap is not installed (sudo apt-get install bubblewrap): the grader will run" \
		     "submissions without kernel namespaces and say so in every report."

# Opens on lesson 00; the learners' exercise notebooks are notebooks/NN_*.ipynb, the solutions
# are in notebooks/solutions/.
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks --port=$(PORT) $(ALLOW_ROOT) \
		--ServerApp.default_url=/lab/tree/00_setup_check.ipynb

# Tests never download: COURSEKIT_OFFLINE=1 makes every weight request use the labelled fallback.
# They run in parallel (pytest-xdist): one worker per core, at most TEST_JOBS_MAX, each file on one
# worker, longest files first (conftest.py); one torch thread per worker and kernel so the workers
# do not fight over the cores. TEST_JOBS=0 runs them one after another in a single process.
TEST_JOBS ?= auto
TEST_JOBS_MAX ?= 4
test: $(STAMP) bubblewrap
	COURSEKIT_OFFLINE=1 MPLBACKEND=Agg OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n $(TEST_JOBS) \
		--maxprocesses=$(TEST_JOBS_MAX) --dist loadfile --no-loadscope-reorder

# Re-execute every solution notebook in place so the stored outputs are real (never edit outputs
# by hand), then regenerate and execute the learners' exercise notebooks from them.
notebooks: $(STAMP)
	COURSEKIT_OFFLINE=1 $(BIN)/python -m coursekit.notebooks notebooks/solutions/[0-9]*.ipynb
	$(MAKE) exercises

# notebooks/NN_*.ipynb from notebooks/solutions/NN_*.ipynb: solutions replaced by stubs, then executed.
exercises: $(STAMP)
	COURSEKIT_OFFLINE=1 $(BIN)/python -m coursekit exercises

clean-env:
	rm -rf $(VENV)
