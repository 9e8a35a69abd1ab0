"""HTTP/1.1 and HTTPS: the session (redirects, cookies, proxies, timing), requests, bodies
and how a response is shown."""

from .content import Rendered, render, suggested_filename
from .request import BadRequest, Request, check_url, request_from_dict, request_to_dict, to_curl
from .session import HttpSession, Response, TruncatedBody, export_cookies, import_cookies

__all__ = ["HttpSession", "Response", "TruncatedBody", "Request", "BadRequest", "check_url",
           "request_from_dict", "request_to_dict", "to_curl", "render", "Rendered",
           "suggested_filename", "export_cookies", "import_cookies"]
