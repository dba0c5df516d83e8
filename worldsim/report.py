"""Writing results: JSON reports, horizon plots, and videos marked as synthetic."""

from __future__ import annotations

import json
import os
import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from .checkpoint import atomic_write_json


def machine() -> dict[str, Any]:
    """The machine a figure was measured on."""
    import torch

    info = {"platform": platform.platform(), "python": platform.python_version(), "torch": torch.__version__,
            "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), None)
    except OSError:
        info["cpu"] = platform.processor() or None
    return info


def write_json(path: str | os.PathLike, report: dict[str, Any]) -> Path:
    """Write a report atomically, stamped with the time and the machine."""
    path = Path(path)
    report = {**report, "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": machine()}
    atomic_write_json(path, report)
    return path


def plot_horizons(report: dict[str, Any], out_dir: str | os.PathLike, title: str = "") -> list[Path]:
    """One PNG per metric: model against the repeat-last-frame baseline, mean +- std by horizon, and the
    autoencoder's own reconstructions (the ceiling) where the report has them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for metric in report["model"]:
        fig, ax = plt.subplots(figsize=(5, 3.2), dpi=110)
        for side, color, label in (("model", "tab:blue", "model"), ("baseline", "tab:gray", "repeat last frame"),
                                   ("autoencoder", "tab:green", "autoencoder alone")):
            stats = report.get(side, {}).get(metric)
            if stats is None:
                continue
            mean = np.array([np.nan if v is None else v for v in stats["mean"]], float)
            std = np.array([np.nan if v is None else v for v in stats["std"]], float)
            h = np.arange(1, len(mean) + 1)
            ax.plot(h, mean, color=color, label=label)
            ax.fill_between(h, mean - std, mean + std, color=color, alpha=0.2)
        ax.set_xlabel("horizon (steps)")
        ax.set_ylabel(metric.replace("_", " "))
        ax.set_title(title or metric)
        ax.legend()
        fig.tight_layout()
        path = out_dir / f"{metric}.png"
        fig.savefig(path)
        plt.close(fig)
        paths.append(path)
    return paths


def write_video(path: str | os.PathLike, frames: np.ndarray, provenance: dict[str, Any], fps: int = 10) -> list[Path]:
    """Write ``frames`` ``(T, H, W, 3)`` uint8 as mp4 and gif, plus a sidecar JSON marking them synthetic.

    The sidecar (``<name>.provenance.json``) names the generator, checkpoint hash, prompt and seed;
    the mp4 also carries a comment in its metadata.
    """
    import imageio.v2 as imageio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"synthetic": True, "generator": "worldsim", **provenance}
    written = []
    mp4 = path.with_suffix(".mp4")
    try:
        comment = json.dumps(meta)[:900]
        with imageio.get_writer(mp4, fps=fps, macro_block_size=1,
                                output_params=["-metadata", f"comment={comment}"]) as w:
            for f in frames:
                w.append_data(f)
        written.append(mp4)
    except Exception as e:  # no ffmpeg available: the gif still carries the video
        meta["mp4_error"] = str(e)
    gif = path.with_suffix(".gif")
    imageio.mimsave(gif, list(frames), duration=1000 / fps, loop=0)
    written.append(gif)
    sidecar = path.with_suffix(".provenance.json")
    atomic_write_json(sidecar, {**meta, "files": [p.name for p in written]})
    return [*written, sidecar]
