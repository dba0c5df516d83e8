"""Collect episodes from any Gymnasium env with ``render_mode="rgb_array"`` into an :class:`EpisodeStore`.

Usage::

    from worldsim.collect import CollectConfig, collect

    cfg = CollectConfig("InvertedPendulum-v5", episodes=100, steps=50, policy="random", out="data/pendulum")
    summary = collect(cfg)

(the CLI equivalent is ``worldsim collect --env InvertedPendulum-v5 --episodes 100 --steps 50 ...``).

What is recorded per step: ``env.render()`` area-resized to ``size x size`` (frame t+1 is what action t
produced), the action as a float32 vector (Discrete actions one-hot, MultiDiscrete as concatenated
one-hots), reward, terminated and truncated. Caption and scene spec come from the reset ``info``
(``info["caption"]``, ``info["spec"]``) and per-frame object states from ``env.unwrapped.object_states()``
when the env provides them. An episode ends after ``steps`` steps (its last step is then marked
truncated) or when the env terminates or truncates.

Episode ``i`` is seeded with ``seed + i`` (reset seed, and a policy stream derived from it), so a
resumed or parallel collection produces byte-identical episodes to a single uninterrupted run. Workers
are separate processes started with the "spawn" method (MuJoCo's EGL contexts are not fork-safe); each
writes its own episode files atomically, and the parent keeps the manifest and the progress bar. Killing
the collection at any point leaves only complete episodes; run it again to resume.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import multiprocessing as mp
import os
import queue
import signal
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import gymnasium as gym
import numpy as np
import tyro
from gymnasium import spaces
from tqdm.auto import tqdm

from worldsim.fileio import file_sha256
from worldsim.store import Episode, EpisodeStore, StoreError, write_episode

POLICIES = ("random", "scripted")
_MANIFEST_EVERY_S = 2.0  # the parent rewrites manifest.json at most this often while collecting
_POLL_S = 0.5  # how often the parent checks on its workers while waiting for results


def _json_object(text: str) -> dict[str, Any]:
    """A JSON object given on the command line, e.g. '{"max_episode_steps": 600}'."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"--env-kwargs takes a JSON object such as '{{\"max_episode_steps\": 600}}': {e}") from e
    if not isinstance(value, dict):
        raise ValueError(f"--env-kwargs takes a JSON object, got {type(value).__name__}")
    return value


_JSON_OBJECT = tyro.constructors.PrimitiveConstructorSpec(
    nargs=1, metavar="JSON", instance_from_str=lambda args: _json_object(args[0]),
    is_instance=lambda value: isinstance(value, dict), str_from_instance=lambda value: [json.dumps(value)])


