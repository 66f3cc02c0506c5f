import pytest
import torch

from benchmark.errors import UserError
from benchmark.models._stacked import RunHyperparams
from benchmark.models.ali import ToyALI
from benchmark.nets.toy import ToySizes
from benchmark.rng import RunGenerators
from benchmark.train import StackedBatcher, train

SIZES = ToySizes(encoder_hidden=(16, 16), decoder_hidden=(16, 16), disc_units=8, disc_pieces=3, disc_layers=2)


def _setup(seeds=(1, 2)):
    hp = RunHyperparams(tuple([1e-3] * len(seeds)), tuple([0.5] * len(seeds)), tuple([0.05] * len(seeds)))
    model = ToyALI(SIZES, hp, list(seeds))
    data = torch.randn(500, 2, generator=torch.Generator().manual_seed(0))
    batcher = StackedBatcher(data, 50, RunGenerators([s + 100 for s in seeds]))
    return model, batcher


def test_interrupted_and_resumed_training_ends_where_uninterrupted_training_ends(tmp_path):
    model, batcher = _setup()
    train(model, batcher, 25, progress=False)
    reference = model.state_dict()

    model, batcher = _setup()
    first = train(model, batcher, 25, checkpoint=tmp_path / "ck.pt", identity="x", stop_after=12, progress=False)
    assert first.steps_done == 12 and not first.finished
    model, batcher = _setup()  # a fresh process: everything comes from the checkpoint
    second = train(model, batcher, 25, checkpoint=tmp_path / "ck.pt", identity="x", progress=False)
    assert second.steps_done == 25 and second.finished
    for k, v in reference.items():
        assert torch.equal(v, model.state_dict()[k]), k


def test_resume_refuses_a_checkpoint_of_another_config(tmp_path):
    model, batcher = _setup()
    train(model, batcher, 5, checkpoint=tmp_path / "ck.pt", identity="a", stop_after=3, progress=False)
    model, batcher = _setup()
    with pytest.raises(UserError, match="another config"):
        train(model, batcher, 5, checkpoint=tmp_path / "ck.pt", identity="b", progress=False)


@pytest.fixture
def threads():
    """Sets torch's intra-op thread count for a test and puts the original back after it."""
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


def test_where_a_resumed_training_ran_is_kept_in_order_one_entry_per_change(tmp_path, threads, monkeypatch):
    import benchmark.train

    cpu = benchmark.train.describe(benchmark.train.machine_identity())

    def segment(stop_after=None, steps=9):
        model, batcher = _setup()  # a fresh process each time: everything comes from the checkpoint
        return train(model, batcher, steps, checkpoint=tmp_path / "ck.pt", identity="x", stop_after=stop_after,
                     progress=False).ran_on

    threads(1)
    assert segment(stop_after=2) == [{"cpu": cpu, "threads": 1}]
    assert segment(stop_after=4) == [{"cpu": cpu, "threads": 1}], "the same machine and count again: no entry"
    threads(2)
    assert segment(stop_after=6) == [{"cpu": cpu, "threads": 1}, {"cpu": cpu, "threads": 2}]
    monkeypatch.setattr(benchmark.train, "describe", lambda identity: "another CPU")
    ran_on = segment()
    assert ran_on == [{"cpu": cpu, "threads": 1}, {"cpu": cpu, "threads": 2}, {"cpu": "another CPU", "threads": 2}]
    threads(3)
    assert segment() == ran_on, "loading a finished checkpoint trains nothing, so adds nothing"


def test_a_checkpoint_from_before_this_was_kept_resumes_with_an_unknown_first_entry(tmp_path, threads):
    threads(1)
    model, batcher = _setup()
    train(model, batcher, 6, checkpoint=tmp_path / "ck.pt", identity="x", stop_after=3, progress=False)
    state = torch.load(tmp_path / "ck.pt", weights_only=False)
    del state["ran_on"]
    torch.save(state, tmp_path / "ck.pt")
    model, batcher = _setup()
    resumed = train(model, batcher, 6, checkpoint=tmp_path / "ck.pt", identity="x", progress=False)
    assert resumed.ran_on[0] == {"cpu": None, "threads": None} and resumed.ran_on[1]["threads"] == 1
    assert len(resumed.ran_on) == 2


def _poison_run_1_at_update(model, update: int) -> None:
    """Run 1's discriminator weight becomes inf just before update `update` (its losses go non-finite there)."""
    original, calls = model.train_step, {"n": 0}

    def poisoned_step(batch):
        calls["n"] += 1
        if calls["n"] == update:
            with torch.no_grad():
                model.discriminator.net[0].linear.weight[1].fill_(float("inf"))
        return original(batch)

    model.train_step = poisoned_step


def test_a_forced_nan_is_recorded_with_its_step_and_the_other_run_finishes():
    model, batcher = _setup()
    _poison_run_1_at_update(model, 7)
    result = train(model, batcher, 20, progress=False)
    assert result.finished and result.steps_done == 20
    assert set(result.failures) == {1}
    assert result.failures[1]["step"] == 7
    assert "non-finite d_loss" in result.failures[1]["reason"]
    assert all(torch.isfinite(p[0]).all() for p in model.parameters())


@pytest.mark.parametrize("check_every", [1, 5, 100])
def test_a_guard_read_every_n_updates_records_the_exact_failing_update(check_every):
    """The guard is read back every `check_every` updates (CUDA's way: no host sync per update); the failure still
    carries the update at which the loss went non-finite, and the healthy run trains to the end."""
    model, batcher = _setup()
    _poison_run_1_at_update(model, 7)
    result = train(model, batcher, 20, progress=False, nan_check_every=check_every)
    assert result.steps_done == 20 and result.failures[1]["step"] == 7 and set(result.failures) == {1}


def test_training_stops_at_the_first_guard_read_after_every_run_diverged():
    model, batcher = _setup()
    with torch.no_grad():
        model.decoder[0].weight.fill_(float("nan"))
    result = train(model, batcher, 50, progress=False, nan_check_every=10)
    assert result.steps_done == 10 and {r: f["step"] for r, f in result.failures.items()} == {0: 1, 1: 1}


def test_training_stops_when_every_run_has_diverged():
    model, batcher = _setup()
    with torch.no_grad():
        model.decoder[0].weight.fill_(float("nan"))
    result = train(model, batcher, 50, progress=False)
    assert result.steps_done == 1 and set(result.failures) == {0, 1} and result.finished


def test_batcher_walks_epochs_of_per_run_permutations():
    data = torch.arange(10.0)[:, None]
    batcher = StackedBatcher(data, 5, RunGenerators([0, 1]))
    epoch = torch.cat([batcher.next(), batcher.next()], dim=1)
    for r in range(2):
        assert sorted(epoch[r, :, 0].tolist()) == list(range(10))
    assert not torch.equal(epoch[0], epoch[1])
