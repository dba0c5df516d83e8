"""The play web server: one static page and one websocket per tab (Starlette on uvicorn).

Each websocket gets its own :class:`~worldsim.play.session.PlaySession` and a worker thread of its
own, on which every blocking call of that session runs (MuJoCo's GL context stays on one thread, and
the event loop stays free for the other tabs). Closing the tab closes the session. At most
``max_sessions`` tabs play at once; one more is told so and closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from .session import PlaySession, PlaySettings

log = logging.getLogger(__name__)

PAGE = Path(__file__).resolve().parent / "static" / "index.html"
MAX_MESSAGE_BYTES = 64 * 1024
"""Largest websocket message a page may send (a step is under 100 bytes)."""
CLOSE_TRY_AGAIN_LATER = 1013
CLOSE_POLICY_VIOLATION = 1008


@dataclass
class _State:
    settings: PlaySettings
    max_sessions: int
    active: int = 0


def create_app(settings: PlaySettings, max_sessions: int = 4, preload: bool = True) -> Starlette:
    """The play app: ``/`` serves the page, ``/ws`` runs a session, ``/status`` tells how many play.

    Args:
        settings: What each session starts from.
        max_sessions: Tabs that may play at once.
        preload: Load the world model and the detector colours when the server starts, so the first
            tab does not wait for them.
    """
    if max_sessions < 1:
        raise ValueError(f"--max-sessions must be at least 1, got {max_sessions}")
    state = _State(settings, max_sessions)

    async def page(request) -> FileResponse:
        return FileResponse(PAGE, media_type="text/html", headers={"Cache-Control": "no-store"})

    async def status(request) -> JSONResponse:
        return JSONResponse({"sessions": state.active, "max_sessions": state.max_sessions})

    async def play(websocket: WebSocket) -> None:
        await _play(websocket, state)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        if preload:
            await asyncio.to_thread(_preload, settings)
        yield

    return Starlette(routes=[Route("/", page), Route("/status", status), WebSocketRoute("/ws", play)],
                     lifespan=lifespan)


def _preload(settings: PlaySettings) -> None:
    from worldsim.envs.learned import load_model

    from .session import detector_colors

    load_model(settings.checkpoint)
    detector_colors()


def _same_origin(websocket: WebSocket) -> bool:
    """A browser names the page that opens a websocket; only this server's own page may drive it."""
    origin = websocket.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == websocket.headers.get("host")


async def _play(websocket: WebSocket, state: _State) -> None:
    if not _same_origin(websocket):
        await websocket.close(code=CLOSE_POLICY_VIOLATION, reason="open the page from this server")
        return
    await websocket.accept()
    if state.active >= state.max_sessions:
        await websocket.send_json({
            "type": "error", "field": "server", "message":
            f"all {state.max_sessions} play sessions are in use: close another worldsim play tab, or restart "
            "the server with a larger --max-sessions"})
        await websocket.close(code=CLOSE_TRY_AGAIN_LATER, reason="server full")
        return
    state.active += 1
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="play-session")
    loop = asyncio.get_running_loop()

    def run(fn, *args) -> Any:
        return loop.run_in_executor(worker, fn, *args)

    session: PlaySession | None = None
    try:
        try:
            session = await run(PlaySession, state.settings)
        except Exception as e:
            log.exception("play: cannot start a session")
            await websocket.send_json({"type": "error", "field": "server",
                                       "message": f"cannot start a session: {type(e).__name__}: {e}"})
            await websocket.close()
            return
        await websocket.send_json(session.hello())  # the page answers with its first reset
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            raw = message.get("text")
            if raw is None:
                raw = message.get("bytes") or b""
            await websocket.send_json(await run(session.handle, raw))
    except (WebSocketDisconnect, OSError):  # the tab closed, possibly mid-reply
        pass
    finally:
        state.active -= 1
        if session is not None:
            await run(session.close)
        worker.shutdown(wait=False)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one); says what to do when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as e:
        raise SystemExit(f"cannot listen on {host}:{port} ({e}); pick another --port, or 0 for any free one") from e


def make_server(settings: PlaySettings, host: str = "127.0.0.1", port: int = 8000,
                max_sessions: int = 4):
    """A uvicorn server for the play app, its bound socket and the page's address.

    Run it with ``server.run(sockets=[sock])``; set ``server.should_exit = True`` to stop it.
    """
    import uvicorn

    sock = bind(host, port)
    config = uvicorn.Config(create_app(settings, max_sessions), log_level="warning", ws_max_size=MAX_MESSAGE_BYTES,
                            ws_ping_interval=20, ws_ping_timeout=20)
    shown = f"[{host}]" if ":" in host else host
    return uvicorn.Server(config), sock, f"http://{shown}:{sock.getsockname()[1]}/"


def serve(settings: PlaySettings, host: str = "127.0.0.1", port: int = 8000, max_sessions: int = 4,
          threads: int | None = 1) -> None:
    """Serve the play page until interrupted, printing its address.

    Args:
        settings: What each session starts from.
        host, port: Where to listen (port 0: any free one).
        max_sessions: Tabs that may play at once.
        threads: Torch CPU threads of this process (None: torch's default, one per core). One step at
            batch 1 gains little from more, and on a CPU that another job keeps busy, threads that
            wait on each other can slow it many times over.
    """
    import torch

    from worldsim import envs

    if threads is not None:
        if threads < 1:
            raise ValueError(f"--threads must be at least 1, got {threads}")
        torch.set_num_threads(threads)
    if settings.env not in envs.GT_ENVS:
        raise SystemExit(f"unknown --env {settings.env!r}; choose one of {', '.join(envs.GT_ENVS)}")
    if settings.prompt:
        try:
            envs.parse_prompt(settings.prompt, seed=settings.seed)
        except envs.PromptError as e:
            raise SystemExit(f"cannot simulate --prompt: {e}") from e
    server, sock, url = make_server(settings, host, port, max_sessions)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {host}: anyone who can reach it can drive the sims and write recordings "
              f"to {settings.out}/")
    print(f"worldsim play: open {url} in a browser (loading the model first; Ctrl+C stops)", flush=True)
    server.run(sockets=[sock])
