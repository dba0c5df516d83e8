"""``python -m worldsim`` (and ``torchrun -m worldsim train ...``) runs the CLI."""

from .cli import main

main()
