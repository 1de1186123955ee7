"""The built-in project templates of the software design pipeline (seed 001 ``Template``).

A template is a starting point for a common kind of product: for every AI stage it
pre-fills the guidance a user would otherwise type (``stage_defaults[stage]["userInput"]``),
so a new project starts with what such a product typically needs at each stage. The export
stage takes no input, so no template fills it.
"""

from __future__ import annotations

from atelier.projects.template_spec import TemplateSpec


def _defaults(**guidance: str) -> dict[str, dict[str, str]]:
    return {stage: {"userInput": text} for stage, text in guidance.items()}


SAAS_DASHBOARD = TemplateSpec(
    key="saas-dashboard",
    name="SaaS Dashboard",
    description=(
        "A multi-tenant web app where organisations sign up, invite their team, pay a "
        "subscription and work with their data in dashboards."
    ),
    category="saas",
    icon="layout-dashboard",
    stage_defaults=_defaults(
        product=(
            "A multi-tenant SaaS product: a customer organisation signs up, invites teammates "
            "and pays a monthly or yearly subscription. The core is a dashboard of the "
            "metrics that matter to the customer, with filters by date range. Must-haves: "
            "sign-up and login, team invitations with roles, billing with a free trial, and "
            "an admin view of the account. Success means trial-to-paid conversion and weekly "
            "active teams."
        ),
        dataModel=(
            "Organizations (tenants) own everything; users belong to organisations through "
            "memberships with a role (owner, admin, member). Include invitations with an "
            "expiry, subscriptions with plan, status and billing period, and the customer's "
            "own domain records the dashboard reports on. Keep usage metrics as dated records "
            "per organisation and an audit log of important actions. Every tenant-owned "
            "entity carries an organizationId."
        ),
        database=(
            "Every query is scoped by organisation, so tenant-owned tables need indexes that "
            "start with organizationId, followed by the dashboard's date or status filter. "
            "Emails are unique per user and memberships unique per user and organisation. "
            "Metrics tables grow fastest: note retention and roll-ups for them."
        ),
        api=(
            "A JSON REST API under /api/v1 with bearer-token auth. Endpoints for sign-up and "
            "login, the current user and organisation, members and invitations, the "
            "subscription, and list and detail endpoints for the dashboard's records and "
            "metrics filtered by date range. Only owners and admins may manage members and "
            "billing."
        ),
        stack=(
            "A TypeScript React front end with a charting library, a typed back end "
            "(FastAPI or Node with NestJS), PostgreSQL and a managed auth option. Stripe for "
            "subscriptions and invoices, a transactional email provider for invitations, and "
            "a background worker for metric roll-ups and emails. Prefer managed hosting that "
            "a two-person team can run."
        ),
        design=(
            "A clean, data-dense interface for people who spend their day in it: a sidebar "
            "for navigation, a top bar with the organisation switcher, and cards, charts and "
            "data tables with filters. Support light and dark themes. Tables need sorting, "
            "pagination and empty, loading and error states."
        ),
        sections=(
            "Sign up and login, onboarding (create organisation, invite team), the main "
            "dashboard with metric cards and charts, list and detail pages of the core "
            "records, team management (members, roles, invitations), billing (plan, payment "
            "method, invoices) and account settings. Owners and admins see team and "
            "billing; members see only the dashboard and records."
        ),
        infrastructure=(
            "Development with Docker Compose, plus staging and production. The web app and "
            "API as containers, a worker for background jobs, managed PostgreSQL with daily "
            "backups and point-in-time recovery, and Redis for queues and caching. CI runs "
            "tests and deploys to staging on every merge, production on a tagged release. "
            "Monitor errors, latency and failed payments, with alerts."
        ),
    ),
)

