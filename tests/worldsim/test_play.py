"""``worldsim play``: the session protocol over Starlette's test client, and the page in headless Chromium.

The browser test drives Debian's ``chromium`` with Playwright (never ``playwright install``) and skips
without them. It plays a small untrained model unless ``WORLDSIM_PLAY_TEST_CHECKPOINT`` names another
checkpoint directory (the shipped one, ``worldsim/checkpoints/default``, gives latencies a person
would see).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import statistics
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("starlette", reason="worldsim play needs the play extra: pip install -e '.[play]'")
pytest.importorskip("httpx2", reason="Starlette's test client needs httpx2: pip install -e '.[dev]'")

from starlette.testclient import TestClient  # noqa: E402
from starlette.websockets import WebSocketDisconnect  # noqa: E402

from worldsim.play.server import create_app, make_server  # noqa: E402
from worldsim.play.session import PlaySession, PlaySettings  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture()
def settings(tiny_checkpoint, tmp_path) -> PlaySettings:
    return PlaySettings(checkpoint=tiny_checkpoint, sampling_steps=1, out=str(tmp_path / "recordings"))


def _png(b64: str) -> np.ndarray:
    import imageio.v3 as iio

    return iio.imread(io.BytesIO(base64.b64decode(b64)), extension=".png")


def _start(ws, **reset) -> dict:
    hello = ws.receive_json()
    assert hello["type"] == "hello" and hello["sampling_steps"] == [1, 2, 4]
    ws.send_json({"type": "reset", **reset})
    frame = ws.receive_json()
    assert frame["type"] == "frame", frame
    return frame


def test_page_is_served_with_pixelated_views(settings):
    with TestClient(create_app(settings, preload=False)) as client:
        page = client.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "image-rendering: pixelated" in page.text and 'id="prompt-error"' in page.text
        assert client.get("/status").json() == {"sessions": 0, "max_sessions": 4}


def test_a_session_steps_both_sims_and_reports_the_centroid_error(settings):
    with TestClient(create_app(settings)) as client, client.websocket_connect("/ws") as ws:
        first = _start(ws, seed=3)
        assert first["step"] == 0 and first["env"] == "WorldSim/PushBox-v0" and first["caption"]
        for side in ("mujoco", "learned", "diff"):
            assert _png(first["images"][side]).shape == (64, 64, 3)
        for i in range(3):
            ws.send_json({"type": "step", "action": [1, 0], "id": i})
            frame = ws.receive_json()
        assert frame["step"] == 3 and frame["id"] == 2 and frame["action"] == [1.0, 0.0]
        assert frame["agents_px"][0][0] > first["agents_px"][0][0]  # pushed right in MuJoCo
        assert not np.array_equal(_png(frame["images"]["mujoco"]), _png(first["images"]["mujoco"]))
        assert set(frame["ms"]) == {"mujoco", "learned"}
        assert frame["centroid_error"]["objects"] and frame["centroid_error"]["mean_px"] >= 0


def test_a_prompt_picks_its_scene_and_both_sims_start_on_the_same_frame(settings):
    session = PlaySession(settings)
    try:
        frame = session.handle(json.dumps({"type": "reset", "prompt": "two agents and a red ball on the left"}))
        assert frame["env"] == "WorldSim/TwoAgents-v0" and "pink agent" in frame["caption"]
        # the learned side starts from the MuJoCo frame of the same scene (grounded start)
        np.testing.assert_array_equal(session.learned.starts.envs[0].render(), _png(frame["images"]["mujoco"]))
        step = session.handle(json.dumps({"type": "step", "action": [0, 1]}))
        assert step["type"] == "frame"  # the second agent's zero force is added
    finally:
        session.close()


def test_malformed_messages_get_errors_and_the_session_goes_on(settings):
    bad = ["not json", "[1, 2]", '{"kind": "step"}', '{"type": "fly"}', '{"type": "step"}',
           '{"type": "step", "action": [1]}', '{"type": "step", "action": ["a", 0]}',
           '{"type": "step", "action": [NaN, 0]}', '{"type": "step", "action": [true, 0]}',
           '{"type": "reset", "seed": -1}', '{"type": "reset", "seed": 1.5}', '{"type": "reset", "steps": 3}',
           '{"type": "reset", "env": "WorldSim/Nowhere-v0"}', '{"type": "reset", "prompt": 7}']
    with TestClient(create_app(settings)) as client, client.websocket_connect("/ws") as ws:
        _start(ws)
        for raw in bad:
            ws.send_text(raw)
            reply = ws.receive_json()
            assert reply["type"] == "error" and reply["message"], raw
        ws.send_bytes(b"\xff\xfe")
        assert ws.receive_json()["type"] == "error"
        ws.send_json({"type": "reset", "prompt": "a seventeen invisible ball"})
        reply = ws.receive_json()
        assert reply["field"] == "prompt" and "seventeen" in reply["message"]
        ws.send_json({"type": "step", "action": [0.5, -2]})  # still playing; out-of-range forces are clipped
        frame = ws.receive_json()
        assert frame["type"] == "frame" and frame["step"] == 1 and frame["action"] == [0.5, -1.0]


def test_sessions_are_bounded_and_a_closed_tab_frees_its_place(settings):
    with TestClient(create_app(settings, max_sessions=1)) as client:
        with client.websocket_connect("/ws") as first:
            _start(first)
            with client.websocket_connect("/ws") as second:
                reply = second.receive_json()
                assert reply["type"] == "error" and "--max-sessions" in reply["message"]
                with pytest.raises(WebSocketDisconnect) as closed:
                    second.receive_json()
                assert closed.value.code == 1013
            first.send_json({"type": "step", "action": [0, 0]})
            assert first.receive_json()["type"] == "frame"  # the refusal did not disturb the first tab
        with client.websocket_connect("/ws") as again:
            _start(again)
        assert client.get("/status").json()["sessions"] == 0


def test_only_the_page_of_this_server_may_open_a_session(settings):
    with TestClient(create_app(settings, preload=False)) as client:
        with pytest.raises(WebSocketDisconnect) as refused, \
                client.websocket_connect("/ws", headers={"origin": "http://elsewhere.example"}):
            pass
        assert refused.value.code == 1008


def test_record_saves_the_episode_with_its_provenance(settings):
    with TestClient(create_app(settings)) as client, client.websocket_connect("/ws") as ws:
        _start(ws, seed=5)
        for _ in range(4):
            ws.send_json({"type": "step", "action": [0, 1]})
            ws.receive_json()
        ws.send_json({"type": "record"})
        reply = ws.receive_json()
    assert reply["type"] == "recorded" and reply["steps"] == 4
    video = Path(reply["path"])
    assert video.is_file() and video.parent == Path(settings.out)
    sidecar = json.loads(video.with_suffix(".provenance.json").read_text())
    assert sidecar["synthetic"] and sidecar["source"] == "worldsim play" and sidecar["seed"] == 5
    assert sidecar["actions"] == [[0.0, 1.0]] * 4 and sidecar["checkpoint"]


# ----------------------------------------------------------------------------------------------------
#                                      the page, in a real browser
# ----------------------------------------------------------------------------------------------------


@pytest.fixture()
def sync_api():
    """Playwright's sync API, or a skip that says what to install."""
    if not CHROMIUM.exists():
        pytest.skip(f"no {CHROMIUM}: install it with `apt-get update && apt-get install -y chromium`")
    return pytest.importorskip("playwright.sync_api", reason="pip install playwright (no `playwright install`)")


