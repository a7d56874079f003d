"""Serving the app: loopback only, a Jupyter-style access token, no external resource.

:func:`guarded` wraps the Shiny ASGI app: a request must carry the token, in the URL (``?token=...``, the link
printed at start) or in the cookie set on that first request (so Shiny's websocket, scripts and styles pass);
anything else gets 403. A ``Host`` other than the loopback address is refused too (a web page elsewhere cannot
reach the app through DNS rebinding). Every HTTP answer carries a Content-Security-Policy that allows only the
app's own address, so the browser itself refuses anything external.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

__all__ = ["COOKIE", "HOST", "CSP", "guarded", "serve"]

HOST = "127.0.0.1"
COOKIE = "cart_outcomes_token"
#: What the page may load: itself only (inline styles and scripts are Shiny's own; the report is an inline
#: ``srcdoc`` frame with scripts disabled).
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; frame-src 'self' about: data:; "
       "form-action 'self'; base-uri 'none'; object-src 'none'")


def _token_of(scope: dict) -> tuple[str | None, str | None]:
    """The token given in the query string and in the cookie."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [None])[0]
    cookie = None
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar = SimpleCookie()
            jar.load(value.decode("latin-1"))
            if COOKIE in jar:
                cookie = jar[COOKIE].value
    return query, cookie


def guarded(app: Callable, token: str, port: int) -> Callable:
    """``app`` answering only requests that carry ``token`` and name the loopback host."""
    hosts = {f"{HOST}:{port}".encode(), f"localhost:{port}".encode()}

    def ok(given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), token.encode())

    async def refuse(scope, receive, send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
        await send({"type": "http.response.body",
                    "body": b"403: open the link cart-outcomes app printed (it holds the access token)\n"})

    async def asgi(scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await app(scope, receive, send)
        host = dict(scope.get("headers", [])).get(b"host")
        query, cookie = _token_of(scope)
        if host not in hosts or not (ok(query) or ok(cookie)):
            return await refuse(scope, receive, send)
        if scope["type"] == "websocket":
            return await app(scope, receive, send)
        set_cookie = ok(query) and not ok(cookie)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (b"content-security-policy", CSP.encode()),
                           (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
                if set_cookie:
                    headers.append((b"set-cookie",
                                    f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict".encode()))
                message = {**message, "headers": headers}
            await send(message)

        return await app(scope, receive, send_with_headers)

    return asgi


def free_port() -> int:
    """A free TCP port on the loopback address."""
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def serve(port: int | None = None, *, open_browser: bool = True, token: str | None = None,
          announce: Callable[[str], None] = print) -> None:
    """Serve the app on ``127.0.0.1:port`` until interrupted; ``announce`` gets the URL with the token.

    There is no R equivalent (``shiny::runApp(host = "127.0.0.1")`` without a token).
    """
    import uvicorn

    from cart_outcomes.app.page import create_app

    port = port or free_port()
    token = token or secrets.token_urlsafe(24)
    url = f"http://{HOST}:{port}/?token={token}"
    config = uvicorn.Config(guarded(create_app(), token, port), host=HOST, port=port, log_level="warning",
                            ws_max_size=64 << 20, server_header=False)
    server = uvicorn.Server(config)
    original_startup = server.startup

    async def startup(sockets=None):
        await original_startup(sockets)
        announce(url)
        if open_browser:
            import webbrowser

            webbrowser.open(url)

    server.startup = startup
    server.run()
