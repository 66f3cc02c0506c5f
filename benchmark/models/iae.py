"""The Implicit Autoencoder (IAE, Makhzani 2018): two adversarial networks replace the autoencoder's two costs.

The reconstruction GAN matches the joint data distribution q(x, z) = p_data(x) q(z|x) to the joint reconstruction
distribution r(x, z) = q(z) p(x|z): its discriminator D_rec tells (x, z) pairs from (G(z, n), z) pairs, z = E(x)
on both sides, where the implicit decoder G is fed the global code z and local noise n (deterministic reconstructions
when n has no dimensions).  The regularisation GAN matches the aggregated posterior q(z) to the prior p(z) = N(0, I),
as the AAE: its discriminator D_reg tells prior draws from codes.  Four players, one forward pass, one simultaneous
update, each gradient from its own loss only: D_rec and D_reg minimise their discriminators' losses; the decoder the
reconstruction GAN's label-swapped loss; the encoder that loss plus the regularisation GAN's.

The paper body could not be read (the slides give the settings); every other choice is [ours] and named in IAEConfig:
the networks are the suite's ALI networks of the dataset (encoder, decoder fed [z; n] as channels, D_rec = the joint
discriminator on (x, z)), D_reg = the ALI D(z) pathway with a linear output; ALI's Adam.  On the 25-Gaussian mixture
(the gmm_modes table, `ToyIAE`) the networks are ALI's gmm networks: its noise-fed encoder, its decoder without local
noise, its maxout discriminator on (x, z) as D_rec and on z as D_reg.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from benchmark.errors import UserError
from benchmark.models import ModelEntry
from benchmark.models._game import Player, adversarial_losses
from benchmark.models._image import AdamConfig, Encoding, ImageAutoencoder, seeded
from benchmark.models._stacked import NoiseEncoderModel
from benchmark.nets import toy
from benchmark.nets.ali_image import Decoder, Encoder, ImageArch, JointDiscriminator
from benchmark.nets.image_archs import IMAGE_ARCHS
from benchmark.nets.layers import ConvStack, Layer
from benchmark.registry import MODELS
from benchmark.runtime import Runtime

POSTERIORS = ("deterministic", "gaussian")


@dataclass(frozen=True)
class IAEConfig(AdamConfig):
    """code_dim: the global code z; noise_dim: the decoder's local noise n (0: deterministic reconstructions)
    [slides: MNIST deterministic 20, stochastic 10 (or 5) + 100; SVHN 150, stochastic 75 + 1000; CelebA 150,
    stochastic 50 + 1000; CIFAR-10 [ours] as SVHN]; posterior [ours, named]: 'deterministic' z = E(x) or
    'gaussian' z ~ N(mu(x), sigma(x)^2), reparameterised."""

    code_dim: int = 20
    noise_dim: int = 0
    posterior: str = "deterministic"

    def __post_init__(self):
        if self.posterior not in POSTERIORS:
            raise UserError(f"iae: unknown posterior {self.posterior!r}; valid: {', '.join(POSTERIORS)} "
                            "(set model.posterior)")
        if self.code_dim < 1 or self.noise_dim < 0:
            raise UserError(f"iae: code_dim must be >= 1 and noise_dim >= 0, got {self.code_dim}, {self.noise_dim}")


CONFIGS = {"mnist": IAEConfig(code_dim=20), "svhn": IAEConfig(code_dim=150), "cifar10": IAEConfig(code_dim=150),
           "celeba": IAEConfig(code_dim=150)}
#: the slides' stochastic settings, as model overrides (e.g. --set model.code_dim=10 --set model.noise_dim=100)
STOCHASTIC = {"mnist": (("code_dim", 10), ("noise_dim", 100)), "svhn": (("code_dim", 75), ("noise_dim", 1000)),
              "cifar10": (("code_dim", 75), ("noise_dim", 1000)), "celeba": (("code_dim", 50), ("noise_dim", 1000))}


def with_code(arch: ImageArch, code_dim: int) -> ImageArch:
    """The architecture with a global code of `code_dim` dimensions (the encoder's output layer resized)."""
    last = arch.encoder[-1]
    return replace(arch, z_dim=code_dim, encoder=arch.encoder[:-1] + (replace(last, out=2 * code_dim),))


class ImageIAE(ImageAutoencoder):
    def __init__(self, arch: ImageArch, config: IAEConfig = IAEConfig(), seed: int = 0, runtime: Runtime = Runtime()):
        code_arch = with_code(arch, config.code_dim)
        super().__init__(code_arch, seed, runtime)
        self.config = config
        with seeded(self.init_seed):
            self.encoder = Encoder(code_arch)
            self.decoder = Decoder(code_arch, in_channels=config.code_dim + config.noise_dim)
            self.d_rec = JointDiscriminator(code_arch)
            self.d_reg = ConvStack(config.code_dim, code_arch.d_z + (Layer(1, 1, bn=False, act=False),),
                                   code_arch.slope)
        self.finish()
        self.optimizers = {name: config.adam(getattr(self, name).parameters())
                           for name in ("d_rec", "d_reg", "decoder", "encoder")}

    @property
    def decoder_noise_dim(self) -> int:
        """The local noise's dimensions: > 0 makes reconstructions stochastic (and draws their figure)."""
        return self.config.noise_dim

    def _encode(self, x: torch.Tensor) -> Encoding:
        mu, log_sigma = self.encoder(x)
        if self.config.posterior == "deterministic":
            return Encoding(mu, mu)
        return Encoding(mu, self.sample_like(mu, log_sigma))

    def _decoder_input(self, z: torch.Tensor) -> torch.Tensor:
        """[z; n], n ~ N(0, I) the local noise (nothing when noise_dim is 0)."""
        if not self.config.noise_dim:
            return z
        n = self.randn(len(z), self.config.noise_dim, *z.shape[2:]).to(z.dtype)
        return torch.cat([z, n], dim=1)

    def players(self, batch: torch.Tensor) -> dict[str, Player]:
        x = self.images(batch)
        n = len(x)
        z = self._encode(x).sample
        x_rec = self.decoder(self._decoder_input(z))
        rec_logits = self.d_rec(torch.cat([x, x_rec]), torch.cat([z, z])).view(1, -1)
        d_rec_loss, g_rec_loss = adversarial_losses(rec_logits, n)
        prior = self.randn(n, self.config.code_dim, 1, 1).to(z.dtype)
        reg_logits = self.d_reg(torch.cat([prior, z])).view(1, -1)
        d_reg_loss, g_reg_loss = adversarial_losses(reg_logits, n)
        return {"d_rec": Player(d_rec_loss, list(self.d_rec.parameters()), self.optimizers["d_rec"]),
                "d_reg": Player(d_reg_loss, list(self.d_reg.parameters()), self.optimizers["d_reg"]),
                "decoder": Player(g_rec_loss, list(self.decoder.parameters()), self.optimizers["decoder"]),
                "encoder": Player(g_rec_loss + g_reg_loss, list(self.encoder.parameters()),
                                  self.optimizers["encoder"])}

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """G(z, n): a fresh draw of the local noise for each call (stochastic mode)."""
        self.eval()
        return self.decoder(self._decoder_input(z))

    @torch.no_grad()
    def discriminator_features(self, x: torch.Tensor) -> torch.Tensor:
        """The x pathway of the reconstruction discriminator, flattened."""
        self.eval()
        return self.d_rec.d_x(x).flatten(1)


class ToyIAE(NoiseEncoderModel):
    """The IAE's four-player game on the mixture, R runs stacked: the gmm ALI's encoder z = E([x, eps]) and decoder
    G(z) [ours: no local noise, a 2-d code reconstructs 2-d points], D_rec on (x, z) vs (G(z), z), D_reg on prior
    draws vs codes, every player with its run's Adam."""

    def __init__(self, sizes, hparams, seeds, device="cpu"):
        super().__init__(sizes, hparams, seeds, device)
        self.d_rec = toy.Discriminator(self.init_gens, sizes, self.init_std, sizes.x_dim + sizes.z_dim)
        self.d_reg = toy.Discriminator(self.init_gens, sizes, self.init_std, sizes.z_dim)
        self.optimizers = {name: self.adam(list(getattr(self, name).parameters()))
                           for name in ("d_rec", "d_reg", "decoder", "encoder")}

    def players(self, batch: torch.Tensor) -> dict[str, Player]:
        n = batch.shape[1]
        z = self._encode(batch, self.noise)
        pairs = torch.cat([torch.cat([batch, z], -1), torch.cat([self.decoder(z), z], -1)], dim=1)
        d_rec_loss, g_rec_loss = adversarial_losses(self.d_rec(pairs), n)
        prior = self.noise.randn(n, self.sizes.z_dim)
        d_reg_loss, g_reg_loss = adversarial_losses(self.d_reg(torch.cat([prior, z], dim=1)), n)

        def player(name: str, loss: torch.Tensor) -> Player:
            return Player(loss, list(getattr(self, name).parameters()), self.optimizers[name])

        return {"d_rec": player("d_rec", d_rec_loss), "d_reg": player("d_reg", d_reg_loss),
                "decoder": player("decoder", g_rec_loss), "encoder": player("encoder", g_rec_loss + g_reg_loss)}


def _builder(arch: ImageArch):
    def build(config: IAEConfig = CONFIGS[arch.name], seed: int = 0, runtime: Runtime = Runtime()):
        return ImageIAE(arch, config, seed, runtime)
    return build


MODELS.register("iae", ModelEntry(
    "iae", "Implicit Autoencoder: a reconstruction GAN on (x, z) with an implicit decoder G(z, n) and a "
    "regularisation GAN on z (Makhzani 2018)",
    {**{a.name: _builder(a) for a in IMAGE_ARCHS if a.name in CONFIGS}, "toy": ToyIAE}, CONFIGS))

