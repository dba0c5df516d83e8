"""Episode stores out to standard offline-RL formats.

    worldsim export --data data/pushbox --dataset-id worldsim/pushbox/scripted-v0

Minari (the Farama Foundation's dataset format, ``pip install -e '.[minari]'``) holds each episode's
observations (the ``T + 1`` frames), actions, rewards, terminations and truncations, and the env
they came from, so ``minari.load_dataset(id).recover_environment()`` makes that env again. Each
episode's seed goes with it, and its caption as the reset option ``prompt``, with which the
ground-truth env rebuilds the same scene. Frames are stored losslessly.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class ExportConfig:
    """worldsim export: an episode store as a Minari dataset."""

    data: str
    """Episode store to export (from worldsim collect)."""
    dataset_id: str
    """Minari id, namespace/name-vN (for example worldsim/pushbox/scripted-v0)."""
    minari_path: str | None = None
    """Directory Minari keeps its datasets in (default: Minari's own, $MINARI_DATASETS_PATH or
    ~/.minari/datasets)."""
    author: str | None = None
    """Author recorded in the dataset's metadata."""


@contextlib.contextmanager
def _datasets_root(path: str | None) -> Iterator[None]:
    """Point Minari at ``path`` for the duration (it reads the directory from the environment), then
    put the caller's setting back."""
    if path is None:
        yield
        return
    before = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(Path(path).resolve())
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("MINARI_DATASETS_PATH", None)
        else:
            os.environ["MINARI_DATASETS_PATH"] = before


def to_minari(cfg: ExportConfig) -> dict[str, Any]:
    """Write ``cfg.data`` as the Minari dataset ``cfg.dataset_id``; returns where and how much."""
    try:  # an optional extra
        import minari
        from minari.data_collector import EpisodeBuffer
        from minari.storage import get_dataset_path
    except ImportError as e:
        raise ImportError(f"worldsim export needs Minari ({e}): pip install -e '.[minari]'") from e
    import gymnasium as gym
    import numpy as np

    from worldsim import envs  # noqa: F401  (registers WorldSim/* for the dataset's env spec)

    from .store import EpisodeStore

    store = EpisodeStore(cfg.data)
    if len(store) == 0:
        raise FileNotFoundError(f"{cfg.data} holds no episodes; run `worldsim collect --out {cfg.data}` first")
    config = store.config or {}
    env_id = config.get("env_id")
    if not env_id:
        raise ValueError(f"{cfg.data}'s manifest does not name the env its episodes come from; export a store "
                         "written by `worldsim collect`")
    env = gym.make(env_id, **config.get("env_kwargs", {}))
    buffers = []
    for i in store.indices():
        ep = store.read(i)
        buffers.append(EpisodeBuffer(
            id=len(buffers), seed=ep.seed, options={"prompt": ep.caption} if ep.caption else None,
            observations=list(ep.frames), actions=list(ep.actions.astype(np.float32)),
            rewards=list(ep.rewards.astype(np.float64)), terminations=list(ep.terminated.astype(bool)),
            truncations=list(ep.truncated.astype(bool))))
    with _datasets_root(cfg.minari_path):
        path = get_dataset_path(cfg.dataset_id)
        if path.exists():
            raise FileExistsError(f"a Minari dataset {cfg.dataset_id} exists at {path}; export under a new version "
                                  f"(-v1, -v2, ...) or delete that one first (`minari delete {cfg.dataset_id}`)")
        try:
            dataset = minari.create_dataset_from_buffers(
                cfg.dataset_id, buffers, env=env, eval_env=env, author=cfg.author,
                algorithm_name=f"worldsim collect (policy {config.get('policy')})",
                description=f"{len(buffers)} episodes of {env_id} from {cfg.data}", jpeg_encoding=False)
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)  # no half-written dataset is left behind
            raise
        finally:
            env.close()
    return {"dataset_id": cfg.dataset_id, "episodes": dataset.total_episodes, "steps": dataset.total_steps,
            "path": str(path)}
