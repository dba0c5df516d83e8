"""Checkpoints: safetensors for tensors, JSON for everything else.

A checkpoint is a directory that holds these two files and nothing else::

    config.json          {"format": "worldsim", "version": 1, "kind": ..., "config": {...}, "meta": {...},
                          "weights_sha256": ...}
    weights.safetensors  flat name -> tensor map

**A save is all or nothing.** The whole checkpoint is written and fsync'd in a fresh sibling
directory ``.<name>.<pid>.<random>.new``, which then takes the place of ``<name>``:

* where the OS can exchange two directories in one step (Linux ``renameat2(RENAME_EXCHANGE)``), it
  does, so ``<name>`` holds a complete checkpoint at every instant, and the old one is removed after;
* elsewhere ``<name>`` is renamed aside to ``.<name>.old``, the new directory is renamed in, and the
  old one is removed. A crash between the two renames leaves the previous checkpoint at
  ``.<name>.old`` and nothing at ``<name>``; the next load or save of ``<name>`` puts it back
  (:func:`recover_checkpoint`).

A crash at any other point leaves a complete checkpoint at ``<name>``, the previous one or the new
one, at worst beside a stale ``.<name>.*.new`` or ``.<name>.old`` directory that the next save
removes. Only one save at a time may write to a given directory.

**Loading trusts nothing in the files.** Nothing is ever unpickled, so opening a checkpoint cannot run
code, and every way a damaged or hostile checkpoint can fail is a :class:`CheckpointError`:
``config.json`` is size-limited and checked field by field (:func:`config_from_dict`, with the bounds
its caller gives) before anything is built; the weights file is size-checked against what the config
implies before it is read; the bytes that are hashed are the bytes that are parsed; and tensors that
hold NaN or inf are refused.
"""

from __future__ import annotations

import ctypes
import dataclasses
import errno
import functools
import hashlib
import json
import math
import os
import re
import secrets
import shutil
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load, load_file, save

from .fileio import atomic_write_bytes, atomic_write_json, file_sha256, fsync_directory, write_synced

__all__ = ["atomic_write_bytes", "atomic_write_json", "file_sha256"]  # re-exported for callers

FORMAT = "worldsim"
VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.safetensors"
MAX_CONFIG_BYTES = 16 * 2**20
"""Largest ``config.json`` a load reads; anything bigger is refused unread."""

_LEGACY_TEMP = re.compile(r"\.(config\.json|weights\.safetensors)\..+\.tmp")  # from per-file atomic writes
_HEX64 = re.compile(r"[0-9a-f]{64}")


class CheckpointError(RuntimeError):
    """A checkpoint is missing, corrupt, hostile or was made for something else, or cannot be saved where asked."""


@dataclasses.dataclass(frozen=True)
class Bounds:
    """Inclusive range a numeric config field, or every entry of a tuple field, must lie in."""

    low: float
    high: float
    length: tuple[int, int] | None = None
    """For a tuple field: the least and most entries it may have."""


@dataclasses.dataclass(frozen=True)
class CheckpointHeader:
    """A checked ``config.json``: what :func:`read_header` returns and :func:`read_weights` takes."""

    directory: Path
    """Where the checkpoint was read from: the directory asked for, or ``.<name>.old`` where an interrupted
    save left the previous checkpoint and it could not be moved back."""
    kind: str
    config: dict[str, Any]
    meta: dict[str, Any]
    weights_sha256: str | None
    """SHA-256 of the weights file; ``None`` for a checkpoint that records none."""


# --------------------------------------------------------------------------------------------
#                                   Tensor files and hashes
# --------------------------------------------------------------------------------------------


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
    directory = _locate(Path(directory))
    try:
        recorded = json.loads((directory / CONFIG_FILE).read_text()).get("weights_sha256")
    except (OSError, ValueError, AttributeError, RecursionError):
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


# --------------------------------------------------------------------------------------------
#                                           Saving
# --------------------------------------------------------------------------------------------