REST_API = TemplateSpec(
    key="rest-api",
    name="REST API",
    description=(
        "A backend service that exposes a documented, versioned JSON API to other "
        "applications and developers, with API keys, rate limits and an OpenAPI file."
    ),
    category="api",
    icon="server",
    stage_defaults=_defaults(
        product=(
            "A headless service whose users are developers integrating it into their own "
            "apps. It exposes one clear set of resources over a versioned JSON API. "
            "Must-haves: API keys per client, rate limiting, consistent errors, pagination "
            "and an OpenAPI reference. Success means time to first successful call and "
            "error rates."
        ),
        dataModel=(
            "The service's core resources, plus API clients (the developers or apps calling "
            "it) with hashed API keys, scopes and a revoked flag. Keep a request log or "
            "daily usage counts per client for rate limits and billing. If the API sends "
            "webhooks, model webhook endpoints and their deliveries with status and retry "
            "count."
        ),
        database=(
            "API keys are looked up by their hash on every request, so that lookup must be "
            "unique and indexed. List endpoints page through records by creation time, so "
            "index the parent key plus createdAt. Usage and delivery logs grow quickly: note "
            "retention and partitioning by month."
        ),
        api=(
            "Resource-oriented endpoints under /api/v1: list (paginated), get, create, "
            "partial update and delete for each core resource, nested one level under its "
            "parent. Authentication by API key as a bearer token on every endpoint except "
            "health. Endpoints to manage API keys and webhook endpoints."
        ),
        stack=(
            "A back end with first-class OpenAPI support (FastAPI, or Go with an OpenAPI "
            "generator), PostgreSQL, and Redis for rate limiting. No front end beyond the "
            "generated API reference. Containers on a managed platform, contract tests in CI "
            "and request metrics from day one."
        ),
        design=(
            "The product's interface is its documentation: a developer portal with the API "
            "reference, getting-started guide and code samples, and a small console to "
            "create and revoke API keys. Monospace type for code, high contrast and a "
            "minimal palette."
        ),
        sections=(
            "A developer portal: getting started, the API reference generated from the "
            "OpenAPI file, API key management, usage and rate-limit overview, webhook "
            "settings and delivery log, and a changelog. Each page links to the endpoints "
            "it documents or manages."
        ),
        infrastructure=(
            "Development, staging and production. Stateless API containers behind a load "
            "balancer with TLS, managed PostgreSQL and Redis. CI runs unit and contract "
            "tests, builds an image and deploys with migrations and a smoke test. Monitor "
            "request rate, error rate and p95 latency per endpoint, with alerts."
        ),
    ),
)

LANDING_PAGE = TemplateSpec(
    key="landing-page",
    name="Landing page",
    description=(
        "A fast marketing site that explains a product and turns visitors into sign-ups, "
        "with a waitlist or contact form and analytics."
    ),
    category="landing",
    icon="rocket",
    stage_defaults=_defaults(
        product=(
            "A marketing landing page for a product launch. It must explain the value in "
            "one headline, show the key benefits with proof (screenshots, testimonials), "
            "and convert visitors into waitlist or newsletter sign-ups. Success means the "
            "visitor-to-sign-up conversion rate and page load time."
        ),
        dataModel=(
            "Small on purpose: sign-ups (waitlist entries) with email, source and UTM "
            "campaign fields and a confirmed flag for double opt-in, contact form messages, "
            "and optionally content entries (testimonials, FAQ items) editable without a "
            "deploy. No user accounts: the team signs in to a small admin view only."
        ),
        database=(
            "Emails must be unique among sign-ups so a visitor cannot join twice; reports "
            "group sign-ups by source and day. Note the retention and deletion of personal "
            "data for privacy rules."
        ),
        api=(
            "A minimal public API: submit a sign-up, confirm it with a token from the "
            "email, and send a contact message, all without login but protected against "
            "spam. A small authenticated API for the team to list and export sign-ups."
        ),
        stack=(
            "A static-first site generator (Astro or Next.js with static export) with "
            "Tailwind CSS, a serverless function or a tiny API for the forms, an email "
            "provider for confirmations and privacy-friendly analytics. Hosting on a CDN."
        ),
        design=(
            "A bold, memorable look: a clear hero with headline, subline and one call to "
            "action, then benefit sections, social proof, pricing or FAQ and a final call to "
            "action. Mobile first, large type, generous whitespace, fast images."
        ),
        sections=(
            "Hero with call to action, features and benefits, how it works, testimonials, "
            "pricing or FAQ, the sign-up form with its confirmation page, contact, and the "
            "legal pages (privacy, imprint). A small password-protected admin page lists "
            "and exports sign-ups."
        ),
        infrastructure=(
            "Preview deployments for every pull request and production on a CDN with TLS "
            "and a custom domain. Serverless functions for forms, with spam protection and "
            "rate limits. Uptime checks, Core Web Vitals monitoring and form error alerts."
        ),
    ),
)

