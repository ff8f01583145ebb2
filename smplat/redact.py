"""Outgoing URLs in messages: webhook paths (Slack's above all), queries and credentials
are secrets, so errors, logs, ExportRun.error and Slack name a URL's scheme, host and port
only."""

from __future__ import annotations

from urllib.parse import urlsplit


def redact_url(url: str) -> str:
    """The scheme, host and port only: webhook paths (Slack's above all), queries and
    ``user:password@`` carry secrets."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        return "<url>"
    if ":" in host:  # IPv6
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # a port that is not a number
        port = ""
    return f"{parts.scheme}://{host}{port}/..."


def scrub_url(text: str, url: str) -> str:
    """requests puts the URL in its messages, and a receiver may echo its path in an error
    body; a webhook's path, query and credentials can be its secret."""
    parts = urlsplit(url)
    secrets = [url, parts.path + ("?" + parts.query if parts.query else ""), parts.path]
    secrets += [parts.query, parts.password or ""]
    if "@" in parts.netloc:
        secrets += [parts.netloc, parts.netloc.rpartition("@")[0]]
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) > 1:
            text = text.replace(secret, "...")
    return text
