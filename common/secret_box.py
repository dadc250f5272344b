"""Secrets the platform must read back (a webhook endpoint's signing secret) are stored encrypted: AES-256-GCM
with the key from `NOOBLE4_SECRETS_KEY`, a random nonce per value, the tenant id bound as associated data (a
ciphertext copied to another tenant's row does not decrypt). Stored as `v1:<base64 nonce+ciphertext>`."""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from common.errors import DependencyError
from common.settings import CommonSettings

PREFIX = "v1:"


class SecretBox:
    def __init__(self, key: bytes):
        self._aead = AESGCM(key)

    def seal(self, secret: str, tenant_id: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, secret.encode(), tenant_id.encode())
        return PREFIX + base64.b64encode(nonce + sealed).decode()

    def open(self, stored: str, tenant_id: str) -> str:
        try:
            raw = base64.b64decode(stored.removeprefix(PREFIX), validate=True)
            return self._aead.decrypt(raw[:12], raw[12:], tenant_id.encode()).decode()
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise DependencyError(
                "a stored secret cannot be decrypted (was NOOBLE4_SECRETS_KEY changed?)",
                code="secret_unreadable",
                retryable=False,
            ) from exc


def secret_box(settings: CommonSettings) -> SecretBox:
    """The platform's box; a clear error when no key is configured."""
    if settings.secrets_key is None:
        raise DependencyError(
            "NOOBLE4_SECRETS_KEY is not set: secrets cannot be stored (openssl rand -base64 32)",
            code="secrets_key_missing",
            retryable=False,
        )
    try:
        key = base64.b64decode(settings.secrets_key.get_secret_value(), validate=True)
    except binascii.Error:
        key = b""
    if len(key) != 32:
        raise DependencyError(
            "NOOBLE4_SECRETS_KEY must be 32 random bytes, base64 (openssl rand -base64 32)",
            code="secrets_key_invalid",
            retryable=False,
        )
    return SecretBox(key)
