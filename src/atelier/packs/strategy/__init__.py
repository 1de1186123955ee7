"""The strategy pack: double-diamond tools, from discovery to delivery.

discover: customer_journey, empathy_map
define:   problem_statement, value_proposition, outcomes_model
develop:  business_model_canvas
deliver:  experiment_plan
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from atelier.packs.base import PackSpec

if TYPE_CHECKING:
    from atelier.ai.tools import Tool

PACK = PackSpec(
    key="strategy",
    label="Strategy",
    description=(
        "Double-diamond phases (discover, define, develop, deliver) with tools such as "
        "the customer journey, value proposition and business model canvas."
    ),
    order=10,
    badge_colors=("#f1e9fd", "#6336b0"),
    tools="atelier.packs.strategy:tools",
    web_router="atelier.packs.strategy.pages:router",
    web_templates="atelier.packs.strategy:templates",
    web_static="atelier.packs.strategy:static",
    project_page="atelier.packs.strategy.pages:project_page",
    progress="atelier.packs.strategy:progress",
)


def tools() -> list[Tool]:
    from atelier.packs.strategy.business_model_canvas import BusinessModelCanvasTool
    from atelier.packs.strategy.customer_journey import CustomerJourneyTool
    from atelier.packs.strategy.empathy_map import EmpathyMapTool
    from atelier.packs.strategy.experiment_plan import ExperimentPlanTool
    from atelier.packs.strategy.outcomes_model import OutcomesModelTool
    from atelier.packs.strategy.problem_statement import ProblemStatementTool
    from atelier.packs.strategy.value_proposition import ValuePropositionTool

    return [
        CustomerJourneyTool(),
        EmpathyMapTool(),
        ProblemStatementTool(),
        ValuePropositionTool(),
        OutcomesModelTool(),
        BusinessModelCanvasTool(),
        ExperimentPlanTool(),
    ]


def progress(project: object) -> str:
    """A strategy project's place on its card: its double-diamond phase."""
    phase = getattr(project, "phase", None)
    return f"Phase: {str(getattr(phase, 'value', phase)).capitalize()}" if phase else ""
