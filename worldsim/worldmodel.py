"""The world model as one object: frame autoencoder + DiT, saved and loaded as one checkpoint."""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .autoencoder import Autoencoder, AutoencoderConfig
from .checkpoint import CheckpointError, checkpoint_hash, config_from_dict, load_checkpoint, save_checkpoint
from .model import DiT, DiTConfig

KIND = "worldmodel"


class WorldModel(nn.Module):
    """Autoencoder and DiT that belong together (the DiT was trained on this autoencoder's latents)."""

    def __init__(self, autoencoder: Autoencoder, dit: DiT):
        super().__init__()
        if autoencoder.cfg.latent_channels != dit.cfg.latent_channels or \
                autoencoder.cfg.latent_size != dit.cfg.latent_size:
            raise ValueError(
                f"autoencoder latents are {autoencoder.cfg.latent_channels}x{autoencoder.cfg.latent_size}^2 "
                f"but the DiT expects {dit.cfg.latent_channels}x{dit.cfg.latent_size}^2"
            )
        self.autoencoder = autoencoder
        self.dit = dit
        self.meta: dict[str, Any] = {}
        self.checkpoint_hash = ""

    def save(self, directory: str | os.PathLike, meta: dict[str, Any] | None = None) -> Path:
        """Write the checkpoint (``config.json`` + ``weights.safetensors``)."""
        config = {"autoencoder": asdict(self.autoencoder.cfg), "dit": asdict(self.dit.cfg)}
        return save_checkpoint(directory, kind=KIND, config=config, tensors=self.state_dict(), meta=meta)

    @classmethod
    def load(cls, directory: str | os.PathLike, device: torch.device | str = "cpu") -> WorldModel:
        """Rebuild the architecture from the config and load the weights; never unpickles.

        Raises:
            CheckpointError: for a missing, corrupt or foreign checkpoint, or weights that do not fit
                the architecture the config describes.
        """
        config, tensors, meta = load_checkpoint(directory, kind=KIND)
        try:
            ae_cfg = config_from_dict(AutoencoderConfig, config["autoencoder"], where=str(directory))
            dit_cfg = config_from_dict(DiTConfig, config["dit"], where=str(directory))
        except KeyError as e:
            raise CheckpointError(f"{directory}: config.json lacks the {e} section") from e
        model = cls(Autoencoder(ae_cfg), DiT(dit_cfg))
        try:
            missing, unexpected = model.load_state_dict(tensors, strict=False)
        except RuntimeError as e:  # shape mismatches
            raise CheckpointError(f"{directory}: weights do not fit the architecture in config.json: {e}") from e
        if missing or unexpected:
            raise CheckpointError(
                f"{directory}: weights do not match the architecture in config.json "
                f"(missing {missing[:5]}, unexpected {unexpected[:5]}). The files come from different saves."
            )
        model.meta = meta
        model.checkpoint_hash = checkpoint_hash(directory)
        return model.to(device).eval()
