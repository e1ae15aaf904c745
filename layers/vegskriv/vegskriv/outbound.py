"""What vegskriv may call out to (a service owner's push URL, an HTTP consumer): https, and plain
http only to this machine (the local stack and the consumers its tests and walkthrough start), so
data never leaves unencrypted."""

from __future__ import annotations

from urllib.parse import urlsplit

LOCAL_HOSTS = ("127.0.0.1", "localhost")


def allowed(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOCAL_HOSTS)