def save_checkpoint(
    directory: str | os.PathLike,
    *,
    kind: str,
    config: dict[str, Any],
    tensors: dict[str, torch.Tensor],
    meta: dict[str, Any] | None = None,
) -> Path:
    """Write a checkpoint directory as one unit: readers see the previous checkpoint or the whole new one.

    See the module docstring for how the new directory takes the old one's place.

    Args:
        directory: Target directory; created if needed. If it exists it must hold a checkpoint (or be
            empty): it is replaced as a whole, so anything else in it would be lost.
        kind: What the checkpoint holds, e.g. ``"worldmodel"``; checked on load.
        config: JSON-safe architecture config, enough to rebuild the modules.
        tensors: Flat name -> tensor map.
        meta: Free-form JSON-safe extras (training step, data description, metrics).

    Returns:
        ``directory``.

    Raises:
        CheckpointError: if a tensor holds NaN or inf (the previous checkpoint is kept), or
            ``directory`` holds files that are not part of a checkpoint. Nothing is written then.
    """
    given = Path(directory)
    # a link is followed, so the checkpoint it points to is replaced rather than the link itself
    directory = given.resolve() if given.is_symlink() else Path(os.path.abspath(given))
    tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    _check_finite(tensors, f"refusing to save {directory}",
                  "training diverged; the checkpoint already there, if any, is kept. Resume from it with a lower "
                  "learning rate, or find the step where the loss became NaN.")
    weights = save(tensors)
    header = {"format": FORMAT, "version": VERSION, "kind": kind, "config": config, "meta": meta or {},
              "weights_sha256": hashlib.sha256(weights).hexdigest()}
    config_json = (json.dumps(header, indent=2, sort_keys=True) + "\n").encode()

    directory.parent.mkdir(parents=True, exist_ok=True)
    recover_checkpoint(directory)
    _check_replaceable(directory)
    _remove_stale_siblings(directory)
    staging = directory.parent / f".{directory.name}.{os.getpid()}.{secrets.token_hex(4)}.new"
    staging.mkdir()
    try:
        write_synced(staging / WEIGHTS_FILE, weights)
        write_synced(staging / CONFIG_FILE, config_json)
        fsync_directory(staging)
        _swap_in(staging, directory)
    except BaseException:
        _remove_tree(staging)  # the unfinished new checkpoint
        raise
    return given


def recover_checkpoint(directory: str | os.PathLike) -> bool:
    """Put back the previous checkpoint of a save that was cut off between its two renames.

    Only a save without an atomic directory exchange has such a moment (see the module docstring):
    ``<name>`` is then missing and the previous checkpoint is at ``.<name>.old``. Every load and save
    calls this first; call it yourself before testing whether ``<name>/config.json`` exists.

    Returns:
        True if a checkpoint was put back.
    """
    directory = Path(directory)
    aside = _aside(directory)
    if (directory / CONFIG_FILE).is_file() or not (aside / CONFIG_FILE).is_file():
        return False
    try:
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()  # an empty directory in the way
        os.replace(aside, directory)
        fsync_directory(directory.parent)
    except OSError as e:
        warnings.warn(f"{directory} is missing after an interrupted save and the previous checkpoint could "
                      f"not be moved back from {aside} ({e}); it is read from there. Move it back by hand.",
                      stacklevel=2)
        return False
    warnings.warn(f"{directory}: a save was interrupted; the previous checkpoint was restored from {aside}.",
                  stacklevel=2)
    return True


def _aside(directory: Path) -> Path:
    return directory.parent / f".{directory.name}.old"


def _locate(directory: Path) -> Path:
    """Where to read the checkpoint at ``directory``: there, or where an interrupted save left it."""
    if not (directory / CONFIG_FILE).is_file() and (_aside(directory) / CONFIG_FILE).is_file():
        return _aside(directory)
    return directory


def _check_replaceable(directory: Path) -> None:
    """Refuse to replace a directory that holds anything but a checkpoint: it would be lost."""
    if not directory.exists():
        return
    if not directory.is_dir():
        raise CheckpointError(f"cannot save a checkpoint to {directory}: it exists and is not a directory.")
    foreign = sorted(p.name for p in directory.iterdir()
                     if p.name not in (CONFIG_FILE, WEIGHTS_FILE) and not _LEGACY_TEMP.fullmatch(p.name))
    if foreign:
        raise CheckpointError(
            f"cannot save a checkpoint to {directory}: it holds {foreign[:5]}, which are not part of a "
            "checkpoint and would be lost when the new checkpoint replaces the directory. Move them out, "
            "or save to a directory of its own."
        )


def _remove_stale_siblings(directory: Path) -> None:
    """Remove what crashed saves left beside ``directory``: unfinished new directories of processes that
    are gone, and the old directory once ``directory`` holds a checkpoint again."""
    if (directory / CONFIG_FILE).is_file() and _aside(directory).exists():
        _remove_tree(_aside(directory))
    pattern = re.compile(rf"\.{re.escape(directory.name)}\.(\d+)\.[0-9a-f]{{8}}\.new")
    for entry in directory.parent.iterdir():
        match = pattern.fullmatch(entry.name)
        if match and not _is_other_live_process(int(match.group(1))):
            _remove_tree(entry)


