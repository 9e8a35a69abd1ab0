"""Mail: IMAP, POP3 and SMTP sessions over one shared connection class, message parsing and
composing, the local cache, folder syncing, the outbox and account profiles."""

from .imap import ImapClient
from .message import ParsedMessage, parse_message
from .pop3 import Pop3Client
from .smtp import SmtpSession, send_message

__all__ = ["ImapClient", "Pop3Client", "SmtpSession", "send_message", "ParsedMessage", "parse_message"]
