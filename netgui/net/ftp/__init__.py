"""FTP and FTPS: the client, directory listings and the transfer queue.

SFTP has the same client interface in ``.sftp`` (``SftpClient``, ``SftpSite``) and its host keys in
``.hostkeys``; they are imported where used, not here, because they load asyncssh.
"""

from .client import DIR, FILE, LINK, FtpClient, FtpSite, remote_join
from .listing import RemoteEntry, display_name
from .queue import ClientPool, QueueRunner, TransferItem, TransferQueue

__all__ = ["FtpClient", "FtpSite", "RemoteEntry", "remote_join", "display_name", "DIR", "FILE", "LINK",
           "TransferQueue", "TransferItem", "QueueRunner", "ClientPool"]
