"""The plan catalogue (accounts/plans.py): defaults, ATELIER_PLANS replacing the plans it
names, the older ATELIER_PLAN_LIMITS over both, and mistakes refused with the reason
before the server starts. Pure: no database."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from atelier.accounts import metering
from atelier.accounts.plans import DEFAULT_PLANS, METRICS, InvalidCatalogue, catalogue
from atelier.app import create_app
from atelier.config import Settings


def settings(tmp_path: Path, **fields: str) -> Settings:
    return Settings(env="test", data_dir=tmp_path, **fields)  # type: ignore[arg-type]


def test_the_defaults_limit_every_plan_but_enterprise(tmp_path: Path) -> None:
    plans = catalogue(settings(tmp_path))
    assert plans == DEFAULT_PLANS
    assert plans["ENTERPRISE"] == {}
    free = plans["FREE"]
    assert free["ai_tokens"] == {"monthly": 2_000_000} and free["ai_cost_usd"] == {"monthly": 5}
    assert free["chat_messages"] == {"daily": 500} and free["projects"] == {"yearly": 200}
    assert set(free) <= set(METRICS)
    assert plans["PRO"]["generations"]["monthly"] > free["generations"]["monthly"]


def test_atelier_plans_replaces_the_plans_it_names(tmp_path: Path) -> None:
    given = {
        "free": {"chat_messages": {"daily": 5, "monthly": 0}},
        "TEAM": {"projects": {"yearly": 9}},
    }
    plans = catalogue(settings(tmp_path, plans=json.dumps(given)))
    # Named plans are replaced wholly (0 = no limit), names upper-cased; others keep theirs.
    assert plans["FREE"] == {"chat_messages": {"daily": 5.0}}
    assert plans["TEAM"] == {"projects": {"yearly": 9.0}}
    assert plans["PRO"] == DEFAULT_PLANS["PRO"]


def test_the_older_setting_sets_monthly_ai_limits_over_the_catalogue(tmp_path: Path) -> None:
    plans = catalogue(settings(tmp_path, plan_limits="FREE=1000:2.5,PRO=0:0"))
    assert plans["FREE"]["ai_tokens"] == {"monthly": 1000} and plans["FREE"]["ai_cost_usd"] == {
        "monthly": 2.5
    }
    assert plans["FREE"]["projects"] == DEFAULT_PLANS["FREE"]["projects"]
    assert "monthly" not in plans["PRO"]["ai_tokens"]  # 0: no monthly token limit


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "object of plans"),
        ('{"FREE": 5}', "object of metrics"),
        ('{"FREE": {"tokens": {"monthly": 5}}}', "unknown metric 'tokens'"),
        ('{"FREE": {"projects": {"weekly": 5}}}', "daily, monthly or yearly"),
        ('{"FREE": {"projects": {"daily": -1}}}', "at least 0"),
    ],
)
def test_a_mistyped_catalogue_is_refused_with_the_reason(
    tmp_path: Path, text: str, says: str
) -> None:
    with pytest.raises(InvalidCatalogue, match=says):
        catalogue(settings(tmp_path, plans=text))


def test_the_server_does_not_start_with_a_mistyped_catalogue(tmp_path: Path) -> None:
    broken = settings(tmp_path, plans='{"FREE": {"tokens": {"monthly": 5}}}')
    with pytest.raises(InvalidCatalogue, match="unknown metric"):
        create_app(broken)


def test_windows_and_resets_are_utc_calendar_periods() -> None:
    late = dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    # 23:30 at UTC-5 is 04:30 on 1 January in UTC.
    assert metering.windows(late) == {"daily": "2027-01-01", "monthly": "2027-01", "yearly": "2027"}
    assert metering.resets_at("daily", late) == dt.datetime(2027, 1, 2, tzinfo=dt.UTC)
    assert metering.resets_at("monthly", late) == dt.datetime(2027, 2, 1, tzinfo=dt.UTC)
    assert metering.resets_at("yearly", late) == dt.datetime(2028, 1, 1, tzinfo=dt.UTC)
    assert metering.stored("ai_cost_usd", "0.0000015") == 2  # millionths, rounded
    assert metering.shown("ai_cost_usd", 1_250_000) == 1.25
