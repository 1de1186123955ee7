"""One valid output per AI stage of the software design pipeline, all for one product.

Tasklane, a small task tracker for teams: the examples agree with each other the way a
finished package must. The API serves only data-model entities and their fields, the
proposed indexes name real fields, and every section calls endpoints of the API exactly
as "METHOD /path", without the base path.
"""

from __future__ import annotations

from typing import Any

PROJECT_NAME = "Tasklane"
PROJECT_DESCRIPTION = "A lightweight task tracker for small product teams."


def _field(name: str, type_: str, required: bool, description: str) -> dict[str, Any]:
    return {"name": name, "type": type_, "required": required, "description": description}


def _id() -> dict[str, Any]:
    return _field("id", "uuid", True, "Primary key")


def _timestamps() -> list[dict[str, Any]]:
    return [
        _field("createdAt", "datetime", True, "Creation timestamp"),
        _field("updatedAt", "datetime", True, "Last update timestamp"),
    ]


PRODUCT: dict[str, Any] = {
    "name": "Tasklane",
    "tagline": "The task board small teams actually keep up to date.",
    "problem": (
        "Product teams of three to fifteen people track work across chat threads, "
        "spreadsheets and heavyweight issue trackers. Nobody knows who owns what or what is "
        "late, and leads lose an hour a day chasing status."
    ),
    "solution": (
        "Tasklane gives each team a shared workspace with projects, a simple task board and "
        "comments on every task. Assigning, due dates and a personal 'My tasks' view make "
        "ownership obvious without any setup."
    ),
    "personas": [
        {
            "name": "Team lead at a 10-person product studio",
            "needs": "See at a glance what is late and who is overloaded",
        },
        {
            "name": "Developer on a small product team",
            "needs": "One list of their own tasks with clear priorities and due dates",
        },
    ],
    "features": [
        {
            "name": "Sign in by email link",
            "description": "Sign in without a password through a one-time link sent by email",
            "priority": "must",
        },
        {
            "name": "Create workspaces",
            "description": "Create a workspace for a team and invite teammates as members",
            "priority": "must",
        },
        {
            "name": "Manage projects",
            "description": "Create, rename and archive projects inside a workspace",
            "priority": "must",
        },
        {
            "name": "Track tasks",
            "description": "Add tasks with a status, priority, assignee and due date",
            "priority": "must",
        },
        {
            "name": "Comment on tasks",
            "description": "Discuss a task in a comment thread on the task itself",
            "priority": "should",
        },
        {
            "name": "See my tasks",
            "description": "List every task assigned to me across projects, by due date",
            "priority": "should",
        },
        {
            "name": "Weekly digest",
            "description": "Receive a weekly email of overdue and upcoming tasks",
            "priority": "could",
        },
    ],
    "non_goals": [
        "Time tracking and invoicing",
        "Gantt charts and resource planning",
        "Custom workflows beyond four task statuses",
    ],
    "success_metrics": [
        "50% of new workspaces invite a second member within 3 days",
        "40% of weekly active users update a task on 3 or more days a week",
        "Median time to first task under 2 minutes after sign-up",
    ],
}

