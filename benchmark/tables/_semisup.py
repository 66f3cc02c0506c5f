"""What the semi-supervised tables share: the request for one seed of one row, the run record of a trained
classifier (test errors with the classifier as the protocol tests it, the learning curve from its snapshots, the
labelled draw stored as an artifact), and the loop over cells that are one trained model each (which mnist_cluster
shares too)."""
from __future__ import annotations

import time

import torch

from benchmark.data import DataUnavailable
from benchmark.protocols.semisup import count_errors
from benchmark.results import ResultStore, RunRecord
from benchmark.tables import RunContext
from benchmark.trained import FitConfig, ModelRequest, TrainedModel, load_split, train_or_load


def semi_request(family: str, dataset: str, *, epochs: float, per_class: int, seed: int, batch_size: int = 100,
                 snapshot_epochs: float = 0.0, train_images: int = 0, steps: int = 0, split: str = "",
                 checkpoint_every: int = 500, model: tuple = ()) -> ModelRequest:
    """One seed of a semi-supervised row: `per_class` labels per class drawn from `seed`; a classifier snapshot
    every `snapshot_epochs` epochs (0: none); `model` overrides keys of the family's config."""
    fit = FitConfig(steps=steps, epochs=epochs, batch_size=batch_size, train_images=train_images,
                    checkpoint_every=checkpoint_every, seed=seed, labels_per_class=per_class,
                    snapshot_epochs=snapshot_epochs)
    return ModelRequest(family, dataset, fit, split=split, model=model)


#: the runs table's extra column of the semi-supervised tables: the same classifier with its live parameters
LIVE_ERRORS = (("errors_live", "errors, live parameters"),)
AVERAGE_NOTE = ("the classifier is tested with the parameter average a <- a + 1e-4 (p - a) started at a = 0 [code], "
                "which after N updates holds 1 - 0.9999^N of the trained weights (1 % at 100 updates, 4.4 % at 450, "
                "95 % at 30,000): on runs this short read the 'errors live' values (the live parameters) in the runs "
                "table as well")


def variant_rows(rows_models: dict, rows) -> dict[str, str]:
    """How a table's protocol names each row that trains a family with config overrides: "<family> with
    {overrides}", from `rows_models` (row -> (family, ..., overrides)).  The strings are recorded in the results (and
    their hash): keep their form."""
    return {row: f"{rows_models[row][0]} with {dict(rows_models[row][-1])}" for row in rows}


def learning_curve_figure(record: dict, record_path, out_dir) -> list:
    """The table's figure: test errors against epochs of every run (matplotlib is imported only to draw)."""
    from benchmark.figures import learning_curves

    return learning_curves(record, record_path, out_dir)


def curve(trained: TrainedModel, images: torch.Tensor, labels: torch.Tensor, updates_per_epoch: int) -> list[dict]:
    """Test errors of every stored snapshot of the classifier: [{"step", "epoch", "errors"}]."""
    points = []
    if trained.snapshot_dir is None or not trained.snapshot_dir.exists():
        return points
    for path in sorted(trained.snapshot_dir.glob("*.pt")):
        snap = torch.load(path, weights_only=False)
        errors = count_errors(trained.model.classify(images, snap["classifier"]), labels)["errors"]
        points.append({"step": int(snap["step"]), "epoch": round(snap["step"] / updates_per_epoch, 3),
                       "errors": errors})
    return points


def classifier_run(store: ResultStore, row: str, index: int, trained: TrainedModel, images: torch.Tensor,
                   labels: torch.Tensor, ctx: RunContext, error_key: str = "error_rate") -> None:
    """Store one seed of a semi-supervised row whose model trained to the end: the test errors of the classifier as
    tested (the averaged parameters where the family averages) and of the live parameters; the error fraction is
    stored under `error_key` (the column the table shows)."""
    seed = trained.request.fit.seed
    steps = trained.record["steps_done"]
    info = {**trained.run_info(), "labels": len(trained.labelled)}
    start = time.perf_counter()
    updates_per_epoch = -(-trained.record["identity"]["train_images"] // trained.request.fit.batch_size)
    tested = count_errors(trained.model.classify(images), labels)
    live = count_errors(trained.model.classify(images, state={}), labels)
    points = curve(trained, images, labels, updates_per_epoch)
    artifact = store.write_artifact(f"{row}-{index}", {"labelled": trained.labelled.tolist(), "curve": points})
    store.put_run(RunRecord(
        row, index, seed, steps=steps, device=ctx.device, wall_s=time.perf_counter() - start,
        values={"errors": tested["errors"], error_key: tested["error_rate"], "errors_live": live["errors"]},
        artifacts={"labelled_and_curve": artifact},
        extra={**info, "epochs": round(steps / updates_per_epoch, 3), "test_n": tested["n"],
               "curve": [[p["epoch"], p["errors"]] for p in points]}))


def semi_table_run(cfg, store: ResultStore, ctx: RunContext, dataset: str, rows, request_of) -> None:
    """Every (row, seed) of a semi-supervised table: train or load, then test on the test split; missing data
    (the split, or too few images of a class for the labels) is recorded per cell."""
    try:
        test = load_split(dataset, "test", ctx)
    except DataUnavailable as e:
        for index in range(cfg.runs):
            store.put_unavailable(rows, index, cfg.seed + index, str(e))
        return
    n = cfg.test_images or None
    for index in range(cfg.runs):
        if not semi_cells(store, rows, index, lambda row: request_of(cfg, row, index), test.images[:n],
                          test.labels[:n], ctx,
                          datasets=lambda trained: {"train": trained.data.provenance, "test": test.provenance}):
            return  # stopped early: the checkpoint resumes on the next call


def semi_cells(store: ResultStore, rows, index: int, request_of_row, images: torch.Tensor, labels: torch.Tensor,
               ctx: RunContext, error_key: str = "error_rate", datasets=None) -> bool:
    """Run index `index` of every semi-supervised row not stored yet: train or load its model, test it; missing
    data (the split, or too few images of a class for the labels) is recorded as that cell's reason.  False when
    training stopped early.  `datasets(trained)` names the data in the record."""
    def store_cell(row: str, trained: TrainedModel) -> None:
        if datasets is not None:
            store.record["datasets"] = datasets(trained)
        classifier_run(store, row, index, trained, images, labels, ctx, error_key=error_key)

    return model_cells(store, rows, index, request_of_row, ctx, store_cell)


def model_cells(store: ResultStore, rows, index: int, request_of_row, ctx: RunContext, store_cell) -> bool:
    """Run index `index` of every row not stored yet whose cell is one trained model: train or load it
    (`request_of_row(row)`), record a diverged one as failed, else `store_cell(row, trained)`; missing data is
    recorded as that cell's reason.  False when training stopped early (the checkpoint resumes on the next call)."""
    for row in rows:
        if store.done(f"{row}/{index}"):
            continue
        request = request_of_row(row)
        try:
            trained = train_or_load(request, ctx)
        except DataUnavailable as e:
            store.put_unavailable([row], index, request.fit.seed, str(e))
            continue
        if trained is None:
            return False
        if trained.failed:
            store.put_run(trained.failed_run(row, index, request.fit.seed, ctx.device))
            continue
        store_cell(row, trained)
    return True
