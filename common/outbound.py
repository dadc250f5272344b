"""Requests the platform makes to addresses a tenant chose (URL ingestion, webhooks, MCP servers, an agent's
web tools): the server-side request forgery guard, and `fetch_url`. A URL must be http(s) and its host must
resolve only to public addresses; loopback, private, link-local (cloud metadata, 169.254.169.254) and other
non-global addresses are refused unless the operator lists their network in
`NOOBLE4_OUTBOUND_ALLOWED_NETWORKS` (e.g. `["10.0.0.0/8"]`).

Each hop is checked before it is requested (redirects are followed by hand, or not at all). The address is
resolved again by the HTTP client when it connects; a DNS answer that changes in between is the guard's known
gap, closed only by pinning the resolved address, which breaks TLS name checks."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

import httpx

from common.errors import DependencyError, ValidationError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(cidrs: Sequence[str]) -> list[Network]:
    return [ipaddress.ip_network(cidr, strict=False) for cidr in cidrs]


async def check_outbound_url(url: str, allowed: Sequence[Network] = (), *, allow_private: bool = False) -> None:
    """Raises ValidationError (`invalid_url`, `url_unreachable`, `url_not_allowed`) unless `url` may be requested."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValidationError(f"only http(s) URLs are allowed, not {url[:200]!r}", code="invalid_url")
    if allow_private:
        return
    host = parts.hostname
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ValidationError(f"cannot resolve {host[:100]!r}: {exc}", code="url_unreachable") from None
    except (UnicodeError, ValueError):  # a label longer than 63 characters, an empty label, ...
        raise ValidationError(f"{host[:100]!r} is not a valid host name", code="invalid_url") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global and not any(address in network for network in allowed):
            raise ValidationError(
                f"{host} resolves to a private or local address ({address}); refused", code="url_not_allowed"
            )


MAX_REDIRECTS = 5


async def fetch_url(
    url: str, *, max_bytes: int, timeout_s: float, allow_private: bool, allowed: Sequence[Network] = ()
) -> tuple[bytes, str | None]:
    """The body and its content type; follows redirects, checking every hop."""
    async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=False) as http:
        for _ in range(MAX_REDIRECTS + 1):
            await check_outbound_url(url, allowed, allow_private=allow_private)
            try:
                async with http.stream("GET", url) as response:
                    if response.is_redirect:
                        url = str(response.url.join(response.headers["location"]))
                        continue
                    if response.status_code >= 400:
                        raise ValidationError(f"{url} answered {response.status_code}", code="url_unreachable")
                    body = bytearray()
                    async for piece in response.aiter_bytes():
                        body.extend(piece)
                        if len(body) > max_bytes:
                            raise ValidationError(
                                f"the document at {url} is larger than {max_bytes} bytes", code="file_too_large"
                            )
                    return bytes(body), response.headers.get("content-type")
            except httpx.HTTPError as exc:
                raise DependencyError(
                    f"fetching {url} failed: {exc}", code="url_unreachable", retryable=False
                ) from None
    raise ValidationError(f"too many redirects from {url}", code="url_unreachable")
