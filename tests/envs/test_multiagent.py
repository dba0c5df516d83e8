"""PettingZoo ParallelEnv for TwoAgents: API test, per-agent control, truncation, seeding."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

from envs.multiagent import TwoAgentsParallelEnv, parallel_env
from envs.scene import AgentSpec, ObjectSpec, SceneSpec


@pytest.fixture(scope="module")
def env() -> TwoAgentsParallelEnv:
    e = parallel_env()
    yield e
    e.close()


def test_parallel_api_test(env: TwoAgentsParallelEnv) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the API test passes an unknown reset option on purpose
        parallel_api_test(env, num_cycles=30)


def test_each_agent_controls_its_own_sphere(env: TwoAgentsParallelEnv) -> None:
    env.max_cycles = 200
    spec = SceneSpec(
        agents=[AgentSpec((-0.5, 0.0)), AgentSpec((0.5, 0.0), color="pink")],
        objects=[ObjectSpec("box", "red", 0.1, 1.0, (0.0, -0.7))],
    )
    obs, infos = env.reset(options={"spec": spec})
    assert set(obs) == {"agent_0", "agent_1"} and obs["agent_0"].shape == (64, 64, 3)
    np.testing.assert_array_equal(obs["agent_0"], env.state())
    start = [infos[a]["agent"]["pos_px"] for a in env.possible_agents]
    for _ in range(5):
        obs, rewards, terms, truncs, infos = env.step(
            {"agent_0": np.array([0.0, 1.0]), "agent_1": np.array([1.0, 0])}
        )
    end = [infos[a]["agent"]["pos_px"] for a in env.possible_agents]
    assert end[0][1] < start[0][1] - 5  # white agent moved up (row decreases)
    assert abs(end[0][0] - start[0][0]) < 1
    assert end[1][0] > start[1][0] + 5  # pink agent moved right
    assert rewards == {"agent_0": 0.0, "agent_1": 0.0}
    assert not any(terms.values()) and not any(truncs.values())


def test_truncates_after_max_cycles_and_seeds_reproduce() -> None:
    e = TwoAgentsParallelEnv(max_cycles=3)
    first, _ = e.reset(seed=4)
    for _ in range(3):
        _, _, _, truncs, _ = e.step({a: np.zeros(2, np.float32) for a in e.agents})
    assert all(truncs.values()) and e.agents == []
    again, _ = e.reset(seed=4)
    np.testing.assert_array_equal(first["agent_0"], again["agent_0"])
    with pytest.raises(ValueError, match="agent_1"):
        e.step({"agent_0": np.zeros(2)})
    e.close()
