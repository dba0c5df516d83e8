"""Episode store: one compressed ``.npz`` file per episode, plus a ``manifest.json``.

A store is a directory::

    manifest.json         dataset config + one entry per episode (index, seed, length, caption, file, sha256)
    episode_000000.npz    episode 0: frames, actions, rewards, terminated, truncated, states, meta
    episode_000001.npz
    ...

Why one ``.npz`` per episode (and not HDF5, zarr or shards):

- **No extra dependency.** numpy reads and writes it; ``np.load(..., allow_pickle=False)`` opens every
  member, so reading a file never runs code. JSON fields (caption, scene spec) are stored as a JSON string
  in a unicode array (``meta``), never pickled.
- **Atomic writes.** Each episode is written to a temporary file in the same directory and moved into place
  with ``os.replace``. A crash or ``kill -9`` leaves either the whole episode or none of it (plus a hidden
  ``.*.tmp`` file that is ignored and cleaned up later). A single HDF5 file, by contrast, can be left
  corrupt as a whole by a crash mid-write.
- **Resume and parallel writers for free.** Which episodes exist is a directory listing; workers write
  their own files and never share a file handle.
- **Random access by episode**, and deflate compresses the mostly static backgrounds of rendered scenes
  well (``worldsim bench`` records the bytes per frame under ``collection``).

The manifest is a cache of per-episode metadata: when it is missing, stale (after a crash) or lists
files that are gone, :class:`EpisodeStore` rebuilds it from the files, so the files are the truth.

Time alignment. An episode of ``T`` steps has ``T + 1`` frames. Frame 0 comes from ``reset``; action ``t``
takes frame ``t`` to frame ``t + 1``, and ``rewards[t]``, ``terminated[t]`` and ``truncated[t]`` are what
that step returned, so they belong to the frame it produced (frame ``t + 1``). A clip of ``L`` frames
``frames[s : s + L]`` comes with the ``L - 1`` actions ``actions[s : s + L - 1]`` between them.

Training reads stores through :mod:`worldsim.data` (episodes in memory, latents, clips); Minari
users export them with ``worldsim export``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import warnings
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .fileio import atomic_write_bytes

EPISODE_FORMAT = "worldsim.episode"
MANIFEST_FORMAT = "worldsim.episodes"
VERSION = 1
MANIFEST_FILE = "manifest.json"
ARRAY_KEYS = ("frames", "actions", "rewards", "terminated", "truncated", "states")

_EPISODE_RE = re.compile(r"episode_(\d{6,})\.npz")
_TEMP_RE = re.compile(r"\.(episode_\d{6,}\.npz|manifest\.json)\..+\.tmp")
# Fibonacci hashing: index * 2^64 / golden ratio, mod 2^64. Spreads consecutive indices evenly over
# [0, 1), so any range of episodes gets close to `val_fraction` of them as validation episodes.
_FIB_MULT = 0x9E3779B97F4A7C15
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_READ_ERRORS = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error, MemoryError)
MAX_EPISODE_BYTES = 2**31
"""Largest episode, in bytes of its arrays in memory (2 GiB: 170,000 frames of 64x64 RGB). A file that
claims more, in a header or once inflated, is refused before anything is allocated."""

Split = Literal["train", "val", "all"]


class StoreError(RuntimeError):
    """A store directory cannot be used as asked."""


class CorruptEpisodeError(StoreError):
    """An episode file is unreadable, truncated, or not a worldsim episode."""


class ConfigMismatchError(StoreError):
    """A store already holds episodes made with a different dataset config."""


def episode_filename(index: int) -> str:
    """File name of episode ``index`` inside a store, e.g. ``episode_000042.npz``."""
    if index < 0:
        raise ValueError(f"episode index must be >= 0, got {index}")
    return f"episode_{index:06d}.npz"


# --------------------------------------------------------------------------------------------------
# Episode
# --------------------------------------------------------------------------------------------------


def _check_array(name: str, value: Any, dtype: type, ndim: int, shape: str, first: int | None = None) -> None:
    if not isinstance(value, np.ndarray) or value.dtype != dtype or value.ndim != ndim:
        got = f"{value.dtype} array of shape {value.shape}" if isinstance(value, np.ndarray) else type(value).__name__
        raise ValueError(
            f"Episode.{name} must be a {np.dtype(dtype)} array of shape {shape}, got {got}; "
            f"convert it with np.asarray(x, dtype=np.{np.dtype(dtype)})"
        )
    if first is not None and value.shape[0] != first:
        raise ValueError(
            f"Episode.{name} has shape {value.shape}, expected {shape} with {first} along the first axis: "
            f"an episode of T steps has T + 1 frames (frame 0 comes from reset) and T actions, rewards, "
            f"terminated and truncated flags"
        )


def _check_json(name: str, value: Any) -> None:
    if not isinstance(value, dict):
        raise ValueError(f"Episode.{name} must be a dict, got {type(value).__name__}")
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ValueError(
            f"Episode.{name} must be JSON-safe (str, int, float, bool, None, list, dict): {e}. "
            f"Convert dataclasses with to_dict() and numpy values with .tolist()"
        ) from e


@dataclass(eq=False)
class Episode:
    """One recorded episode of T steps.

    Frame t + 1 is what action t produced; rewards[t], terminated[t] and truncated[t]
    are what that step returned. Only the last step may be terminated or truncated.
    """

    frames: np.ndarray
    """uint8 [T+1, H, W, 3]: frame 0 after reset, frame t+1 after action t."""
    actions: np.ndarray
    """float32 [T, A]: the env's actions; Discrete actions are stored one-hot."""
    rewards: np.ndarray
    """float32 [T]: reward returned by step t."""
    terminated: np.ndarray
    """bool [T]: step t reached a terminal state."""
    truncated: np.ndarray
    """bool [T]: the episode was cut after step t (time limit), without a terminal state."""
    caption: str = ""
    """Text description of the scene (info["caption"] at reset; empty if the env gives none)."""
    spec: dict[str, Any] = field(default_factory=dict)
    """JSON-safe scene spec (info["spec"] at reset; empty if the env gives none)."""
    states: np.ndarray | None = None
    """float32 [T+1, n, d]: ground-truth object states per frame; None is stored as [T+1, 0, 0]."""
    env_id: str = ""
    """Gymnasium id of the env that produced the episode."""
    seed: int | None = None
    """Seed passed to reset (and used to seed the policy)."""
    meta: dict[str, Any] = field(default_factory=dict)
    """JSON-safe provenance, e.g. the collection config under "collect"."""

    def __post_init__(self) -> None:
        _check_array("frames", self.frames, np.uint8, 4, "[T+1, H, W, 3]")
        if self.frames.shape[0] < 1 or self.frames.shape[-1] != 3:
            raise ValueError(
                f"Episode.frames must have shape [T+1, H, W, 3] with at least one frame, got {self.frames.shape}"
            )
        t = self.frames.shape[0] - 1
        _check_array("actions", self.actions, np.float32, 2, "[T, A]", first=t)
        _check_array("rewards", self.rewards, np.float32, 1, "[T]", first=t)
        _check_array("terminated", self.terminated, np.bool_, 1, "[T]", first=t)
        _check_array("truncated", self.truncated, np.bool_, 1, "[T]", first=t)
        if self.states is None:
            self.states = np.zeros((t + 1, 0, 0), np.float32)
        _check_array("states", self.states, np.float32, 3, "[T+1, n, d]", first=t + 1)
        for name in ("actions", "rewards", "states"):
            if not np.isfinite(getattr(self, name)).all():
                raise ValueError(f"Episode.{name} holds NaN or inf; a store keeps finite values only, so that "
                                 "training never meets them")
        early = np.flatnonzero(self.terminated[:-1] | self.truncated[:-1])
        if early.size:
            raise ValueError(
                f"Episode has a terminated/truncated flag at step {int(early[0])} of {t}; only the last step "
                f"may end an episode. Split the data into separate episodes at each reset"
            )
        if not isinstance(self.caption, str):
            raise ValueError(f"Episode.caption must be a str, got {type(self.caption).__name__}")
        if not isinstance(self.env_id, str):
            raise ValueError(f"Episode.env_id must be a str, got {type(self.env_id).__name__}")
        if self.seed is not None:
            if not isinstance(self.seed, (int, np.integer)) or isinstance(self.seed, bool):
                raise ValueError(f"Episode.seed must be an int or None, got {self.seed!r}")
            self.seed = int(self.seed)
        _check_json("spec", self.spec)
        _check_json("meta", self.meta)

    def __len__(self) -> int:
        """Number of steps ``T`` (one less than the number of frames)."""
        return self.frames.shape[0] - 1

    @property
    def action_dim(self) -> int:
        """Width ``A`` of the action vectors."""
        return self.actions.shape[1]


