"""Shared test set-up: headless rendering, offline text model, few threads."""

import os

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402

torch.set_num_threads(min(2, os.cpu_count() or 1))


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> str:
    """A small untrained world model at the real frame size (64x64) with 4-D actions (two agents)."""
    from worldsim.autoencoder import Autoencoder, AutoencoderConfig
    from worldsim.model import DiT, DiTConfig
    from worldsim.worldmodel import WorldModel

    torch.manual_seed(0)
    ae = Autoencoder(AutoencoderConfig(channels=(8, 8, 8), decoder_channels=(8, 8, 8), latent_channels=4))
    dit = DiT(DiTConfig(latent_channels=4, latent_size=16, patch=(1, 4, 4), width=32, depth=1, heads=2,
                        action_dim=4, window=3))
    path = tmp_path_factory.mktemp("ckpt") / "model"
    WorldModel(ae, dit).save(path, meta={"step": 1})
    return str(path)