@contextlib.contextmanager
def _serving(settings: PlaySettings):
    """A real play server on a free port of 127.0.0.1, in a background thread; yields the page's address."""
    server, sock, url = make_server(settings, port=0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    try:
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the play server did not start"
            time.sleep(0.05)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_a_slow_step_does_not_hold_up_the_server(settings, monkeypatch):
    from websockets.sync.client import connect

    step = PlaySession.step

    def slow_step(self, *args, **kwargs):
        time.sleep(1.5)
        return step(self, *args, **kwargs)

    monkeypatch.setattr(PlaySession, "step", slow_step)
    with _serving(settings) as url, connect(url.replace("http://", "ws://") + "ws") as ws:
        assert json.loads(ws.recv())["type"] == "hello"
        ws.send(json.dumps({"type": "reset"}))
        assert json.loads(ws.recv())["type"] == "frame"
        ws.send(json.dumps({"type": "step", "action": [1, 0]}))
        t0 = time.monotonic()
        with urllib.request.urlopen(url + "status", timeout=10) as reply:
            status = json.loads(reply.read())
        assert time.monotonic() - t0 < 1.0 and status["sessions"] == 1
        assert json.loads(ws.recv())["type"] == "frame"


@pytest.fixture()
def server_url(tiny_checkpoint, tmp_path):
    checkpoint = os.environ.get("WORLDSIM_PLAY_TEST_CHECKPOINT", tiny_checkpoint)
    with _serving(PlaySettings(checkpoint=checkpoint, sampling_steps=1, out=str(tmp_path / "recordings"))) as url:
        yield url


def _images(page) -> dict[str, str]:
    return {k: page.get_attribute(f"#{k}", "src") for k in ("mujoco", "learned")}


def _press(page, key: str) -> None:
    step = page.evaluate("window.play.step")
    page.keyboard.press(key)
    page.wait_for_function(f"window.play.step > {step}", timeout=30_000)


@pytest.mark.slow
def test_the_page_in_headless_chromium(sync_api, server_url, tmp_path):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 900, "height": 900})
            page.goto(server_url)
            page.wait_for_function("window.play && window.play.step >= 0", timeout=120_000)
            assert "worldsim play" in page.title()

            # paused, each key press steps both sims once
            page.click("#run")
            page.evaluate("document.activeElement.blur()")
            page.wait_for_timeout(300)  # a step still in flight lands
            before, agent_before = _images(page), page.evaluate("window.play.lastFrame.agents_px[0][0]")
            for key in ("ArrowRight", "d", "ArrowRight", "d", "ArrowRight"):
                _press(page, key)
            after, agent_after = _images(page), page.evaluate("window.play.lastFrame.agents_px[0][0]")
            assert after["mujoco"] != before["mujoco"] and after["learned"] != before["learned"]
            assert agent_after > agent_before + 1  # pushed right, in pixels of the MuJoCo frame
            paused = page.evaluate("window.play.latencies.slice()")

            # running at 10 Hz: a key press lands in the next step after the one in flight
            page.click("#run")
            page.evaluate("document.activeElement.blur()")
            for key in ("ArrowUp", "ArrowLeft", "w", "a"):
                page.keyboard.down(key)
                page.wait_for_timeout(400)
                page.keyboard.up(key)
                page.wait_for_timeout(250)
            running = page.evaluate("window.play.latencies.slice()")[len(paused):]
            steps_per_s = int(page.text_content("#sps"))
            step_ms = {side: page.text_content(f"#fps-{side}") for side in ("mujoco", "learned")}

            page.fill("#prompt", "a seventeen invisible ball")
            page.click("#prompt-form button")
            page.wait_for_function("document.querySelector('#prompt-error').textContent.includes('seventeen')",
                                   timeout=30_000)
            assert "unknown words" in page.text_content("#prompt-error")

            page.click("#record")
            page.wait_for_function("window.play.recorded !== null", timeout=60_000)
            assert Path(page.evaluate("window.play.recorded")).is_file()
            page.screenshot(path=str(tmp_path / "play.png"), full_page=True)
            assert not [e for e in page.evaluate("window.play.errors") if e["field"] != "prompt"]
        finally:
            browser.close()
    assert paused and running
    print(f"\nkey press to new frame: paused median {statistics.median(paused):.0f} ms (n={len(paused)}), "
          f"running median {statistics.median(running):.0f} ms, max {max(running):.0f} ms (n={len(running)}); "
          f"{steps_per_s} steps/s on the page; per step {step_ms}; screenshot {tmp_path / 'play.png'}")
