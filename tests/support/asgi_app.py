"""A small ASGI app for hypercorn: HTTP (any version) and WebSocket test routes.

HTTP: ``/echo`` (JSON: method, path, http_version, headers, body size), ``/bytes?n=N``
(streamed in 64 KiB pieces), ``/sleep?ms=N``, ``/set-cookie?k=v``, ``/cookies``,
``/redirect`` (302 to /echo). WebSocket: ``/ws`` echoes text and binary back; a text
message ``close:CODE:REASON`` makes the server close with that code; ``/ws-auth`` accepts
only with ``Authorization: Bearer good``; the subprotocol ``chat`` is accepted if offered.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qsl


def _query(scope) -> dict:
    return dict(parse_qsl(scope.get("query_string", b"").decode()))


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "websocket":
        await websocket(scope, receive, send)
        return
    await http(scope, receive, send)


async def http(scope, receive, send):
    path, query = scope["path"], _query(scope)
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}

    async def answer(status, body: bytes, ctype="text/plain", extra=()):
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", ctype.encode()),
                                (b"content-length", str(len(body)).encode()), *extra]})
        await send({"type": "http.response.body", "body": body})

    if path == "/echo":
        data = {"method": scope["method"], "path": path, "query": query,
                "http_version": scope["http_version"], "headers": headers, "body_size": size}
        await answer(200, json.dumps(data).encode(), "application/json")
    elif path == "/bytes":
        n = int(query.get("n", 1024))
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(n).encode())]})
        piece = b"b" * 65536
        while n > 0:
            chunk = piece[:n]
            n -= len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": n > 0})
    elif path == "/sleep":
        await asyncio.sleep(int(query.get("ms", 100)) / 1000)
        await answer(200, b"slept\n")
    elif path == "/set-cookie":
        await answer(200, b"ok\n", extra=[(b"set-cookie", f"{k}={v}; Path=/".encode())
                                          for k, v in query.items()])
    elif path == "/cookies":
        await answer(200, json.dumps({"cookie": headers.get("cookie", "")}).encode(),
                     "application/json")
    elif path == "/redirect":
        await answer(302, b"", extra=[(b"location", b"/echo")])
    else:
        await answer(404, b"no such page\n")


async def websocket(scope, receive, send):
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    message = await receive()  # websocket.connect
    if scope["path"] == "/ws-auth" and headers.get("authorization") != "Bearer good":
        await send({"type": "websocket.close", "code": 4401})
        return
    accept = {"type": "websocket.accept"}
    if "chat" in scope.get("subprotocols", []):
        accept["subprotocol"] = "chat"
    await send(accept)
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        text, data = message.get("text"), message.get("bytes")
        if text is not None and text.startswith("close:"):
            _, code, reason = text.split(":", 2)
            await send({"type": "websocket.close", "code": int(code), "reason": reason})
            return
        if text is not None:
            await send({"type": "websocket.send", "text": text})
        else:
            await send({"type": "websocket.send", "bytes": data})
