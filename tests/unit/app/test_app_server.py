"""The access-token guard around the app, on a stand-in ASGI app (no server, no browser)."""

from __future__ import annotations

import asyncio

from cart_outcomes.app.server import COOKIE, CSP, guarded

TOKEN = "s3cret-token"
PORT = 8765


async def _inner(scope, receive, send):
    if scope["type"] == "websocket":
        await send({"type": "websocket.accept"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


def _call(kind="http", query=b"", cookie=None, host=f"127.0.0.1:{PORT}"):
    headers = [(b"host", host.encode())] + ([(b"cookie", cookie.encode())] if cookie else [])
    scope = {"type": kind, "path": "/", "query_string": query, "headers": headers}
    sent = []

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)

    asyncio.run(guarded(_inner, TOKEN, PORT)(scope, receive, send))
    return sent


def test_no_token_or_a_wrong_one_is_403():
    for query, cookie in ((b"", None), (b"token=wrong", None), (b"", f"{COOKIE}=wrong")):
        assert _call(query=query, cookie=cookie)[0]["status"] == 403


def test_token_in_the_link_sets_the_cookie_and_the_policy():
    start = _call(query=f"token={TOKEN}".encode())[0]
    headers = dict(start["headers"])
    assert start["status"] == 200
    assert headers[b"set-cookie"].startswith(f"{COOKIE}={TOKEN};".encode())
    assert b"HttpOnly" in headers[b"set-cookie"] and b"SameSite=Strict" in headers[b"set-cookie"]
    assert headers[b"content-security-policy"] == CSP.encode()
    assert "http:" not in CSP and "https:" not in CSP  # nothing but the app itself


def test_cookie_alone_passes_http_and_websocket():
    assert _call(cookie=f"other=1; {COOKIE}={TOKEN}")[0]["status"] == 200
    assert _call("websocket", cookie=f"{COOKIE}={TOKEN}") == [{"type": "websocket.accept"}]
    assert _call("websocket")[0] == {"type": "websocket.close", "code": 1008}


def test_another_host_is_refused_even_with_the_token():
    """A page elsewhere reaching the app through DNS rebinding names its own host."""
    assert _call(query=f"token={TOKEN}".encode(), host=f"evil.example:{PORT}")[0]["status"] == 403
    assert _call(query=f"token={TOKEN}".encode(), host=f"localhost:{PORT}")[0]["status"] == 200
