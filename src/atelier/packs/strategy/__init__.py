"""The strategy pack: double-diamond tools, from discovery to delivery.

discover: customer_journey, empathy_map
define:   problem_statement, value_proposition, outcomes_model
develop:  business_model_canvas
deliver:  experiment_plan
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from atelier.ai.tools import ToolRegistry


def register(registry: ToolRegistry) -> None:
    from atelier.packs.strategy.business_model_canvas import BusinessModelCanvasTool
    from atelier.packs.strategy.customer_journey import CustomerJourneyTool
    from atelier.packs.strategy.empathy_map import EmpathyMapTool
    from atelier.packs.strategy.experiment_plan import ExperimentPlanTool
    from atelier.packs.strategy.outcomes_model import OutcomesModelTool
    from atelier.packs.strategy.problem_statement import ProblemStatementTool
    from atelier.packs.strategy.value_proposition import ValuePropositionTool

    registry.register(CustomerJourneyTool())
    registry.register(EmpathyMapTool())
    registry.register(ProblemStatementTool())
    registry.register(ValuePropositionTool())
    registry.register(OutcomesModelTool())
    registry.register(BusinessModelCanvasTool())
    registry.register(ExperimentPlanTool())
