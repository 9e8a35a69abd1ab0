"""The SFTP peers of the FTP / SFTP tab's tests: the same fixtures as the core's tests."""

from tests.net.ftp.sftp_fixtures import hostile, sftp_tree, ssh_agent, sshd, sshd_pam  # noqa: F401