def _is_other_live_process(pid: int) -> bool:
    if pid == os.getpid():
        return False
    if os.name == "nt":  # os.kill(pid, 0) would signal the process there; assume it lives
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process
        return True
    return True


def _swap_in(staging: Path, directory: Path) -> None:
    """Move the finished ``staging`` directory to ``directory``, replacing any checkpoint there."""
    if not os.path.lexists(directory):
        os.replace(staging, directory)
        fsync_directory(directory.parent)
    elif _exchange(staging, directory):
        fsync_directory(directory.parent)
        _remove_tree(staging)  # it now holds the previous checkpoint
    else:
        aside = _aside(directory)
        os.replace(directory, aside)
        try:
            os.replace(staging, directory)
        except BaseException:
            os.replace(aside, directory)  # put the previous checkpoint back
            raise
        fsync_directory(directory.parent)
        _remove_tree(aside)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


@functools.lru_cache(maxsize=1)
def _renameat2() -> Any:
    """libc's ``renameat2``, or None where there is none (not Linux, or an old C library)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    except OSError:
        return None


def _exchange(a: Path, b: Path) -> bool:
    """Swap directories ``a`` and ``b`` in one atomic step; False where the OS or filesystem cannot."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _remove_tree(path: Path) -> None:
    """Remove a directory left over from a save; a failure only warns, since no checkpoint depends on it."""
    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        pass
    except OSError as e:
        warnings.warn(f"could not remove {path} ({e}); it is left over from a checkpoint save, delete it by hand.",
                      stacklevel=3)


# --------------------------------------------------------------------------------------------
#                                           Loading
# --------------------------------------------------------------------------------------------


def load_checkpoint(directory: str | os.PathLike, *, kind: str,
                    max_weights_bytes: int | None = None) -> tuple[dict, dict[str, torch.Tensor], dict]:
    """Read a checkpoint directory written by :func:`save_checkpoint`.

    For a checkpoint whose architecture is known, prefer :func:`read_header`, then checking the config,
    then :func:`read_weights` with a size bound the config implies (as ``WorldModel.load`` does).

    Args:
        directory: The checkpoint directory.
        kind: The kind it must hold.
        max_weights_bytes: Refuse a weights file larger than this, unread (default: no limit).

    Returns:
        ``(config, tensors, meta)``.

    Raises:
        CheckpointError: if the directory is missing, not a worldsim checkpoint, of another kind or
            version, damaged, or its weights do not match the hash recorded beside them or are not finite.
    """
    header = read_header(directory, kind=kind)
    return header.config, read_weights(header, max_bytes=max_weights_bytes), header.meta


def read_header(directory: str | os.PathLike, *, kind: str) -> CheckpointHeader:
    """Read and check a checkpoint's ``config.json``; touches no weights.

    Recovers the checkpoint first if a save was interrupted (:func:`recover_checkpoint`). The
    ``config`` section is only checked to be a JSON object: its fields are the caller's to check.

    Raises:
        CheckpointError: if ``config.json`` is missing, too large, not JSON, not a worldsim checkpoint,
            of another kind or version, or malformed.
    """
    directory = Path(directory)
    recover_checkpoint(directory)
    source = _locate(directory)
    cfg_path = source / CONFIG_FILE
    if not cfg_path.is_file():
        raise CheckpointError(
            f"{directory} is not a worldsim checkpoint: {CONFIG_FILE} is missing. "
            "Pass the directory that `worldsim train` wrote (it holds config.json and weights.safetensors)."
        )
    header = _parse_json(cfg_path)
    _check_header(header, cfg_path, kind)
    return CheckpointHeader(directory=source, kind=kind, config=header["config"], meta=header.get("meta", {}),
                            weights_sha256=header.get("weights_sha256"))


