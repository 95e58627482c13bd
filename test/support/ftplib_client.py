#!/usr/bin/env python3
"""Drives Python's stdlib ftplib through a list of operations, for the integration tests.

Reads one JSON job on stdin:
    {"host", "port", "user", "password", "epsv": bool, "active": bool, "trustPasvHost": bool, "timeout": seconds,
     "tls": "explicit" | "implicit" (FTPS; AUTH TLS then PROT P first, reported as ops "auth" and "prot"),
     "protP": bool (default true), "caFile", "clientCert", "clientKey", "reuseSession": bool (default true),
     "serverName": the TLS SNI name to send instead of the host (the chain is still verified, the name not),
     "tlsLater": bool (FTPS, but no AUTH TLS before the ops: an "auth" op sends it where the test wants),
     "ops": [{"op": "login"}, {"op": "retr", "path": "a.txt", "local": "/tmp/a", "rest": 3}, ...]}
and prints one JSON object: {"welcome": "220 ...", "results": [{"op": "login", "reply": "230 ..."}, ...]}.

A failed operation is a result, not a crash: it reads {"op": ..., "error": "530 Login incorrect."} and the
remaining operations still run. The exit status is non-zero only when the job itself is malformed or this
script has a bug.
"""

import ftplib
import json
import socket
import ssl
import sys


class Client(ftplib.FTP):
    """ftplib only sends EPSV on IPv6 connections; `force_epsv` makes it do so on IPv4 too."""

    force_epsv = False

    def makepasv(self):
        if not self.force_epsv:
            return super().makepasv()
        return ftplib.parse229(self.sendcmd("EPSV"), self.sock.getpeername())


class TlsClient(ftplib.FTP_TLS):
    """FTP_TLS that resumes the control connection's TLS session on every data connection, as curl and
    lftp do (stock FTP_TLS does not, and servers that require reuse refuse its data connections);
    `reuse_session = False` gives the stock behaviour. `implicit` speaks TLS from the first byte."""

    force_epsv = False
    reuse_session = True
    implicit = False
    server_name = None

    def makepasv(self):
        if not self.force_epsv:
            return super().makepasv()
        return ftplib.parse229(self.sendcmd("EPSV"), self.sock.getpeername())

    def connect(self, host="", port=0, timeout=-999, source_address=None):
        if not self.implicit:
            return super().connect(host, port, timeout, source_address)
        # ftplib.FTP.connect reads the greeting at once; implicit FTPS needs TLS before it.
        self.host, self.port = host, port
        if timeout != -999:
            self.timeout = timeout
        raw = socket.create_connection((host, port), self.timeout)
        self.sock = self.context.wrap_socket(raw, server_hostname=self.server_name or host)
        self.af = self.sock.family
        self.file = self.sock.makefile("r", encoding=self.encoding)
        self.welcome = self.getresp()
        return self.welcome

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            session = self.sock.session if self.reuse_session else None
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=session)
        return conn, size


def with_path(command, step):
    path = step.get("path")
    return f"{command} {path}" if path else command


def op_login(ftp, job, step):
    return {"reply": ftp.login(step.get("user", job["user"]), step.get("password", job["password"]))}


def op_pwd(ftp, job, step):
    reply = ftp.sendcmd("PWD")
    return {"reply": reply, "path": ftplib.parse257(reply)}


def op_list(ftp, job, step):
    lines = []
    reply = ftp.retrlines(with_path("LIST", step), lines.append)
    return {"reply": reply, "lines": lines}


def op_nlst(ftp, job, step):
    lines = []
    reply = ftp.retrlines(with_path("NLST", step), lines.append)
    return {"reply": reply, "lines": lines}


def op_mlsd(ftp, job, step):
    # ftp.mlsd() drops the final reply, which the tests want to see, so the lines are parsed here.
    entries = []

    def parse(line):
        facts, _, name = line.partition(" ")
        pairs = (fact.split("=", 1) for fact in facts.split(";") if "=" in fact)
        entries.append({"name": name, "facts": {key.lower(): value for key, value in pairs}})

    reply = ftp.retrlines(with_path("MLSD", step), parse)
    return {"reply": reply, "entries": entries}


