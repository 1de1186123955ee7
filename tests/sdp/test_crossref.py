"""Cross-reference validation: one broken reference per rule, each caught where it is."""

from __future__ import annotations

from typing import Any

from atelier.packs.sdp.api_spec import ApiDesign
from atelier.packs.sdp.crossref import (
    RULES,
    PackageContents,
    ValidationMessage,
    ValidationReport,
    _tables,
    validate_package,
)
from atelier.packs.sdp.datamodel import DataModel
from tests.sdp.test_api_spec import api_json, data_model, endpoint, render

SQLITE = "03-database/schema.sqlite.sql"
POSTGRES = "03-database/schema.postgresql.sql"
TABLES = ("user", "project", "stage", "tag", "project_tag")


def sql(tables: tuple[str, ...], *, dialect: str = "sqlite") -> str:
    exists = "IF NOT EXISTS " if dialect == "postgresql" else ""
    return "\n".join(
        f'CREATE TABLE {exists}"{name}" (\n  "id" TEXT PRIMARY KEY\n);\n' for name in tables
    )


def sections() -> list[dict[str, Any]]:
    return [
        {
            "name": "Projects",
            "route": "/projects",
            "purpose": "see and manage projects",
            "screens": ["Project list", "Project detail"],
            # Case, base path and parameter names vary; all name real endpoints.
            "endpoints": [
                "GET /projects",
                "post /api/v1/projects",
                "GET /projects/{id}",
                "DELETE /projects/{projectId}",
            ],
        },
        {
            "name": "Stages",
            "route": "/projects/:projectId/stages",
            "purpose": "work through a project's stages",
            "screens": ["Stage board"],
            "endpoints": ["GET /projects/{projectId}/stages", "PUT /stages/{id}"],
        },
    ]


def contents(
    *,
    model: dict[str, Any] | None = None,
    sql_files: dict[str, str] | None = None,
    api: dict[str, Any] | None = None,
    section_list: list[dict[str, Any]] | None = None,
    missing: list[str] | None = None,
) -> PackageContents:
    return PackageContents(
        data_model=DataModel.model_validate(model) if model else data_model(),
        sql=sql_files
        if sql_files is not None
        else {SQLITE: sql(TABLES), POSTGRES: sql(TABLES, dialect="postgresql")},
        api=ApiDesign.model_validate(api) if api else ApiDesign.model_validate(api_json()),
        sections=section_list if section_list is not None else sections(),
        missing_stages=missing or [],
    )


def model_json() -> dict[str, Any]:
    return data_model().model_dump(mode="json")


def only(report: ValidationReport) -> ValidationMessage:
    assert len(report.messages) == 1, report.to_json()
    return report.messages[0]


# --- a clean package ----------------------------------------------------------------------


def test_a_consistent_package_is_valid() -> None:
    report = validate_package(contents())
    assert report.messages == []
    assert report.status == "valid"
    assert report.to_json() == {
        "status": "valid",
        "counts": {"errors": 0, "warnings": 0},
        "messages": [],
    }


# --- data model -----------------------------------------------------------------------------


def test_relationship_entity() -> None:
    model = model_json()
    model["relationships"][1]["to"] = "Phase"
    message = only(validate_package(contents(model=model)))
    assert message == ValidationMessage(
        "error",
        "relationship_entity",
        "02-data-model/data-model.json",
        "relationships[1].to",
        message.message,
    )
    assert "'Phase'" in message.message and "Project → Phase" in message.message


def test_foreign_key_field() -> None:
    model = model_json()
    model["relationships"][0]["foreignKey"] = "userId"  # Project holds it, as ownerId
    message = only(validate_package(contents(model=model)))
    assert (message.level, message.rule, message.file, message.item) == (
        "error",
        "foreign_key_field",
        "02-data-model/data-model.json",
        "relationships[0].foreignKey",
    )
    assert "'userId'" in message.message and "Project" in message.message


# --- database -------------------------------------------------------------------------------


def test_entity_table() -> None:
    without_stage = tuple(t for t in TABLES if t != "stage")
    files = {SQLITE: sql(TABLES), POSTGRES: sql(without_stage, dialect="postgresql")}
    message = only(validate_package(contents(sql_files=files)))
    assert (message.level, message.rule, message.file, message.item) == (
        "error",
        "entity_table",
        POSTGRES,
        "Stage",
    )
    assert '"stage"' in message.message


def test_table_entity() -> None:
    files = {SQLITE: sql((*TABLES, "audit_log")), POSTGRES: sql(TABLES, dialect="postgresql")}
    message = only(validate_package(contents(sql_files=files)))
    assert (message.level, message.rule, message.file, message.item) == (
        "error",
        "table_entity",
        SQLITE,
        "audit_log",
    )
    assert '"audit_log"' in message.message


