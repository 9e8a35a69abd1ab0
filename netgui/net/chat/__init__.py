"""Chat: IRC sessions (RFC 1459/2812, IRCv3 tags, SASL, TLS) and the line chat protocol."""

from .irc import IrcEvent, IrcProfile, IrcSession
from .linechat import LineChatClient, run_session

__all__ = ["IrcSession", "IrcProfile", "IrcEvent", "LineChatClient", "run_session"]
