"""Trained models as a layer: a table trains a model once, a second table loads it; identities keep configs apart;
features are extracted once."""
import json

import pytest
import torch

from benchmark import features, trained
from benchmark.models.ali import ImageALI
from benchmark.table_run import run_table
from benchmark.tables import RunContext, svhn_semi
from fixtures import write_svhn_partial


@pytest.fixture
def ctx(tmp_path, monkeypatch):
    monkeypatch.delenv("BENCHMARK_DATA", raising=False)
    root = write_svhn_partial(tmp_path / "data", 300)
    return RunContext(device="cpu", cache_dir=tmp_path / "cache", progress=False, data_root=str(root),
                      results_dir=tmp_path / "results", tables_dir=tmp_path / "tables")


def _second_table(ctx, request):
    """What any later table does with a model svhn_semi needs too: ask the layer for it, then read its features."""
    model = trained.train_or_load(request, ctx)
    images = model.data.images[:50]
    return model, features.cached_features(model.model, model.key, "code", images,
                                           {**model.data.provenance, "rows": [0, 50]}, ctx)


def test_a_second_table_loads_the_model_the_first_trained_and_never_retrains_it(ctx, monkeypatch):
    record = run_table("svhn_semi", "smoke", {}, ctx).record
    ali_runs = [r for k, r in record["runs"].items() if r["row"] in ("ali_code", "ali_paper")]
    assert len(ali_runs) == 2 and len({r["extra"]["model"] for r in ali_runs}) == 1, "one ALI for both feature sets"
    assert [where["threads"] for where in ali_runs[0]["extra"]["model_ran_on"]] == [torch.get_num_threads()]
    monkeypatch.setattr(ImageALI, "train_step", lambda *a: pytest.fail("a trained model was trained again"))
    request = svhn_semi.model_request(svhn_semi.SVHNSemiConfig(**svhn_semi.PROFILES["smoke"]), "ali", 0)
    loaded, _ = _second_table(ctx, request)
    assert not loaded.trained_now and loaded.key == ali_runs[0]["extra"]["model"]
    assert loaded.record["steps_done"] == 2 and loaded.record["status"] == "ok"


def test_a_changed_config_is_another_model_never_the_old_one(ctx):
    request = trained.ModelRequest("bigan", "svhn", trained.FitConfig(steps=1, batch_size=4, train_images=40),
                                   split="train")
    first = trained.train_or_load(request, ctx)
    again = trained.train_or_load(request, ctx)
    other_seed = trained.train_or_load(
        trained.ModelRequest("bigan", "svhn", trained.FitConfig(steps=1, batch_size=4, train_images=40, seed=1),
                             split="train"), ctx)
    other_lr = trained.train_or_load(trained.ModelRequest(
        "bigan", "svhn", trained.FitConfig(steps=1, batch_size=4, train_images=40), split="train",
        model=(("lr", "0.001"),)), ctx)
    assert first.trained_now and not again.trained_now and again.key == first.key
    assert other_seed.trained_now and other_lr.trained_now
    assert len({first.key, other_seed.key, other_lr.key}) == 3
    assert other_lr.model.config.lr == 0.001 and other_lr.model.config.deterministic_encoder
    for a, b in zip(first.model.parameters(), again.model.parameters()):
        assert torch.equal(a, b)


def test_unknown_model_keys_and_families_are_refused_before_anything_trains(ctx):
    from benchmark.errors import UserError

    with pytest.raises(UserError, match="unknown config key"):
        trained.plan_model(trained.ModelRequest("ali", "svhn", model=(("beta3", "1"),), split="train"), ctx)
    with pytest.raises(UserError, match="has no architecture .svhn."):
        trained.plan_model(trained.ModelRequest("gan_inverse", "svhn", split="train"), ctx)
    assert not (ctx.cache_dir / "models").exists()


