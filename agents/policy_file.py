"""A PPO policy as one safetensors file that loads without unpickling anything.

SB3's ``policy.zip`` holds pickled Python objects, so opening one runs whatever its author put in it.
A policy file holds the policy network's weights as tensors, and in the file's metadata the JSON that
rebuilds the network around them: its class, its observation and action spaces and its architecture.
Loading reads tensors and JSON only, and builds nothing that is not in this module's short lists of
known classes, so a policy file from anyone is safe to open:

    from worldsim.agents.policy_file import load_policy_file, save_policy_file
    save_policy_file(model, "runs/ppo/policy.safetensors")      # model: a trained SB3 PPO
    policy = load_policy_file("runs/ppo/policy.safetensors")    # an SB3 policy; .predict(obs) as usual

``python -m worldsim.agents.evaluate --policy runs/ppo/policy.safetensors`` scores one in MuJoCo.

Policies that ship with the package are named in :data:`SHIPPED`: ``--policy reach`` is the Reach
policy trained only inside the learned simulator (:func:`policy_provenance` says how).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.policies import ActorCriticCnnPolicy, ActorCriticPolicy, BasePolicy
from stable_baselines3.common.torch_layers import FlattenExtractor, NatureCNN
from stable_baselines3.common.utils import get_device
from torch import Tensor, nn

from worldsim.agents.extractors import KeypointCNN
from worldsim.checkpoint import CheckpointError, load_tensors, save_tensors, tensor_metadata

FORMAT = "worldsim-policy"
VERSION = 1
PROVENANCE = "worldsim-policy-provenance"  # metadata key: how the policy was trained (JSON)
#: Policy files that ship with the package, by name.
SHIPPED: dict[str, Path] = {"reach": Path(__file__).parent / "policies" / "reach.safetensors"}
#: The classes a policy file may name, by name: loading builds nothing else.
POLICIES: dict[str, type[ActorCriticPolicy]] = {c.__name__: c for c in (ActorCriticPolicy, ActorCriticCnnPolicy)}
EXTRACTORS: dict[str, type[nn.Module]] = {c.__name__: c for c in (NatureCNN, KeypointCNN, FlattenExtractor)}
ACTIVATIONS: dict[str, type[nn.Module]] = {c.__name__: c for c in (nn.Tanh, nn.ReLU, nn.SiLU, nn.GELU)}


def save_policy_file(model: BaseAlgorithm | BasePolicy, path: str | os.PathLike,
                     storage: Literal["float32", "float16"] = "float32",
                     provenance: dict[str, Any] | None = None) -> Path:
    """Write ``model``'s policy (a PPO model or its ``.policy``) to ``path``, atomically.

    ``storage="float16"`` stores the weights at half precision (half the file, for a policy that ships
    with the code); they load back into the float32 network. ``provenance`` (JSON) says how the
    policy was trained; :func:`policy_provenance` reads it back.

    Raises:
        ValueError: for a policy this format cannot describe (another class, feature extractor or
            activation than the module's lists hold, or a state-dependent exploration policy).
    """
    policy = model.policy if isinstance(model, BaseAlgorithm) else model
    name = type(policy).__name__
    if name not in POLICIES:
        raise ValueError(f"a policy file holds one of {sorted(POLICIES)}, not {name}; keep SB3's .zip for it")
    p = policy._get_constructor_parameters()
    if p.get("use_sde"):
        raise ValueError("a policy with state-dependent exploration (use_sde) cannot go in a policy file")
    extractor, activation = p["features_extractor_class"].__name__, p["activation_fn"].__name__
    _known(EXTRACTORS, extractor, "feature extractor")
    _known(ACTIVATIONS, activation, "activation")
    spec = {
        "format": FORMAT, "version": VERSION, "policy_class": name,
        "observation_space": _box_to_json(p["observation_space"]), "action_space": _box_to_json(p["action_space"]),
        "net_arch": p["net_arch"], "activation_fn": activation, "features_extractor_class": extractor,
        "features_extractor_kwargs": p["features_extractor_kwargs"], "normalize_images": p["normalize_images"],
        "share_features_extractor": policy.share_features_extractor,
    }
    meta = json.dumps(spec)  # fails here, before writing, on anything JSON cannot hold
    if storage not in ("float32", "float16"):
        raise ValueError(f"storage must be 'float32' or 'float16', got {storage!r}")
    tensors = {k: v.to(getattr(torch, storage)) if v.is_floating_point() else v
               for k, v in _without_aliases(policy.state_dict()).items()}
    save_tensors(path, tensors, metadata={FORMAT: meta, PROVENANCE: json.dumps(provenance or {})})
    return Path(path)


def policy_provenance(path: str | os.PathLike) -> dict[str, Any]:
    """How the policy at ``path`` was trained, as its maker recorded it (``{}`` when nothing was)."""
    raw = tensor_metadata(path).get(PROVENANCE)
    try:
        out = json.loads(raw) if raw else {}
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{path}: its provenance is not JSON ({e}); save it again") from e
    if not isinstance(out, dict):
        raise CheckpointError(f"{path}: its provenance is not a JSON object; save it again")
    return out


def load_policy_file(path: str | os.PathLike, device: str = "auto") -> ActorCriticPolicy:
    """The policy saved at ``path`` by :func:`save_policy_file`, in eval mode on ``device`` (``"auto"``:
    CUDA when available, as SB3 loads).

    Raises:
        CheckpointError: for a missing, corrupt or foreign file, or one whose weights do not fit the
            network its JSON describes.
    """
    tensors = load_tensors(path)  # a clear error for a missing or corrupt file
    raw = tensor_metadata(path).get(FORMAT)
    if raw is None:
        raise CheckpointError(f"{path} is a safetensors file but not a policy file (no {FORMAT!r} metadata); "
                              "save policies with worldsim.agents.policy_file.save_policy_file")
    try:
        spec = json.loads(raw)
        if spec.get("format") != FORMAT or spec.get("version") != VERSION:
            raise ValueError(f"format {spec.get('format')!r} version {spec.get('version')!r}, "
                             f"this code reads {FORMAT!r} version {VERSION}")
        cls = _known(POLICIES, spec["policy_class"], "policy class")
        policy = cls(_box_from_json(spec["observation_space"]), _box_from_json(spec["action_space"]),
                     lambda _: 0.0, net_arch=spec["net_arch"],
                     activation_fn=_known(ACTIVATIONS, spec["activation_fn"], "activation"),
                     features_extractor_class=_known(EXTRACTORS, spec["features_extractor_class"], "extractor"),
                     features_extractor_kwargs=spec["features_extractor_kwargs"],
                     normalize_images=bool(spec["normalize_images"]),
                     share_features_extractor=bool(spec["share_features_extractor"]))
        expected = _without_aliases(policy.state_dict())
        if set(tensors) != set(expected):
            raise ValueError(f"the weights do not fit the network: missing {sorted(set(expected) - set(tensors))[:3]}, "
                             f"unexpected {sorted(set(tensors) - set(expected))[:3]}")
        policy.load_state_dict(tensors, strict=False)  # the aliases left out share the loaded tensors
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as e:
        raise CheckpointError(f"{path} is not a policy file this version can rebuild ({type(e).__name__}: {e}); "
                              "save it again with worldsim.agents.policy_file.save_policy_file") from e
    return policy.to(get_device(device)).eval()


def _without_aliases(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """``state`` with each tensor once: a shared feature extractor appears under three names."""
    seen, out = set(), {}
    for name, t in state.items():
        key = (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape), t.stride())
        if key not in seen:
            seen.add(key)
            out[name] = t
    return out


def _known(table: dict[str, Any], name: Any, what: str) -> Any:
    if not isinstance(name, str) or name not in table:
        raise ValueError(f"unknown {what} {name!r}; a policy file may name {sorted(table)}")
    return table[name]


def _box_to_json(space: spaces.Space) -> dict[str, Any]:
    if not isinstance(space, spaces.Box):
        raise ValueError(f"a policy file holds Box spaces only, not {type(space).__name__}")
    bound = lambda x: x.flat[0].item() if np.all(x == x.flat[0]) else x.tolist()  # noqa: E731  (one number if uniform)
    return {"shape": list(space.shape), "dtype": str(space.dtype), "low": bound(space.low), "high": bound(space.high)}


def _box_from_json(d: dict[str, Any]) -> spaces.Box:
    dtype = np.dtype(d["dtype"])
    if dtype.kind not in "uif":
        raise ValueError(f"a Box of numbers, not of {dtype}")
    shape = tuple(int(n) for n in d["shape"])
    return spaces.Box(np.broadcast_to(np.asarray(d["low"], dtype), shape),
                      np.broadcast_to(np.asarray(d["high"], dtype), shape), shape, dtype)


def main(argv: list[str] | None = None) -> None:
    """``python -m worldsim.agents.policy_file SRC DST --storage float16``: copy a policy file (or a PPO
    ``.zip`` you trust: it is unpickled), at the precision asked, keeping its provenance or taking the
    JSON files given (a run's ``summary.json``, say) as its provenance, in order."""
    import argparse

    p = argparse.ArgumentParser(description=main.__doc__.split(":")[0])
    p.add_argument("src", help="a policy file (.safetensors) or an SB3 PPO .zip you trust")
    p.add_argument("dst", help="the policy file to write")
    p.add_argument("--storage", choices=["float32", "float16"], default="float32")
    p.add_argument("--provenance", nargs="+", default=None, help="JSON files that say how it was trained")
    a = p.parse_args(argv)
    src = Path(a.src)
    if src.suffix == ".zip":
        from stable_baselines3 import PPO

        policy, made = PPO.load(src, device="cpu").policy, {}
    else:
        policy, made = load_policy_file(src, device="cpu"), policy_provenance(src)
    if a.provenance:
        made = {"stages": [json.loads(Path(f).read_text()) for f in a.provenance]}
    print(save_policy_file(policy, a.dst, storage=a.storage, provenance=made))


if __name__ == "__main__":
    main()
