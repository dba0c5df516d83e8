"""worldsim: a learned world simulator.

A spacetime-patch diffusion transformer, conditioned on actions and text, stands in for a physics
engine behind Gymnasium and PettingZoo environments. MuJoCo scenes supply the training data and the
ground truth it is checked against.

Submodules are imported on demand (``import worldsim.store``), so importing the package is cheap.
"""

__version__ = "0.1.0"