def test_features_are_extracted_once_per_model_feature_set_and_rows(ctx, monkeypatch):
    request = trained.ModelRequest("vae", "svhn", trained.FitConfig(steps=1, batch_size=4, train_images=40),
                                   split="train")
    model, first = _second_table(ctx, request)
    monkeypatch.setattr(features, "compute", lambda *a: pytest.fail("cached features were computed again"))
    _, again = _second_table(ctx, request)
    assert torch.equal(first, again) and first.shape == (50, 5376)
    monkeypatch.undo()
    other_rows = features.cached_features(model.model, model.key, "code", model.data.images[:20],
                                          {**model.data.provenance, "rows": [0, 20]}, ctx)
    assert torch.equal(other_rows, first[:20])
    # other images under a provenance that reads alike (a stand-in's test rows once did) are never served from it
    same_name = features.cached_features(model.model, model.key, "code", model.data.images[50:100],
                                         {**model.data.provenance, "rows": [0, 50]}, ctx)
    assert not torch.equal(same_name, first)


def test_the_decoder_output_bias_starts_at_the_mean_training_image():
    model = ImageALI(svhn_semi_arch(), seed=0)
    images = torch.randint(0, 256, (10, 3, 32, 32), dtype=torch.uint8)
    model.init_from_data(images)
    expected = torch.logit((images.double() / 255).mean(0).float().clamp(1e-3, 1 - 1e-3))
    assert torch.allclose(model.decoder.pixel_bias, expected, atol=1e-6)


def svhn_semi_arch():
    from benchmark.nets.svhn import SVHN

    return SVHN


def test_svhn_semi_runs_the_official_splits_when_the_official_files_are_there(tmp_path, monkeypatch):
    """The paper profile's path on tiny official-format files: pool and validation from train, test from test,
    models trained on extra; and a missing extra is a 'data unavailable' cell, not a crash."""
    from fixtures import write_svhn_mat

    monkeypatch.delenv("BENCHMARK_DATA", raising=False)
    root = tmp_path / "data"
    write_svhn_mat(root, "train", 250, seed=1)
    write_svhn_mat(root, "test", 40, seed=2)
    ctx = RunContext(device="cpu", cache_dir=tmp_path / "cache", progress=False, data_root=str(root),
                     results_dir=tmp_path / "results", tables_dir=tmp_path / "tables")
    official = {"stand_in": False, "pool_size": 200, "validation_size": 50, "unsupervised_split": "extra"}
    missing_extra = run_table("svhn_semi", "smoke", official, ctx).record
    assert missing_extra["runs"]["ali_code/0"]["status"] == "unavailable"
    assert "extra" in missing_extra["runs"]["ali_code/0"]["reason"]
    assert missing_extra["runs"]["knn_pixels/0"]["status"] == "ok", "the pixel baseline needs no extra images"
    write_svhn_mat(root, "extra", 60, seed=3)
    record = run_table("svhn_semi", "smoke", official, ctx).record
    ali = record["runs"]["ali_code/0"]
    assert ali["status"] == "ok" and record["datasets"]["test"]["split"] == "test"
    assert record["datasets"]["pool"]["rows"] == [0, 200] and record["datasets"]["validation"]["rows"] == [200, 250]
    model = json.loads((tmp_path / "cache" / "models" / f"{ali['extra']['model']}.json").read_text())
    assert model["identity"]["data"]["split"] == "extra" and model["identity"]["train_images"] == 60


def test_cpu_bf16_is_named_in_the_model_identity_and_in_the_table_record(ctx):
    """--bf16 on the CPU: a model of its own (never an fp32 one from the cache) and a table record of its own."""
    from dataclasses import replace

    from benchmark.errors import UserError
    from benchmark.table_run import open_table

    from benchmark.registry import TABLES

    request = svhn_semi.model_request(TABLES.get("svhn_semi").config("smoke"), "ali", 0)
    fp32, bf16 = trained.plan_model(request, ctx), trained.plan_model(request, replace(ctx, bf16=True))
    assert fp32.runtime.bf16 is False and bf16.runtime.bf16 is True and fp32.key != bf16.key
    _, _, store = open_table("gmm_modes", "smoke", {}, replace(ctx, bf16=True))
    assert "cpu_numerics" in store.record["protocol"]
    store.save()
    with pytest.raises(UserError, match="cpu_numerics"):
        open_table("gmm_modes", "smoke", {}, ctx)
    _, _, fp32_store = open_table("gmm_modes", "smoke", {}, replace(ctx, results_dir=ctx.results_dir / "fp32"))
    assert "cpu_numerics" not in fp32_store.record["protocol"]
