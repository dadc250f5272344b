"""Fetching a document from a URL with httpx; private, loopback and link-local addresses are refused
(server-side request forgery) unless the settings allow them."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

import httpx

from common.errors import DependencyError, ValidationError

MAX_REDIRECTS = 5


async def _check_public(host: str) -> None:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ValidationError(f"cannot resolve {host!r}: {exc}", code="url_unreachable") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise ValidationError(
                f"{host} resolves to a private or local address ({address}); refused",
                code="url_not_allowed",
            )


async def fetch_url(url: str, *, max_bytes: int, timeout_s: float, allow_private: bool) -> tuple[bytes, str | None]:
    """The body and its content type; follows redirects, checking every hop."""
    async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=False) as http:
        for _ in range(MAX_REDIRECTS + 1):
            parts = urlsplit(url)
            if parts.scheme not in {"http", "https"} or not parts.hostname:
                raise ValidationError(f"only http(s) URLs can be fetched, not {url!r}", code="invalid_url")
            if not allow_private:
                await _check_public(parts.hostname)
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