DATA_MODEL: dict[str, Any] = {
    "entities": [
        {
            "name": "User",
            "description": "A person who signs in to Tasklane.",
            "fields": [
                _id(),
                _field("email", "string", True, "Sign-in email address, unique"),
                _field("name", "string", True, "Display name"),
                _field("avatarUrl", "string", False, "Profile image URL"),
                *_timestamps(),
            ],
        },
        {
            "name": "Workspace",
            "description": "A team's shared space that holds its projects.",
            "fields": [
                _id(),
                _field("name", "string", True, "Workspace name"),
                _field("slug", "string", True, "URL-safe name, unique"),
                *_timestamps(),
            ],
        },
        {
            "name": "WorkspaceMember",
            "description": "A user's membership of a workspace, with their role.",
            "fields": [
                _id(),
                _field("workspaceId", "uuid", True, "FK to Workspace"),
                _field("userId", "uuid", True, "FK to User"),
                _field("role", "enum(owner,admin,member)", True, "What the member may do"),
                *_timestamps(),
            ],
        },
        {
            "name": "Project",
            "description": "A body of work inside a workspace.",
            "fields": [
                _id(),
                _field("workspaceId", "uuid", True, "FK to Workspace"),
                _field("name", "string", True, "Project name"),
                _field("description", "text", False, "What the project is about"),
                _field("status", "enum(active,archived)", True, "Whether it is still active"),
                *_timestamps(),
            ],
        },
        {
            "name": "Task",
            "description": "One piece of work in a project.",
            "fields": [
                _id(),
                _field("projectId", "uuid", True, "FK to Project"),
                _field("assigneeId", "uuid", False, "FK to User"),
                _field("title", "string", True, "Short task title"),
                _field("description", "text", False, "Details and acceptance criteria"),
                _field("status", "enum(todo,doing,review,done)", True, "Board column"),
                _field("priority", "enum(low,medium,high)", True, "How urgent the task is"),
                _field("dueDate", "date", False, "When the task is due"),
                *_timestamps(),
            ],
        },
        {
            "name": "Comment",
            "description": "A message in a task's discussion.",
            "fields": [
                _id(),
                _field("taskId", "uuid", True, "FK to Task"),
                _field("userId", "uuid", True, "FK to User"),
                _field("body", "text", True, "The comment text"),
                *_timestamps(),
            ],
        },
    ],
    "relationships": [
        {
            "from": "Workspace",
            "to": "WorkspaceMember",
            "type": "one-to-many",
            "foreignKey": "workspaceId",
            "description": "A workspace has many members",
        },
        {
            "from": "User",
            "to": "WorkspaceMember",
            "type": "one-to-many",
            "foreignKey": "userId",
            "description": "A user can belong to many workspaces",
        },
        {
            "from": "Workspace",
            "to": "Project",
            "type": "one-to-many",
            "foreignKey": "workspaceId",
            "description": "A workspace holds many projects",
        },
        {
            "from": "Project",
            "to": "Task",
            "type": "one-to-many",
            "foreignKey": "projectId",
            "description": "A project has many tasks",
        },
        {
            "from": "Task",
            "to": "User",
            "type": "many-to-one",
            "foreignKey": "assigneeId",
            "description": "A task may be assigned to one user",
        },
        {
            "from": "Task",
            "to": "Comment",
            "type": "one-to-many",
            "foreignKey": "taskId",
            "description": "A task has a comment thread",
        },
        {
            "from": "User",
            "to": "Comment",
            "type": "one-to-many",
            "foreignKey": "userId",
            "description": "A user writes comments",
        },
    ],
}

DATABASE_ADDITIONS: dict[str, Any] = {
    "indexes": [
        {
            "entity": "User",
            "fields": ["email"],
            "unique": True,
            "reason": "one account per email; sign-in looks users up by email",
        },
        {
            "entity": "Workspace",
            "fields": ["slug"],
            "unique": True,
            "reason": "workspace URLs resolve by slug",
        },
        {
            "entity": "WorkspaceMember",
            "fields": ["workspaceId", "userId"],
            "unique": True,
            "reason": "one membership per user and workspace",
        },
        {
            "entity": "Task",
            "fields": ["projectId", "status", "dueDate"],
            "unique": False,
            "reason": "the project board lists a column's tasks by due date",
        },
        {
            "entity": "Task",
            "fields": ["assigneeId", "status", "dueDate"],
            "unique": False,
            "reason": "'My tasks' lists a user's open tasks by due date",
        },
        {
            "entity": "Comment",
            "fields": ["taskId", "createdAt"],
            "unique": False,
            "reason": "a task's comment thread is read oldest first",
        },
    ],
    "notes": [
        "Archive projects instead of deleting them so tasks and comments stay readable.",
        "Keep the task status and priority enums in sync with the application's constants.",
        "Take daily backups with 30 days of retention and test a restore every quarter.",
    ],
}


