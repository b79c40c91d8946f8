"""The OpenAPI 3 document of /api/v1, written as data.

A module that adds a route to the API blueprint adds its path here too (`PATHS["/kpi"] = {...}`);
tests/test_desk_api.py checks that every registered /api/v1 rule is described.
"""

from __future__ import annotations

from typing import Any

from clinic.models import CHANNELS, TICKET_STATUSES
from clinic.ticket_search import MAX_PER_PAGE, STATUSES

_TIME = {"type": "string", "format": "date-time", "description": "UTC, ISO 8601"}
_NUMBER = {
    "name": "number",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^CL-[0-9]{4}-[0-9]{5}$"},
    "description": "Ticket number, e.g. CL-2569-00001",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthorized"},
}
_TICKET_ERRORS = {
    **_ERRORS,
    "404": {"$ref": "#/components/responses/NotFound"},
    "409": {"$ref": "#/components/responses/Conflict"},
}


def _text_body(field: str, required: bool, description: str) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {field: {"type": "string", "maxLength": 5000, "description": description}},
    }
    if required:
        schema["required"] = [field]
    return {"required": required, "content": {"application/json": {"schema": schema}}}


SCHEMAS: dict[str, Any] = {
    "TicketSummary": {
        "type": "object",
        "required": [
            "number",
            "status",
            "topic",
            "agency_type",
            "agency",
            "channel",
            "posted_at",
            "due_at",
            "closed_at",
        ],  # fmt: skip
        "properties": {
            "number": {"type": "string", "example": "CL-2569-00001"},
            "status": {
                "type": "string",
                "enum": list(TICKET_STATUSES),
                "description": "withdrawn: the requester withdrew the question (closed_at is when)",
            },
            "subject": {"type": "string", "description": "The question's first line"},
            "topic": {"type": "string", "description": "Topic code (after any staff correction)"},
            "agency_type": {"type": "string", "description": "Agency type code (after any staff correction)"},
            "agency": {"type": ["string", "null"], "description": "Agency name (Thai)"},
            "channel": {"type": "string", "enum": list(CHANNELS)},
            "assignee": {"type": ["string", "null"], "description": "Username of the staff member assigned"},
            "posted_at": _TIME,
            "due_at": _TIME,
            "closed_at": {**_TIME, "type": ["string", "null"]},
        },
    },
    "Message": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": ["inbound", "outbound", "note", "system"]},
            "body": {"type": "string"},
            "created_at": _TIME,
            "author": {"type": ["string", "null"]},
            "delivery_status": {
                "type": ["string", "null"],
                "enum": ["pending", "sent", "failed", "undeliverable", "not_sent", None],
            },
            "attachments": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "kind": {"type": "string"},
                        "filename": {"type": "string"},
                        "content_type": {"type": "string"},
                        "size": {"type": "integer"},
                    },
                },
            },
        },
    },
    "Ticket": {
        "allOf": [
            _ref("TicketSummary"),
            {"type": "object", "properties": {"messages": {"type": "array", "items": _ref("Message")}}},
        ]
    },
    "TicketList": {
        "type": "object",
        "required": ["items", "next"],
        "properties": {
            "items": {"type": "array", "items": _ref("TicketSummary")},
            "next": {"type": ["string", "null"], "description": "URL of the next page, null on the last"},
            "total": {"type": "integer"},
        },
    },
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "status": {"type": "integer"},
                    "message": {"type": "string", "description": "Thai first, then English"},
                },
            }
        },
    },
}

RESPONSES: dict[str, Any] = {
    "BadRequest": _json(_ref("Error"), "Bad input; nothing was changed"),
    "Unauthorized": _json(_ref("Error"), "Missing, invalid or revoked bearer token"),
    "NotFound": _json(_ref("Error"), "No ticket with this number"),
    "Conflict": _json(_ref("Error"), "Not allowed in the ticket's state (e.g. replying to a closed ticket)"),
}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