def read_weights(header: CheckpointHeader, *, max_bytes: int | None = None) -> dict[str, torch.Tensor]:
    """Read the weights of a checkpoint whose header :func:`read_header` returned.

    The file is refused unread if it is larger than ``max_bytes``; otherwise it is read once, and the
    bytes checked against the recorded hash are the bytes parsed.

    Raises:
        CheckpointError: if the file is missing, too large, does not match the recorded hash, is not
            safetensors, or a tensor holds NaN or inf.
    """
    path = header.directory / WEIGHTS_FILE
    if not path.is_file():  # also refuses a FIFO or device, which a read could block on or never finish
        raise CheckpointError(f"{path} does not exist or is not a regular file. Restore both checkpoint files "
                              "from the same save.")
    try:
        with open(path, "rb") as f:
            _check_weights_size(path, os.fstat(f.fileno()).st_size, max_bytes)
            data = f.read()
    except OSError as e:
        raise CheckpointError(f"{path} cannot be read ({e}).") from e
    if header.weights_sha256 is not None and hashlib.sha256(data).hexdigest() != header.weights_sha256:
        raise CheckpointError(
            f"{path} does not match the hash in {CONFIG_FILE}: the file is corrupt or was replaced. "
            "Restore both files from the same save (if a save was running, load again)."
        )
    try:
        tensors = load(data)
    except Exception as e:  # safetensors raises several types for a damaged file
        raise CheckpointError(
            f"{path} is not a readable safetensors file ({e}). It is corrupt or was cut short: "
            "delete it and resume training from an earlier checkpoint, or re-download the release."
        ) from e
    _check_finite(tensors, str(path), "training diverged before this save, or the file was damaged: use an "
                  "earlier checkpoint.")
    return tensors


def _parse_json(path: Path) -> Any:
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise CheckpointError(f"{path} is {size} bytes, more than the {MAX_CONFIG_BYTES} a checkpoint's "
                                  "config may hold; it is not a worldsim config.")
        return json.loads(path.read_bytes().decode("utf-8"))
    except OSError as e:
        raise CheckpointError(f"{path} cannot be read ({e}).") from e
    except (ValueError, RecursionError) as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise CheckpointError(f"{path} is not valid JSON ({str(e)[:200]}); the checkpoint is corrupt.") from e


def _check_header(header: Any, path: Path, kind: str) -> None:
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a worldsim checkpoint (no \"format\": \"{FORMAT}\").")
    version = header.get("version")
    if type(version) is not int or version != VERSION:
        raise CheckpointError(f"{path.parent} has checkpoint version {_clip(version)}, this worldsim reads {VERSION}.")
    if header.get("kind") != kind:
        raise CheckpointError(f"{path.parent} holds a {_clip(header.get('kind'))} checkpoint, expected {kind!r}.")
    if not isinstance(header.get("config"), dict):
        raise CheckpointError(f"{path}: \"config\" must be a JSON object, got {_clip(header.get('config'))}. "
                              "The checkpoint is damaged; restore it from a good copy.")
    if not isinstance(header.get("meta", {}), dict):
        raise CheckpointError(f"{path}: \"meta\" must be a JSON object, got {_clip(header.get('meta'))}. "
                              "The checkpoint is damaged; restore it from a good copy.")
    digest = header.get("weights_sha256")
    if digest is not None and not (isinstance(digest, str) and _HEX64.fullmatch(digest)):
        raise CheckpointError(f"{path}: \"weights_sha256\" must be 64 lowercase hex digits, got {_clip(digest)}. "
                              "The checkpoint is damaged; restore it from a good copy.")


def _check_weights_size(path: Path, size: int, max_bytes: int | None) -> None:
    if max_bytes is not None and size > max_bytes:
        raise CheckpointError(
            f"{path} is {size} bytes, more than the {max_bytes} that the architecture in {CONFIG_FILE} "
            "can hold: the two files are from different saves, or the weights file is not what it claims. "
            "Restore both files from the same save."
        )


def _check_finite(tensors: Mapping[str, torch.Tensor], where: str, advice: str) -> None:
    """Refuse tensors that hold NaN or inf, naming them."""
    bad = [name for name, t in tensors.items() if not _is_finite(t)]
    if bad:
        raise CheckpointError(
            f"{where}: tensor(s) {bad[:5]} hold NaN or inf values ({len(bad)} tensor(s) in all). These weights "
            f"are unusable: {advice}"
        )


_NUMPY_DTYPES = (torch.float16, torch.float32, torch.float64, torch.complex64, torch.complex128)


def _is_finite(t: torch.Tensor) -> bool:
    """Whether no element of ``t`` is NaN or inf (true for integer tensors)."""
    if not (t.is_floating_point() or t.is_complex()):
        return True
    if t.device.type == "cpu" and t.dtype in _NUMPY_DTYPES:
        # numpy checks on one thread, so a CPU busy with other work does not stall torch's thread pool
        return bool(np.isfinite(t.detach().numpy()).all())
    return bool(torch.isfinite(t).all())