def op_retr(ftp, job, step):
    """The local file receives exactly the bytes sent, i.e. only the suffix when `rest` is given."""
    with open(step["local"], "wb") as local:
        reply = ftp.retrbinary(f"RETR {step['path']}", local.write, rest=step.get("rest"))
        return {"reply": reply, "bytes": local.tell()}


def store(ftp, command, local_path, rest=None):
    sent = 0

    def count(block):
        nonlocal sent
        sent += len(block)

    with open(local_path, "rb") as local:
        if rest:
            local.seek(rest)
        reply = ftp.storbinary(command, local, callback=count, rest=rest)
    return {"reply": reply, "bytes": sent}


def op_stor(ftp, job, step):
    """With `rest`, sends the local file from that offset, as a resuming client would."""
    return store(ftp, f"STOR {step['path']}", step["local"], step.get("rest"))


def op_appe(ftp, job, step):
    return store(ftp, f"APPE {step['path']}", step["local"])


def op_size(ftp, job, step):
    # Servers refuse SIZE in ASCII mode (the answer would depend on line endings).
    ftp.voidcmd("TYPE I")
    reply = ftp.sendcmd(f"SIZE {step['path']}")
    return {"reply": reply, "size": int(reply[3:].strip())}


def op_dele(ftp, job, step):
    return {"reply": ftp.delete(step["path"])}


def send_abort(ftp, style, data):
    if style == "telnet":
        # RFC 959 section 4.1.3, as BSD ftp does it: Telnet IP, then Synch (IAC as urgent data, then DM).
        ftp.sock.sendall(b"\xff\xf4")
        ftp.sock.sendall(b"\xff", socket.MSG_OOB)
        ftp.sock.sendall(b"\xf2ABOR\r\n")
    elif style == "ftplib":
        # The bytes ftp.abort() sends. TCP carries one urgent byte out of band, so the server's stream
        # loses the final "\n" and it sees "ABOR\r" run into the next command.
        ftp.sock.sendall(b"ABOR\r\n", socket.MSG_OOB)
    elif style == "inband":
        # Like many GUI clients: a plain ABOR, then hang up the data connection, which a server that is
        # blocked writing to it notices.
        ftp.sock.sendall(b"ABOR\r\n")
        data.close()
        return
    else:
        raise ValueError(f"unknown abort style {style!r}")
    # Keep reading until the server closes the data connection: Pure-FTPd only looks at the control
    # connection between writes, so a client that stops reading leaves it blocked and the ABOR unseen.
    while data.recv(65536):
        pass


def op_abort_during_retr(ftp, job, step):
    """Starts a download, reads `bytes` of it, then aborts it with the data connection still open."""
    ftp.voidcmd("TYPE I")
    received = 0
    with ftp.transfercmd(f"RETR {step['path']}") as data:
        while received < step["bytes"]:
            chunk = data.recv(min(65536, step["bytes"] - received))
            if not chunk:
                break
            received += len(chunk)
        send_abort(ftp, step.get("style", "telnet"), data)
    reply = ftp.getmultiline()
    # A server that aborts a running transfer answers 426 and then 226, but a client reads one reply per
    # command. Sending NOOP and reading up to its 200 collects whatever else the ABOR produced.
    ftp.putcmd("NOOP")
    later = []
    while not (line := ftp.getmultiline()).startswith("200"):
        later.append(line)
        if len(later) > 5:
            raise ftplib.error_proto(f"no reply to NOOP after ABOR: {later}")
    return {"reply": reply, "bytes": received, "laterReplies": later, "noopReply": line}


