"""Secrets at rest: AES-GCM bound to an owner, key ids, rotation, masking."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select, update

from atelier.ai.models import AIProviderConfig
from atelier.ai.resolve import ProviderUnavailable, config_aad, from_config
from atelier.ai.service import rotate_keys
from atelier.core.crypto import Cipher, DecryptionError, mask_secret, parse_key_spec, redact
from atelier.core.db import session_scope
from tests.factories import BRIEF_INPUT, Api, error_code

KEY = "sk-test-secret-key-0001"


# --- the cipher ------------------------------------------------------------------------------


def test_round_trip() -> None:
    cipher = Cipher([("k0", "a secret")])
    for plain in ("sk-abc", "", "ünïcødé 🔑", "x" * 5000):
        stored = cipher.encrypt(plain, aad="user:anthropic")
        assert stored.startswith("v1:k0:")
        assert plain == "" or plain not in stored
        assert cipher.decrypt(stored, aad="user:anthropic") == plain


def test_each_encryption_uses_a_fresh_nonce() -> None:
    cipher = Cipher([("k0", "a secret")])
    values = {cipher.encrypt(KEY, aad="a") for _ in range(50)}
    assert len(values) == 50
    assert {cipher.decrypt(v, aad="a") for v in values} == {KEY}


def test_the_associated_data_binds_the_value_to_its_owner() -> None:
    cipher = Cipher([("k0", "a secret")])
    stored = cipher.encrypt(KEY, aad="alice:openai")
    for other in ("bob:openai", "alice:anthropic", "", "alice:openai "):
        with pytest.raises(DecryptionError):
            cipher.decrypt(stored, aad=other)


def test_another_secret_does_not_decrypt() -> None:
    stored = Cipher([("k0", "one secret")]).encrypt(KEY, aad="a")
    with pytest.raises(DecryptionError):
        Cipher([("k0", "another secret")]).decrypt(stored, aad="a")
    with pytest.raises(DecryptionError, match="k0"):
        Cipher([("k1", "one secret")]).decrypt(stored, aad="a")


def test_tampered_or_damaged_values_fail_cleanly() -> None:
    cipher = Cipher([("k0", "a secret")])
    stored = cipher.encrypt(KEY, aad="a")
    prefix, body = stored.rsplit(":", 1)
    flipped = body[:20] + ("A" if body[20] != "A" else "B") + body[21:]
    for bad in (
        f"{prefix}:{flipped}",
        f"{prefix}:",
        f"{prefix}:abc",  # not even valid base64 padding
        f"{prefix}:AAAAAAAA",  # shorter than a nonce
        "v2:k0:" + body,
        "plain text",
        "",
    ):
        with pytest.raises(DecryptionError):
            cipher.decrypt(bad, aad="a")


def test_rotation_keys_old_values_readable_new_ones_under_the_new_key() -> None:
    old = Cipher([("k0", "old")])
    rotated = Cipher([("k1", "new"), ("k0", "old")])
    legacy = old.encrypt(KEY, aad="a")
    assert rotated.decrypt(legacy, aad="a") == KEY
    fresh = rotated.encrypt(KEY, aad="a")
    assert fresh.startswith("v1:k1:")
    assert rotated.decrypt(fresh, aad="a") == KEY
    # Only a cipher holding k1 reads the new value.
    with pytest.raises(DecryptionError):
        old.decrypt(fresh, aad="a")
    assert rotated.needs_rotation(legacy) is True
    assert rotated.needs_rotation(fresh) is False
    assert old.needs_rotation(legacy) is False
    with pytest.raises(DecryptionError):
        rotated.needs_rotation("not encrypted")


def test_same_secret_under_two_ids_gives_two_keys() -> None:
    # Each id derives its own key, so renaming a key id is not a silent no-op.
    stored = Cipher([("k0", "same")]).encrypt(KEY, aad="a")
    with pytest.raises(DecryptionError):
        Cipher([("k1", "same")]).decrypt(stored.replace(":k0:", ":k1:"), aad="a")


def test_key_spec() -> None:
    assert parse_key_spec("k2=new, k1=old") == [("k2", "new"), ("k1", "old")]
    assert parse_key_spec("k=a=b") == [("k", "a=b")]
    for bad in ("", "k2", "=secret", "k2=", "a:b=secret", "k2=x,,k1=y"):
        with pytest.raises(ValueError):
            parse_key_spec(bad)
    with pytest.raises(ValueError):
        Cipher([])


@pytest.mark.parametrize(
    ("secret", "hint"),
    [
        ("sk-ant-api03-abcdefghijklmnopqrstuvwxyz", "sk-ant-…wxyz"),
        ("sk-proj-0123456789abcdef", "sk-proj…cdef"),
        ("sk-test-secret-key-0001", "sk-test…0001"),
        ("sk-abcdefgh1234", "sk-abcd…1234"),
        ("sk-abcd1234", "sk-…1234"),
        ("gsk_0123456789abcdef", "gsk…cdef"),
        ("abcdefghi", "abc…fghi"),
        ("12345678", "…78"),
        ("ab", "…ab"),
    ],
)
def test_mask_secret(secret: str, hint: str) -> None:
    assert mask_secret(secret) == hint
    assert secret not in mask_secret(secret) or len(secret) <= 2
    assert len(mask_secret(secret)) <= 32  # fits the hint column


def test_redact() -> None:
    assert redact(f"bad key {KEY}!", KEY) == "bad key sk-test…0001!"
    assert redact("nothing here", KEY) == "nothing here"
    assert redact(f"{KEY}", None) == KEY


# --- keys in the database ---------------------------------------------------------------------


async def load(app: Any, config_id: str) -> AIProviderConfig:
    async with app.state.sessionmaker() as session:
        config = await session.scalar(
            select(AIProviderConfig).where(AIProviderConfig.id == uuid.UUID(config_id))
        )
    assert config is not None
    return config


async def move_to(app: Any, config_id: str, user_id: str) -> None:
    async with session_scope(app.state.sessionmaker) as session:
        await session.execute(
            update(AIProviderConfig)
            .where(AIProviderConfig.id == uuid.UUID(config_id))
            .values(user_id=uuid.UUID(user_id))
        )


@pytest.mark.anyio
async def test_a_config_moved_to_another_owner_does_not_decrypt(api: Api, app: Any) -> None:
    ann, bob = await api.signup(), await api.signup()
    config = await api.provider(ann, is_default=True)
    runtime = app.state.ai
    assert from_config(await load(app, config["id"]), runtime.cipher, runtime.settings)

    await move_to(app, config["id"], bob.id)
    moved = await load(app, config["id"])
    with pytest.raises(ProviderUnavailable) as caught:
        from_config(moved, runtime.cipher, runtime.settings)
    assert caught.value.status_code == 409 and caught.value.code == "no_ai_provider"
    assert "enter it again" in str(caught.value.detail)

    # Through the API: Bob's (moved) default cannot serve him, and says why.
    project = await api.project(bob)
    r = await api.client.post(
        f"/api/v1/projects/{project['id']}/artifacts",
        json={"type": "brief", "name": "B", "input_data": BRIEF_INPUT, "generate": True},
        headers=bob.headers,
    )
    assert r.status_code == 409, r.text
    assert error_code(r) == "no_ai_provider"
    assert "cannot be decrypted" in r.json()["detail"] and KEY not in r.text
    r = await api.client.get("/api/v1/jobs", headers=bob.headers)
    assert r.json()["items"] == []


@pytest.mark.anyio
async def test_a_config_with_a_damaged_key_is_a_409_not_a_500(api: Api, app: Any) -> None:
    ann = await api.signup()
    config = await api.provider(ann, is_default=True)
    async with session_scope(app.state.sessionmaker) as session:
        await session.execute(
            update(AIProviderConfig)
            .where(AIProviderConfig.id == uuid.UUID(config["id"]))
            .values(api_key_encrypted="v1:k0:abc")
        )
    project = await api.project(ann)
    r = await api.client.post(
        f"/api/v1/projects/{project['id']}/artifacts",
        json={"type": "brief", "name": "B", "input_data": BRIEF_INPUT, "generate": True},
        headers=ann.headers,
    )
    assert r.status_code == 409 and error_code(r) == "no_ai_provider", r.text


@pytest.mark.anyio
async def test_rotate_keys(api: Api, app: Any) -> None:
    """The procedure: new key first, old after it; rotate; every value is under the new key
    and still decrypts for its owner; the old key can then go."""
    runtime = app.state.ai
    old_cipher: Cipher = runtime.cipher
    secret = app.state.settings.secret_key.get_secret_value()
    assert old_cipher.current_kid == "k0"
    new_cipher = Cipher([("k1", "a brand new secret"), ("k0", secret)])

    ann, bob = await api.signup(), await api.signup()
    keys = {
        (await api.provider(ann, api_key=f"sk-ann-{uuid.uuid4().hex}", is_default=False))[
            "id"
        ]: None,
        (await api.provider(bob, api_key=f"sk-bob-{uuid.uuid4().hex}"))["id"]: None,
        (
            await api.provider(
                ann, provider="anthropic", api_key=f"sk-ant-{uuid.uuid4().hex}", base_url=None
            )
        )["id"]: None,
    }
    keyless = await api.provider(ann, api_key=None, is_default=False)
    broken = await api.provider(bob, is_default=False)
    await move_to(app, broken["id"], ann.id)  # undecryptable: must be skipped, not crash
    for config_id in keys:
        config = await load(app, config_id)
        assert config.api_key_encrypted is not None
        keys[config_id] = old_cipher.decrypt(config.api_key_encrypted, aad=config_aad(config))
        assert old_cipher.key_id(config.api_key_encrypted) == "k0"
        # Before rotation completes, the new cipher reads old values.
        assert (
            new_cipher.decrypt(config.api_key_encrypted, aad=config_aad(config))
            == (keys[config_id])
        )

    try:
        async with session_scope(app.state.sessionmaker) as session:
            everything = list(
                (
                    await session.scalars(
                        select(AIProviderConfig).where(
                            AIProviderConfig.api_key_encrypted.is_not(None)
                        )
                    )
                ).all()
            )
            decryptable = 0
            for config in everything:
                assert config.api_key_encrypted is not None
                try:
                    old_cipher.decrypt(config.api_key_encrypted, aad=config_aad(config))
                    decryptable += 1
                except DecryptionError:
                    pass
            rotated = await rotate_keys(session, new_cipher)
        assert rotated == decryptable >= len(keys)

        for config_id, plain in keys.items():
            config = await load(app, config_id)
            assert config.api_key_encrypted is not None
            assert new_cipher.key_id(config.api_key_encrypted) == "k1"
            assert new_cipher.decrypt(config.api_key_encrypted, aad=config_aad(config)) == plain
            assert (
                Cipher([("k1", "a brand new secret")]).decrypt(
                    config.api_key_encrypted, aad=config_aad(config)
                )
                == plain
            )
        assert (await load(app, keyless["id"])).api_key_encrypted is None
        still_broken = await load(app, broken["id"])
        assert still_broken.api_key_encrypted is not None
        assert new_cipher.key_id(still_broken.api_key_encrypted) == "k0"

        async with session_scope(app.state.sessionmaker) as session:
            assert await rotate_keys(session, new_cipher) == 0  # nothing left to do
    finally:
        # The app's cipher only knows k0: put every value back under it for other tests.
        async with session_scope(app.state.sessionmaker) as session:
            await rotate_keys(session, Cipher([("k0", secret), ("k1", "a brand new secret")]))
    for config_id, plain in keys.items():
        config = await load(app, config_id)
        assert config.api_key_encrypted is not None
        assert old_cipher.decrypt(config.api_key_encrypted, aad=config_aad(config)) == plain


@pytest.mark.anyio
async def test_a_rotation_that_fails_changes_nothing(api: Api, app: Any) -> None:
    old_cipher: Cipher = app.state.ai.cipher
    secret = app.state.settings.secret_key.get_secret_value()
    ann = await api.signup()
    config = await api.provider(ann)
    before = (await load(app, config["id"])).api_key_encrypted

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with session_scope(app.state.sessionmaker) as session:
            assert await rotate_keys(session, Cipher([("k1", "new"), ("k0", secret)])) >= 1
            raise Boom
    after = (await load(app, config["id"])).api_key_encrypted
    assert after == before
    assert after is not None and old_cipher.key_id(after) == "k0"