def _clip(value: Any, limit: int = 80) -> str:
    """``repr(value)``, cut to ``limit`` characters, for quoting untrusted values in messages."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


# --------------------------------------------------------------------------------------------
#                                   Configs from config.json
# --------------------------------------------------------------------------------------------


def config_from_dict(cls: type, data: Any, *, where: str, bounds: Mapping[str, Bounds] | None = None,
                     retired: Mapping[str, Any] | None = None) -> Any:
    """Build dataclass ``cls`` from ``data``, a section of an untrusted ``config.json``.

    Each field present must have the type of the field's default: an ``int`` field takes an int (not a
    bool), a ``float`` field any finite number, a ``bool`` field a bool, a tuple field a list of the
    default's element type (turned back into a tuple). Fields with a :class:`Bounds` in ``bounds`` must
    lie in it. Missing fields take their defaults; unknown ones are refused. ``retired`` maps fields
    that older versions wrote to the value that turned them off: such a field is skipped when it holds
    that value, and refused otherwise (the model needs what this version no longer has).

    Raises:
        CheckpointError: for a non-object section, unknown fields, wrong types, values out of bounds,
            retired fields in use, or values the dataclass itself refuses.
    """
    if not isinstance(data, dict):
        raise CheckpointError(f"{where}: the {cls.__name__} section must be a JSON object, got {_clip(data)}. "
                              "The checkpoint is damaged; restore it from a good copy.")
    used = sorted(str(k) for k, off in (retired or {}).items() if k in data and data[k] != off)
    if used:
        raise CheckpointError(
            f"{where}: the model uses {cls.__name__} fields {used}, which this worldsim version no longer has. "
            "Load it with the version that trained it."
        )
    data = {k: v for k, v in data.items() if k not in (retired or {})}
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(str(k) for k in set(data) - set(fields))
    if unknown:
        raise CheckpointError(
            f"{where}: unknown {cls.__name__} fields {unknown[:10]}; known fields are {sorted(fields)}. "
            "The checkpoint was written by a different worldsim version."
        )
    kwargs = {}
    for name, value in data.items():
        what = f"{where}: {cls.__name__}.{name}"
        value = _check_type(value, _default(fields[name]), what)
        if bounds and name in bounds:
            _check_bounds(value, bounds[name], what)
        kwargs[name] = value
    try:
        return cls(**kwargs)
    except (ValueError, TypeError, ArithmeticError) as e:
        raise CheckpointError(f"{where}: these {cls.__name__} values are inconsistent: {e}. The checkpoint is "
                              "damaged; restore it from a good copy.") from e


def _default(field: dataclasses.Field) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None


def _check_type(value: Any, default: Any, what: str) -> Any:
    """``value`` as the type of ``default`` (a JSON list becomes a tuple), or a :class:`CheckpointError`."""
    if isinstance(default, tuple):
        if not isinstance(value, (list, tuple)):
            raise _wrong_type(value, "a list", what)
        if not default:
            return tuple(value)
        return tuple(_check_type(v, default[0], f"{what}[{i}]") for i, v in enumerate(value))
    if isinstance(default, float):
        return _check_float(value, what)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise _wrong_type(value, "true or false", what)
    elif isinstance(default, int):
        if not isinstance(value, int) or isinstance(value, bool):
            raise _wrong_type(value, "an integer", what)
    elif isinstance(default, str) and not isinstance(value, str):
        raise _wrong_type(value, "a string", what)
    return value


def _check_float(value: Any, what: str) -> float:
    """A finite number (int or float, not bool) as a float."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise _wrong_type(value, "a number", what)
    try:
        number = float(value)
    except OverflowError:  # an int beyond float range
        number = math.inf
    if not math.isfinite(number):
        raise _wrong_type(value, "a finite number", what)
    return number


def _wrong_type(value: Any, expected: str, what: str) -> CheckpointError:
    return CheckpointError(f"{what} must be {expected}, got {_clip(value)}. The checkpoint is damaged or was not "
                           "written by worldsim; restore it from a good copy.")


def _check_bounds(value: Any, bounds: Bounds, what: str) -> None:
    if isinstance(value, tuple):
        if bounds.length is not None and not bounds.length[0] <= len(value) <= bounds.length[1]:
            lo, hi = bounds.length
            raise CheckpointError(f"{what} has {len(value)} entries; a worldsim model has {lo} to {hi}. "
                                  "The checkpoint is damaged or was not written by worldsim.")
        for i, v in enumerate(value):
            _check_bounds(v, bounds, f"{what}[{i}]")
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and not bounds.low <= value <= bounds.high:
        raise CheckpointError(f"{what} = {_clip(value)} is outside [{bounds.low:g}, {bounds.high:g}], the range this "
                              "loader accepts. The checkpoint is damaged or was not written by worldsim.")


# --------------------------------------------------------------------------------------------
#                                      Optimizer state
# --------------------------------------------------------------------------------------------


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
