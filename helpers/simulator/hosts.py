"""Which host names are this machine's own: the simulator listens on, and answers, only those.

Kept apart from the HTTP application so that checking a host costs no web framework import
(a kernel starting the simulator checks its host before the server is even imported).
"""

from __future__ import annotations

import ipaddress

LOOPBACK_NAMES = ("localhost",)


def host_name(host: str) -> str:
    """`127.0.0.1:8000` -> `127.0.0.1`, `[::1]:8000` -> `::1`, `LocalHost` -> `localhost`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.index("]")] if "]" in host else host
    name, colon, port = host.rpartition(":")
    return name if colon and (port.isdigit() or not port) else host


def is_loopback(host: str) -> bool:
    """True for this machine's own names: localhost, 127.0.0.0/8 and ::1."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
