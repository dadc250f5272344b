"""Documents by URL: fetched with httpx; private and loopback addresses refused unless allowed; size capped."""

import pytest

from common.errors import ValidationError
from common.outbound import check_outbound_url, fetch_url


async def test_url_documents_are_fetched_and_private_addresses_refused(openai_standin: str) -> None:
    url = f"{openai_standin}/documents/pigeons.txt"
    body, content_type = await fetch_url(url, max_bytes=10_000, timeout_s=5, allow_private=True)
    assert b"courier pigeon" in body and (content_type or "").startswith("text/plain")
    with pytest.raises(ValidationError) as refused:
        await fetch_url(url, max_bytes=10_000, timeout_s=5, allow_private=False)
    assert refused.value.code == "url_not_allowed"
    with pytest.raises(ValidationError) as too_big:
        await fetch_url(url, max_bytes=10, timeout_s=5, allow_private=True)
    assert too_big.value.code == "file_too_large"


async def test_a_host_name_no_resolver_accepts_is_a_typed_error_not_a_crash() -> None:
    """Found by Schemathesis: a 300-character label made the resolver raise UnicodeError (a 500)."""
    for url in (f"https://{'0' * 300}/x", "http://a..b/", f"http://{'a' * 64}.example.com/"):
        with pytest.raises(ValidationError) as refused:
            await check_outbound_url(url)
        assert refused.value.code in {"invalid_url", "url_unreachable"}, url
