"""Small random world models for tests."""

from __future__ import annotations

import torch

from worldsim.autoencoder import Autoencoder, AutoencoderConfig
from worldsim.model import DiT, DiTConfig, TextCond
from worldsim.worldmodel import WorldModel


def tiny_dit(randomise: bool = True, **kw) -> DiT:
    """A 2-block DiT on 4x8x8 latents; ``randomise`` replaces the zero init so every path matters."""
    cfg = dict(latent_channels=4, latent_size=8, width=32, depth=2, heads=2, action_dim=2, window=3, text_dim=16)
    cfg.update(kw)
    torch.manual_seed(0)
    dit = DiT(DiTConfig(**cfg))
    if randomise:
        with torch.no_grad():
            for p in dit.parameters():
                p.normal_(0, 0.1)
    return dit.eval()


def tiny_world_model(**kw) -> WorldModel:
    torch.manual_seed(1)
    ae = Autoencoder(AutoencoderConfig(image_size=32, latent_channels=4, channels=(8, 8, 8),
                                       decoder_channels=(8, 8, 8)))
    return WorldModel(ae, tiny_dit(**kw)).eval()


def random_text(batch: int, dim: int = 16, tokens: int = 5) -> TextCond:
    mask = torch.ones(batch, tokens, dtype=torch.bool)
    mask[:, -2:] = False
    return TextCond(torch.randn(batch, tokens, dim), mask, torch.randn(batch, dim))


def random_inputs(dit: DiT, batch: int = 2, steps: int = 4, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    c = dit.cfg
    shape = (batch, steps * c.patch[0], c.latent_channels, c.latent_size, c.latent_size)
    x = torch.randn(shape, generator=g)
    prev = torch.randn(shape, generator=g)
    sigma = torch.rand(batch, steps, generator=g)
    action = torch.randn(batch, steps, c.action_dim, generator=g)
    first = torch.zeros(batch, steps, dtype=torch.bool)
    first[:, 0] = True
    return x, prev, sigma, action, first


def json_paths(node, prefix=()):
    """Every key path into nested dicts and lists, the empty path (the whole) first."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from json_paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from json_paths(v, (*prefix, i))
