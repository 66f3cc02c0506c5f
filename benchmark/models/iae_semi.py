"""The semi-supervised Implicit Autoencoder (IAE slides, Makhzani 2018: MNIST 100 labels 1.40 %, SVHN 1000 labels
9.80 %).

The code is the semi-supervised AAE's (benchmark.models.aae_semi, whose networks it shares): a categorical content
y = q(y|x) with an adversarial Cat(K) prior and a style z with an adversarial N(0, I) prior.  The pixel loss is
replaced by the IAE's reconstruction GAN: D_rec tells (x, c) pairs from (G(c, n), c) pairs, c = [q(y|x); z] of the
same x on both sides, G the implicit decoder fed the code and local noise n (deterministic when n has no dimensions).
Every minibatch [ours]: one simultaneous update of the five adversarial players from one forward pass (D_rec, D_y,
D_z on their discriminators' losses; the decoder on the reconstruction GAN's label-swapped loss; the encoder on that
loss plus the two regularisation GANs'), each gradient from its own loss only; then the AAE's classification phase
(the cross-entropy of q(y|x) on the labelled batch).  Test error is that of q(y|x).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from benchmark.errors import UserError
from benchmark.models import ModelEntry
from benchmark.models._game import Player, adversarial_losses, update_players
from benchmark.models.aae_semi import ARCHS, MNIST_AAE, CategoricalStyleAutoencoder, SemiAAEConfig, WithoutLabels
from benchmark.nets.aae_mlp import mlp
from benchmark.nets.improved_gan import SemiArch
from benchmark.registry import MODELS
from benchmark.runtime import Runtime


@dataclass(frozen=True)
class SemiIAEConfig(SemiAAEConfig):
    """The semi-supervised AAE's config [ours, so the two rows differ only in the reconstruction]: style of
    `style_dim` dimensions beside the Cat(K) content, hidden width 1000, Adam beta1 0.5, adversarial_lr for the five
    adversarial players, lr for the classification phase; `noise_dim` the decoder's local noise (0: deterministic
    reconstructions [ours]); D_rec is hidden-hidden-1 on [x; y; z] like the regularisation discriminators.
    style_dim 0: the code is the content y alone, with no style head and no D_z (the slides' clustering setting,
    content in the categorical code and style in the local noise)."""

    noise_dim: int = 0

    def __post_init__(self):
        if self.noise_dim < 0 or self.style_dim < 0:
            raise UserError(f"iae_semi: style_dim and noise_dim must be >= 0, got {self.style_dim}, "
                            f"{self.noise_dim}")


class SemiSupervisedIAE(CategoricalStyleAutoencoder):
    def __init__(self, arch: SemiArch, config: SemiIAEConfig = SemiIAEConfig(), seed: int = 0,
                 runtime: Runtime = Runtime()):
        super().__init__(arch, config, seed, runtime)

    def build_reconstruction(self, pixels: int) -> None:
        cfg, code = self.config, self.arch.classes + self.config.style_dim
        self.decoder = mlp([code + cfg.noise_dim, cfg.hidden, cfg.hidden, pixels])
        self.d_rec = mlp([pixels + code, cfg.hidden, cfg.hidden, 1])

    def make_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        cfg = self.config
        adversarial = {name: self.adam(getattr(self, name).parameters(), cfg.adversarial_lr)
                       for name in ("d_rec", "d_y", "d_z", "decoder", "encoder") if getattr(self, name) is not None}
        return {**adversarial, "classifier": self.adam(self.classifier_params(), cfg.lr)}

    def decoder_input(self, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """[y; z; n], n ~ N(0, I) the local noise (nothing when noise_dim is 0)."""
        parts = [y, z] + ([self.randn(len(y), self.config.noise_dim)] if self.config.noise_dim else [])
        return torch.cat(parts, 1)

    def players(self, x: torch.Tensor) -> dict[str, Player]:
        n = len(x)
        _, y, z = self._codes(x)
        code = torch.cat([y, z], 1)
        x_rec = torch.sigmoid(self.decoder(self.decoder_input(y, z)))
        pairs = torch.cat([torch.cat([x.flatten(1), code], 1), torch.cat([x_rec, code], 1)])
        d_rec_loss, g_rec_loss = adversarial_losses(self.d_rec(pairs).view(1, -1), n)
        y_prior, z_prior = self._prior(n)
        d_y_loss, g_y_loss = adversarial_losses(self.d_y(torch.cat([y_prior, y])).view(1, -1), n)

        def player(name: str, loss: torch.Tensor) -> Player:
            return Player(loss, list(getattr(self, name).parameters()), self.optimizers[name])

        players = {"d_rec": player("d_rec", d_rec_loss), "d_y": player("d_y", d_y_loss)}
        encoder_loss = g_rec_loss + g_y_loss
        if self.d_z is not None:
            d_z_loss, g_z_loss = adversarial_losses(self.d_z(torch.cat([z_prior, z])).view(1, -1), n)
            players["d_z"] = player("d_z", d_z_loss)
            encoder_loss = encoder_loss + g_z_loss
        return {**players, "decoder": player("decoder", g_rec_loss), "encoder": player("encoder", encoder_loss)}

    def unsupervised_update(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        players = self.players(x)
        update_players(list(players.values()))
        return {name: pl.loss.detach() for name, pl in players.items()}

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """G(q(y|x), z(x), n) of images in [0, 1], in eval mode (a fresh draw of n for each call)."""
        self.eval()
        _, y, z = self._codes(x)
        return torch.sigmoid(self.decoder(self.decoder_input(y, z))).view(len(x), *self.arch.image)


class ClusteringIAE(WithoutLabels, SemiSupervisedIAE):
    """The IAE's unsupervised clustering (IAE slides: content in the categorical code, style in the rest): the
    semi-supervised IAE without its labels."""


def _builder(arch: SemiArch, cls=SemiSupervisedIAE):
    def build(config: SemiIAEConfig = SemiIAEConfig(), seed: int = 0, runtime: Runtime = Runtime()):
        return cls(arch, config, seed, runtime)

    return build


MODELS.register("iae_semi", ModelEntry(
    "iae_semi", "semi-supervised IAE: q(y|x) and a style z with adversarial Cat(K) and N(0, I) priors, the pixel "
    "loss replaced by a reconstruction GAN on (x, code) pairs with an implicit decoder (Makhzani 2018)",
    {name: _builder(arch) for name, arch in ARCHS.items()}, SemiIAEConfig(), semi_supervised=True))
MODELS.register("iae_cluster", ModelEntry(
    "iae_cluster", "the semi-supervised IAE trained without labels: its Cat(K) code clusters the images (IAE "
    "slides)", {"mnist": _builder(MNIST_AAE, ClusteringIAE)}, SemiIAEConfig(), clustering=True))
