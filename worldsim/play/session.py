"""One browser tab's play session: a MuJoCo scene and the learned simulator, stepped with one action.

A :class:`PlaySession` holds the pair of envs behind one websocket and answers its JSON messages
(:meth:`PlaySession.handle`). Every method blocks (MuJoCo rendering, model steps, video encoding), so
the server calls them off its event loop, always from the same worker thread per session (MuJoCo's
GL context belongs to the thread that made it).

Messages from the page (JSON objects, ``type`` first):

- ``{"type": "reset", "seed": 0, "prompt": "a red ball", "steps": 2, "env": "WorldSim/PushBox-v0"}``:
  a new episode; every field but ``type`` is optional (missing ones keep their current value; an
  empty prompt means the scene's own random layout). A prompt picks the scene that fits it.
- ``{"type": "step", "action": [x, y], "id": 7}``: one 0.1 s step of both sims with the agent's
  2-D force in [-1, 1] (a second agent gets zeros); ``id`` is echoed back.
- ``{"type": "record"}``: save the episode so far as mp4 (MuJoCo | learned | difference) with its
  provenance sidecar.

Replies: ``hello`` (once), ``frame`` (after a reset or a step), ``recorded`` and ``error``; an
``error`` names the ``field`` it is about (``"prompt"`` for the parser's complaints).
"""

from __future__ import annotations

import base64
import json
import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

SAMPLING_STEPS = (1, 2, 4)
"""Denoising steps per frame the page offers."""
MAX_PROMPT_CHARS = 1000
MAX_RECORD_STEPS = 3000
"""Steps of an episode kept for recording (older ones are dropped first)."""
_KEEP: Any = object()  # a reset argument left as it is


@dataclass
class PlaySettings:
    """What every play session starts from."""

    env: str = "WorldSim/PushBox-v0"
    """Ground-truth scene id."""
    prompt: str | None = None
    """Scenario to start from (a prompt picks its own scene); None: the scene's random layout."""
    seed: int = 0
    """Seed of the first episode."""
    checkpoint: str | None = None
    """World-model checkpoint directory (default: the shipped one)."""
    sampling_steps: int = 2
    """Denoising steps per frame at the start (the page switches between 1, 2 and 4)."""
    out: str = "outputs/play"
    """Where recordings go."""
    device: str | None = None
    """Torch device of the learned simulator (default: CUDA when available, else CPU)."""


class BadMessage(ValueError):
    """A message the session cannot act on; its text says what to send instead."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field



def png_base64(frame: np.ndarray) -> str:
    """A uint8 ``(H, W, 3)`` frame as base64 PNG text (for an ``<img src="data:image/png;base64,...">``)."""
    import imageio.v3 as iio

    return base64.b64encode(iio.imwrite("<bytes>", frame, extension=".png")).decode("ascii")


def detector_colors() -> tuple[dict, tuple]:
    """Object colours and background colours of the frame detector, as ``worldsim check`` uses them."""
    from worldsim import envs

    return envs.render_palette(), tuple(envs.render_scenery_colors().values())


def centroid_error(gt: np.ndarray, gen: np.ndarray, colors: dict, background: tuple) -> dict[str, Any]:
    """Per-object centroid distance (px) between a MuJoCo frame and a generated one.

    Args:
        gt, gen: uint8 frames ``(H, W, 3)``.
        colors, background: The detector (:func:`detector_colors`).

    Returns:
        ``{"mean_px": float | None, "objects": {name: px}}`` over the objects MuJoCo shows; an object
        the generated frame lacks counts as the frame diagonal (:func:`worldsim.metrics.compare_objects`).
    """
    from worldsim import metrics

    cmp = metrics.compare_objects(gt[None, None], gen[None, None], colors, background=background)
    error, shown = cmp.error[0, 0], cmp.gt.visible[0, 0]  # (K,), (K,)
    per_object = {name: round(float(e), 2) for name, e, s in zip(cmp.names, error, shown) if s}
    return {"mean_px": round(float(error[shown].mean()), 3) if shown.any() else None, "objects": per_object}


def _shown(value: Any) -> str:
    """A value from a message, as an error quotes it (cut short)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _int(msg: dict, key: str, low: int, high: int) -> int:
    value = msg[key]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadMessage(f"'{key}' must be an integer from {low} to {high}, got {_shown(value)}", key)
    return value


def parse_action(value: Any) -> np.ndarray:
    """The agent's force from a message: two finite numbers, clipped to [-1, 1]."""
    ok = isinstance(value, list | tuple) and len(value) == 2
    ok = ok and all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in value)
    if not ok:
        raise BadMessage(f"'action' must be two finite numbers [x, y] in [-1, 1], got {_shown(value)}", "action")
    return np.clip(np.asarray(value, np.float32), -1.0, 1.0)