def test_tables_are_read_from_sql_text() -> None:
    script = """
    -- CREATE TABLE "commented" (id int);
    /* CREATE TABLE hidden (id int); */
    CREATE TABLE IF NOT EXISTS "ai_provider_config" ("id" TEXT);
    create table plain_name (id integer);
    CREATE TEMPORARY TABLE public."Qualified" (id int);
    INSERT INTO "note" VALUES ('CREATE TABLE fake (x)');
    CREATE TABLE "ai_provider_config" ("id" TEXT);
    """
    assert _tables(script) == ["ai_provider_config", "plain_name", "Qualified"]


# --- api ------------------------------------------------------------------------------------


def test_api_entity() -> None:
    api = api_json()
    api["endpoints"].append(endpoint("GET", "/invoices", "Invoice"))
    message = only(validate_package(contents(api=api)))
    assert (message.level, message.rule, message.file, message.item) == (
        "error",
        "api_entity",
        "04-api/endpoints.json",
        "GET /invoices",
    )
    assert "'Invoice'" in message.message


def test_api_field() -> None:
    api = api_json()
    api["endpoints"][2]["request_fields"].append("colour")
    message = only(validate_package(contents(api=api)))
    assert (message.level, message.rule, message.file, message.item) == (
        "error",
        "api_field",
        "04-api/endpoints.json",
        "POST /projects",
    )
    assert "request field 'colour'" in message.message and "Project" in message.message


def test_api_path_param() -> None:
    api = api_json()
    api["endpoints"].append(endpoint("GET", "/projects/{slug}/summary", "Project"))
    message = only(validate_package(contents(api=api)))
    assert (message.level, message.rule, message.file, message.item) == (
        "error",
        "api_path_param",
        "04-api/endpoints.json",
        "GET /projects/{slug}/summary",
    )
    assert "'slug'" in message.message


def test_openapi_valid() -> None:
    broken = render()
    broken["paths"]["/projects"]["get"]["responses"] = "nothing"
    package = contents()
    package.openapi = broken
    message = only(validate_package(package))
    assert (message.level, message.rule, message.file) == (
        "error",
        "openapi_valid",
        "04-api/openapi.yaml",
    )
    assert message.item == "paths./projects.get.responses"


# --- sections -------------------------------------------------------------------------------


def test_section_endpoint() -> None:
    section_list = sections()
    section_list[1]["endpoints"].append("DELETE /stages/{id}")
    message = only(validate_package(contents(section_list=section_list)))
    assert (message.level, message.rule, message.file, message.item) == (
        "error",
        "section_endpoint",
        "07-sections/sections.json",
        "Stages",
    )
    assert "DELETE /stages/{id}" in message.message


# --- missing parts --------------------------------------------------------------------------


def test_missing_stage() -> None:
    package = contents()
    package.missing_stages = ["Infrastructure"]
    report = validate_package(package)
    message = only(report)
    assert message == ValidationMessage(
        "warning", "missing_stage", "08-infrastructure", "Infrastructure", message.message
    )
    assert report.status == "warnings"
    assert report.to_json()["counts"] == {"errors": 0, "warnings": 1}


def test_missing_input_warns_instead_of_failing() -> None:
    package = contents()
    package.api = None
    message = only(validate_package(package))
    assert (message.level, message.rule, message.file, message.item) == (
        "warning",
        "missing_input",
        "04-api/endpoints.json",
        "API Design",
    )
    # A stage already reported missing is not reported twice.
    package.missing_stages = ["API Design"]
    assert only(validate_package(package)).rule == "missing_stage"


def test_nothing_at_all_still_gives_a_report() -> None:
    empty = PackageContents(None, {}, None, None, ["Data Model", "Database Schema"])
    report = validate_package(empty)
    assert [(m.rule, m.item) for m in report.messages] == [
        ("missing_stage", "Data Model"),
        ("missing_stage", "Database Schema"),
        ("missing_input", "API Design"),
        ("missing_input", "Sections & Screens"),
    ]
    assert report.status == "warnings"


def test_messages_come_in_rule_order() -> None:
    model = model_json()
    model["relationships"][1]["to"] = "Phase"
    api = api_json()
    api["endpoints"].append(endpoint("GET", "/invoices", "Invoice"))
    section_list = sections()
    section_list[0]["endpoints"].append("GET /nowhere")
    files = {SQLITE: sql((*TABLES, "audit_log"))}
    package = contents(model=model, api=api, section_list=section_list, sql_files=files)
    package.missing_stages = ["Tech Stack"]
    report = validate_package(package)
    rules = [m.rule for m in report.messages]
    assert rules == [
        "missing_stage",
        "relationship_entity",
        "table_entity",
        "api_entity",
        "section_endpoint",
    ]
    assert rules == sorted(rules, key=RULES.index)
    assert report.status == "errors"
    assert report.to_json() == validate_package(package).to_json()
