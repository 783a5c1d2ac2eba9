"""environment.yml (conda) declares the same dependencies as pyproject.toml (pip)."""

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"torch": "pytorch"}  # the same package under conda-forge's name
CONDA_VARIANTS = {"pytorch-cpu"}  # conda-forge's metapackage choosing the CPU-only build


def _requirement(spec: str) -> tuple[str, str]:
    name, version = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec).groups()
    return name.lower(), version.replace(" ", "")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_specs = project["dependencies"] + project["optional-dependencies"]["dev"]
    expected = {CONDA_NAMES.get(n, n): v for n, v in map(_requirement, pip_specs)}

    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = dict(_requirement(d) for d in env["dependencies"] if isinstance(d, str))
    conda.pop("pip")
    assert CONDA_VARIANTS <= set(conda), "environment.yml should ask conda-forge for the CPU-only build"
    for name in CONDA_VARIANTS:
        conda.pop(name)
    python = conda.pop("python")
    assert python.replace(">=", "") == project["requires-python"].replace(">=", "")
    assert conda == expected
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip_section


def _make_dry_run(*args: str) -> subprocess.CompletedProcess:
    # A VENV that does not exist, so that make plans the environment's creation; -n runs nothing.
    return subprocess.run(["make", "-n", "env", "VENV=/nonexistent/venv", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_make_torch_cpu_installs_the_cpu_build_first():
    plan = _make_dry_run("TORCH=cpu")
    assert plan.returncode == 0, plan.stderr
    lines = plan.stdout.splitlines()
    cpu = [i for i, line in enumerate(lines) if "--index-url https://download.pytorch.org/whl/cpu" in line]
    package = [i for i, line in enumerate(lines) if "pip install -e" in line]
    assert len(cpu) == 1 and package and cpu[0] < package[0], plan.stdout
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for spec in (d for d in project if d.startswith("torch")):
        assert f"'{spec}'" in lines[cpu[0]], f"the CPU install should ask for {spec} as pyproject.toml does"


def test_make_default_takes_the_registry_build_and_refuses_unknown_choices():
    plan = _make_dry_run()
    assert plan.returncode == 0 and "download.pytorch.org" not in plan.stdout
    wrong = _make_dry_run("TORCH=gpu")
    assert wrong.returncode != 0 and "TORCH=gpu is not known" in wrong.stderr


def test_make_env_keeps_nbgrader_extensions_out_of_the_learners_jupyterlab():
    plan = _make_dry_run()
    assert plan.returncode == 0, plan.stderr
    assert "jupyter labextension disable --level=sys_prefix @jupyter/nbgrader" in plan.stdout
    disabled = next(line for line in plan.stdout.splitlines() if "jupyter server extension disable" in line)
    # Every server extension that installing nbgrader enables (its file in this environment).
    enabled_by_nbgrader = Path(sys.prefix) / "etc/jupyter/jupyter_server_config.d/nbgrader.json"
    names = json.loads(enabled_by_nbgrader.read_text())["ServerApp"]["jpserver_extensions"]
    assert names and all(name in disabled.split() for name in names), disabled
