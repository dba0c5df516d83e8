"""Per-frame convolutional autoencoder: 64x64x3 uint8 frames <-> normalised latents.

One frame maps to one latent frame, so one environment step adds one latent frame to the
simulator's context. The scenes are mostly a static floor with a few objects 4-8 px across, and
a plain pixel loss learns the floor and drops the objects. The training loss therefore weights the
pixels that differ from the batch's median background (``fg_weight``), and quality is judged by
object centroids as well as PSNR.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from einops import rearrange
from torch import Tensor, nn

# --------------------------------------------------------------------------------------------
#                                         Config
# --------------------------------------------------------------------------------------------


@dataclass
class AutoencoderConfig:
    """Architecture of the frame autoencoder."""

    image_size: int = 64
    """Frames are square, image_size pixels a side."""
    latent_channels: int = 8
    """Channels C of the latent."""
    channels: tuple[int, ...] = (16, 32, 64)
    """Encoder widths; each entry after the first adds one stride-2 downsample."""
    decoder_channels: tuple[int, ...] = (64, 32, 16)
    """Decoder widths, from the latent up; kept lean because the decoder runs every env step."""

    @property
    def downsample(self) -> int:
        return 2 ** (len(self.channels) - 1)

    @property
    def latent_size(self) -> int:
        return self.image_size // self.downsample


# --------------------------------------------------------------------------------------------
#                                         Layers
# --------------------------------------------------------------------------------------------


class ResBlock(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.GroupNorm(8, ch), nn.SiLU(), nn.Conv2d(ch, ch, 3, padding=1),
            nn.GroupNorm(8, ch), nn.SiLU(), nn.Conv2d(ch, ch, 3, padding=1),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.net(x)


class Encoder(nn.Module):
    def __init__(self, cfg: AutoencoderConfig):
        super().__init__()
        ch = cfg.channels
        layers: list[nn.Module] = [nn.Conv2d(3, ch[0], 3, padding=1), nn.SiLU()]  # no full-resolution block
        for c_in, c_out in zip(ch[:-1], ch[1:]):
            layers += [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1), ResBlock(c_out)]
        layers += [nn.GroupNorm(8, ch[-1]), nn.SiLU(), nn.Conv2d(ch[-1], cfg.latent_channels, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class Decoder(nn.Module):
    def __init__(self, cfg: AutoencoderConfig):
        super().__init__()
        ch = cfg.decoder_channels
        n_up = len(cfg.channels) - 1
        if len(ch) != n_up + 1:
            raise ValueError(
                f"decoder_channels needs {n_up + 1} entries to undo {n_up} downsamples, got {ch}"
            )
        if any(c < 8 or c % 8 for c in ch):
            raise ValueError(f"decoder_channels must be multiples of 8 (the group norms' 8 groups), got {ch}")
        layers: list[nn.Module] = [nn.Conv2d(cfg.latent_channels, ch[0], 3, padding=1), ResBlock(ch[0])]
        for i, (c_in, c_out) in enumerate(zip(ch[:-1], ch[1:])):
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, padding=1)]
            layers += [ResBlock(c_out)] if i < len(ch) - 2 else [nn.SiLU()]  # no full-resolution block
        layers += [nn.GroupNorm(8, ch[-1]), nn.SiLU(), nn.Conv2d(ch[-1], 3, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


# --------------------------------------------------------------------------------------------
#                                       Autoencoder
# --------------------------------------------------------------------------------------------


class Autoencoder(nn.Module):
    """Frame autoencoder with stored latent normalisation.

    ``encode`` takes uint8 frames ``(..., H, W, 3)`` and returns normalised latents
    ``(..., C, h, w)`` with roughly zero mean and unit variance per channel; ``decode`` inverts it
    back to uint8 frames. The normalisation (``shift``, ``scale``) is fitted after training by
    :meth:`fit_normalisation` and saved with the weights.
    """

    def __init__(self, cfg: AutoencoderConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        self.register_buffer("shift", torch.zeros(cfg.latent_channels))
        self.register_buffer("scale", torch.ones(cfg.latent_channels))

    # -- pixels <-> raw latents (used in training) --

    @staticmethod
    def to_float(frames: Tensor) -> Tensor:
        """uint8 ``(N, H, W, 3)`` -> float ``(N, 3, H, W)`` in [-1, 1]."""
        return rearrange(frames, "n h w c -> n c h w").float() / 127.5 - 1.0

    @staticmethod
    def to_uint8(images: Tensor) -> Tensor:
        """float ``(N, 3, H, W)`` in [-1, 1] -> uint8 ``(N, H, W, 3)``."""
        x = ((images.clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8)
        return rearrange(x, "n c h w -> n h w c")

    def reconstruct(self, images: Tensor) -> Tensor:
        """float images ``(N, 3, H, W)`` -> reconstructions, same shape (training path)."""
        return self.decoder(self.encoder(images))

    # -- frames <-> normalised latents (used by the world model) --

    def encode(self, frames: Tensor) -> Tensor:
        """uint8 frames ``(..., H, W, 3)`` -> normalised latents ``(..., C, h, w)``."""
        lead = frames.shape[:-3]
        x = self.to_float(frames.reshape(-1, *frames.shape[-3:]))  # (N, 3, H, W)
        z = self.encoder(x)  # (N, C, h, w)
        z = (z - self.shift[:, None, None]) / self.scale[:, None, None]
        return z.reshape(*lead, *z.shape[1:])

    def decode(self, latents: Tensor) -> Tensor:
        """Normalised latents ``(..., C, h, w)`` -> uint8 frames ``(..., H, W, 3)``."""
        lead = latents.shape[:-3]
        z = latents.reshape(-1, *latents.shape[-3:])  # (N, C, h, w)
        z = z * self.scale[:, None, None] + self.shift[:, None, None]
        # channels-last activations take the convolutions' faster path (the frames agree with the default
        # layout's to within one level, in rare pixels); the decoder runs every step of every rollout
        x = self.to_uint8(self.decoder(z.contiguous(memory_format=torch.channels_last)))  # (N, H, W, 3)
        return x.reshape(*lead, *x.shape[1:])

    @torch.no_grad()
    def round_trip(self, frames: np.ndarray) -> np.ndarray:
        """uint8 frames ``(..., H, W, 3)`` encoded and decoded again: the best any generated frame can
        look, since generated frames come out of the same decoder."""
        return self.decode(self.encode(torch.from_numpy(frames).to(self.shift.device))).cpu().numpy()

    @torch.no_grad()
    def fit_normalisation(self, frames: Tensor, batch_size: int = 256) -> None:
        """Set ``shift``/``scale`` to the per-channel mean/std of the raw latents of ``frames``."""
        raw = torch.cat([
            self.encoder(self.to_float(frames[i:i + batch_size]))
            for i in range(0, len(frames), batch_size)
        ])  # (N, C, h, w)
        self.shift.copy_(raw.mean(dim=(0, 2, 3)))
        self.scale.copy_(raw.std(dim=(0, 2, 3)).clamp_min(1e-4))

    def config_dict(self) -> dict:
        return asdict(self.cfg)


def foreground_weighted_loss(recon: Tensor, target: Tensor, fg_weight: float) -> Tensor:
    """L1 + L2 reconstruction loss with extra weight on pixels that differ from the background.

    The background is the per-pixel median over the batch: with objects in different places in
    each frame, the median is the empty floor. Pixels more than 0.1 (in [-1, 1] units) away from it,
    in any channel, count ``fg_weight`` times.

    Args:
        recon: Reconstructions ``(N, 3, H, W)`` in [-1, 1].
        target: Targets ``(N, 3, H, W)`` in [-1, 1].
        fg_weight: Weight of a foreground pixel relative to a background pixel.
    """
    background = target.median(dim=0, keepdim=True).values  # (1, 3, H, W)
    fg = ((target - background).abs().amax(dim=1, keepdim=True) > 0.1).float()  # (N, 1, H, W)
    weight = 1.0 + (fg_weight - 1.0) * fg  # (N, 1, H, W)
    err = recon - target
    return ((err.abs() + err.square()) * weight).sum() / (weight.sum() * 3)


def psnr_float(recon: Tensor, target: Tensor) -> float:
    """PSNR in dB between float images in [-1, 1] (for training logs)."""
    mse = F.mse_loss(recon.clamp(-1, 1), target).item() / 4.0  # rescale to [0, 1] range
    return float("inf") if mse == 0 else -10.0 * torch.log10(torch.tensor(mse)).item()
