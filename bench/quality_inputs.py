"""The quality benchmark's inputs: twelve pieces of work a new user might bring, written
for the benchmark (not taken from the tests), one venture each so that an answer copied
from another case shows. Strategy tools, the brief, and the software design pipeline's
first two stages (stage 2 builds on the stage 1 answer the same model just wrote).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Case:
    key: str
    tool: str  # the artifact type, or the stage's tool key for stage cases
    inputs: dict[str, Any] = field(default_factory=dict)
    stage: int | None = None  # the SDP stage number; None for an artifact
    user_input: str = ""  # a stage's free text


SDP_PROJECT = {
    "name": "PhysioDesk",
    "description": (
        "Online booking and treatment notes for a physiotherapy practice with four "
        "therapists and two treatment rooms."
    ),
}

CASES: tuple[Case, ...] = (
    Case(
        "vp_vegbox",
        "value_proposition",
        {
            "offering": "Harvest Box",
            "customer_segment": "Young families in the city who want to cook fresh food",
            "description": "A weekly box of vegetables from farms within 50 km, with recipes.",
            "known_jobs": ["Plan meals for the week", "Get children to eat vegetables"],
            "known_pains": ["Supermarket vegetables go off in two days", "No time to shop"],
            "known_gains": ["Know where the food comes from"],
            "features": ["Box delivered on Thursday", "Three recipes per box", "Skip a week"],
            "alternatives": ["Supermarket delivery", "Saturday farmers' market"],
        },
    ),
    Case(
        "vp_translators",
        "value_proposition",
        {
            "offering": "Tally",
            "customer_segment": "Freelance translators who invoice agencies in several currencies",
            "description": "Invoicing and income tracking that understands per-word rates.",
            "known_jobs": ["Send an invoice per project", "Prepare the yearly tax return"],
            "known_pains": ["Agencies pay 60 days late", "Exchange rates change the totals"],
            "known_gains": ["See at a glance who still owes money"],
            "features": ["Per-word rate calculator", "Payment reminders", "Tax year export"],
            "alternatives": ["A spreadsheet", "A general invoicing app"],
        },
    ),
    Case(
        "journey_physio",
        "customer_journey",
        {
            "persona": "Marco, 52, office worker with a stiff back after a long drive",
            "goal": "See a physiotherapist this week without taking a day off",
            "product": "PhysioDesk online booking",
            "scope": "From the first search for a physiotherapist to the second appointment.",
            "stages": ["Search", "Book", "First visit", "Exercises at home", "Rebook"],
            "known_touchpoints": ["Practice website", "Confirmation email", "Reception desk"],
            "research_notes": (
                "Eight patient interviews. Most booked by phone during lunch; three gave up "
                "when nobody answered. Home exercises are forgotten after a week."
            ),
        },
    ),
    Case(
        "empathy_nurse",
        "empathy_map",
        {
            "persona": "Aisha, night-shift nurse in a city hospital",
            "situation": "Choosing what to eat at 3 a.m. when the canteen is closed",
            "goal": "Eat something warm and healthy without leaving the ward for long",
            "research_notes": (
                "'By 3 a.m. it is the vending machine or nothing.' Brings leftovers on two "
                "nights out of five; drinks four coffees per shift."
            ),
            "known_facts": ["Works three nights a week", "Has a 30-minute break"],
        },
    ),
    Case(
        "problem_bakery",
        "problem_statement",
        {
            "user": "Owners of small neighbourhood bakeries",
            "problem": (
                "They throw away a fifth of their bread each evening because they bake "
                "the same amounts every day whatever the weather or the day of the week."
            ),
            "observations": [
                "Four of six bakers estimate quantities from memory",
                "Rainy Mondays sell half as much as sunny Saturdays",
                "'I hate binning bread, but empty shelves lose customers'",
            ],
            "product": "a daily baking planner",
            "constraints": ["Bakers start at 4 a.m. and have no time for forms"],
        },
    ),
    Case(
        "outcomes_library",
        "outcomes_model",
        {
            "initiative": "E-book lending at the Northfield public library",
            "desired_outcomes": [
                "Residents who stopped visiting borrow books again",
                "Teenagers read more in the summer holidays",
            ],
            "context": "A one-year trial paid from the library's digital budget.",
            "time_horizon": "by the end of the one-year trial",
            "stakeholders": ["Head librarian", "Town council", "Two secondary schools"],
            "current_metrics": ["Active members: 3,100", "Loans per month: 9,400"],
        },
    ),
    Case(
        "bmc_repair",
        "business_model_canvas",
        {
            "business": "Fixit Cafe",
            "idea": (
                "Monthly repair events where volunteers fix broken lamps, bikes and "
                "clothes with their owners, plus a paid repair service on weekdays."
            ),
            "customers": "Households who would rather repair than replace; schools",
            "value_proposition": "Your broken things fixed and you learn how, for a donation.",
            "revenue_ideas": ["Weekday paid repairs", "Workshops for schools"],
            "known_partners": ["Town hall", "A hardware shop", "Volunteer repairers"],
            "constraints": ["One paid coordinator", "Rent-free room on Saturdays only"],
        },
    ),
    Case(
        "experiment_courier",
        "experiment_plan",
        {
            "initiative": "Cargo-bike deliveries for independent pharmacies",
            "assumptions": [
                "Pharmacies lose customers who cannot pick up prescriptions",
                "Pharmacies will pay EUR 4 per delivery within 5 km",
            ],
            "audience": "Independent pharmacies in the city centre",
            "resources": "One rider, one cargo bike, four weeks",
            "time_box": "the end of March",
            "existing_evidence": "Three pharmacists said they turn away delivery requests.",
        },
    ),
    Case(
        "brief_quotes",
        "brief",
        {
            "name": "QuoteVan",
            "idea": (
                "A phone app for self-employed electricians that writes a quote on site, "
                "with prices from their own parts list, and works without mobile signal."
            ),
            "audience": "Self-employed electricians and small electrical firms",
            "problem": "Quotes are typed up at night and customers choose a faster rival.",
            "constraints": ["Android first", "Must work offline"],
        },
    ),
    Case(
        "brief_halls",
        "brief",
        {
            "name": "CourtBook",
            "idea": (
                "Online booking of community sports halls by the hour, with payment and "
                "a door code sent to the person who booked."
            ),
            "audience": "Amateur clubs and groups of friends who play indoor sports",
            "constraints": ["The council runs twelve halls", "Launch before September"],
        },
    ),
    Case(
        "sdp_product",
        "sdp_product",
        stage=1,
        user_input=(
            "Patients book, move and cancel appointments online. Therapists see their "
            "day, write treatment notes and assign home exercises. Reception handles "
            "phone bookings in the same calendar. Must send reminders by SMS and email. "
            "Out of scope for now: billing and insurance claims."
        ),
    ),
    Case(
        "sdp_datamodel",
        "sdp_dataModel",
        stage=2,
        user_input=(
            "Keep patients, therapists, rooms, appointments, treatment notes and exercise "
            "plans. An appointment has one patient, one therapist and one room."
        ),
    ),
)

QUICK_CASES = ("brief_quotes",)
