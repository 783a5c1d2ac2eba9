"""The command line, run as a user would: a subprocess with real files."""

import os
import subprocess
import sys

import pytest
import torch

from coursekit.images import load_image, save_image
from coursekit.samples import sample_image


def run(*args, cwd):
    env = dict(os.environ, COURSEKIT_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "coursekit", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


def test_stylize_writes_an_image(tmp_path):
    content = save_image(sample_image("astronaut", size=40), tmp_path / "content.png")
    out = tmp_path / "out" / "result.png"
    proc = run("stylize", str(content), "sample:brick", "-o", str(out), "--size", "24", "--steps", "3",
               "--style-weights", "conv1_1=1,conv2_1=1", "--content-layer", "conv2_2", "--beta", "1e5",
               "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "RANDOM features" in proc.stderr and "saved" in proc.stdout
    image = load_image(out)
    assert image.shape == (1, 3, 24, 24)
    assert not torch.equal(image, load_image(content, size=24))


def test_progress_bar_and_two_styles(tmp_path):
    out = tmp_path / "r.png"
    proc = run("stylize", "sample:chelsea", "sample:brick", "sample:stripes_orange", "--blend", "0.7,0.3",
               "-o", str(out), "--size", "20", "--steps", "2", "--style-weights", "conv1_1=1", "--content-layer",
               "conv1_2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "stylize" in proc.stderr and "eval" in proc.stderr  # tqdm's text bar
    assert out.exists()


@pytest.mark.parametrize("args, message", [
    (["missing.png", "sample:brick"], "missing.png"),
    (["sample:astronaut", "sample:nope"], "nope"),
    (["sample:astronaut", "sample:brick", "--content-layer", "conv9_1"], "content_layer"),
])
def test_bad_input_is_one_clear_line(tmp_path, args, message):
    proc = run("stylize", *args, "-o", str(tmp_path / "x.png"), "--size", "16", "--steps", "1", cwd=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_precision_is_a_choice_and_its_bfloat16_start_is_reported(tmp_path):
    out = tmp_path / "out.png"
    proc = run("stylize", "sample:chelsea", "sample:brick", "-o", str(out), "--size", "24", "--steps", "6",
               "--precision", "bfloat16", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "in bfloat16, then float32" in proc.stdout and out.exists()
    proc = run("stylize", "sample:chelsea", "sample:brick", "-o", str(out), "--precision", "half", cwd=tmp_path)
    assert proc.returncode == 2 and "--precision: invalid choice: 'half'" in proc.stderr