MOBILE_APP = TemplateSpec(
    key="mobile-app",
    name="Mobile app",
    description=(
        "A consumer mobile app for iOS and Android with accounts, offline use, push "
        "notifications and a backend API."
    ),
    category="mobile",
    icon="smartphone",
    stage_defaults=_defaults(
        product=(
            "A mobile app for iOS and Android that people use in short sessions on the go. "
            "Must-haves: quick sign-up (email or Sign in with Apple/Google), the core daily "
            "action in two taps, push notifications that bring people back, and use without "
            "a connection. Success means day-7 and day-30 retention and app store rating."
        ),
        dataModel=(
            "Users with profile and notification preferences, their devices with push "
            "tokens and platform, and the app's core content. Give every synced record an "
            "updatedAt and a deletedAt so the app can sync changes since its last sync. "
            "Keep notifications sent with their status."
        ),
        database=(
            "Sync asks for a user's records changed since a time, so index the owner key "
            "plus updatedAt. Push tokens are unique per device. Note soft deletes for sync "
            "and the clean-up of stale device tokens."
        ),
        api=(
            "A versioned JSON API for the app: sign-up and login with refresh tokens, the "
            "current user and preferences, device registration for push, a sync endpoint "
            "returning changes since a timestamp, and CRUD for the core content. Old app "
            "versions stay in use, so never break existing endpoints."
        ),
        stack=(
            "A cross-platform framework (React Native with Expo, or Flutter) with local "
            "storage for offline use, a typed back end with PostgreSQL, and a push service "
            "(Firebase Cloud Messaging and APNs). Over-the-air updates and crash reporting "
            "are required."
        ),
        design=(
            "Native-feeling navigation with a bottom tab bar, large touch targets, "
            "platform conventions for iOS and Android, dark mode, and clear offline and "
            "syncing states. Support dynamic type sizes."
        ),
        sections=(
            "Onboarding and sign-in, the home feed or main screen, the core create and "
            "detail flows, notifications, profile and settings (account, notification "
            "preferences, privacy, sign out). Every screen that loads data shows an offline "
            "state and a pull-to-refresh."
        ),
        infrastructure=(
            "Development, staging and production back ends, plus app store builds through "
            "a CI service (EAS or Fastlane) with internal test tracks. API containers with "
            "managed PostgreSQL and a worker for push notifications. Monitor crash-free "
            "sessions, API errors and push delivery."
        ),
    ),
)

