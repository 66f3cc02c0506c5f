"""The semi-supervised adversarial autoencoder (AAE paper section 5).

The encoder has two heads: q(y|x), a softmax over the classes, and q(z|x), the style.  The decoder reconstructs x
from (y, z).  Two adversarial priors: Cat(K) on y and N(0, I) on z, each with its own discriminator.  Every minibatch
runs three phases in order [paper]: reconstruction (encoder and decoder), regularisation (both discriminators, then
the encoder as their generator), and semi-supervised classification (cross-entropy of q(y|x) on a labelled batch).
Each phase moves only its own parameters, with the parameters the previous phase left.  Test error is that of
q(y|x).  Everything the paper leaves out is [ours] and named in SemiAAEConfig.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from benchmark.errors import UserError
from benchmark.models import ModelEntry
from benchmark.models._game import Player, adversarial_losses, update_players
from benchmark.models._image import seeded
from benchmark.models._semisup import SemiSupervisedConfig, SemiSupervisedModel
from benchmark.nets.aae_mlp import SemiEncoder, mlp
from benchmark.nets.improved_gan import SemiArch
from benchmark.registry import MODELS
from benchmark.runtime import Runtime
from benchmark.train import SemiBatch


@dataclass(frozen=True)
class SemiAAEConfig(SemiSupervisedConfig):
    """[ours] unless marked: Adam (lr for the reconstruction and classification phases, adversarial_lr for both
    discriminators and the encoder as generator, beta1 for all); style of `style_dim` dimensions; hidden width 1000
    [paper]; discriminators hidden-hidden-1; the reconstruction loss is the binary cross-entropy of the decoder's
    sigmoid output, averaged over pixels; no parameter average (ema_rate 0)."""

    lr: float = 1e-3
    adversarial_lr: float = 2e-4
    beta1: float = 0.5
    ema_rate: float = 0.0
    style_dim: int = 10
    hidden: int = 1000

    def __post_init__(self):
        if self.style_dim < 1:
            raise UserError(f"aae_semi: style_dim must be >= 1 (its regularisation phase trains D_z), got "
                            f"{self.style_dim}")


MNIST_AAE = SemiArch("mnist", (1, 28, 28), 10)
# [ours] the same MLPs on the 3,072 pixels of SVHN and CIFAR-10 (the AAE paper's SVHN networks are not published)
ARCHS = {"mnist": MNIST_AAE, "svhn": SemiArch("svhn", (3, 32, 32), 10),
         "cifar10": SemiArch("cifar10", (3, 32, 32), 10)}


class CategoricalStyleAutoencoder(SemiSupervisedModel):
    """What the semi-supervised AAE and IAE share: the encoder's two heads from one trunk (q(y|x) and the style z),
    the adversarial priors Cat(K) on y and N(0, I) on z with a discriminator each, the decoder fed (y, z) and the
    classifier q(y|x).  Subclasses build their reconstruction networks (`build_reconstruction`), their optimisers
    (`make_optimizers`) and the update."""

    def __init__(self, arch: SemiArch, config: SemiAAEConfig, seed: int, runtime: Runtime):
        super().__init__(arch, config, seed, runtime)
        pixels, k, h = arch.image[0] * arch.image[1] * arch.image[2], arch.classes, config.hidden
        with seeded(self.init_seed):
            self.encoder = SemiEncoder(pixels, h, k, config.style_dim)
            self.build_reconstruction(pixels)
            self.d_y = mlp([k, h, h, 1])
            self.d_z = mlp([config.style_dim, h, h, 1]) if config.style_dim else None  # no style, no prior on it
        self.classifier_net = self.encoder
        self.finish()
        self.optimizers = self.make_optimizers()
        self.start_average()

    def build_reconstruction(self, pixels: int) -> None:
        raise NotImplementedError

    def make_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        raise NotImplementedError

    def adam(self, params, lr: float) -> torch.optim.Adam:
        return torch.optim.Adam(params, lr=lr, betas=(self.config.beta1, 0.999))

    def classifier_params(self) -> list[nn.Parameter]:
        """q(y|x): the trunk and the class head (the style head plays no part in classification)."""
        return list(self.encoder.trunk.parameters()) + list(self.encoder.y_head.parameters())

    def init_from_data(self, images: torch.Tensor) -> None:
        """Nothing is set from the data [ours]."""

    def logits(self, net: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return net(x)[0]

    def _codes(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(class logits, q(y|x) probabilities, style z)."""
        logits, z = self.encoder(x)
        return logits, logits.softmax(1), z

    def _prior(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Samples of the priors: one-hot Cat(K) and N(0, I)."""
        k = self.arch.classes
        classes = torch.randint(k, (n,), generator=self.noise, device=self.noise.device)
        return F.one_hot(classes, k).float(), self.randn(n, self.config.style_dim)

    def decoder_input(self, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return torch.cat([y, z], 1)

    def unsupervised_update(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every phase that needs no label, on a batch of images in [0, 1]; the losses of shape (1,)."""
        raise NotImplementedError

    def train_step(self, batch: SemiBatch) -> dict[str, torch.Tensor]:
        """The unsupervised phases on the unlabelled batch, then the classification phase [paper: AAE]."""
        self.train()
        self.set_learning_rates()
        losses = self.unsupervised_update(self.unit(batch.x_unl))
        losses["class_loss"] = self.class_phase(batch)
        self.after_update()
        return losses

    def class_phase(self, batch: SemiBatch) -> torch.Tensor:
        """Semi-supervised classification: one step of the cross-entropy of q(y|x) on the labelled batch."""
        logits_lab, _, _ = self._codes(self.unit(batch.x_lab))
        class_loss = F.cross_entropy(logits_lab, batch.y_lab.to(self.runtime.device))
        update_players([Player(class_loss.view(1), self.classifier_params(), self.optimizers["classifier"])])
        return class_loss.detach().view(1)

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        self.eval()
        y, z = self._prior(n)
        return torch.sigmoid(self.decoder(self.decoder_input(y, z))).view(n, *self.arch.image)


class WithoutLabels:
    """A CategoricalStyleAutoencoder trained with no label at all (the clustering table): plain image batches
    (1, B, C, H, W) as the image families take, no classification phase; q(y|x) is then a cluster assignment."""

    semi_supervised = False

    def train_step(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        self.train()
        self.set_learning_rates()
        losses = self.unsupervised_update(self.unit(batch[0]))
        self.after_update()
        return losses


class SemiSupervisedAAE(CategoricalStyleAutoencoder):
    def __init__(self, arch: SemiArch, config: SemiAAEConfig = SemiAAEConfig(), seed: int = 0,
                 runtime: Runtime = Runtime()):
        super().__init__(arch, config, seed, runtime)

    def build_reconstruction(self, pixels: int) -> None:
        self.decoder = mlp([self.arch.classes + self.config.style_dim, self.config.hidden, self.config.hidden,
                            pixels])

    def make_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        cfg = self.config
        return {
            "reconstruction": self.adam(list(self.encoder.parameters()) + list(self.decoder.parameters()), cfg.lr),
            "discriminators": self.adam(list(self.d_y.parameters()) + list(self.d_z.parameters()),
                                        cfg.adversarial_lr),
            "generator": self.adam(self.encoder.parameters(), cfg.adversarial_lr),
            "classifier": self.adam(self.classifier_params(), cfg.lr),
        }

    def unsupervised_update(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The reconstruction and regularisation phases on a batch of images in [0, 1]."""
        n = len(x)
        # 1. reconstruction
        _, y, z = self._codes(x)
        recon = F.binary_cross_entropy_with_logits(self.decoder(self.decoder_input(y, z)), x.flatten(1))
        update_players([Player(recon.view(1), list(self.encoder.parameters()) + list(self.decoder.parameters()),
                               self.optimizers["reconstruction"])])
        # 2. regularisation: the discriminators on [prior; encoder], then the encoder against them
        _, y, z = self._codes(x)  # the encoder does not move in the discriminators' step: its codes serve both
        y_prior, z_prior = self._prior(n)
        d_y_loss, _ = adversarial_losses(self.d_y(torch.cat([y_prior, y.detach()])).view(1, -1), n)
        d_z_loss, _ = adversarial_losses(self.d_z(torch.cat([z_prior, z.detach()])).view(1, -1), n)
        d_loss = d_y_loss + d_z_loss
        update_players([Player(d_loss, list(self.d_y.parameters()) + list(self.d_z.parameters()),
                               self.optimizers["discriminators"])])
        g_loss = F.softplus(-self.d_y(y)).mean() + F.softplus(-self.d_z(z)).mean()  # non-saturating
        update_players([Player(g_loss.view(1), list(self.encoder.parameters()), self.optimizers["generator"])])
        return {"recon": recon.detach().view(1), "d_loss": d_loss.detach(), "g_loss": g_loss.detach().view(1)}


class ClusteringAAE(WithoutLabels, SemiSupervisedAAE):
    """The AAE's unsupervised clustering (AAE paper section 6): the semi-supervised AAE without its labels."""


def _builder(arch: SemiArch, cls=SemiSupervisedAAE):
    def build(config: SemiAAEConfig = SemiAAEConfig(), seed: int = 0, runtime: Runtime = Runtime()):
        return cls(arch, config, seed, runtime)

    return build


MODELS.register("aae_semi", ModelEntry(
    "aae_semi", "semi-supervised AAE: q(y|x) and q(z|x) with adversarial Cat(K) and N(0, I) priors (AAE section 5)",
    {name: _builder(arch) for name, arch in ARCHS.items()}, SemiAAEConfig(), semi_supervised=True,
    revision=1))  # 1: the adversarial phases train at adversarial_lr (every phase ran at lr before)
MODELS.register("aae_cluster", ModelEntry(
    "aae_cluster", "the semi-supervised AAE trained without labels: its Cat(K) code clusters the images (AAE "
    "section 6)", {"mnist": _builder(MNIST_AAE, ClusteringAAE)}, SemiAAEConfig(), clustering=True))