@dataclass
class CollectConfig:
    """What to collect and where."""

    env_id: Annotated[str, tyro.conf.arg(aliases=("--env",))]
    """Gymnasium id, e.g. "WorldSim/PushBox-v0" or "InvertedPendulum-v5"; the env must render rgb_array."""
    episodes: int
    """Number of episodes in the finished dataset (indices 0 .. episodes-1)."""
    steps: int
    """Maximum steps per episode; an episode also ends when the env terminates or truncates."""
    policy: str
    """"random": seeded action_space.sample(); "scripted": env.unwrapped.scripted_action(rng) (WorldSim); or a
    policy file (.safetensors, as worldsim.agents.ppo writes), whose actions are sampled from its
    action distribution with the episode's seeded stream."""
    out: str
    """Output directory (the episode store)."""
    workers: int = 1
    """Worker processes; 1 collects in this process."""
    seed: int = 0
    """Episode i is seeded with seed + i."""
    size: int = 64
    """Frames are resized to size x size pixels."""
    resume: bool = True
    """Keep the valid episodes already in `out`, collect the missing ones. False: `out` must be empty."""
    env_kwargs: Annotated[dict[str, Any], _JSON_OBJECT] = field(default_factory=dict)
    """Extra keyword arguments for gymnasium.make (JSON-safe), e.g. {"max_episode_steps": 600}."""
    progress: bool = True
    """Show a progress bar."""

    def __post_init__(self) -> None:
        if not isinstance(self.env_id, str) or not self.env_id:
            raise ValueError(f"env_id must be a Gymnasium id such as 'InvertedPendulum-v5', got {self.env_id!r}")
        for name in ("episodes", "steps", "workers", "size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"CollectConfig.{name} must be an int >= 1, got {value!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"CollectConfig.seed must be an int >= 0, got {self.seed!r}")
        if not isinstance(self.policy, str) or (self.policy not in POLICIES and not is_policy_file(self.policy)):
            raise ValueError(f"unknown policy {self.policy!r}; choose one of {POLICIES} or give a policy file "
                             "(a .safetensors file that worldsim.agents.ppo wrote)")
        if is_policy_file(self.policy) and not os.path.isfile(self.policy):
            raise ValueError(f"policy file {self.policy} does not exist")
        if not isinstance(self.env_kwargs, dict) or "render_mode" in self.env_kwargs:
            raise ValueError("env_kwargs must be a dict without 'render_mode' (collection always uses 'rgb_array')")
        try:
            self.env_kwargs = json.loads(json.dumps(self.env_kwargs, allow_nan=False))
        except (TypeError, ValueError) as e:
            raise ValueError(f"env_kwargs must be JSON-safe (they are recorded in the manifest): {e}") from e
        self.out = os.fspath(self.out)

    def dataset_config(self, action_dim: int) -> dict[str, Any]:
        """The config recorded in the manifest; a resumed collection must match it (a policy file by its
        contents, so that a retrained policy at the same path is not mixed into one store)."""
        return {
            "env_id": self.env_id,
            "steps": self.steps,
            "policy": self.policy,
            **({"policy_sha256": file_sha256(self.policy)} if is_policy_file(self.policy) else {}),
            "size": self.size,
            "seed": self.seed,
            "env_kwargs": self.env_kwargs,
            "action_dim": action_dim,
            "frame_shape": [self.size, self.size, 3],
        }


# --------------------------------------------------------------------------------------------------
# Env helpers (generic Gymnasium)
# --------------------------------------------------------------------------------------------------


def make_env(env_id: str, env_kwargs: dict[str, Any] | None = None) -> gym.Env:
    """``gymnasium.make(env_id, render_mode="rgb_array", **env_kwargs)``.

    Ids starting with "WorldSim/" are registered by the ``worldsim.envs`` package, which is imported first.
    """
    if env_id.startswith("WorldSim/"):
        try:
            importlib.import_module("worldsim.envs")
        except ModuleNotFoundError as e:
            raise ModuleNotFoundError(
                f"{env_id} is registered by the 'worldsim.envs' package, which cannot be imported ({e}); "
                f"install the project with `pip install -e .`"
            ) from e
    return gym.make(env_id, render_mode="rgb_array", **(env_kwargs or {}))


def action_dim(space: spaces.Space) -> int:
    """Width of the stored action vector for an action space (see :func:`action_vector`)."""
    if isinstance(space, (spaces.Box, spaces.MultiBinary)):
        return int(np.prod(space.shape))
    if isinstance(space, spaces.Discrete):
        return int(space.n)
    if isinstance(space, spaces.MultiDiscrete):
        return int(space.nvec.sum())
    raise ValueError(
        f"action space {space} is not supported for collection; supported: Box, Discrete (stored one-hot), "
        f"MultiDiscrete (concatenated one-hots) and MultiBinary"
    )


def action_vector(space: spaces.Space, action: Any) -> np.ndarray:
    """The env's action as a float32 vector [A]: Box/MultiBinary flattened, Discrete one-hot."""
    if isinstance(space, (spaces.Box, spaces.MultiBinary)):
        return np.asarray(action, dtype=np.float32).reshape(-1)  # [A]
    if isinstance(space, spaces.Discrete):
        onehot = np.zeros(int(space.n), np.float32)  # [n]
        onehot[int(action) - int(space.start)] = 1.0
        return onehot
    if isinstance(space, spaces.MultiDiscrete):
        parts = []
        for a, n, s in zip(np.ravel(action), space.nvec.ravel(), space.start.ravel()):
            onehot = np.zeros(int(n), np.float32)  # [n_k]
            onehot[int(a) - int(s)] = 1.0
            parts.append(onehot)
        return np.concatenate(parts)  # [sum n_k]
    raise ValueError(f"action space {space} is not supported for collection (see action_dim)")


@functools.lru_cache(maxsize=32)
def _area_taps(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """Area-resampling taps: output pixel o is the mean of the input span [o, o + 1) * n_in / n_out.

    Returns:
        idx intp [n_out, m] and weights float32 [n_out, m] (rows sum to 1) over the m input pixels each
        output pixel can overlap.
    """
    edges = np.arange(n_out + 1) * (n_in / n_out)  # [n_out+1] output pixel borders, in input pixels
    pixels = np.arange(n_in)[None, :]  # [1, n_in]
    overlap = np.minimum(edges[1:, None], pixels + 1) - np.maximum(edges[:-1, None], pixels)  # [n_out, n_in]
    weights = np.clip(overlap, 0.0, None)
    weights /= weights.sum(axis=1, keepdims=True)
    m = int((weights > 0).sum(axis=1).max())
    first = np.clip(np.argmax(weights > 0, axis=1), 0, n_in - m)  # [n_out]
    idx = first[:, None] + np.arange(m)  # [n_out, m]
    return idx, np.take_along_axis(weights, idx, axis=1).astype(np.float32)


def _resize_rows(x: np.ndarray, size: int) -> np.ndarray:
    idx, w = _area_taps(x.shape[0], size)  # [size, m], [size, m]
    return np.einsum("om,omc->oc", w, x[idx])  # [size, C]


def resize_frame(frame: np.ndarray, size: int) -> np.ndarray:
    """Resize a uint8 RGB frame [H, W, 3] to [size, size, 3] by area averaging.

    Each output pixel is the mean of the input area it covers (partly covered pixels weighted by the
    covered fraction), rounded, so small objects keep their colour mass when shrinking. A non-square
    frame is scaled to the square without cropping. A frame already of that size is returned unchanged.
    """
    h, w = frame.shape[:2]
    if (h, w) == (size, size):
        return np.ascontiguousarray(frame)
    x = frame.reshape(h, w * 3).astype(np.float32)  # [H, W*3]
    y = _resize_rows(x, size)  # [size, W*3]
    y = y.reshape(size, w, 3).transpose(1, 0, 2).reshape(w, size * 3)  # [W, size*3]
    z = _resize_rows(y, size).reshape(size, size, 3).transpose(1, 0, 2)  # [size, size, 3]
    return np.clip(np.rint(z), 0, 255).astype(np.uint8)


def render_frame(env: gym.Env, size: int) -> np.ndarray:
    """``env.render()`` as uint8 [size, size, 3], with a clear error when the env does not render RGB."""
    frame = env.render()
    name = env.spec.id if env.spec else type(env.unwrapped).__name__
    if frame is None:
        raise ValueError(f"{name}.render() returned None; make the env with render_mode='rgb_array'")
    frame = np.asarray(frame)
    if frame.ndim != 3 or frame.shape[-1] not in (3, 4):
        raise ValueError(f"{name}.render() returned shape {frame.shape}; expected an RGB(A) image [H, W, 3|4]")
    frame = frame[..., :3]  # drop alpha
    if np.issubdtype(frame.dtype, np.floating):
        frame = np.clip(np.round(frame * 255.0), 0, 255)  # floats are taken as [0, 1]
    frame = frame.astype(np.uint8, copy=False)
    return resize_frame(frame, size)


def is_policy_file(policy: str) -> bool:
    """Whether ``policy`` names a policy file rather than one of :data:`POLICIES`."""
    return policy.endswith(".safetensors")


def _policy(env: gym.Env, policy: str, seed: int) -> Callable[[Any], Any]:
    """The episode's policy: a function of the observation that returns an action."""
    # The policy's random stream is derived from, but independent of, the env's reset seed.
    policy_seed = np.random.SeedSequence([seed, 1])
    if policy == "random":
        space = env.action_space
        space.seed(int(policy_seed.generate_state(1)[0]))
        return lambda obs: space.sample()
    if policy == "scripted":
        _check_scripted(env)
        rng = np.random.default_rng(policy_seed)
        return lambda obs: env.unwrapped.scripted_action(rng)
    if is_policy_file(policy):
        return _sampled_policy(env, policy, np.random.default_rng(policy_seed))
    raise ValueError(f"unknown policy {policy!r}; choose one of {POLICIES} or a policy file")


@functools.lru_cache(maxsize=2)
def _load_policy_file(path: str) -> Any:
    from worldsim.agents.policy_file import load_policy_file  # stable-baselines3 only when a policy file is used

    return load_policy_file(path, device="cpu")


def _sampled_policy(env: gym.Env, path: str, rng: np.random.Generator) -> Callable[[Any], Any]:
    """Actions drawn from a trained policy's Gaussian with ``rng`` (not torch's global stream), clipped to
    the action space as stable-baselines3 clips them: the exploration the policy trained with, seeded."""
    import torch

    policy = _load_policy_file(path)
    space = env.action_space
    if not isinstance(space, spaces.Box) or space.shape != policy.action_space.shape:
        raise ValueError(f"{path} acts in {policy.action_space}, the env in {space}: collect with a policy "
                         f"trained on {env.spec.id if env.spec else 'this env'}")
    if np.prod(policy.observation_space.shape) != np.prod(env.observation_space.shape):
        raise ValueError(f"{path} observes {policy.observation_space.shape}, the env gives "
                         f"{env.observation_space.shape}: collect with a policy trained on this env")

    def act(obs: Any) -> np.ndarray:
        with torch.no_grad():
            dist = policy.get_distribution(policy.obs_to_tensor(obs)[0]).distribution
        mean, std = dist.mean[0].numpy(), dist.stddev[0].numpy()
        return np.clip(rng.normal(mean, std), space.low, space.high).astype(space.dtype)

    return act


def _check_scripted(env: gym.Env) -> None:
    if callable(getattr(env.unwrapped, "scripted_action", None)):
        return
    scenes = sorted(k for k in gym.registry if k.startswith("WorldSim/") and "Learned" not in k)
    name = env.spec.id if env.spec else type(env.unwrapped).__name__
    raise ValueError(
        f"{name} has no scripted policy (env.unwrapped.scripted_action(rng)). The WorldSim ground-truth "
        f"scenes have one ({', '.join(scenes) or 'WorldSim/Playground-v0, WorldSim/PushBox-v0, ...'}); "
        f"use policy='random' for other envs"
    )


def _object_states(env: gym.Env) -> np.ndarray:
    fn = getattr(env.unwrapped, "object_states", None)
    if not callable(fn):
        return np.zeros((0, 0), np.float32)
    states = np.asarray(fn(), dtype=np.float32)
    if states.ndim != 2:
        raise ValueError(f"object_states() must return [n_bodies, d], got shape {states.shape}")
    return states


def rollout(
    env: gym.Env,
    *,
    steps: int,
    seed: int,
    policy: str = "random",
    size: int = 64,
    meta: dict[str, Any] | None = None,
) -> Episode:
    """Run one seeded episode and record it.

    Args:
        env: A Gymnasium env made with ``render_mode="rgb_array"``.
        steps: Maximum steps; if reached without the env ending the episode, its last step is truncated.
        seed: Reset seed; the policy's random stream is derived from it.
        policy: "random", "scripted" or a policy file (see :class:`CollectConfig`).
        size: Frames are resized to ``size x size``.
        meta: JSON-safe provenance stored with the episode.

    Returns:
        The recorded :class:`Episode` (frames uint8 [T+1, size, size, 3], actions float32 [T, A], ...).
    """
    obs, info = env.reset(seed=seed)
    act = _policy(env, policy, seed)
    space = env.action_space
    frames, states = [render_frame(env, size)], [_object_states(env)]
    actions, rewards, terminated, truncated = [], [], [], []
    for _ in range(steps):
        action = act(obs)
        obs, reward, term, trunc, _ = env.step(action)
        frames.append(render_frame(env, size))
        states.append(_object_states(env))
        actions.append(action_vector(space, action))
        rewards.append(float(reward))
        terminated.append(bool(term))
        truncated.append(bool(trunc))
        if term or trunc:
            break
    else:
        truncated[-1] = True  # cut by the collection's step limit
    if len({s.shape for s in states}) > 1:
        raise ValueError(f"object_states() changed shape during the episode: {sorted({s.shape for s in states})}")
    spec = info.get("spec") or {}
    return Episode(
        frames=np.stack(frames),  # [T+1, size, size, 3]
        actions=np.stack(actions).astype(np.float32, copy=False),  # [T, A]
        rewards=np.asarray(rewards, np.float32),  # [T]
        terminated=np.asarray(terminated, np.bool_),  # [T]
        truncated=np.asarray(truncated, np.bool_),  # [T]
        caption=str(info.get("caption", "")),
        spec=spec.to_dict() if hasattr(spec, "to_dict") else dict(spec),
        states=np.stack(states),  # [T+1, n, d]
        env_id=env.spec.id if env.spec else "",
        seed=seed,
        meta=meta or {},
    )


# --------------------------------------------------------------------------------------------------
# Collection
# --------------------------------------------------------------------------------------------------


def _collection_env(cfg: CollectConfig) -> gym.Env:
    """Make the env and render once after a fixed reset.

    Some envs set up their renderer on the first ``render()`` from the state at that moment (Gymnasium's
    MuJoCo envs aim the camera at the median geom position), so without this the frames of an episode
    would depend on which episodes the same process collected before it.
    """
    env = make_env(cfg.env_id, cfg.env_kwargs)
    env.reset(seed=cfg.seed)
    render_frame(env, cfg.size)
    return env


def _check_render_size(env: gym.Env, cfg: CollectConfig) -> None:
    h, w = np.asarray(env.render()).shape[:2]
    if h * w > 4 * cfg.size * cfg.size:
        warnings.warn(
            f"{cfg.env_id} renders {h}x{w} frames, stored at {cfg.size}x{cfg.size}; rendering at the stored "
            f"size is much faster when the env takes width/height arguments (Gymnasium's MuJoCo envs do): "
            f"env_kwargs={{'width': {cfg.size}, 'height': {cfg.size}}}",
            stacklevel=3,
        )


def _collect_one(env: gym.Env, cfg: CollectConfig, index: int, config: dict[str, Any]) -> dict[str, Any]:
    episode = rollout(
        env,
        steps=cfg.steps,
        seed=cfg.seed + index,
        policy=cfg.policy,
        size=cfg.size,
        meta={"collect": config},
    )
    return write_episode(cfg.out, index, episode)


def _worker_main(cfg: CollectConfig, config: dict[str, Any], todo: Sequence[int], counter: Any, results: Any) -> None:
    """Worker process: take the next index from the shared counter, collect it, report its entry."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the workers
    try:
        env = _collection_env(cfg)
        parent = mp.parent_process()
        while parent is None or parent.is_alive():  # an orphaned worker stops after its current episode
            with counter.get_lock():
                k = counter.value
                counter.value += 1
            if k >= len(todo):
                break
            results.put(("ok", _collect_one(env, cfg, todo[k], config)))
        env.close()
    except BaseException:
        results.put(("error", traceback.format_exc()))


def _run_workers(cfg: CollectConfig, config: dict[str, Any], todo: list[int]) -> Iterator[dict[str, Any]]:
    ctx = mp.get_context("spawn")
    counter, results = ctx.Value("q", 0), ctx.Queue()
    procs = [
        ctx.Process(
            target=_worker_main,
            args=(cfg, config, todo, counter, results),
            name=f"worldsim-collect-{k}",
            daemon=True,
        )
        for k in range(min(cfg.workers, len(todo)))
    ]
    for p in procs:
        p.start()
    remaining = len(todo)
    try:
        while remaining:
            try:
                kind, payload = results.get(timeout=_POLL_S)
            except queue.Empty:
                failed = [p for p in procs if p.exitcode not in (None, 0)]
                if failed:
                    raise RuntimeError(
                        f"collection worker {failed[0].name} died with exit code {failed[0].exitcode}; the "
                        f"episodes finished so far are kept, run the collection again to resume"
                    ) from None
                if all(p.exitcode == 0 for p in procs) and results.empty():
                    msg = f"collection workers exited with {remaining} episodes unreported"
                    raise RuntimeError(msg) from None
                continue
            if kind == "error":
                raise RuntimeError(f"a collection worker failed:\n{payload}")
            remaining -= 1
            yield payload
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()  # a write in progress leaves only a temp file, removed on the next run
        for p in procs:
            p.join(timeout=10)
        results.cancel_join_thread()
        results.close()


def _prepare_store(cfg: CollectConfig, config: dict[str, Any]) -> tuple[EpisodeStore, list[int]]:
    store = EpisodeStore(cfg.out)
    store.remove_temp_files()
    if not cfg.resume and (len(store) or store.problems):
        raise StoreError(
            f"{store.root} already holds {len(store)} episodes; resume the collection (resume=True, "
            f"--resume) or choose a new output directory"
        )
    store.ensure_config(config)
    bad = sorted(name for name in store.problems)
    if bad:
        warnings.warn(f"re-collecting unreadable episode files in {store.root}: {', '.join(bad)}", stacklevel=3)
    return store, [i for i in range(cfg.episodes) if i not in store]


def collect(cfg: CollectConfig) -> dict[str, Any]:
    """Collect ``cfg.episodes`` episodes into the store at ``cfg.out``, resuming what is already there.

    Args:
        cfg: What to collect; see :class:`CollectConfig`.

    Returns:
        Summary: out, env_id, policy, workers, collected / skipped episodes, steps and frames collected,
        seconds (collection phase, including worker start-up), episodes_per_s, frames_per_s, and the
        store's totals (store_episodes, store_frames).

    Raises:
        ConfigMismatchError: ``cfg.out`` holds episodes collected with another env/policy/size/steps/seed.
        ValueError: The env cannot be collected as asked (no rgb_array render, no scripted policy, ...).
    """
    env: gym.Env | None = _collection_env(cfg)
    try:
        if cfg.policy == "scripted":
            _check_scripted(env)
        limit = env.spec.max_episode_steps if env.spec else None
        if limit is not None and limit < cfg.steps:
            warnings.warn(
                f"{cfg.env_id} truncates episodes at {limit} steps (its max_episode_steps), fewer than steps="
                f"{cfg.steps}; pass env_kwargs={{'max_episode_steps': {cfg.steps}}} to lift the limit",
                stacklevel=2,
            )
        _check_render_size(env, cfg)
        config = cfg.dataset_config(action_dim(env.action_space))
        store, todo = _prepare_store(cfg, config)
        t0 = time.perf_counter()
        if cfg.workers == 1 or len(todo) <= 1:
            runner = (_collect_one(env, cfg, i, config) for i in todo)
        else:
            env.close()  # the workers make their own
            env = None
            runner = _run_workers(cfg, config, todo)
        steps = _drain(store, runner, cfg, len(todo))
        seconds = time.perf_counter() - t0
    finally:
        if env is not None:
            env.close()
    store.remove_temp_files()
    manifest = store.manifest
    frames = steps + len(todo)
    return {
        "out": str(store.root),
        "env_id": cfg.env_id,
        "policy": cfg.policy,
        "workers": cfg.workers,
        "collected": len(todo),
        "skipped": cfg.episodes - len(todo),
        "steps_collected": steps,
        "frames_collected": frames,
        "seconds": seconds,
        "episodes_per_s": len(todo) / seconds if seconds > 0 else 0.0,
        "frames_per_s": frames / seconds if seconds > 0 else 0.0,
        "store_episodes": manifest["num_episodes"],
        "store_frames": manifest["num_frames"],
    }


def _drain(store: EpisodeStore, runner: Iterator[dict[str, Any]], cfg: CollectConfig, n: int) -> int:
    """Register each finished episode, update the progress bar, save the manifest now and then."""
    bar = tqdm(total=cfg.episodes, initial=cfg.episodes - n, unit="ep", desc=cfg.env_id, disable=not cfg.progress)
    steps, last_save = 0, time.monotonic()
    try:
        with contextlib.closing(runner):  # stops the workers if anything below raises (Ctrl-C included)
            for entry in runner:
                store.register(entry)
                steps += entry["length"]
                bar.update(1)
                if time.monotonic() - last_save > _MANIFEST_EVERY_S:
                    store.save_manifest()
                    last_save = time.monotonic()
    finally:
        bar.close()
        store.save_manifest()
    return steps
