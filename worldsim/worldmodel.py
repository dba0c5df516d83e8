"""The world model as one object: frame autoencoder + DiT, saved and loaded as one checkpoint.

Loading treats the checkpoint as untrusted: the configs are checked against :data:`AUTOENCODER_BOUNDS`
and :data:`DIT_BOUNDS` and the model's size against :data:`MAX_ELEMENTS` before anything is allocated,
and the weights file against the size that architecture implies before it is read.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from itertools import chain
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .autoencoder import Autoencoder, AutoencoderConfig
from .checkpoint import (
    Bounds,
    CheckpointError,
    checkpoint_hash,
    config_from_dict,
    read_header,
    read_weights,
    save_checkpoint,
)
from .frame_heads import FrameHeads, FrameHeadsConfig
from .model import DiT, DiTConfig

KIND = "worldmodel"

DEFAULT_CHECKPOINT = Path(__file__).resolve().parent / "checkpoints" / "default"
"""The checkpoint shipped with the package."""


def default_checkpoint() -> Path:
    """The shipped checkpoint, or the directory in ``WORLDSIM_CHECKPOINT`` when it is set."""
    return Path(os.environ.get("WORLDSIM_CHECKPOINT", DEFAULT_CHECKPOINT))

AUTOENCODER_BOUNDS: dict[str, Bounds] = {
    "image_size": Bounds(8, 4096),
    "latent_channels": Bounds(1, 1024),
    "channels": Bounds(1, 8192, length=(1, 10)),
    "decoder_channels": Bounds(1, 8192, length=(1, 10)),
}
"""What a checkpoint's autoencoder config may hold; generous, but each value far below what would
exhaust memory."""

# DiT inputs that earlier versions had, each with the value that turned it off (what older checkpoints
# record); a checkpoint that turned one on needs the version that trained it
RETIRED_DIT_FIELDS: dict[str, Any] = {"prev_noise_cond": False}

DIT_BOUNDS: dict[str, Bounds] = {
    "latent_channels": Bounds(1, 1024),
    "latent_size": Bounds(1, 1024),
    "patch": Bounds(1, 64, length=(3, 3)),
    "width": Bounds(2, 16384),
    "depth": Bounds(1, 256),
    "heads": Bounds(1, 1024),
    "mlp_ratio": Bounds(0.0, 64.0),
    "action_dim": Bounds(1, 65536),
    "text_dim": Bounds(1, 65536),
    "window": Bounds(1, 65536),
    "rope_base": Bounds(1e-6, 1e12),
    "residual_scale": Bounds(0.0, 1e6),
}
"""What a checkpoint's DiT config may hold; generous, but each value far below what would exhaust memory
(the product of several is bounded by :data:`MAX_ELEMENTS`)."""

FRAME_HEADS_BOUNDS: dict[str, Bounds] = {
    "image_size": Bounds(8, 4096),
    "action_dim": Bounds(1, 65536),
    "channels": Bounds(1, 8192, length=(1, 10)),
    "hidden": Bounds(1, 65536),
}
"""What the optional ``frame_heads`` section of a checkpoint's config may hold."""

STORAGE_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
"""Precisions a checkpoint's floating-point weights may be stored in (:meth:`WorldModel.save`)."""

MAX_ELEMENTS = 2**30
"""Most parameter and buffer elements a loaded world model may have."""

_HEADER_ALLOWANCE = 64 * 2**10  # safetensors header: fixed part ...
_HEADER_PER_TENSOR = 1024  # ... and one JSON entry per tensor


def resolve_checkpoint(path: str | os.PathLike | None) -> Path:
    """``path`` as a directory, or the default checkpoint (:func:`default_checkpoint`) when it is None."""
    return Path(path) if path else default_checkpoint()


