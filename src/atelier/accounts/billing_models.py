"""Events from the external billing system, by their id: each is applied once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from atelier.core.db import Base, utcnow


class BillingEvent(Base):
    """A billing webhook event that was accepted (signature and time checked). A retry
    of the same event finds its row and changes nothing."""

    __tablename__ = "billing_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # the sender's event id
    type: Mapped[str] = mapped_column(String(100))
    # applied | ignored (a type we do not act on, or no matching account)
    outcome: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