class PlaySession:
    """A MuJoCo scene and the learned simulator side by side, for one page.

    Args:
        settings: The scene, prompt, checkpoint and sampling steps to start from.
    """

    def __init__(self, settings: PlaySettings):
        from worldsim import envs

        self.settings = settings
        self.colors, self.background = detector_colors()
        self.scenes = tuple(envs.GT_ENVS)
        self.env_id, self.steps, self.seed = settings.env, settings.sampling_steps, settings.seed
        self.prompt = settings.prompt
        self.gt = self.learned = None
        self._pair_key: tuple[str, int] | None = None
        self._done = True
        self._t = 0
        self._caption = ""
        self._episode: dict[str, list] = {"mujoco": [], "learned": [], "actions": []}

    # ---- messages --------------------------------------------------------------------------------

    def hello(self) -> dict[str, Any]:
        """What the page needs to build its controls."""
        return {"type": "hello", "scenes": list(self.scenes), "sampling_steps": list(SAMPLING_STEPS),
                "defaults": {"env": self.env_id, "prompt": self.prompt or "", "seed": self.seed,
                             "steps": self.steps}, "fps": 10}

    def handle(self, raw: str | bytes) -> dict[str, Any]:
        """Answer one message from the page; never raises (a bad message gets an ``error`` reply)."""
        try:
            if isinstance(raw, bytes):
                try:
                    raw = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise BadMessage("send messages as UTF-8 JSON text") from e
            msg = json.loads(raw)
            if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
                raise BadMessage('send a JSON object with a "type": "reset", "step" or "record"')
            kind = msg["type"]
            if kind == "step":
                return self.step(parse_action(msg.get("action")), msg.get("id"))
            if kind == "reset":
                return self.reset(**self._reset_args(msg))
            if kind == "record":
                return self.record()
            raise BadMessage(f'unknown message type {_shown(kind)}; use "reset", "step" or "record"', "type")
        except json.JSONDecodeError as e:
            return _error(f"not JSON ({e}); send a JSON object such as {{\"type\": \"step\", \"action\": [1, 0]}}")
        except BadMessage as e:
            return _error(str(e), e.field)
        except Exception as e:  # a failure of one request must not end the session
            log.exception("play session: request failed")
            return _error(f"{type(e).__name__}: {e}")

    def _reset_args(self, msg: dict) -> dict[str, Any]:
        args: dict[str, Any] = {}
        if msg.get("seed") is not None:
            args["seed"] = _int(msg, "seed", 0, 2**31 - 1)
        if "prompt" in msg:
            prompt = msg["prompt"]
            if prompt is not None and not isinstance(prompt, str):
                raise BadMessage(f"'prompt' must be text, got {_shown(prompt)}", "prompt")
            if prompt and len(prompt) > MAX_PROMPT_CHARS:
                raise BadMessage(f"the prompt is longer than {MAX_PROMPT_CHARS} characters; shorten it", "prompt")
            args["prompt"] = (prompt or "").strip() or None
        if msg.get("steps") is not None:
            if msg["steps"] not in SAMPLING_STEPS or isinstance(msg["steps"], bool):
                raise BadMessage(f"'steps' must be one of {list(SAMPLING_STEPS)}, got {_shown(msg['steps'])}", "steps")
            args["steps"] = msg["steps"]
        if msg.get("env") is not None:
            if msg["env"] not in self.scenes:
                raise BadMessage(f"unknown scene {_shown(msg['env'])}; choose one of {list(self.scenes)}", "env")
            args["env"] = msg["env"]
        return args

    # ---- episode ---------------------------------------------------------------------------------

    def reset(self, seed: int | None = None, prompt: str | None = _KEEP, steps: int | None = None,
              env: str | None = None) -> dict[str, Any]:
        """Start an episode in both sims on one scene; arguments left out keep their current value.

        A prompt is parsed first (an unknown word is an ``error`` about the ``prompt``, and the running
        episode goes on); it picks its scene. MuJoCo resets on the prompt, and the learned simulator
        starts from the same scene's first MuJoCo frame (grounded start).
        """
        from worldsim import envs

        seed = self.seed if seed is None else seed
        prompt = self.prompt if prompt is _KEEP else prompt
        steps = self.steps if steps is None else steps
        env_id = env or self.env_id
        options: dict[str, Any] | None = None
        if prompt:
            try:
                spec = envs.parse_prompt(prompt, seed=seed)
            except envs.PromptError as e:
                raise BadMessage(f"cannot simulate this prompt: {e}", "prompt") from e
            env_id, options = envs.scene_env_id(spec), {"prompt": prompt}
        self._done = True  # until both sims have reset
        self._open(env_id, steps)
        obs, info = self.gt.reset(seed=seed, options=options)
        gen, _ = self.learned.reset(seed=seed, options={"spec": info["spec"]})
        self.env_id, self.steps, self.seed, self.prompt = env_id, steps, seed, prompt
        self._caption, self._t, self._done = info.get("caption", ""), 0, False
        self._episode = {"mujoco": [obs], "learned": [gen], "actions": []}
        return self._frame(obs, gen, info, event="reset")

    def step(self, action: np.ndarray, request_id: Any = None) -> dict[str, Any]:
        """Step both sims 0.1 s with the agent's force ``action`` ``(2,)``; other agents get zeros."""
        if self.gt is None:
            raise BadMessage('no episode yet: send {"type": "reset"} first')
        if self._done:
            raise BadMessage("the episode is over; press Reset (or send a reset message) to play again")
        full = np.zeros(self.gt.action_space.shape, np.float32)
        full[:2] = action
        t0 = time.perf_counter()
        obs, reward, terminated, truncated, info = self.gt.step(full)
        t1 = time.perf_counter()
        gen, learned_reward, learned_terminated, _, _ = self.learned.step(full)
        t2 = time.perf_counter()
        self._t += 1
        self._done = bool(terminated or truncated)
        for key, value in (("mujoco", obs), ("learned", gen), ("actions", full)):
            self._episode[key].append(value)
            del self._episode[key][:-MAX_RECORD_STEPS - 1]
        frame = self._frame(obs, gen, info, event="step")
        frame.update(id=request_id if isinstance(request_id, int | str) else None, action=action.tolist(),
                     ms={"mujoco": round(1000 * (t1 - t0), 2), "learned": round(1000 * (t2 - t1), 2)},
                     reward={"mujoco": float(reward), "learned": float(learned_reward)},
                     done={"mujoco_terminated": bool(terminated), "time_limit": bool(truncated),
                           "learned_terminated": bool(learned_terminated)})
        return frame

    def record(self) -> dict[str, Any]:
        """Save the episode so far as mp4 (and gif) with a provenance sidecar under ``settings.out``."""
        from worldsim.evaluate import side_by_side
        from worldsim.report import write_video

        if self.gt is None:
            raise BadMessage('nothing to record yet: send {"type": "reset"} first')
        gt, gen = np.stack(self._episode["mujoco"]), np.stack(self._episode["learned"])
        scene = self.env_id.split("/")[-1]
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        provenance = {
            "source": "worldsim play", "checkpoint": self.learned.sim.model.checkpoint_hash, "env": self.env_id,
            "seed": self.seed, "prompt": self.prompt, "caption": self._caption, "sampling_steps": self.steps,
            "steps": len(gt) - 1, "layout": "MuJoCo ground truth | learned simulator | |diff|",
            "actions": [[round(float(v), 4) for v in a] for a in self._episode["actions"]],
        }
        files = write_video(Path(self.settings.out) / f"play_{scene}_seed{self.seed}_{stamp}",
                            side_by_side(gt, gen), provenance)
        video = next((p for p in files if p.suffix == ".mp4"), files[0])
        return {"type": "recorded", "path": str(video), "files": [str(p) for p in files], "steps": len(gt) - 1}

    def close(self) -> None:
        """Free both envs (safe to call twice)."""
        for env in (self.gt, self.learned):
            if env is not None:
                env.close()
        self.gt = self.learned = None
        self._pair_key = None

    # ---- internals -------------------------------------------------------------------------------

    def _open(self, env_id: str, steps: int) -> None:
        """Make the env pair for a scene and sampling steps, replacing the current one if it differs."""
        if self._pair_key == (env_id, steps):
            return
        import gymnasium as gym

        from worldsim.envs.learned import LearnedEnv

        self.close()
        gt = gym.make(env_id)
        try:
            learned = LearnedEnv(env_id, checkpoint=self.settings.checkpoint, sim={"sampler": {"steps": steps}},
                                 device=self.settings.device)
        except Exception:
            gt.close()
            raise
        self.gt, self.learned, self._pair_key = gt, learned, (env_id, steps)

    def _frame(self, obs: np.ndarray, gen: np.ndarray, info: dict, event: str) -> dict[str, Any]:
        diff = np.abs(obs.astype(np.int16) - gen.astype(np.int16)).astype(np.uint8)
        return {
            "type": "frame", "event": event, "step": self._t, "env": self.env_id, "seed": self.seed,
            "prompt": self.prompt or "", "caption": self._caption, "sampling_steps": self.steps,
            "images": {"mujoco": png_base64(obs), "learned": png_base64(gen), "diff": png_base64(diff)},
            "centroid_error": centroid_error(obs, gen, self.colors, self.background),
            "agents_px": [a["pos_px"] for a in info.get("agents", [])], "over": self._done,
        }


def _error(message: str, field: str | None = None) -> dict[str, Any]:
    return {"type": "error", "message": message, "field": field}
