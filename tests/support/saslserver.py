"""A test peer: a tiny IRC server that offers CAP sasl (PLAIN) for one account."""

import base64
import socket
import threading


class SaslServer:
    """A tiny IRC server that offers CAP sasl and accepts one account."""

    def __init__(self, account="alice", password="s3cret-pass"):
        self.account, self.password = account, password
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.received = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        conn, _ = self.listener.accept()
        f = conn.makefile("rb")
        send = lambda line: conn.sendall(line.encode() + b"\r\n")
        nick = "*"
        for raw in f:
            line = raw.decode().rstrip("\r\n")
            self.received.append(line)
            if line.startswith("CAP LS"):
                send(":sasl.test CAP * LS :multi-prefix sasl=PLAIN")
            elif line == "CAP REQ :sasl":
                send(":sasl.test CAP * ACK :sasl")
            elif line == "AUTHENTICATE PLAIN":
                send("AUTHENTICATE +")
            elif line.startswith("AUTHENTICATE "):
                authz, authc, pw = base64.b64decode(line.split()[1]).decode().split("\0")
                if authc == self.account and pw == self.password:
                    send(f":sasl.test 900 {nick} {nick}!u@h {authc} :You are now logged in as {authc}")
                    send(f":sasl.test 903 {nick} :SASL authentication successful")
                else:
                    send(f":sasl.test 904 {nick} :SASL authentication failed")
            elif line.startswith("NICK "):
                nick = line.split()[1]
            elif line == "CAP END":
                send(f":sasl.test 001 {nick} :Welcome {nick}")
            elif line.startswith("QUIT"):
                try:
                    send("ERROR :Closing link")
                except OSError:  # the client may hang up right after QUIT, as real ones do
                    pass
                break
        conn.close()
