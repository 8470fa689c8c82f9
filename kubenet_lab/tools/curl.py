"""``curl`` (8.5, Ubuntu 24.04's): a TCP connection to the URL's host and port, and what
answers: nginx's welcome page from an nginx container, the address an internet host sees
(it answers like ifconfig.me), or curl's error for a refused or lost connection.

The command line is read as curl's tool reads it (src/tool_getparam.c, tool_paramhlp.c
``secs2ms``, tool_helpers.c ``param2text``, tool_msgs.c ``helpf``) and the URL as libcurl
parses it (lib/urlapi.c ``parseurl``, ``Curl_parse_port``, ``ipv4_normalize``,
``hostname_check``; lib/url.c ``URL rejected: %s``; the texts of lib/strerror.c), e.g.
``curl: (3) URL rejected: Port number was not a decimal number between 0 and 65535``.
What the lab leaves out: only the first URL is fetched; URLs are not globbed (as with
``--globoff``); only ``http`` and ``https`` are modelled, and any other scheme is answered
as by a libcurl built without it; the options are ``-s``, ``-S``, ``-v``, ``-i``, ``-L``,
``-k`` (which change nothing), ``-m``/``--max-time`` and ``--connect-timeout``, and
any other is answered as unknown. The nodes run with IPv6 disabled (see ``tools.ip``): a
connection to an IPv6 address fails at once, as does one to port 0 (the kernel refuses
it). The kernel gives up a connection whose SYNs go unanswered after 135228 ms (six
retries): a timeout of that or more, or of 0 (none), ends the same way.
"""

from __future__ import annotations

import re
from ipaddress import IPv6Address

from kubenet_lab.tools.context import Context
from kubenet_lab.tools.options import LONG_MAX, c_number, strtod, strtoul
from kubenet_lab.tools.resolver import resolve

__all__ = ["curl"]

_NGINX_PAGE = """<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>"""


_TRY = "curl: try 'curl --help' or 'curl --manual' for more information"
_FLAGS = {"s": "silent", "S": "show-error", "v": "verbose", "i": "include", "L": "location",
          "k": "insecure"}
_TIMEOUTS = {"max-time", "connect-timeout"}
#: lib/urldata.h CURL_MAX_INPUT_LENGTH
_MAX_INPUT = 8_000_000
#: Linux gives up a connection after 6 SYN retransmissions (1+2+4+...+64 s, and the last
#: wait): what curl reports as the time it tried.
_KERNEL_GIVES_UP_MS = 135228
_BAD_HOST_CHARS = re.compile(r"[ \r\n\t/:#?!@{}\[\]\\$'\"^`*<>=;,+&()%]")
_URL_ERRORS = {
    "malformed": "Malformed input to a URL function",
    "port": "Port number was not a decimal number between 0 and 65535",
    "slashes": "Unsupported number of slashes following scheme",
    "nohost": "No host part in the URL",
    "ipv6": "Bad IPv6 address",
    "hostname": "Bad hostname",
}
_GUESSED = ("ftp", "dict", "ldap", "imap", "smtp", "pop3")


def _parameter_error(option: str, reason: str) -> str:
    """tool_getparam.c's answer to a bad option, through helpf()."""
    return f"curl: option {option}: {reason}\n{_TRY}"


def _secs2ms(text: str) -> int | str:
    """tool_paramhlp.c ``secs2ms``: seconds with decimals to ms, or param2text's reason."""
    value, end, overflow = strtod(text)
    if overflow or value > LONG_MAX / 1000:
        return "too large number"
    if end == 0 or end < len(text):
        return "expected a proper numerical parameter"
    if value < 0:
        return "expected a positive numerical parameter"
    return int(value * 1000) if value == value else -1  # (long)NaN: a negative timeout


def _arguments(args: list[str]) -> tuple[list[str], int | None] | str:
    """The URLs and the timeout in ms (None: none given), or curl's message."""
    urls: list[str] = []
    timeout = None
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            urls += args[i:]
            break
        if not arg.startswith("-"):
            urls.append(arg)
            continue
        value = None
        if arg.startswith("--"):
            if arg[2:].removeprefix("no-") in _FLAGS.values():
                continue
            if arg[2:] not in _TIMEOUTS:
                return _parameter_error(arg, "is unknown")
        else:  # a group of short flags, perhaps ending with -m and its value
            rest = arg[1:].lstrip("".join(_FLAGS))
            if not rest and len(arg) > 1:
                continue
            if not rest.startswith("m"):
                return _parameter_error(arg, "is unknown")
            value = rest[1:] or None
        if value is None:
            if i >= len(args):
                return _parameter_error(arg, "requires parameter")
            value, i = args[i], i + 1
        ms = _secs2ms(value)
        if isinstance(ms, str):
            return _parameter_error(arg, ms)
        timeout = ms
    if not urls:
        return f"curl: no URL specified!\n{_TRY}"
    return urls, timeout


