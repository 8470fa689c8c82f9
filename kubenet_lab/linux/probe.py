"""The programs a probe runs: a listener in a pod's network namespace and a client in
the source's, both small Python programs started with ``ip netns exec NS python -c``.

The **listener** binds every port the pod's containers listen on (what ``ss -tlnu``
shows in the lab: ``kubenet_lab.tools.ss.pod_sockets``), TCP and UDP, on 0.0.0.0. A
TCP connection is answered with one line, ``<pod> <peer address>``, and closed; a UDP
datagram with the same line sent back to its sender. So the client learns which pod
answered and the source address the pod saw (``getpeername`` of the accepted socket,
``recvfrom``'s address): what is left of the client's address after every NAT on the
way. The listener also prints each line on its standard output.

The **client** makes one connection and prints one JSON object:

- TCP: ``connect`` with a timeout (``connected``: the handshake completed; a RST is
  ``refused``, an ICMP error ``unreachable``, no answer ``timeout``);
- UDP: a connected datagram socket sends one datagram and waits for the answer (an
  ICMP port unreachable arrives as ``ECONNREFUSED`` on a connected UDP socket:
  net/ipv4/udp.c ``__udp4_lib_err``);
- ICMP: an echo request on a raw socket, waiting for the echo reply from the address
  (an ICMP port unreachable, what nftables' ``reject`` sends, is ``rejected``; a host
  or network unreachable is ``unreachable``); ``source_ip_seen`` is None, since nothing
  listens for a ping.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

__all__ = ["CLIENT", "LISTENER", "ProbeResult", "parse_client_output"]


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What one real connection did: did it connect (for ICMP: was the echo answered),
    the source address the listener saw, the pod that answered, and the client's words
    (``connected``, ``refused``, ``timeout``, ``unreachable``, ``rejected``...)."""

    src: str
    dst: str
    port: int
    protocol: str
    connected: bool
    source_ip_seen: str | None
    responder: str | None
    detail: str

    def __str__(self) -> str:
        seen = f", source seen {self.source_ip_seen}" if self.source_ip_seen else ""
        who = f" by {self.responder}" if self.responder else ""
        return (f"{self.protocol} {self.src} -> {self.dst}:{self.port}: "
                f"{'connected' if self.connected else 'not connected'}{who}{seen} "
                f"({self.detail})")


LISTENER = r"""
import json, selectors, socket, sys
ident = sys.argv[1]
sel = selectors.DefaultSelector()
for proto, port in json.loads(sys.argv[2]):
    kind = socket.SOCK_STREAM if proto == "TCP" else socket.SOCK_DGRAM
    s = socket.socket(socket.AF_INET, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    if proto == "TCP":
        s.listen(64)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, proto)
print("ready", flush=True)
while True:
    for key, _ in sel.select():
        s = key.fileobj
        try:
            if key.data == "TCP":
                conn, peer = s.accept()
                line = f"{ident} {peer[0]}\n"
                conn.setblocking(True)
                conn.settimeout(1)
                conn.sendall(line.encode())
                conn.close()
            else:
                data, peer = s.recvfrom(2048)
                line = f"{ident} {peer[0]}\n"
                s.sendto(line.encode(), peer)
            print(line.strip(), flush=True)
        except OSError:
            pass
"""

CLIENT = r"""
import errno, json, os, socket, struct, sys, time
proto, dst, port, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
out = {"connected": False, "reply": None, "detail": ""}
def words(err):
    if isinstance(err, (socket.timeout, TimeoutError)):
        return "timeout"
    if isinstance(err, ConnectionRefusedError):
        return "refused"
    code = getattr(err, "errno", None)
    if code in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "unreachable (" + os.strerror(code) + ")"
    return str(err)
def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF
try:
    if proto == "TCP":
        s = socket.create_connection((dst, port), timeout=timeout)
        out["connected"], out["detail"] = True, "connected"
        data = b""
        s.settimeout(timeout)
        try:
            while not data.endswith(b"\n"):
                chunk = s.recv(256)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        out["reply"] = data.decode().strip() or None
    elif proto == "UDP":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(timeout)
        s.connect((dst, port))
        s.send(b"probe\n")
        data = s.recv(2048)
        out["connected"], out["detail"] = True, "answered"
        out["reply"] = data.decode().strip() or None
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        ident = os.getpid() & 0xFFFF
        body = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + b"kubenet-lab"
        body = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
        s.sendto(body, (dst, 0))
        deadline = time.monotonic() + timeout
        out["detail"] = "timeout"
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                packet, addr = s.recvfrom(2048)
            except OSError:
                break
            ihl = (packet[0] & 0x0F) * 4
            kind, code = packet[ihl], packet[ihl + 1]
            echo_id = struct.unpack("!H", packet[ihl + 4:ihl + 6])[0]
            if kind == 0 and addr[0] == dst and echo_id == ident:
                out["connected"], out["detail"] = True, "echo reply"
                break
            if kind == 3:
                inner = packet[ihl + 8:]
                iihl = (inner[0] & 0x0F) * 4
                inner_id = inner[iihl + 4:iihl + 6]
                if len(inner_id) == 2 and struct.unpack("!H", inner_id)[0] == ident:
                    what = "rejected" if code == 3 else "unreachable"
                    out["detail"] = "%s (ICMP type 3 code %d from %s)" % (what, code, addr[0])
                    break
except Exception as err:
    out["detail"] = words(err)
print(json.dumps(out))
"""


def parse_client_output(src: str, dst: str, port: int, protocol: str,
                        stdout: str, stderr: str) -> ProbeResult:
    """The client's JSON line as a ``ProbeResult`` (a client that printed nothing is
    reported with its error output)."""
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if not lines:
        return ProbeResult(src, dst, port, protocol, False, None, None,
                           f"client failed: {stderr.strip()[-200:]}")
    out = json.loads(lines[-1])
    responder = seen = None
    if out.get("reply"):
        responder, _, seen = out["reply"].partition(" ")
        seen = seen or None
    return ProbeResult(src, dst, port, protocol, bool(out["connected"]), seen, responder,
                       out.get("detail", ""))
