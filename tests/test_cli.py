import subprocess
import sys

import pytest

from benchmark import run


def _main(capsys, *argv):
    code = run.main(list(argv))
    return code, capsys.readouterr()


def test_list_shows_tables_models_profiles_and_datasets(capsys):
    code, out = _main(capsys, "--list")
    assert code == 0
    for word in ("gmm_modes", "ali", "gan", "gan_inverse", "gan_posthoc", "vae", "smoke", "small", "paper", "gmm25"):
        assert word in out.out


T = ["--table", "gmm_modes", "--profile", "smoke"]


@pytest.mark.parametrize("argv, message", [
    (["--table", "nope"], "unknown table 'nope'; valid tables: celeba_attrs, cifar10_semi, gmm_modes, mnist_cluster, mnist_semi, recon_error, sample_quality, svhn_semi"),
    (["--table", "gmm_modes", "--profile", "huge"], "unknown profile 'huge'; valid profiles: paper, small, smoke"),
    (T + ["--device", "tpu"], "unknown device 'tpu'"),
    (T + ["--set", "stepz=3"], "unknown config key(s) 'stepz'"),
    (T + ["--set", "steps=many"], "config key 'steps' expects a value like"),
    (T + ["--set", "steps"], "--set expects key=value"),
    (T + ["--runs", "0"], "--runs must be at least 1"),
    (T + ["--rerun", "nope"], "--rerun nope: not a row these tables train; valid: ali, gan, gan_inverse"),
    (T + ["--rows", "nope"], "--rows nope: not a row these tables train; valid: ali, gan, gan_inverse"),
    (T + ["--rows", "gan", "--launcher", "local"], "--rows runs in this process"),
    (T + ["--data-root", "/no/such/folder"], "--data-root '/no/such/folder' is not a folder"),
])
def test_bad_input_exits_2_with_one_clear_message(capsys, tmp_path, argv, message):
    code, out = _main(capsys, *argv, "--quiet", "--results-dir", str(tmp_path))
    assert code == 2
    assert message in out.err
    assert "Traceback" not in out.err
    assert not list(tmp_path.iterdir()), "a refused call must not write results"


def test_the_module_entry_point_exits_2(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "benchmark.run", "--table", "nope", "--results-dir", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: unknown table 'nope'; valid tables: celeba_attrs, cifar10_semi, gmm_modes, mnist_cluster, mnist_semi, recon_error, sample_quality, svhn_semi"


def test_render_rejects_unknown_names(capsys):
    from benchmark import render

    assert render.main(["--table", "nope"]) == 2
    assert "unknown table 'nope'" in capsys.readouterr().err


def test_perf_runs_and_refuses_unknown_models(capsys):
    from benchmark import perf

    assert perf.main(["--model", "ali", "--arch", "toy", "--runs", "2", "--repeats", "1", "--block", "1"]) == 0
    out = capsys.readouterr().out
    assert "plain (1 run)" in out and "stacked x2" in out and "GFLOP/s" in out and "of limit" in out
    assert "fp32 matmul 4096x4096 (limit)" in out
    assert perf.main(["--model", "nope"]) == 2
    assert "unknown model 'nope'" in capsys.readouterr().err
    assert perf.main(["--model", "ali", "--arch", "svhm"]) == 2
    assert "unknown architecture of ali 'svhm'" in capsys.readouterr().err


def test_perf_measures_every_image_family_against_the_plain_loop_at_a_tiny_size(capsys):
    from benchmark import perf

    assert perf.main(["--model", "all", "--arch", "mnist", "--batch", "4", "--repeats", "1", "--block", "1"]) == 0
    out = capsys.readouterr().out
    families = ("aae", "ali", "bigan", "gan", "hali", "iae", "vae")
    for family in families:
        assert f"{family}/mnist" in out
    from benchmark.runtime import cpu_bf16_supported

    loops = 3 if cpu_bf16_supported() else 2  # plain, suite (and suite +bf16 on a CPU with native bf16)
    assert out.count("x plain") == loops * len(families) and "images/s" in out
    assert out.count("of limit") == loops * len(families) and out.count("fp32 matmul 4096x4096") == len(families)


@pytest.mark.parametrize("module", ["run", "fit", "render", "compare", "perf", "migrate"])
def test_every_entry_point_answers_ctrl_c_with_130_and_bad_input_with_2(module, monkeypatch, capsys):
    import importlib

    from benchmark.errors import UserError

    entry = importlib.import_module(f"benchmark.{module}")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    def refused(*args, **kwargs):
        raise UserError("something named is wrong")

    monkeypatch.setattr(entry.argparse.ArgumentParser, "parse_args", interrupted)
    assert entry.main([]) == 130
    assert "run the same command again to resume" in capsys.readouterr().err
    monkeypatch.setattr(entry.argparse.ArgumentParser, "parse_args", refused)
    assert entry.main([]) == 2
    assert capsys.readouterr().err.strip() == "error: something named is wrong"
