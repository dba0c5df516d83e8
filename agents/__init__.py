"""Agents trained in the learned simulator and scored in the ground-truth MuJoCo scenes.

    python -m worldsim.agents.ppo --checkpoint runs/main/model --out runs/ppo              # train in the learned sim
    python -m worldsim.agents.evaluate --policy runs/ppo/policy.safetensors --episodes 50  # score in MuJoCo
    python -m worldsim.agents.evaluate --policy random --episodes 50                       # random baseline
    python -m worldsim.agents.dream_loop --checkpoint runs/reach_fh/model \
        --dataset data/reach/scripted data/reach/random                                 # DIAMOND's loop

Each module is a script (``python -m worldsim.agents.<name> --help``) whose work lives in functions
(:func:`worldsim.agents.ppo.train`, :func:`worldsim.agents.evaluate.evaluate`) that tests and benchmarks call directly.
"""
