"""One valid input and one valid output per strategy tool.

They follow one made-up venture, ShedShare: a neighbourhood app for lending and
borrowing tools, tested first in two city districts.
"""

from __future__ import annotations

from typing import Any

INPUTS: dict[str, dict[str, Any]] = {
    "customer_journey": {
        "persona": "Priya, 34, first-time homeowner who rarely does DIY",
        "goal": "Borrow a drill to hang shelves this weekend",
        "product": "ShedShare",
        "scope": "From realising she needs a drill to returning it to the lender.",
        "stages": ["Realise the need", "Search", "Arrange pickup", "Use", "Return"],
        "known_touchpoints": ["Mobile app", "Push notifications", "Lender's front door"],
        "research_notes": (
            "Six interviews in Riverside. Borrowers worry about breaking tools; two gave up "
            "when the lender did not reply within a day."
        ),
    },
    "empathy_map": {
        "persona": "Tom, retired carpenter who owns more tools than he uses",
        "situation": "A neighbour asked him to lend his table saw through ShedShare.",
        "goal": "Help neighbours without losing or damaging his tools",
        "research_notes": (
            "'I'd lend my saw, but only to someone who knows what they're doing.' "
            "Checks tools for damage for ten minutes on return."
        ),
        "known_facts": ["Lives alone", "Uses WhatsApp daily", "Owns about 80 tools"],
    },
    "problem_statement": {
        "user": "Renters in small flats who need a tool once or twice a year",
        "problem": (
            "They buy cheap tools they use once, then have nowhere to store them, or they "
            "postpone small repairs for months."
        ),
        "observations": [
            "7 of 10 renters interviewed had a repair waiting for more than three months",
            "'I'm not buying a drill for two holes'",
            "Most did not know which neighbours own tools",
        ],
        "product": "ShedShare",
        "constraints": ["No budget for paid marketing", "Launch in two districts only"],
    },
    "value_proposition": {
        "offering": "ShedShare",
        "customer_segment": "Renters in small city flats who need tools occasionally",
        "description": "An app that lets neighbours lend and borrow tools, with deposits held.",
        "known_jobs": ["Hang shelves and pictures", "Assemble flat-pack furniture"],
        "known_pains": ["No space to store tools", "Fear of breaking someone else's tool"],
        "known_gains": ["Get small repairs done the same day"],
        "features": ["Map of nearby tools", "Deposit held in the app", "Lender ratings"],
        "alternatives": ["Buying a cheap tool", "Hardware store rental", "Asking a friend"],
    },
    "outcomes_model": {
        "initiative": "ShedShare pilot in Riverside and Old Town",
        "desired_outcomes": [
            "Neighbours actually lend tools to each other",
            "Borrowers come back for a second loan",
        ],
        "context": "Six-month pilot funded by a city sustainability grant.",
        "time_horizon": "by the end of the six-month pilot",
        "stakeholders": ["Product lead", "Community manager", "Grant officer"],
        "current_metrics": ["Registered users: 240", "Loans per week: 12"],
    },
    "business_model_canvas": {
        "business": "ShedShare",
        "idea": (
            "A neighbourhood app where people lend tools they own and borrow tools they "
            "need, with a held deposit and ratings for trust."
        ),
        "customers": "Renters and new homeowners; retirees and hobbyists as lenders",
        "value_proposition": "Any tool within a ten-minute walk, without buying it.",
        "revenue_ideas": ["Small fee per loan", "Optional damage cover"],
        "known_partners": ["Local hardware store", "City sustainability office"],
        "constraints": ["Two founders, part time", "EUR 30,000 grant"],
    },
    "experiment_plan": {
        "initiative": "ShedShare pilot in Riverside",
        "assumptions": [
            "Owners will lend tools to strangers if a deposit is held",
            "Borrowers will pay a EUR 2 fee per loan",
        ],
        "audience": "Residents of Riverside aged 25 to 70",
        "resources": "Two founders for six weeks, EUR 3,000",
        "time_box": "the grant review on 1 June",
        "existing_evidence": "Six borrower interviews; 240 sign-ups from a flyer campaign.",
    },
}

