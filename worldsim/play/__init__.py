"""``worldsim play``: step into the learned simulator from a browser, beside MuJoCo.

:mod:`worldsim.play.session` runs one tab's pair of sims; :mod:`worldsim.play.server` serves the
page (``static/index.html``) and a websocket per tab with Starlette on uvicorn (the ``play`` extra:
``pip install -e '.[play]'``). Importing this package imports neither the server nor ``worldsim.envs``.
"""

from .session import PlaySession, PlaySettings

__all__ = ["PlaySession", "PlaySettings"]
