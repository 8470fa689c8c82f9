"""``curl`` (8.x): a TCP connection to the URL's host and port, and what answers: nginx's
welcome page from an nginx container, the address an internet host sees (it answers like
ifconfig.me), or curl's error for a refused or lost connection."""

from __future__ import annotations

from kubenet_lab.tools.context import Context
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


def curl(ctx: Context, args: list[str]) -> str:
    urls = []
    timeout = None
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("-m", "--max-time", "--connect-timeout") and i + 1 < len(args):
            timeout = args[i + 1]
            i += 2
            continue
        if arg.startswith("-"):
            if arg not in ("-s", "-S", "-sS", "--silent", "-v", "-i", "-L", "-k"):
                return (f"curl: option {arg}: is unknown\ncurl: try 'curl --help' or "
                        "'curl --manual' for more information")
        else:
            urls.append(arg)
        i += 1
    if not urls:
        return "curl: try 'curl --help' or 'curl --manual' for more information"
    url = urls[0]
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "http", url
    if scheme not in ("http", "https"):
        return f"curl: (1) Protocol \"{scheme}\" not supported"
    hostport = rest.split("/", 1)[0]
    host, _, port_text = hostport.partition(":")
    port = int(port_text) if port_text.isdigit() else (443 if scheme == "https" else 80)
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
        return (f"curl: (7) Failed to connect to {host} port {port} after 0 ms: "
                "Couldn't connect to server")
    if timeout is not None:
        millis = int(float(timeout) * 1000) + 1 if timeout.replace(".", "", 1).isdigit() else 0
        return f"curl: (28) Connection timed out after {millis} milliseconds"
    return (f"curl: (28) Failed to connect to {host} port {port} after 135228 ms: "
            "Couldn't connect to server")