PATHS: dict[str, Any] = {
    "/tickets": {
        "get": {
            "summary": "List tickets (the inbox's filters)",
            "description": (
                "Without `q`: tickets neither closed nor withdrawn come soonest deadline first; closed, "
                "withdrawn or all, newest first. "
                "With `q`: most relevant first. `q` is segmented into Thai words (PyThaiNLP) and looked up in "
                "the full-text index over each ticket's number, question, follow-ups, replies and notes; "
                "tickets with all the words come first (those with the words side by side before the rest, "
                "then by ts_rank on PostgreSQL or bm25 on SQLite); if no ticket has them all, those with any "
                "of them. Tickets that only contain `q` as a substring (part of a word, part of a ticket "
                "number) follow. The other filters apply as usual."
            ),
            "parameters": [
                _query(
                    "status",
                    "active = neither closed nor withdrawn",
                    {"type": "string", "enum": list(STATUSES), "default": "active"},
                ),
                _query("topic", "Topic code", {"type": "string"}),
                _query("agency_type", "Agency type code", {"type": "string"}),
                _query("channel", "Channel", {"type": "string", "enum": list(CHANNELS)}),
                _query("assignee", "Username, or `none` for unassigned", {"type": "string"}),
                _query(
                    "q",
                    "Search text (Thai or English, up to 200 characters): ranked full-text search, then substring "
                    "matches; see the description",
                    {"type": "string", "maxLength": 200},
                ),
                _query("page", "Page number", {"type": "integer", "minimum": 1, "default": 1}),
                _query(
                    "per_page",
                    "Items per page",
                    {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 25},
                ),  # fmt: skip
            ],
            "responses": {"200": _json(_ref("TicketList"), "A page of tickets"), **_ERRORS},
        }
    },
    "/tickets/{number}": {
        "get": {
            "summary": "One ticket with its messages",
            "parameters": [_NUMBER],
            "responses": {"200": _json(_ref("Ticket"), "The ticket"), **_TICKET_ERRORS},
        }
    },
    "/tickets/{number}/replies": {
        "post": {
            "summary": "Reply to the requester (sent through the bot to their own channel)",
            "parameters": [_NUMBER],
            "requestBody": _text_body("body", True, "The reply text"),
            "responses": {"201": _json(_ref("Message"), "The reply, delivery pending"), **_TICKET_ERRORS},
        }
    },
    "/tickets/{number}/notes": {
        "post": {
            "summary": "Add an internal note (never sent to the requester)",
            "parameters": [_NUMBER],
            "requestBody": _text_body("body", True, "The note text"),
            "responses": {"201": _json(_ref("Message"), "The note"), **_TICKET_ERRORS},
        }
    },
    "/tickets/{number}/close": {
        "post": {
            "summary": "Close the ticket, with an optional final answer sent like a reply",
            "parameters": [_NUMBER],
            "requestBody": _text_body("answer", False, "The final answer (optional)"),
            "responses": {"200": _json(_ref("Ticket"), "The closed ticket"), **_TICKET_ERRORS},
        }
    },
    "/tickets/{number}/reopen": {
        "post": {
            "summary": "Reopen a closed or withdrawn ticket; a new SLA clock starts",
            "parameters": [_NUMBER],
            "responses": {"200": _json(_ref("Ticket"), "The reopened ticket"), **_TICKET_ERRORS},
        }
    },
    "/openapi.json": {
        "get": {
            "summary": "This document",
            "security": [],
            "responses": {"200": {"description": "OpenAPI 3.1 document", "content": {"application/json": {}}}},
        }
    },
}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "คลินิกให้คำปรึกษาการปฏิบัติงานออนไลน์ API / BMA consultation clinic API",
            "version": "1",
            "description": "Tickets of the 24-hour consultation clinic for the office's other systems. "
            "Create a token with `clinic token create --name NAME`.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": PATHS,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
            "responses": RESPONSES,
        },
    }
