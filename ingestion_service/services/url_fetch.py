"""Fetching a document from a URL with httpx; private, loopback and link-local addresses are refused
(server-side request forgery, common.outbound) unless the settings allow them."""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from common.errors import DependencyError, ValidationError
from common.outbound import Network, check_outbound_url

MAX_REDIRECTS = 5


async def fetch_url(
    url: str, *, max_bytes: int, timeout_s: float, allow_private: bool, allowed: Sequence[Network] = ()
) -> tuple[bytes, str | None]:
    """The body and its content type; follows redirects, checking every hop (common.outbound)."""
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