class WorldModel(nn.Module):
    """Autoencoder and DiT that belong together (the DiT was trained on this autoencoder's latents),
    and optionally reward and termination heads that read the decoded frames
    (:class:`~worldsim.frame_heads.FrameHeads`)."""

    def __init__(self, autoencoder: Autoencoder, dit: DiT, frame_heads: FrameHeads | None = None):
        super().__init__()
        if autoencoder.cfg.latent_channels != dit.cfg.latent_channels or \
                autoencoder.cfg.latent_size != dit.cfg.latent_size:
            raise ValueError(
                f"autoencoder latents are {autoencoder.cfg.latent_channels}x{autoencoder.cfg.latent_size}^2 "
                f"but the DiT expects {dit.cfg.latent_channels}x{dit.cfg.latent_size}^2"
            )
        if frame_heads is not None and (frame_heads.cfg.image_size, frame_heads.cfg.action_dim) != \
                (autoencoder.cfg.image_size, dit.cfg.action_dim):
            raise ValueError(
                f"frame heads read {frame_heads.cfg.image_size}px frames and {frame_heads.cfg.action_dim}-D actions "
                f"but the model makes {autoencoder.cfg.image_size}px frames from {dit.cfg.action_dim}-D actions"
            )
        self.autoencoder = autoencoder
        self.dit = dit
        self.frame_heads = frame_heads
        self.meta: dict[str, Any] = {}
        self.checkpoint_hash = ""

    def save(self, directory: str | os.PathLike, meta: dict[str, Any] | None = None,
             storage: str = "float32") -> Path:
        """Write the checkpoint (``config.json`` + ``weights.safetensors``) as one unit.

        ``storage`` is the precision its floating-point weights are stored in: ``float16`` or
        ``bfloat16`` halve the file (for shipping a checkpoint; training saves ``float32``, which
        resuming needs). Loading turns them back into the model's ``float32``.

        Raises:
            CheckpointError: if a weight is NaN or inf (the checkpoint already at ``directory`` is kept).
            ValueError: for an unknown ``storage``, or a weight too large for ``float16``.
        """
        if storage not in STORAGE_DTYPES:
            raise ValueError(f"storage must be one of {sorted(STORAGE_DTYPES)}, got {storage!r}")
        dtype = STORAGE_DTYPES[storage]
        tensors = self.state_dict()
        if dtype == torch.float16:
            big = [k for k, t in tensors.items() if t.is_floating_point() and t.abs().max() > torch.finfo(dtype).max]
            if big:
                raise ValueError(f"{big[:3]} hold values beyond float16's range; store in bfloat16 or float32")
        tensors = {k: t.to(dtype) if t.is_floating_point() else t for k, t in tensors.items()}
        config = {"autoencoder": asdict(self.autoencoder.cfg), "dit": asdict(self.dit.cfg)}
        if self.frame_heads is not None:
            config["frame_heads"] = asdict(self.frame_heads.cfg)
        return save_checkpoint(directory, kind=KIND, config=config, tensors=tensors, meta=meta)

    @classmethod
    def load(cls, directory: str | os.PathLike, device: torch.device | str = "cpu") -> WorldModel:
        """Rebuild the architecture from the config and load the weights; never unpickles.

        Raises:
            CheckpointError: for a missing, corrupt, foreign or hostile checkpoint: a config out of bounds
                or of the wrong types, a weights file larger than the config implies, weights that are
                not finite or do not fit the architecture the config describes.
        """
        header = read_header(directory, kind=KIND)
        where = str(header.directory)
        ae_cfg, dit_cfg, heads_cfg = configs_from_dict(header.config, where=where)
        tensors = read_weights(header, max_bytes=_weights_size_bound(ae_cfg, dit_cfg, heads_cfg, where))
        model = cls(Autoencoder(ae_cfg), DiT(dit_cfg), FrameHeads(heads_cfg) if heads_cfg else None)
        _check_tensors_fit(model, tensors, where)
        model.load_state_dict(tensors)
        model.meta = header.meta
        # the hash the loaded weights were checked against, not a re-read that a concurrent save could change
        model.checkpoint_hash = (header.weights_sha256 or checkpoint_hash(header.directory))[:16]
        return model.to(device).eval()