def _endpoint(
    method: str,
    path: str,
    summary: str,
    entity: str,
    *,
    auth: bool = True,
    request: tuple[str, ...] = (),
    response: tuple[str, ...] = (),
) -> dict[str, Any]:
    return {
        "method": method,
        "path": path,
        "summary": summary,
        "entity": entity,
        "auth": auth,
        "request_fields": list(request),
        "response_fields": list(response),
    }


API: dict[str, Any] = {
    "base_path": "/api/v1",
    "endpoints": [
        _endpoint("GET", "/health", "Check that the service is up", "", auth=False),
        _endpoint(
            "POST",
            "/auth/magic-link",
            "Email a one-time sign-in link",
            "User",
            auth=False,
            request=("email",),
            response=("email",),
        ),
        _endpoint(
            "GET",
            "/me",
            "The signed-in user",
            "User",
            response=("id", "email", "name", "avatarUrl"),
        ),
        _endpoint("GET", "/workspaces", "List the caller's workspaces", "Workspace"),
        _endpoint(
            "POST", "/workspaces", "Create a workspace", "Workspace", request=("name", "slug")
        ),
        _endpoint("GET", "/workspaces/{workspaceId}/members", "List members", "WorkspaceMember"),
        _endpoint(
            "POST",
            "/workspaces/{workspaceId}/members",
            "Add a member",
            "WorkspaceMember",
            request=("userId", "role"),
        ),
        _endpoint("GET", "/workspaces/{workspaceId}/projects", "List projects", "Project"),
        _endpoint(
            "POST",
            "/workspaces/{workspaceId}/projects",
            "Create a project",
            "Project",
            request=("name", "description"),
        ),
        _endpoint("GET", "/projects/{projectId}", "Get a project", "Project"),
        _endpoint(
            "PATCH",
            "/projects/{projectId}",
            "Rename or archive a project",
            "Project",
            request=("name", "description", "status"),
        ),
        _endpoint("GET", "/projects/{projectId}/tasks", "List a project's tasks", "Task"),
        _endpoint(
            "POST",
            "/projects/{projectId}/tasks",
            "Create a task",
            "Task",
            request=("title", "description", "assigneeId", "priority", "dueDate"),
        ),
        _endpoint(
            "GET",
            "/me/tasks",
            "List tasks assigned to the caller",
            "Task",
            response=("id", "projectId", "title", "status", "priority", "dueDate"),
        ),
        _endpoint(
            "PATCH",
            "/tasks/{taskId}",
            "Update a task",
            "Task",
            request=("title", "description", "assigneeId", "status", "priority", "dueDate"),
        ),
        _endpoint("DELETE", "/tasks/{taskId}", "Delete a task", "Task"),
        _endpoint("GET", "/tasks/{taskId}/comments", "List a task's comments", "Comment"),
        _endpoint(
            "POST", "/tasks/{taskId}/comments", "Comment on a task", "Comment", request=("body",)
        ),
    ],
}

STACK: dict[str, Any] = {
    "summary": (
        "A TypeScript React front end talks to a Python FastAPI back end over JSON, with "
        "PostgreSQL as the single store. Everything runs as containers on a managed platform "
        "so a team of two can ship and operate it."
    ),
    "choices": [
        {
            "layer": "frontend",
            "choice": "React 19 with TypeScript and Vite",
            "reason": "The task board needs fast, interactive drag and drop and optimistic updates",
            "alternatives": ["Vue 3", "SvelteKit"],
        },
        {
            "layer": "backend",
            "choice": "FastAPI on Python 3.12",
            "reason": "Typed request models match the API design and generate the OpenAPI file",
            "alternatives": ["Django REST Framework", "NestJS"],
        },
        {
            "layer": "database",
            "choice": "PostgreSQL 16",
            "reason": "Relational data with memberships and foreign keys; strong indexing",
            "alternatives": ["MySQL 8", "SQLite for a single-server install"],
        },
        {
            "layer": "auth",
            "choice": "Email magic links with signed, short-lived tokens",
            "reason": "Passwordless sign-in keeps onboarding under two minutes",
            "alternatives": ["Auth0", "Password login with OAuth"],
        },
        {
            "layer": "hosting",
            "choice": "Fly.io containers",
            "reason": "Simple container deploys with managed Postgres in the same region",
            "alternatives": ["Render", "AWS ECS Fargate"],
        },
        {
            "layer": "ci",
            "choice": "GitHub Actions",
            "reason": "The code lives on GitHub; free minutes cover a small team",
            "alternatives": ["GitLab CI"],
        },
        {
            "layer": "testing",
            "choice": "pytest and Playwright",
            "reason": "API tests run fast in CI; Playwright covers the board's drag and drop",
            "alternatives": ["Cypress"],
        },
        {
            "layer": "monitoring",
            "choice": "Sentry and Grafana Cloud",
            "reason": "Error tracking with release tags plus metrics and uptime on a free tier",
            "alternatives": ["Datadog", "Honeycomb"],
        },
    ],
    "risks": [
        "Email deliverability blocks sign-in: use a reputable provider and monitor bounces",
        "Two languages split the team: share types through the generated OpenAPI client",
    ],
}

