"""Secrets at rest: AES-256-GCM with a key id in every stored value.

Stored form: ``v1:<key id>:<urlsafe base64 of nonce (12 bytes) + ciphertext + tag>``.
Associated data binds a value to its owner and purpose (e.g. ``<user id>:anthropic``),
so a ciphertext copied onto another row does not decrypt.

Keys come from ``ATELIER_ENCRYPTION_KEYS`` (``kid=secret,kid=secret``; the first
encrypts, all decrypt) or, when that is unset, from ``ATELIER_SECRET_KEY`` under the
id ``k0``. Each secret is stretched to 32 bytes with HKDF-SHA256. To rotate: put the new
key first, keep the old one after it, run ``atelier keys rotate``, then drop the old.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

FORMAT = "v1"


class DecryptionError(Exception):
    """The value was not encrypted for this owner, or with a key we hold."""


def _derive(secret: str, kid: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"atelier-secrets", info=kid.encode())
    return hkdf.derive(secret.encode())


def parse_key_spec(spec: str) -> list[tuple[str, str]]:
    keys = []
    for part in spec.split(","):
        kid, sep, secret = part.strip().partition("=")
        if not sep or not kid or not secret or ":" in kid:
            raise ValueError("ATELIER_ENCRYPTION_KEYS must look like 'k2=secret,k1=secret'")
        keys.append((kid, secret))
    return keys


class Cipher:
    def __init__(self, keys: list[tuple[str, str]]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self.current_kid = keys[0][0]
        self._keys = {kid: AESGCM(_derive(secret, kid)) for kid, secret in keys}

    def encrypt(self, plaintext: str, *, aad: str) -> str:
        nonce = os.urandom(12)
        sealed = self._keys[self.current_kid].encrypt(nonce, plaintext.encode(), aad.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{FORMAT}:{self.current_kid}:{body}"

    def key_id(self, stored: str) -> str:
        parts = stored.split(":", 2)
        if len(parts) != 3 or parts[0] != FORMAT:
            raise DecryptionError("not a value encrypted by Atelier")
        return parts[1]

    def decrypt(self, stored: str, *, aad: str) -> str:
        kid = self.key_id(stored)
        key = self._keys.get(kid)
        if key is None:
            raise DecryptionError(f"encrypted with key {kid!r}, which is not configured")
        try:
            raw = base64.urlsafe_b64decode(stored.split(":", 2)[2])
            return key.decrypt(raw[:12], raw[12:], aad.encode()).decode()
        except InvalidTag:
            raise DecryptionError("the value does not belong to this owner") from None
        except ValueError:  # not base64, or too short to hold a nonce and a tag
            raise DecryptionError("the stored value is damaged") from None

    def needs_rotation(self, stored: str) -> bool:
        return self.key_id(stored) != self.current_kid


def mask_secret(secret: str) -> str:
    """``sk-ant-api03-…abcd``-style hint: enough to recognise a key, useless to use it."""
    if len(secret) <= 8:
        return "…" + secret[-2:]
    prefix = secret[:3] if not secret.startswith("sk-") else secret[: min(7, len(secret) - 8)]
    return f"{prefix}…{secret[-4:]}"


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` masked (provider errors may echo keys)."""
    if not secret or secret not in text:
        return text
    return text.replace(secret, mask_secret(secret))
