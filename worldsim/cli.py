"""The ``worldsim`` command line: thin verbs that parse a dataclass and call library code.

    worldsim collect --env-id WorldSim/PushBox-v0 --episodes 200 --steps 40 --policy scripted --out data/pushbox
    worldsim train --data data/pushbox --out runs/main
    worldsim demo

This is the application layer: the only module of ``worldsim`` that imports ``envs`` and
``agents``, and only inside the verbs that need them.
"""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import json  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import tyro  # noqa: E402

from .collect import CollectConfig, collect  # noqa: E402
from .train import TrainConfig, train  # noqa: E402


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, default=str))


def run_collect(cfg: CollectConfig) -> None:
    _print_json(collect(cfg))


def run_train(cfg: TrainConfig) -> None:
    path = train(cfg)
    print(f"world model checkpoint: {path}")


VERBS: dict[str, tuple[type, Callable[[Any], None]]] = {
    "collect": (CollectConfig, run_collect),
    "train": (TrainConfig, run_train),
}


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``worldsim`` console script."""
    argv = sys.argv[1:] if argv is None else argv
    cfg = tyro.extras.subcommand_cli_from_dict({name: cls for name, (cls, _) in VERBS.items()}, args=argv,
                                              prog="worldsim")
    for cls, runner in VERBS.values():
        if isinstance(cfg, cls):
            runner(cfg)
            return