DESIGN: dict[str, Any] = {
    "principles": [
        "Show the next action first",
        "Ownership is always visible: every task shows its assignee",
        "Calm by default: colour marks only what is late or blocked",
    ],
    "colors": [
        {"name": "primary", "value": "#2563eb", "usage": "Primary buttons, links, focus ring"},
        {"name": "primary-foreground", "value": "#ffffff", "usage": "Text on primary"},
        {"name": "background", "value": "#f8fafc", "usage": "Page background"},
        {"name": "surface", "value": "#ffffff", "usage": "Cards, task board columns, dialogs"},
        {"name": "text", "value": "#0f172a", "usage": "Body text and headings"},
        {"name": "text-muted", "value": "#475569", "usage": "Secondary text, metadata"},
        {"name": "border", "value": "#e2e8f0", "usage": "Dividers and input borders"},
        {"name": "success", "value": "#15803d", "usage": "Done status, confirmations"},
        {"name": "warning", "value": "#b45309", "usage": "Due soon"},
        {"name": "danger", "value": "#b91c1c", "usage": "Overdue, destructive actions"},
    ],
    "typography": [
        "Inter, system-ui, sans-serif for all text",
        "Body: 14px/20px, weight 400",
        "Headings: 20px/28px and 16px/24px, weight 600",
        "Metadata: 12px/16px, weight 500",
    ],
    "spacing": "4px base: 4, 8, 12, 16, 24, 32, 48",
    "components": [
        {
            "name": "Button",
            "purpose": "Primary, secondary and destructive actions",
            "states": ["default", "hover", "focus", "disabled", "loading"],
        },
        {
            "name": "TaskCard",
            "purpose": "A task on the board with title, assignee and due date",
            "states": ["default", "hover", "dragging", "overdue"],
        },
        {
            "name": "BoardColumn",
            "purpose": "One status column of the task board",
            "states": ["default", "drop target", "empty"],
        },
        {
            "name": "TaskDrawer",
            "purpose": "Task details and comment thread beside the board",
            "states": ["loading", "default", "error"],
        },
        {
            "name": "EmptyState",
            "purpose": "Explains an empty list and offers the first action",
            "states": ["default"],
        },
    ],
    "accessibility": [
        "Visible 2px focus ring on every interactive element",
        "Every input has a visible label",
        "Status and due dates use text and icons, never colour alone",
        "Tasks can be moved between columns with the keyboard",
    ],
}