# --------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------


def _episode_bytes(episode: Episode) -> bytes:
    meta = {
        "format": EPISODE_FORMAT,
        "version": VERSION,
        "caption": episode.caption,
        "spec": episode.spec,
        "env_id": episode.env_id,
        "seed": episode.seed,
        "meta": episode.meta,
    }
    arrays = {
        "frames": episode.frames,
        "actions": episode.actions,
        "rewards": episode.rewards,
        "terminated": episode.terminated,
        "truncated": episode.truncated,
        "states": episode.states,
        "meta": np.array(json.dumps(meta, sort_keys=True)),  # 0-d unicode array: loads without pickle
    }
    # What np.savez_compressed does, but with a fixed timestamp so that equal episodes give equal bytes
    # (and equal sha256 in the manifest), whenever and wherever they were collected.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, array, allow_pickle=False)
    return buf.getvalue()


def _entry(index: int, episode: Episode, data: bytes) -> dict[str, Any]:
    t = len(episode)
    return {
        "index": index,
        "file": episode_filename(index),
        "seed": episode.seed,
        "length": t,
        "caption": episode.caption,
        "env_id": episode.env_id,
        "terminated": bool(t and episode.terminated[-1]),
        "truncated": bool(t and episode.truncated[-1]),
        "return": float(episode.rewards.sum(dtype=np.float64)),
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def _is_entry(entry: Any) -> bool:
    """Whether a manifest entry has the fields the store relies on, with the right types."""
    if not isinstance(entry, dict):
        return False
    ints = ("index", "length", "bytes")
    return all(isinstance(entry.get(k), int) and not isinstance(entry.get(k), bool) and entry[k] >= 0 for k in ints
               ) and isinstance(entry.get("file"), str)


def _is_version(value: Any) -> bool:
    """A format version as worldsim writes it: a non-negative int (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _corrupt(path: Path, reason: str) -> CorruptEpisodeError:
    return CorruptEpisodeError(
        f"{path} is not a readable worldsim episode: {reason}. It is corrupt, was cut short (e.g. copied "
        f"while being written) or is a foreign file. Delete it and re-run `worldsim collect` with the same "
        f"--out and --resume to collect that episode again"
    )


def _check_sizes(path: Path, npz: np.lib.npyio.NpzFile) -> None:
    """Refuse an archive whose members, by their zip entries or their ``.npy`` headers, would take more
    than :data:`MAX_EPISODE_BYTES` in memory, or whose headers claim more data than the member holds."""
    total = 0
    for info in npz.zip.infolist():
        total += info.file_size
        with npz.zip.open(info) as f:
            version = np.lib.format.read_magic(f)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                           (2, 0): np.lib.format.read_array_header_2_0}.get(version)
            if read_header is None:
                raise _corrupt(path, f"member {info.filename} is .npy format {version}, which worldsim never writes")
            shape, _, dtype = read_header(f)
        if dtype.hasobject:
            raise _corrupt(path, f"member {info.filename} holds Python objects (a pickle), which worldsim never loads")
        claimed = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
        if claimed > info.file_size:
            raise _corrupt(path, f"member {info.filename} claims {claimed:,} bytes in {info.file_size:,}")
    if total > MAX_EPISODE_BYTES:
        raise _corrupt(path, f"its arrays take {total:,} bytes, above the {MAX_EPISODE_BYTES:,} an episode may")


def _decode(path: Path, source: Path | io.BytesIO) -> Episode:
    try:
        npz = np.load(source, allow_pickle=False)
    except _READ_ERRORS as e:
        raise _corrupt(path, f"{type(e).__name__}: {e}") from e
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise _corrupt(path, "it holds a single .npy array, not an .npz archive")
    with npz:
        missing = [k for k in (*ARRAY_KEYS, "meta") if k not in npz.files]
        if missing:
            raise _corrupt(path, f"it lacks the arrays {missing} (it has {sorted(npz.files)})")
        try:
            _check_sizes(path, npz)
        except _READ_ERRORS as e:
            raise _corrupt(path, f"{type(e).__name__}: {e}") from e
        try:
            arrays = {k: npz[k] for k in ARRAY_KEYS}
            meta = json.loads(str(npz["meta"][()]))
        except _READ_ERRORS as e:
            raise _corrupt(path, f"{type(e).__name__}: {e}") from e
    if not isinstance(meta, dict) or meta.get("format") != EPISODE_FORMAT:
        raise _corrupt(path, f"its meta does not say format={EPISODE_FORMAT!r}")
    if not _is_version(meta.get("version", 0)):
        raise _corrupt(path, f"its meta's version {meta.get('version')!r} is not a format version")
    if meta.get("version", 0) > VERSION:
        raise StoreError(
            f"{path} was written by a newer worldsim (episode format version {meta['version']}, this one "
            f"reads up to {VERSION}); upgrade worldsim"
        )
    try:
        return Episode(
            **arrays,
            caption=meta.get("caption", ""),
            spec=meta.get("spec", {}),
            env_id=meta.get("env_id", ""),
            seed=meta.get("seed"),
            meta=meta.get("meta", {}),
        )
    except ValueError as e:
        raise _corrupt(path, str(e)) from e


def write_episode(root: str | os.PathLike, index: int, episode: Episode) -> dict[str, Any]:
    """Write one episode file atomically, without touching the manifest.

    Safe to call from several processes at once for different indices (collection workers do). The
    returned entry goes to :meth:`EpisodeStore.register` in the process that owns the manifest.

    Args:
        root: Store directory (created if missing).
        index: Episode index; the file is ``root/episode_{index:06d}.npz``.
        episode: The episode to write.

    Returns:
        The manifest entry of the episode (index, file, seed, length, caption, env_id, bytes, sha256, ...).
    """
    if not isinstance(episode, Episode):
        raise TypeError(f"write_episode expects an Episode, got {type(episode).__name__}")
    data = _episode_bytes(episode)
    atomic_write_bytes(Path(root) / episode_filename(index), data)
    return _entry(index, episode, data)


def read_episode(path: str | os.PathLike) -> Episode:
    """Read one episode file (no pickle). Raises :class:`CorruptEpisodeError` naming the file if it is bad."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no episode file at {path}")
    return _decode(path, path)


