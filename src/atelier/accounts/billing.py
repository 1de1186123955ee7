"""What a billing event changes: the plan, status, period and customer id of the user's
or organization's subscription.

Events follow Stripe's subscription events (``customer.subscription.created``,
``.updated``, ``.deleted``, whose ``data.object`` is the subscription), so Stripe can
drive an instance directly, and any other billing system can send the same shape. The
account is found by ``metadata.atelier_organization_id`` or ``atelier_user_id`` (set when
the checkout was created), else by the customer id seen before. The plan comes from
``metadata.atelier_plan`` or the price's ``lookup_key`` (e.g. ``pro``); without one the
plan stays as it is. Other event types are recorded and ignored.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.billing_models import BillingEvent
from atelier.accounts.models import (
    Organization,
    Subscription,
    SubscriptionPlan,
    SubscriptionStatus,
    User,
)
from atelier.core.errors import AtelierError

SUBSCRIPTION_EVENTS = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    }
)
STATUSES = {
    "trialing": SubscriptionStatus.TRIAL,
    "active": SubscriptionStatus.ACTIVE,
    "past_due": SubscriptionStatus.PAST_DUE,
    "unpaid": SubscriptionStatus.PAST_DUE,
    "canceled": SubscriptionStatus.CANCELLED,
    "incomplete": SubscriptionStatus.PENDING,
    "paused": SubscriptionStatus.PENDING,
    "incomplete_expired": SubscriptionStatus.EXPIRED,
}


class InvalidEvent(AtelierError):
    status_code = 400
    code = "invalid_event"


def parse_event(payload: Any) -> tuple[str, str, dict[str, Any]]:
    """(id, type, data.object) of a well-formed event, else InvalidEvent."""
    if not isinstance(payload, dict):
        raise InvalidEvent("the event is not a JSON object")
    event_id, kind = payload.get("id"), payload.get("type")
    if not isinstance(event_id, str) or not 1 <= len(event_id) <= 255:
        raise InvalidEvent("the event has no id (a string of 1 to 255 characters)")
    if not isinstance(kind, str) or not 1 <= len(kind) <= 100:
        raise InvalidEvent("the event has no type")
    data = payload.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    return event_id, kind, obj if isinstance(obj, dict) else {}


async def receive(session: AsyncSession, payload: Any) -> tuple[str, bool]:
    """Apply the event once: (its outcome, whether it was a duplicate)."""
    event_id, kind, obj = parse_event(payload)
    earlier = await session.get(BillingEvent, event_id)
    if earlier is not None:
        return earlier.outcome, True
    if kind in SUBSCRIPTION_EVENTS:
        outcome, detail = await _apply(session, kind, obj)
    else:
        outcome, detail = "ignored", f"events of type {kind!r} change nothing here"
    session.add(BillingEvent(id=event_id, type=kind, outcome=outcome, detail=detail))
    try:
        await session.flush()
    except IntegrityError:  # the same event, delivered twice at once: the other one won
        await session.rollback()
        return "duplicate", True
    return outcome, False


async def _apply(session: AsyncSession, kind: str, obj: dict[str, Any]) -> tuple[str, str]:
    status = STATUSES.get(str(obj.get("status", "")))
    if kind == "customer.subscription.deleted":
        status = SubscriptionStatus.CANCELLED
    if status is None:
        return "ignored", f"unknown subscription status {obj.get('status')!r}"
    plan = _plan_of(obj)
    if plan is _UNKNOWN:
        return "ignored", "the event names a plan this instance does not have"
    customer = obj.get("customer") if isinstance(obj.get("customer"), str) else None
    target = await _account(session, _metadata(obj), customer)
    if target is None:
        return "ignored", "no user or organization matches the event"
    subscription = await _subscription_of(session, target)
    if isinstance(plan, SubscriptionPlan):
        subscription.plan = plan
    subscription.status = status
    subscription.current_period_start = _time(obj.get("current_period_start"))
    subscription.current_period_end = _time(obj.get("current_period_end"))
    subscription.cancel_at_period_end = bool(obj.get("cancel_at_period_end"))
    extra = {"stripe_customer_id": customer, "stripe_subscription_id": obj.get("id")}
    subscription.metadata_ = {
        **(subscription.metadata_ or {}),
        **{k: v for k, v in extra.items() if isinstance(v, str)},
    }
    if isinstance(target, Organization):
        # The organization's own columns (seed 003) say the same as its subscription.
        target.subscription_tier = subscription.plan
        target.subscription_status = status
        target.trial_ends_at = _time(obj.get("trial_end"))
        if customer and target.stripe_customer_id != customer:
            await _claim_customer(session, target, customer)
    return "applied", f"{subscription.plan.value} {status.value}"


def _metadata(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


_UNKNOWN = object()


def _plan_of(obj: dict[str, Any]) -> SubscriptionPlan | object | None:
    """The plan the event names (None: it names none; _UNKNOWN: one we do not have)."""
    named = _metadata(obj).get("atelier_plan")
    if named is None:
        items = obj.get("items")
        rows = items.get("data") if isinstance(items, dict) else None
        if isinstance(rows, list) and rows and isinstance(rows[0], dict):
            price = rows[0].get("price")
            if isinstance(price, dict):
                named = price.get("lookup_key")
    if not isinstance(named, str) or not named:
        return None
    try:
        return SubscriptionPlan(named.upper())
    except ValueError:
        return _UNKNOWN


async def _account(
    session: AsyncSession, meta: dict[str, Any], customer: str | None
) -> User | Organization | None:
    org_id, user_id = _uuid(meta.get("atelier_organization_id")), _uuid(meta.get("atelier_user_id"))
    named = await session.get(Organization, org_id) if org_id else None
    if named is not None:
        return named
    user = await session.get(User, user_id) if user_id else None
    if user is not None:
        return user
    if not customer:
        return None
    org = await session.scalar(
        select(Organization).where(Organization.stripe_customer_id == customer)
    )
    if org is not None:
        return org
    subscription = await session.scalar(
        select(Subscription).where(
            Subscription.metadata_["stripe_customer_id"].as_string() == customer,
            Subscription.user_id.is_not(None),
        )
    )
    return await session.get(User, subscription.user_id) if subscription else None


async def _subscription_of(session: AsyncSession, target: User | Organization) -> Subscription:
    column = (
        Subscription.organization_id if isinstance(target, Organization) else Subscription.user_id
    )
    found = await session.scalar(select(Subscription).where(column == target.id))
    if found is not None:
        return found
    subscription = Subscription(
        user_id=target.id if isinstance(target, User) else None,
        organization_id=target.id if isinstance(target, Organization) else None,
        plan=SubscriptionPlan.FREE,
        metadata_={},
    )
    session.add(subscription)
    return subscription


async def _claim_customer(session: AsyncSession, org: Organization, customer: str) -> None:
    """The customer id is unique: one still held by another organization stays there."""
    holder = await session.scalar(
        select(Organization.id).where(Organization.stripe_customer_id == customer)
    )
    if holder is None:
        org.stripe_customer_id = customer


def _uuid(raw: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw)) if raw else None
    except ValueError:
        return None


def _time(value: Any) -> dt.datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return dt.datetime.fromtimestamp(value, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None
