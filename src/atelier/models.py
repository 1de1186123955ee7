"""Every table, imported in one place so metadata (and Alembic) sees them all."""

from atelier.accounts.billing_models import BillingEvent
from atelier.accounts.models import (
    ApiKey,
    Membership,
    Organization,
    Subscription,
    SubscriptionUsage,
    User,
    UserSession,
)
from atelier.accounts.pin_models import PinUnlock, SecuritySettings
from atelier.ai.models import AIGeneration, AIProviderConfig
from atelier.artifacts.models import Artifact, ArtifactVersion
from atelier.conversations.models import Conversation, Message
from atelier.core.db import Base
from atelier.core.packs import packs, resolve
from atelier.exports.models import ExportPackage
from atelier.jobs.models import Job, JobEvent
from atelier.mcp.models import MCPToken
from atelier.projects.models import Project, Stage, Template
from atelier.uploads.models import Upload, UploadText


def import_pack_models() -> None:
    """Import each installed pack's models module (``PackSpec.models_module``), so that
    its tables are in the metadata too."""
    for spec in packs.all():
        if spec.models_module:
            resolve(spec.models_module)


import_pack_models()

__all__ = [
    "AIGeneration",
    "AIProviderConfig",
    "ApiKey",
    "Artifact",
    "ArtifactVersion",
    "Base",
    "BillingEvent",
    "Conversation",
    "ExportPackage",
    "Job",
    "JobEvent",
    "MCPToken",
    "Membership",
    "Message",
    "Organization",
    "PinUnlock",
    "Project",
    "SecuritySettings",
    "Stage",
    "Subscription",
    "SubscriptionUsage",
    "Template",
    "Upload",
    "UploadText",
    "User",
    "UserSession",
]