OUTPUTS: dict[str, dict[str, Any]] = {
    "customer_journey": {
        "persona": "Priya, first-time homeowner with little DIY experience",
        "goal": "Borrow a drill to hang shelves this weekend",
        "stages": [
            {
                "stage": "Realise the need",
                "customer_actions": ["Unpacks shelves", "Finds she has no drill"],
                "touchpoints": ["Word of mouth"],
                "emotions": ["Frustrated: the job stalls before it starts"],
                "sentiment": "negative",
                "pain_points": ["Buying a drill for one job feels wasteful"],
                "opportunities": ["Flyers in building entrances at move-in time"],
            },
            {
                "stage": "Search",
                "customer_actions": ["Opens the app", "Filters by distance"],
                "touchpoints": ["Mobile app"],
                "emotions": ["Hopeful: three drills within 500 m"],
                "sentiment": "positive",
                "pain_points": ["Cannot tell which drill suits tiles"],
                "opportunities": ["Tag tools with the jobs they suit"],
            },
            {
                "stage": "Arrange pickup",
                "customer_actions": ["Requests a loan", "Waits for the lender"],
                "touchpoints": ["Push notifications", "In-app chat"],
                "emotions": ["Anxious: no reply after six hours"],
                "sentiment": "very_negative",
                "pain_points": ["Lenders reply slowly", "No fallback lender offered"],
                "opportunities": ["Auto-offer the next lender after two hours"],
            },
            {
                "stage": "Use",
                "customer_actions": ["Drills six holes", "Watches a how-to video"],
                "touchpoints": ["Lender's front door", "Tool guide in the app"],
                "emotions": ["Proud: shelves are up", "Nervous about damaging the drill"],
                "sentiment": "positive",
                "pain_points": ["Unsure how to change the drill bit"],
                "opportunities": ["Short safety and usage cards per tool"],
            },
            {
                "stage": "Return",
                "customer_actions": ["Returns the drill", "Rates the lender"],
                "touchpoints": ["Lender's front door", "Mobile app"],
                "emotions": ["Relieved: the deposit is released at once"],
                "sentiment": "very_positive",
                "pain_points": ["Returning needs the lender to be home"],
                "opportunities": ["Drop-off lockers at the hardware store partner"],
            },
        ],
        "key_insights": [
            "The wait for a lender's reply is where borrowers give up",
            "Fear of damage shapes both using and returning the tool",
        ],
    },
    "empathy_map": {
        "persona": "Tom, retired carpenter with about 80 tools",
        "goal": "Help neighbours without losing or damaging his tools",
        "says": ["I'd lend my saw, but only to someone who knows what they're doing."],
        "thinks": ["Young people don't look after things", "I miss being useful"],
        "does": ["Inspects each tool for ten minutes on return", "Asks borrowers questions"],
        "feels": ["Proud when his tools get used", "Uneasy handing over the table saw"],
        "pains": ["Tools coming back blunt or damaged", "Chasing late returns"],
        "gains": ["Being the neighbour people turn to", "Knowing who has which tool"],
        "insights": [
            "He wants to lend, but trust in the borrower's skill decides what he lends",
            "Meeting borrowers is a reward for him, not a chore",
        ],
    },
    "problem_statement": {
        "point_of_view": (
            "Renters in small flats need to finish occasional repairs without owning tools "
            "because they see buying and storing a tool for one job as a waste."
        ),
        "user": "Renters in small city flats who need a tool once or twice a year",
        "need": "finish occasional repairs without owning the tools",
        "insight": "Buying and storing a tool for one job feels wasteful, so repairs wait",
        "evidence": [
            "7 of 10 renters had a repair waiting for more than three months",
            "'I'm not buying a drill for two holes'",
        ],
        "how_might_we": [
            {
                "question": "How might we make a neighbour's drill easier to get than a new one?",
                "builds_on": "buying feels wasteful",
                "breadth": "balanced",
            },
            {
                "question": "How might we show renters which tools exist on their street?",
                "builds_on": "they do not know which neighbours own tools",
                "breadth": "narrow",
            },
            {
                "question": "How might we make small repairs something renters never postpone?",
                "builds_on": "repairs wait for months",
                "breadth": "broad",
            },
        ],
        "success_criteria": [
            "Renters finish a planned repair within a week",
            "Fewer renters buy a tool for a single job",
        ],
    },
    "value_proposition": {
        "customer_segment": "Renters in small city flats who need tools occasionally",
        "value_proposition": (
            "For renters with no room for tools, ShedShare puts a neighbour's tool in your "
            "hands the same day, for less than buying and with nothing to store."
        ),
        "customer_profile": {
            "customer_jobs": [
                {"job": "Hang shelves and pictures", "kind": "functional", "importance": "high"},
                {"job": "Feel at home in a new flat", "kind": "emotional", "importance": "medium"},
            ],
            "pains": [
                {"pain": "No space to store tools", "severity": "high"},
                {"pain": "Fear of breaking someone else's tool", "severity": "medium"},
            ],
            "gains": [
                {
                    "gain": "Get small repairs done the same day",
                    "kind": "desired",
                    "relevance": "high",
                },
                {"gain": "Spend less than buying", "kind": "expected", "relevance": "medium"},
            ],
        },
        "value_map": {
            "products_and_services": [
                {"name": "Map of nearby tools", "description": "Finds a tool within walking"},
                {"name": "Held deposit", "description": "Covers damage so both sides relax"},
            ],
            "pain_relievers": [
                {"reliever": "Borrow instead of own", "pain": "No space to store tools"},
                {
                    "reliever": "Deposit and usage cards",
                    "pain": "Fear of breaking someone else's tool",
                },
            ],
            "gain_creators": [
                {
                    "creator": "Nearby tools available today",
                    "gain": "Get small repairs done the same day",
                }
            ],
        },
        "fit": {
            "addressed_pains": ["No space to store tools", "Fear of breaking someone else's tool"],
            "addressed_gains": ["Get small repairs done the same day"],
            "gaps": ["Nothing helps renters who do not know how to use the tool"],
            "fit_level": "partial",
            "rationale": (
                "The top pain and gain are covered, but the emotional job of settling in "
                "and the lack of skills are not addressed yet."
            ),
        },
    },
    "outcomes_model": {
        "summary": (
            "The pilot succeeds if neighbours lend and borrow regularly and borrowers return "
            "for further loans before the grant ends."
        ),
        "outcomes": [
            {
                "outcome": "Neighbours lend tools to each other every week",
                "rationale": "Without steady lending there is nothing for borrowers to find.",
                "priority": "high",
                "measurable_results": [
                    {
                        "metric": "Completed loans per week",
                        "baseline": "12",
                        "target": "60",
                        "time_frame": "by the end of the pilot",
                    }
                ],
                "leading_indicators": ["New tools listed per week"],
                "lagging_indicators": ["Completed loans per week"],
                "owner": "Community manager",
            },
            {
                "outcome": "Borrowers come back for a second loan",
                "rationale": "Repeat borrowing shows the service replaces buying.",
                "priority": "medium",
                "measurable_results": [
                    {
                        "metric": "Share of borrowers with two or more loans",
                        "baseline": "unknown: measure first",
                        "target": "40%",
                        "time_frame": "within 90 days of a first loan",
                    }
                ],
                "leading_indicators": ["Borrower rating after the first loan"],
                "lagging_indicators": ["90-day repeat borrowing rate"],
                "owner": "Product lead",
            },
        ],
        "assumptions": [
            {
                "assumption": "Enough lenders live within walking distance of borrowers",
                "risk_if_wrong": "high",
                "how_to_check": "Map listed tools against borrower addresses monthly",
            }
        ],
    },
    "business_model_canvas": {
        "summary": (
            "ShedShare connects people with idle tools to neighbours who need them, earning "
            "a small fee per loan and on optional damage cover."
        ),
        "customer_segments": ["Renters and new homeowners (borrowers)", "Retirees (lenders)"],
        "value_propositions": [
            "Borrowers: any tool within a ten-minute walk, without buying it",
            "Lenders: idle tools earn goodwill and a little money",
        ],
        "channels": [
            {"channel": "Flyers in building entrances", "phase": "awareness"},
            {"channel": "Mobile app", "phase": "purchase"},
            {"channel": "Hardware store drop-off lockers", "phase": "delivery"},
        ],
        "customer_relationships": ["Self-service app", "Community events per district"],
        "revenue_streams": [
            {"stream": "Loan fee", "pricing": "EUR 2 per loan, paid by the borrower"},
            {"stream": "Damage cover", "pricing": "EUR 1 optional add-on per loan"},
        ],
        "key_resources": ["Tool listings", "Trust system: ratings and deposits"],
        "key_activities": ["Recruiting lenders", "Resolving damage disputes"],
        "key_partnerships": ["Hardware store: lockers and repairs", "City office: grant"],
        "cost_structure": [
            {"cost": "App hosting and payments", "kind": "variable"},
            {"cost": "Community manager salary", "kind": "fixed"},
        ],
        "riskiest_assumptions": ["Borrowers will pay EUR 2 when a friend might lend free"],
    },
    "experiment_plan": {
        "summary": (
            "Test first whether owners lend to strangers with a deposit, since no fee matters "
            "without lenders; then test the willingness to pay."
        ),
        "experiments": [
            {
                "name": "Deposit concierge",
                "hypothesis": (
                    "We believe owners will lend to strangers if a EUR 50 deposit is held. "
                    "We will know when 15 of 40 asked owners lend within two weeks."
                ),
                "assumption": "Owners will lend tools to strangers if a deposit is held",
                "risk": "high",
                "method": "concierge",
                "setup": "Founders broker loans by phone and hold deposits by bank transfer.",
                "metric": "Owners who complete a loan",
                "success_criteria": "15 or more of 40 owners lend",
                "failure_criteria": "Fewer than 6 of 40 owners lend",
                "duration": "Two weeks",
                "effort": "low",
            },
            {
                "name": "Fee test",
                "hypothesis": (
                    "We believe borrowers will pay EUR 2 per loan. We will know when half "
                    "of the requests go ahead after the fee is shown."
                ),
                "assumption": "Borrowers will pay a EUR 2 fee per loan",
                "risk": "medium",
                "method": "a_b_test",
                "setup": "Half the requests see the fee at checkout, half see a free loan.",
                "metric": "Requests completed after seeing the fee",
                "success_criteria": "50% or more completed with the fee",
                "failure_criteria": "Under 25% completed with the fee",
                "duration": "Three weeks",
                "effort": "medium",
            },
        ],
        "sequence": [
            "Deposit concierge first: without lenders the fee test has nothing to sell",
            "Fee test once 15 lenders are active",
        ],
        "decision_rules": [
            "Persevere if both experiments pass before the grant review",
            "Pivot to a free model funded by the hardware store if the fee test fails",
        ],
    },
}

# A value from each input that the rendered prompt's user message must contain.
MENTIONED: dict[str, str] = {
    "customer_journey": "Borrow a drill to hang shelves this weekend",
    "empathy_map": "Tom, retired carpenter who owns more tools than he uses",
    "problem_statement": "'I'm not buying a drill for two holes'",
    "value_proposition": "Hardware store rental",
    "outcomes_model": "Borrowers come back for a second loan",
    "business_model_canvas": "Optional damage cover",
    "experiment_plan": "Borrowers will pay a EUR 2 fee per loan",
}