def _ipv4_normalize(host: str) -> str | None:
    """lib/urlapi.c ``ipv4_normalize``: '16843009', '0x7f.1', '0177.1.1.1' as a dotted
    quad, or None when the host is a name."""
    parts: list[int] = []
    rest = host
    while True:
        if not rest[:1].isascii() or not rest[:1].isdigit():
            return None
        number = strtoul(rest, base=0)
        if number.overflow or number.value > 0xFFFFFFFF:
            return None
        parts.append(number.value)
        rest = rest[number.end:]
        if not rest:
            break
        if rest[0] != "." or len(parts) == 4:
            return None
        rest = rest[1:]
    *head, last = parts
    if any(p > 0xFF for p in head) or last >= 1 << (8 * (5 - len(parts))):
        return None
    value = sum(p << (8 * (3 - n)) for n, p in enumerate(head)) + last
    return ".".join(str(value >> shift & 0xFF) for shift in (24, 16, 8, 0))


def _urldecode(host: str) -> str | None:
    """lib/escape.c ``Curl_urldecode`` with REJECT_CTRL; None for a control byte."""
    raw = re.sub(r"%([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), host)
    return None if any(ord(c) < 0x20 or c == "\x7f" for c in raw) else raw


def _parse_url(url: str) -> tuple[str, str, int] | str:
    """lib/urlapi.c ``parseurl`` (GUESS_SCHEME, NON_SUPPORT_SCHEME): the scheme, the host
    and the port, or the name of the CURLUcode that rejects it."""
    if len(url) > _MAX_INPUT or any(ord(c) <= 0x20 or c == "\x7f" for c in url):
        return "malformed"
    scheme_match = re.match(r"[A-Za-z][A-Za-z0-9+.-]{0,38}:/", url)
    scheme = ""
    rest = url
    if scheme_match:
        scheme = scheme_match.group()[:-2].lower()
        rest = url[len(scheme) + 1:]
        slashes = len(rest) - len(rest.lstrip("/"))
        if slashes > 3:
            return "slashes"
        rest = rest[slashes:]
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if not authority:
        return "nohost"
    hostport = authority.partition("@")[2] if "@" in authority else authority
    if hostport.startswith("["):
        close = hostport.find("]")
        if close < 0:
            return "ipv6"
        host, port_text = hostport[:close + 1], hostport[close + 1:]
        if port_text and not port_text.startswith(":"):
            return "port"
    else:
        host, colon, port_text = hostport.partition(":")
        port_text = colon + port_text
    port = None
    if port_text:
        digits = port_text[1:]
        if not digits and not scheme:
            return "port"
        if digits:
            port = c_number(digits, 0, 0xFFFF)
            if port is None:
                return "port"
    if not host:
        return "nohost"
    if host.startswith("["):
        address = host[1:-1].partition("%")[0]
        try:
            if len(host) < 4 or address.strip("0123456789abcdefABCDEF:."):
                raise ValueError(address)
            host = f"[{IPv6Address(address)}]"
        except ValueError:
            return "ipv6"
    else:
        normal = _ipv4_normalize(host)
        if normal is None:
            decoded = _urldecode(host)
            if decoded is None or _BAD_HOST_CHARS.search(decoded):
                return "hostname"
            normal = decoded
        host = normal
    if not scheme:
        scheme = next((s for s in _GUESSED if host.lower().startswith(s + ".")), "http")
    return scheme, host, port if port is not None else (443 if scheme == "https" else 80)


def curl(ctx: Context, args: list[str]) -> str:
    """``curl [options] URL`` (see the module docstring)."""
    if not args:
        return _TRY
    parsed = _arguments(args)
    if isinstance(parsed, str):
        return parsed
    urls, timeout = parsed
    if timeout is not None and timeout < 0:
        return "curl: (43) A libcurl function was given a bad argument"
    target = _parse_url(urls[0])
    if isinstance(target, str):
        return f"curl: (3) URL rejected: {_URL_ERRORS[target]}"
    scheme, host, port = target
    if scheme not in ("http", "https"):
        return f"curl: (1) Protocol \"{scheme}\" not supported or disabled in libcurl"
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:  # libidn2 refuses it: lib/idn.c returns CURLE_URL_MALFORMAT
            return "curl: (3) URL using bad/illegal format or missing URL"
    refused = (f"curl: (7) Failed to connect to {host.strip('[]')} port {port} after 0 ms: "
               "Couldn't connect to server")
    if host.startswith("[") or port == 0:
        return refused
    dst = resolve(ctx, host)
    if dst is None:
        return f"curl: (6) Could not resolve host: {host}"
    t = ctx.send(dst, port)
    ctx.remember([("tcp", t)])
    if t.delivered:
        pod = ctx.view.pod(t.destination_pod) if t.destination_pod else None
        container = t.receiver.rsplit("/", 1)[-1] if t.receiver else ""
        image = next((c.image for c in pod.containers if c.name == container), "") if pod else ""
        if scheme == "https":
            return "curl: (35) OpenSSL/3.0.13: error:0A00010B:SSL routines::wrong version number"
        if image.startswith("nginx"):
            return _NGINX_PAGE
        if t.receiver and t.receiver.startswith("internet/"):
            # the lab's internet hosts answer like ifconfig.me: the address they see
            return t.source_ip_seen or ""
        return f"Hello from {t.receiver}"
    if t.outcome == "refused" or "Network is unreachable" in t.reason:
        return refused
    if timeout and timeout < _KERNEL_GIVES_UP_MS:
        return f"curl: (28) Connection timed out after {timeout + 1} milliseconds"
    return (f"curl: (28) Failed to connect to {host} port {port} after "
            f"{_KERNEL_GIVES_UP_MS} ms: Couldn't connect to server")