# --------------------------------------------------------------------------------------------------
# Store
# --------------------------------------------------------------------------------------------------


class EpisodeStore:
    """A directory of episode files with a manifest.

    Opening a store is cheap; the manifest is read (and reconciled with the files on disk) on first use.
    Readers never see half-written episodes. Only one process should write the manifest at a time
    (the collector's parent process); workers use :func:`write_episode`.

    Args:
        root: The store directory. It need not exist yet; :meth:`write` creates it.
    """

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise StoreError(f"{self.root} is a file, not an episode store directory; pass a directory")
        self._entries: dict[int, dict[str, Any]] | None = None
        self._config: dict[str, Any] | None = None
        self._problems: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"EpisodeStore({str(self.root)!r})"

    # ---- reading the directory -------------------------------------------------------------------

    def _read_manifest(self) -> dict[str, Any] | None:
        path = self.root / MANIFEST_FILE
        try:
            manifest = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            warnings.warn(f"{path} is unreadable ({e}); rebuilding it from the episode files", stacklevel=3)
            return None
        if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
            raise StoreError(
                f"{path} is not a worldsim episode manifest (no format={MANIFEST_FORMAT!r}); this directory "
                f"belongs to something else. Point the store at an empty directory or a worldsim one"
            )
        version = manifest.get("version", 0)
        if not _is_version(version):
            warnings.warn(f"{path} has no valid version ({version!r}); rebuilding it from the episode files",
                          stacklevel=3)
            return None
        if version > VERSION:
            raise StoreError(f"{path} was written by a newer worldsim (version {version}); upgrade")
        return manifest

    def _scan(self) -> tuple[dict[int, tuple[str, int]], dict[str, str]]:
        """Episode files by index as ``(name, size)``, and the entries named like one that cannot be read."""
        found: dict[int, tuple[str, int]] = {}
        problems: dict[str, str] = {}
        if not self.root.is_dir():
            return found, problems
        for entry in os.scandir(self.root):
            m = _EPISODE_RE.fullmatch(entry.name)
            if not (m and entry.name == episode_filename(int(m.group(1)))):
                continue
            try:
                if entry.is_file():
                    found[int(m.group(1))] = (entry.name, entry.stat().st_size)
                else:
                    problems[entry.name] = f"{self.root / entry.name} is not a regular file"
            except OSError as e:  # a symlink loop, a dangling link, no permission
                problems[entry.name] = f"{self.root / entry.name} cannot be opened: {e}"
        return found, problems

    def refresh(self) -> None:
        """Re-read ``manifest.json`` and reconcile it with the episode files on disk.

        Files the manifest does not know (or whose size changed) are read in full and checked; unreadable
        ones are left out and listed in :attr:`problems`. Entries whose file is gone are dropped. If
        anything changed, the manifest is rewritten.
        """
        manifest = self._read_manifest()
        listed = manifest.get("episodes", []) if manifest else []
        if not isinstance(listed, list):
            warnings.warn(f"{self.root / MANIFEST_FILE} lists its episodes as {type(listed).__name__}, not a list; "
                          "rebuilding it from the episode files", stacklevel=2)
            listed = []
        known = {e["index"]: e for e in listed if _is_entry(e)}
        entries: dict[int, dict[str, Any]] = {}
        files, problems = self._scan()
        configs = []
        for index, (name, size) in sorted(files.items()):
            entry = known.get(index)
            if entry is not None and entry.get("file") == name and entry.get("bytes") == size:
                entries[index] = entry
                continue
            path = self.root / name
            try:
                data = path.read_bytes()
                episode = _decode(path, io.BytesIO(data))
            except CorruptEpisodeError as e:
                problems[name] = str(e)
                continue
            entries[index] = _entry(index, episode, data)
            configs.append(episode.meta.get("collect"))
        config = manifest.get("config") if manifest else None
        if manifest is None and configs and all(c == configs[0] for c in configs):
            config = configs[0]
        self._entries, self._config, self._problems = entries, config, problems
        if manifest is None and entries or manifest is not None and entries != known:
            try:
                self.save_manifest()
            except OSError as e:  # a read-only dataset is still readable
                warnings.warn(f"could not rewrite {self.root / MANIFEST_FILE}: {e}", stacklevel=2)

    def _loaded(self) -> dict[int, dict[str, Any]]:
        if self._entries is None:
            self.refresh()
        assert self._entries is not None
        return self._entries

    # ---- manifest ----------------------------------------------------------------------------------

    @property
    def config(self) -> dict[str, Any] | None:
        """The dataset config recorded in the manifest (``None`` if none was set)."""
        self._loaded()
        return self._config

    @property
    def problems(self) -> dict[str, str]:
        """Episode files that could not be read at the last refresh: file name -> error message."""
        self._loaded()
        return dict(self._problems)

    @property
    def manifest(self) -> dict[str, Any]:
        """The manifest as it is (or will be) saved: format, version, config, totals and episode entries."""
        entries = self._loaded()
        episodes = [entries[i] for i in sorted(entries)]
        steps = sum(e["length"] for e in episodes)
        return {
            "format": MANIFEST_FORMAT,
            "version": VERSION,
            "config": self._config,
            "num_episodes": len(episodes),
            "num_steps": steps,
            "num_frames": steps + len(episodes),
            "episodes": episodes,
        }

    def save_manifest(self) -> None:
        """Write ``manifest.json`` atomically."""
        text = json.dumps(self.manifest, indent=1, sort_keys=True) + "\n"
        atomic_write_bytes(self.root / MANIFEST_FILE, text.encode())

    def ensure_config(self, config: dict[str, Any]) -> None:
        """Record ``config`` as the dataset config, or check that it matches the recorded one.

        Args:
            config: JSON-safe dataset config (for collected data: env_id, steps, policy, size, seed, ...).

        Raises:
            ConfigMismatchError: The store already holds episodes made with another config, or holds
                episodes with no recorded config.
        """
        config = json.loads(json.dumps(config))  # normalise tuples etc. the way the manifest stores them
        current = self.config
        if current is None:
            if len(self):
                raise ConfigMismatchError(
                    f"{self.root} holds {len(self)} episodes but no dataset config in {MANIFEST_FILE}, so "
                    f"new episodes cannot be checked against them; use a new, empty output directory"
                )
            self._config = config
            self.save_manifest()
            return
        diffs = [
            f"{k}: stored {current.get(k)!r}, requested {config.get(k)!r}"
            for k in sorted(set(current) | set(config))
            if current.get(k) != config.get(k)
        ]
        if diffs:
            raise ConfigMismatchError(
                f"{self.root} already holds episodes collected with a different config:\n  "
                + "\n  ".join(diffs)
                + f"\nUse a new output directory, or repeat the settings in {self.root / MANIFEST_FILE}"
            )

    # ---- episodes ----------------------------------------------------------------------------------

    def path(self, index: int) -> Path:
        """Path of episode ``index``'s file (whether or not it exists)."""
        return self.root / episode_filename(index)

    def indices(self) -> list[int]:
        """Indices of the readable episodes, sorted."""
        return sorted(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())

    def __contains__(self, index: object) -> bool:
        return index in self._loaded()

    def __iter__(self) -> Iterator[Episode]:
        """Yield the episodes in index order."""
        for index in self.indices():
            yield self.read(index)

    def write(self, index: int, episode: Episode) -> dict[str, Any]:
        """Write episode ``index`` atomically (replacing any old one) and update the manifest.

        Returns:
            The episode's manifest entry.
        """
        self._loaded()
        self.root.mkdir(parents=True, exist_ok=True)
        entry = write_episode(self.root, index, episode)
        self.register(entry)
        self.save_manifest()
        return entry

    def register(self, entry: dict[str, Any]) -> None:
        """Record an episode written by :func:`write_episode` (e.g. in a worker) in the manifest, in memory.

        Call :meth:`save_manifest` to persist it.
        """
        self._loaded()[int(entry["index"])] = entry
        self._problems.pop(entry["file"], None)

    def read(self, index: int) -> Episode:
        """Read episode ``index``.

        Raises:
            KeyError: No such episode in the store.
            CorruptEpisodeError: The file is unreadable; the message names it and says how to fix it.
        """
        path = self.path(index)
        if index not in self._loaded():
            if path.name in self._problems:
                raise CorruptEpisodeError(self._problems[path.name])
            have = self.indices()
            span = f"{have[0]}..{have[-1]} ({len(have)} episodes)" if have else "none"
            raise KeyError(f"no episode {index} in {self.root}; it holds {span}")
        return read_episode(path)

    def remove_temp_files(self) -> list[Path]:
        """Delete temporary files left by interrupted writes. Call only while no one is writing.

        Returns:
            The paths removed.
        """
        if not self.root.is_dir():
            return []
        removed = []
        for entry in os.scandir(self.root):
            if _TEMP_RE.fullmatch(entry.name) and entry.is_file():
                Path(entry.path).unlink(missing_ok=True)
                removed.append(Path(entry.path))
        return removed

    def validate(self) -> dict[str, Any]:
        """Read every episode in full and check it against the manifest.

        Returns:
            Totals counted from the files themselves: episodes, steps, frames, bytes, frame_shape, action_dim.

        Raises:
            CorruptEpisodeError: Some files are unreadable, do not match their sha256, or have a frame
                shape / action width different from the rest. The message lists each file and the fix.
        """
        self.refresh()
        bad = dict(self._problems)
        shapes: dict[tuple[tuple[int, ...], int], list[str]] = {}
        total_bytes, episodes, steps = 0, 0, 0
        for index, entry in sorted(self._loaded().items()):
            path = self.path(index)
            data = path.read_bytes()
            total_bytes += len(data)
            if entry.get("sha256") not in (None, hashlib.sha256(data).hexdigest()):
                bad[path.name] = f"{path}: contents do not match the sha256 recorded in {MANIFEST_FILE}"
                continue
            try:
                episode = _decode(path, io.BytesIO(data))
            except CorruptEpisodeError as e:
                bad[path.name] = str(e)
                continue
            if len(episode) != entry.get("length"):
                bad[path.name] = f"{path}: {len(episode)} steps, but {MANIFEST_FILE} says {entry.get('length')}"
                continue
            episodes, steps = episodes + 1, steps + len(episode)
            shapes.setdefault((episode.frames.shape[1:], episode.action_dim), []).append(path.name)
        if len(shapes) > 1:
            common = max(shapes, key=lambda k: len(shapes[k]))
            for key, names in shapes.items():
                for name in names if key != common else []:
                    bad[name] = f"frame shape / action width {key} differs from the other episodes' {common}"
        if bad:
            lines = "\n  ".join(f"{name}: {msg}" for name, msg in sorted(bad.items()))
            raise CorruptEpisodeError(
                f"{len(bad)} bad episode file(s) in {self.root}:\n  {lines}\nDelete them and re-run "
                f"`worldsim collect` with the same --out and --resume to collect them again"
            )
        ((frame_shape, action_dim),) = shapes or {((), 0): []}
        return {
            "episodes": episodes,
            "steps": steps,
            "frames": steps + episodes,
            "bytes": total_bytes,
            "frame_shape": list(frame_shape),
            "action_dim": action_dim,
        }


# --------------------------------------------------------------------------------------------------
# Splits, arrays in memory, clips
# --------------------------------------------------------------------------------------------------


def split_of(index: int, val_fraction: float = 0.1) -> Literal["train", "val"]:
    """Which split episode ``index`` belongs to.

    Deterministic and stable as a dataset grows: an episode never changes split. Consecutive indices are
    spread evenly (Fibonacci hashing), so about ``val_fraction`` of any range is validation; episode 0
    is always a validation episode when ``val_fraction > 0``.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    u = ((index * _FIB_MULT) & 0xFFFFFFFFFFFFFFFF) / 2.0**64  # in [0, 1)
    return "val" if u < val_fraction else "train"


def select_split(indices: Sequence[int], split: Split, val_fraction: float = 0.1) -> list[int]:
    """The subset of ``indices`` in ``split`` ("train", "val" or "all"), in the given order."""
    if split == "all":
        return list(indices)
    if split not in ("train", "val"):
        raise ValueError(f"split must be 'train', 'val' or 'all', got {split!r}")
    return [i for i in indices if split_of(i, val_fraction) == split]
