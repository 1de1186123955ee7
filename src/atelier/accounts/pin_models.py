"""The instance PIN (seed 002 ``security_settings``) and who has entered it lately."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from atelier.core.db import Base, utcnow

SETTINGS_ID = "main"


class SecuritySettings(Base):
    """One row, ``id = "main"``. ``pin_hash`` is an argon2 hash of the PIN made with
    ``salt`` (kept as its own column, as the seed has it); no PIN: both null."""

    __tablename__ = "security_settings"

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=SETTINGS_ID)
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    salt: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class PinUnlock(Base):
    """A credential (a browser session or an API key, by the digest of its token) that
    entered the PIN, and until when that holds."""

    __tablename__ = "pin_unlocks"

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    unlocked_until: Mapped[dt.datetime]
