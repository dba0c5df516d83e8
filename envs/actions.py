"""One action check (and one reset-options check) for every env of the package, ground truth and
learned alike.

An action is accepted when it has the action space's shape and a real numeric dtype (floats or
integers). Values outside the space's bounds are clipped to them, as the MuJoCo actuators would
clip the force; NaN and infinity are refused. Booleans, complex numbers, strings, dates and objects
are refused, with a message that names the env and what it expects.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces


def check_action(action: Any, space: spaces.Box, env_id: str, batch: int | None = None) -> np.ndarray:
    """Validate ``action`` against ``space`` and return it as float32, clipped to the bounds.

    Args:
        action: ``space.shape`` values, or ``(batch, *space.shape)`` with ``batch``.
        space: The env's Box action space.
        env_id: Named in the error messages.
        batch: Rows expected for a vector env; None for a single env.

    Raises:
        ValueError: wrong shape, or NaN or infinity.
        TypeError: a dtype that is not a real number.
    """
    expected = space.shape if batch is None else (batch, *space.shape)
    try:
        a = np.asarray(action)
    except (TypeError, ValueError) as e:  # ragged sequences
        raise ValueError(f"action {action!r} is not an array of shape {expected} for {env_id}: {e}") from None
    if a.dtype == np.bool_ or not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise TypeError(f"action has dtype {a.dtype}; {env_id} takes real numbers (float32) of shape {expected}")
    if a.shape != expected:
        raise ValueError(f"action has shape {a.shape}, expected {expected} for {env_id}")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"action {a} contains NaN or inf for {env_id}")
    return np.clip(a, space.low, space.high).astype(np.float32)


def check_options(options: Any, env_id: str) -> None:
    """Refuse reset ``options`` that are neither a dict nor None, naming the env."""
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"options must be a dict (e.g. {{'prompt': 'a red box'}}) or None for {env_id}, "
                        f"got {type(options).__name__}")