def op_list_then_reply(ftp, job, step):
    """LIST as clients do that read the final reply before they close the data connection: read to the
    end of the data (TLS: the server's close_notify), then the 226, and only then close. `events`
    records the order in which these happened."""
    events = []
    ftp.voidcmd("TYPE A")
    data = ftp.transfercmd(with_path("LIST", step))
    received = b""
    while chunk := data.recv(65536):
        received += chunk
    events.append("data-end")
    reply = ftp.voidresp()
    events.append("final-reply")
    if isinstance(data, ssl.SSLSocket):
        data.unwrap()
    data.close()
    events.append("data-closed")
    return {"reply": reply, "lines": received.decode("utf-8", "replace").splitlines(), "events": events}


def op_quit(ftp, job, step):
    return {"reply": ftp.quit()}


def op_auth(ftp, job, step):
    """AUTH TLS now (with "tlsLater"), then PBSZ/PROT P unless protP is false."""
    reply = ftp.auth()
    if step.get("protP", True):
        ftp.prot_p()
    return {"reply": reply}


def op_raw(ftp, job, step):
    return {"reply": ftp.sendcmd(step["command"])}


OPS = {
    "login": op_login,
    "pwd": op_pwd,
    "list": op_list,
    "nlst": op_nlst,
    "mlsd": op_mlsd,
    "retr": op_retr,
    "stor": op_stor,
    "appe": op_appe,
    "size": op_size,
    "dele": op_dele,
    "abort-during-retr": op_abort_during_retr,
    "quit": op_quit,
    "list-then-reply": op_list_then_reply,
    "raw": op_raw,
    "auth": op_auth,
}


def describe(error):
    # ftplib's own errors already read like the server's reply, e.g. "530 Login incorrect.".
    if isinstance(error, ftplib.Error):
        return str(error)
    return f"{type(error).__name__}: {error}"


def main():
    job = json.load(sys.stdin)
    unknown = [step.get("op") for step in job["ops"] if step.get("op") not in OPS]
    if unknown:
        sys.exit(f"ftplib_client: unknown ops {unknown}")

    tls = job.get("tls")
    if tls:
        context = ssl.create_default_context(cafile=job.get("caFile"))
        if job.get("clientCert"):
            context.load_cert_chain(job["clientCert"], job.get("clientKey"))
        ftp = TlsClient(timeout=job.get("timeout", 20), context=context)
        ftp.implicit = tls == "implicit"
        ftp.reuse_session = job.get("reuseSession", True)
        if job.get("serverName"):
            # The SNI name is not the host connected to: the certificate cannot name it.
            context.check_hostname = False
            ftp.server_name = job["serverName"]
    else:
        ftp = Client(timeout=job.get("timeout", 20))
    ftp.force_epsv = bool(job.get("epsv"))
    ftp.trust_server_pasv_ipv4_address = bool(job.get("trustPasvHost"))
    # Active mode: ftplib listens and sends PORT (EPRT over IPv6) for every transfer.
    ftp.set_pasv(not job.get("active"))
    try:
        welcome = ftp.connect(job["host"], job["port"])
    except ftplib.all_errors as error:
        print(json.dumps({"connectError": describe(error), "results": []}))
        return

    results = []
    if tls and ftp.server_name:
        # FTP_TLS sends self.host as SNI on the control (AUTH) and data connections; ftplib connects by
        # the address it was given, so this changes only the name in the handshakes.
        ftp.host = ftp.server_name
    if tls and not job.get("tlsLater"):
        try:
            if tls == "explicit":
                results.append({"op": "auth", "reply": ftp.auth()})
            if job.get("protP", True):
                results.append({"op": "prot", "reply": ftp.prot_p()})
        except ftplib.all_errors + (ssl.SSLError,) as error:
            results.append({"op": "auth", "error": describe(error)})
    for step in job["ops"]:
        try:
            results.append({"op": step["op"], **OPS[step["op"]](ftp, job, step)})
        except ftplib.all_errors + (ssl.SSLError,) as error:
            results.append({"op": step["op"], "error": describe(error)})
    ftp.close()
    print(json.dumps({"welcome": welcome, "results": results}))


if __name__ == "__main__":
    main()