def configs_from_dict(config: dict[str, Any], *, where: str
                      ) -> tuple[AutoencoderConfig, DiTConfig, FrameHeadsConfig | None]:
    """The autoencoder, DiT and (optional) frame-heads configs of a world-model ``config.json``, checked
    against the bounds.

    Raises:
        CheckpointError: for a missing or unknown section, or a config :func:`config_from_dict` refuses,
            or parts that cannot work together.
    """
    sections, optional = {"autoencoder", "dit"}, {"frame_heads"}
    if not sections <= set(config) <= sections | optional:
        raise CheckpointError(
            f"{where}: config.json must have the sections {sorted(sections)} (and optionally {sorted(optional)}), "
            f"has {sorted(map(str, config))}. The checkpoint is damaged or not a world model."
        )
    ae = config_from_dict(AutoencoderConfig, config["autoencoder"], where=where, bounds=AUTOENCODER_BOUNDS)
    dit = config_from_dict(DiTConfig, config["dit"], where=where, bounds=DIT_BOUNDS, retired=RETIRED_DIT_FIELDS)
    _check_autoencoder_shape(ae, where)
    if (ae.latent_channels, ae.latent_size) != (dit.latent_channels, dit.latent_size):
        raise CheckpointError(
            f"{where}: the autoencoder makes {ae.latent_channels}x{ae.latent_size}^2 latents but the DiT expects "
            f"{dit.latent_channels}x{dit.latent_size}^2. The two configs come from different models."
        )
    if "frame_heads" not in config:
        return ae, dit, None
    heads = config_from_dict(FrameHeadsConfig, config["frame_heads"], where=where, bounds=FRAME_HEADS_BOUNDS)
    if (heads.image_size, heads.action_dim) != (ae.image_size, dit.action_dim):
        raise CheckpointError(
            f"{where}: the frame heads read {heads.image_size}px frames and {heads.action_dim}-D actions, the model "
            f"makes {ae.image_size}px frames from {dit.action_dim}-D actions. The configs come from different models."
        )
    return ae, dit, heads


def _check_autoencoder_shape(cfg: AutoencoderConfig, where: str) -> None:
    if len(cfg.decoder_channels) != len(cfg.channels):
        raise CheckpointError(
            f"{where}: the autoencoder has {len(cfg.channels)} encoder widths but {len(cfg.decoder_channels)} "
            "decoder widths; a decoder undoes each downsample of the encoder, so they must match."
        )
    if cfg.image_size % cfg.downsample:
        raise CheckpointError(
            f"{where}: image_size {cfg.image_size} is not divisible by the autoencoder's downsampling "
            f"{cfg.downsample} (2 per encoder width after the first)."
        )


def _weights_size_bound(ae_cfg: AutoencoderConfig, dit_cfg: DiTConfig, heads_cfg: FrameHeadsConfig | None,
                        where: str) -> int:
    """Most bytes a weights file for this architecture can hold, found without allocating any weights.

    Raises:
        CheckpointError: if the configs cannot be built, or describe a model over :data:`MAX_ELEMENTS`.
    """
    try:
        with torch.device("meta"):  # shapes only: nothing is allocated
            model = WorldModel(Autoencoder(ae_cfg), DiT(dit_cfg), FrameHeads(heads_cfg) if heads_cfg else None)
    except (ValueError, TypeError, RuntimeError, ArithmeticError) as e:
        raise CheckpointError(f"{where}: config.json describes a model that cannot be built ({e}). "
                              "The checkpoint is damaged; restore it from a good copy.") from e
    elements = sum(t.numel() for t in chain(model.parameters(), model.buffers()))
    if elements > MAX_ELEMENTS:
        raise CheckpointError(
            f"{where}: config.json describes a model of {elements} parameter and buffer elements, more than the "
            f"{MAX_ELEMENTS} this loader accepts. The checkpoint is damaged or not a worldsim model."
        )
    state = model.state_dict()
    data = sum(t.numel() * t.element_size() for t in state.values())
    return 8 + _HEADER_ALLOWANCE + _HEADER_PER_TENSOR * len(state) + data


def _check_tensors_fit(model: nn.Module, tensors: dict[str, torch.Tensor], where: str) -> None:
    """Refuse weights whose names, shapes or dtypes differ from the model's."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in tensors]
    unexpected = [k for k in tensors if k not in expected]
    if missing or unexpected:
        raise CheckpointError(
            f"{where}: weights do not match the architecture in config.json "
            f"(missing {missing[:5]}, unexpected {unexpected[:5]}). The files come from different saves."
        )
    for name, t in expected.items():
        got = tensors[name]
        stored_lower = t.dtype == torch.float32 and got.dtype in STORAGE_DTYPES.values()
        if got.shape != t.shape or (got.dtype != t.dtype and not stored_lower):
            raise CheckpointError(
                f"{where}: weights do not fit the architecture in config.json: {name} is "
                f"{got.dtype} {tuple(got.shape)}, the model expects {t.dtype} {tuple(t.shape)}. "
                "The files come from different saves."
            )