SECTIONS: dict[str, Any] = {
    "sections": [
        {
            "name": "Sign in",
            "route": "/sign-in",
            "purpose": "Request a sign-in link by email",
            "screens": ["Email form", "Check your inbox"],
            "endpoints": ["POST /auth/magic-link"],
        },
        {
            "name": "Workspaces",
            "route": "/workspaces",
            "purpose": "Pick or create a workspace",
            "screens": ["Workspace list", "New workspace dialog"],
            "endpoints": ["GET /me", "GET /workspaces", "POST /workspaces"],
        },
        {
            "name": "Projects",
            "route": "/w/:workspaceId/projects",
            "purpose": "Browse and create a workspace's projects",
            "screens": ["Project list", "New project dialog"],
            "endpoints": [
                "GET /workspaces/{workspaceId}/projects",
                "POST /workspaces/{workspaceId}/projects",
            ],
        },
        {
            "name": "Project board",
            "route": "/projects/:projectId",
            "purpose": "Move tasks through the board and discuss them",
            "screens": ["Task board", "Task drawer", "Project settings dialog"],
            "endpoints": [
                "GET /projects/{projectId}",
                "PATCH /projects/{projectId}",
                "GET /projects/{projectId}/tasks",
                "POST /projects/{projectId}/tasks",
                "PATCH /tasks/{taskId}",
                "DELETE /tasks/{taskId}",
                "GET /tasks/{taskId}/comments",
                "POST /tasks/{taskId}/comments",
            ],
        },
        {
            "name": "My tasks",
            "route": "/my-tasks",
            "purpose": "See every task assigned to me by due date",
            "screens": ["My task list"],
            "endpoints": ["GET /me/tasks", "PATCH /tasks/{taskId}"],
        },
        {
            "name": "Members",
            "route": "/w/:workspaceId/members",
            "purpose": "See and add workspace members",
            "screens": ["Member list", "Add member dialog"],
            "endpoints": [
                "GET /workspaces/{workspaceId}/members",
                "POST /workspaces/{workspaceId}/members",
            ],
        },
        {
            "name": "Status",
            "route": "/status",
            "purpose": "Shows whether the service is up",
            "screens": ["Status page"],
            "endpoints": ["GET /health"],
        },
    ],
}

INFRASTRUCTURE: dict[str, Any] = {
    "summary": (
        "The API and the web front end run as containers on Fly.io with managed PostgreSQL. "
        "GitHub Actions tests every commit and deploys to staging, then to production "
        "after a smoke test."
    ),
    "environments": [
        {
            "name": "development",
            "hosting": "Docker Compose on the developer's machine",
            "notes": "Seeded demo data; emails go to a local Mailpit inbox",
        },
        {
            "name": "staging",
            "hosting": "Fly.io, one small machine per service",
            "notes": "Anonymised copy of production data; deployed on every merge to main",
        },
        {
            "name": "production",
            "hosting": "Fly.io, two machines for the API in one region",
            "notes": "Deployed from tagged releases; daily database backups",
        },
    ],
    "services": [
        {
            "name": "api",
            "kind": "web",
            "image": "python:3.12-slim",
            "purpose": "Serves the REST API under /api/v1",
        },
        {
            "name": "web",
            "kind": "web",
            "image": "nginx:1.27-alpine",
            "purpose": "Serves the built React app",
        },
        {
            "name": "db",
            "kind": "database",
            "image": "Fly Managed Postgres 16",
            "purpose": "Stores all application data",
        },
    ],
    "ci_cd": [
        "Lint and type-check front end and back end",
        "Run pytest and Playwright tests",
        "Build and push container images tagged with the commit",
        "Run database migrations, then deploy to staging",
        "Smoke-test staging, then promote the images to production",
    ],
    "config": [
        "DATABASE_URL: PostgreSQL connection string",
        "SECRET_KEY: signs sign-in tokens",
        "SMTP_URL: outgoing email server",
        "SENTRY_DSN: error tracking project",
    ],
    "monitoring": [
        "Structured JSON logs shipped to Grafana Loki",
        "Sentry alerts on new errors in production",
        "Uptime check on /api/v1/health every minute; page after 3 failures",
        "Alert when p95 API latency stays above 500 ms for 10 minutes",
        "Daily backups kept 30 days; restore tested quarterly",
    ],
}

OUTPUTS: dict[str, dict[str, Any]] = {
    "product": PRODUCT,
    "dataModel": DATA_MODEL,
    "database": DATABASE_ADDITIONS,
    "api": API,
    "stack": STACK,
    "design": DESIGN,
    "sections": SECTIONS,
    "infrastructure": INFRASTRUCTURE,
}
