"""Checkpoints: safetensors for tensors, JSON for everything else.

A checkpoint is a directory::

    config.json          {"format": "worldsim", "version": 1, "kind": ..., "config": {...}, "meta": {...}}
    weights.safetensors  flat name -> tensor map

Loading never unpickles anything, so opening a checkpoint cannot run code. Files are written to a
temporary name and moved into place, so an interrupted save leaves the previous checkpoint intact.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save

from .fileio import atomic_write_bytes, atomic_write_json, file_sha256

__all__ = ["atomic_write_bytes", "atomic_write_json", "file_sha256"]  # re-exported for callers

FORMAT = "worldsim"
VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.safetensors"


class CheckpointError(RuntimeError):
    """A checkpoint is missing, corrupt, or was made for something else."""


def save_tensors(path: str | os.PathLike, tensors: dict[str, torch.Tensor],
                 metadata: dict[str, str] | None = None) -> None:
    """Save a flat tensor map as safetensors, atomically, with optional string ``metadata``."""
    atomic_write_bytes(path, save({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, metadata=metadata))


def checkpoint_hash(directory: str | os.PathLike) -> str:
    """The short id of a checkpoint: the first 16 hex digits of its weights' SHA-256.

    Read from the hash that :func:`save_checkpoint` records in ``config.json`` (which every load
    checks against the weights), so it costs no second pass over the file; hashed afresh for a
    checkpoint that records none.
    """
    directory = Path(directory)
    try:
        recorded = json.loads((directory / CONFIG_FILE).read_text()).get("weights_sha256")
    except (OSError, ValueError, AttributeError):
        recorded = None
    if isinstance(recorded, str) and len(recorded) == 64:
        return recorded[:16]
    return file_sha256(directory / WEIGHTS_FILE)[:16]


def tensor_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The string metadata a safetensors file was saved with (empty if none or unreadable)."""
    try:
        with safe_open(str(path), framework="pt") as f:
            return dict(f.metadata() or {})
    except (SafetensorError, OSError, ValueError):
        return {}


def module_fingerprint(module: torch.nn.Module) -> str:
    """A short hash of a module's weights: changes whenever any parameter or buffer does."""
    h = hashlib.sha256()
    for name, t in sorted(module.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]


def load_tensors(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Load a safetensors file, turning any parse failure into a :class:`CheckpointError`."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path} does not exist")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(
            f"{path} is not a readable safetensors file ({e}). It is corrupt or was cut short: "
            "delete it and resume training from an earlier checkpoint, or re-download the release."
        ) from e


def save_checkpoint(
    directory: str | os.PathLike,
    *,
    kind: str,
    config: dict[str, Any],
    tensors: dict[str, torch.Tensor],
    meta: dict[str, Any] | None = None,
) -> Path:
    """Write a checkpoint directory (weights first, then the config that names them).

    Args:
        directory: Target directory; created if needed.
        kind: What the checkpoint holds, e.g. ``"worldmodel"``; checked on load.
        config: JSON-safe architecture config, enough to rebuild the modules.
        tensors: Flat name -> tensor map.
        meta: Free-form JSON-safe extras (training step, data description, metrics).
    """
    directory = Path(directory)
    save_tensors(directory / WEIGHTS_FILE, tensors)
    digest = file_sha256(directory / WEIGHTS_FILE)
    header = {"format": FORMAT, "version": VERSION, "kind": kind, "config": config,
              "meta": meta or {}, "weights_sha256": digest}
    atomic_write_json(directory / CONFIG_FILE, header)
    return directory


def load_checkpoint(directory: str | os.PathLike, *, kind: str) -> tuple[dict, dict[str, torch.Tensor], dict]:
    """Read a checkpoint directory written by :func:`save_checkpoint`.

    Returns:
        ``(config, tensors, meta)``.

    Raises:
        CheckpointError: if the directory is missing, not a worldsim checkpoint, of another kind or
            version, or its weights do not match the hash recorded beside them.
    """
    directory = Path(directory)
    cfg_path = directory / CONFIG_FILE
    if not cfg_path.is_file():
        raise CheckpointError(
            f"{directory} is not a worldsim checkpoint: {CONFIG_FILE} is missing. "
            "Pass the directory that `worldsim train` wrote (it holds config.json and weights.safetensors)."
        )
    try:
        header = json.loads(cfg_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{cfg_path} is not valid JSON ({e}); the checkpoint is corrupt.") from e
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CheckpointError(f"{cfg_path} is not a worldsim checkpoint (no \"format\": \"{FORMAT}\").")
    if header.get("version") != VERSION:
        raise CheckpointError(
            f"{directory} has checkpoint version {header.get('version')}, this worldsim reads {VERSION}."
        )
    if header.get("kind") != kind:
        raise CheckpointError(f"{directory} holds a {header.get('kind')!r} checkpoint, expected {kind!r}.")
    weights = directory / WEIGHTS_FILE
    expected = header.get("weights_sha256")
    if expected and weights.is_file() and file_sha256(weights) != expected:
        raise CheckpointError(
            f"{weights} does not match the hash in {CONFIG_FILE}: the file is corrupt or was replaced. "
            "Restore both files from the same save."
        )
    return header["config"], load_tensors(weights), header.get("meta", {})


def config_from_dict(cls: type, data: dict[str, Any], *, where: str) -> Any:
    """Build dataclass ``cls`` from ``data``, refusing unknown fields with a clear message.

    Tuples survive the JSON round trip: list values are turned back into tuples where the field's
    default is a tuple.
    """
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise CheckpointError(
            f"{where}: unknown {cls.__name__} fields {unknown}; known fields are {sorted(names)}. "
            "The checkpoint was written by a different worldsim version."
        )
    kwargs = {}
    for key, value in data.items():
        default = names[key].default
        kwargs[key] = tuple(value) if isinstance(value, list) and isinstance(default, tuple) else value
    return cls(**kwargs)


def flatten_optimizer_state(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimizer's state dict into tensors (for safetensors) and JSON-safe scalars."""
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, Any] = {"param_groups": sd["param_groups"], "state": {}}
    for pid, state in sd["state"].items():
        scalars["state"][str(pid)] = {}
        for name, value in state.items():
            if torch.is_tensor(value):
                tensors[f"{pid}.{name}"] = value
            else:
                scalars["state"][str(pid)][name] = value
    return tensors, scalars


def unflatten_optimizer_state(tensors: dict[str, torch.Tensor], scalars: dict[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`flatten_optimizer_state`: a dict ready for ``optimizer.load_state_dict``."""
    state: dict[int, dict[str, Any]] = {int(pid): dict(v) for pid, v in scalars["state"].items()}
    for key, value in tensors.items():
        pid, name = key.split(".", 1)
        state.setdefault(int(pid), {})[name] = value
    return {"state": state, "param_groups": scalars["param_groups"]}