CLI_TOOL = TemplateSpec(
    key="cli-tool",
    name="CLI tool",
    description=(
        "A command-line tool for developers, installable from a package registry, with "
        "subcommands, configuration files and scriptable output."
    ),
    category="cli",
    icon="terminal",
    stage_defaults=_defaults(
        product=(
            "A command-line tool developers run locally and in CI. It does one job well "
            "through a few subcommands, reads a config file with sensible defaults, and "
            "prints human-friendly output plus a --json mode for scripts. Exit codes are "
            "meaningful. Success means installs, daily use and issues closed."
        ),
        dataModel=(
            "The tool stores little: a configuration (profiles with their settings), "
            "credentials referenced by name, and a local cache or history of runs with "
            "status and duration. If it syncs with a service, model the remote resources "
            "it reads and writes."
        ),
        database=(
            "A local SQLite file or plain files are enough; index the run history by "
            "start time and the cache by its key. Note the file location per platform and "
            "how the cache is cleared."
        ),
        api=(
            "If the tool talks to a backend, a small versioned API with token auth for "
            "the resources it syncs, plus a version endpoint so old clients can be warned. "
            "Otherwise describe the commands' inputs and outputs as the interface."
        ),
        stack=(
            "A language that ships a single binary or installs cleanly (Go, Rust, or "
            "Python with uv/pipx), a mature argument parser with shell completion, and "
            "release automation that builds for Linux, macOS and Windows. Keep runtime "
            "dependencies few so installs stay fast and secure."
        ),
        design=(
            "The terminal is the interface: consistent command and flag names, colour only "
            "when writing to a terminal and honouring NO_COLOR, tables and progress bars "
            "for humans, JSON for machines, and error messages that say how to fix the "
            "problem. Help text shows an example for every command."
        ),
        sections=(
            "The command groups: init (create the config), the main commands, config "
            "(get, set, list), auth (login, logout), completion, version and help, each "
            "with its flags and examples. If there is a backend, add a small web page for "
            "account and token management."
        ),
        infrastructure=(
            "CI runs tests on Linux, macOS and Windows. Tagged releases build signed "
            "binaries, publish to the package registry and Homebrew, and attach a "
            "changelog. Opt-in crash reports only; no telemetry without consent."
        ),
    ),
)

FULLSTACK_APP = TemplateSpec(
    key="fullstack-app",
    name="Full-stack app",
    description=(
        "A complete web application: a front end, a REST API, a relational database and "
        "background jobs, ready to deploy."
    ),
    category="fullstack",
    icon="layers",
    stage_defaults=_defaults(
        product=(
            "A web application with accounts where users create, organise and share their "
            "own content. Must-haves: sign-up and login, the core create-edit-list flow, "
            "search and filters, sharing with other users, and email notifications. "
            "Success means activation (first item created) and weekly active users."
        ),
        dataModel=(
            "Users, the core content entities with their owner, tags or categories, "
            "sharing (which user may see or edit which item, with a permission level), "
            "comments or activity, and notifications. Use soft deletes for user content."
        ),
        database=(
            "Index the owner key with createdAt for each user's lists, the sharing table "
            "for 'shared with me' lookups, and fields used in search and filters. Emails "
            "are unique. Note backups and the purge of soft-deleted rows."
        ),
        api=(
            "A JSON REST API under /api/v1: auth (sign-up, login, logout, password reset), "
            "the current user, CRUD with pagination, filtering and search for each core "
            "entity, sharing, and notifications. Every endpoint checks ownership or a "
            "share."
        ),
        stack=(
            "A React or Next.js front end with TypeScript, a back end with an ORM and "
            "migrations (FastAPI with SQLAlchemy, or Node with Prisma), PostgreSQL, Redis "
            "with a job queue for emails, and object storage for uploads. Share validation "
            "types between front end and back end through a generated API client."
        ),
        design=(
            "A friendly, productive interface: a top navigation or sidebar, list and "
            "detail views, forms with inline validation, toasts for feedback, and empty "
            "states that invite the first action. Responsive down to phone width."
        ),
        sections=(
            "Sign up, login and password reset, the dashboard with recent items, the core "
            "list, detail and edit screens, search, sharing dialogs, notifications and "
            "account settings. Item lists share one layout with filters, sorting and "
            "pagination."
        ),
        infrastructure=(
            "Development with Docker Compose, staging and production. Web and API "
            "containers, a worker for background jobs, managed PostgreSQL with backups, "
            "Redis and object storage. CI runs lint and tests, builds images, migrates and "
            "deploys. Monitor errors, latency, queue depth and disk usage."
        ),
    ),
)

BUILT_IN_TEMPLATES: tuple[TemplateSpec, ...] = (
    SAAS_DASHBOARD,
    REST_API,
    LANDING_PAGE,
    MOBILE_APP,
    CLI_TOOL,
    FULLSTACK_APP,
)

BY_KEY: dict[str, TemplateSpec] = {template.key: template for template in BUILT_IN_TEMPLATES}
