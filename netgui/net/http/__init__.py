"""HTTP/1.1 and HTTP/2 (``h2``) on netgui's own connections, and WebSocket (``wsproto``): the
session (redirects, cookies, proxies, timing, multiplexing), requests, bodies and how a
response is shown."""

from .content import Rendered, render, suggested_filename
from .request import (
    HTTP_VERSIONS,
    BadRequest,
    Request,
    check_url,
    request_from_dict,
    request_to_dict,
    to_curl,
)
from .session import HttpSession, Response, TruncatedBody, export_cookies, import_cookies
from .websocket import (
    Message,
    WebSocket,
    WebSocketClosed,
    WebSocketRejected,
    close_text,
    is_websocket_url,
)

__all__ = ["HttpSession", "Response", "TruncatedBody", "Request", "BadRequest", "check_url",
           "request_from_dict", "request_to_dict", "to_curl", "render", "Rendered",
           "suggested_filename", "export_cookies", "import_cookies", "HTTP_VERSIONS",
           "WebSocket", "Message", "WebSocketClosed", "WebSocketRejected", "close_text",
           "is_websocket_url"]
