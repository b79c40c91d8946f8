"""The knowledge base in the desk and the API: `GET /api/v1/kb/search`.

(The pages for supervisors to write and approve articles join this module.)
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from werkzeug.wrappers import Response

from clinic import knowledge_search
from desk import api, openapi
from desk.current import runtime

bp = Blueprint("knowledge", __name__, url_prefix="/kb")

MAX_QUERY = 2000
MAX_LIMIT = 20


@api.bp.get("/kb/search")
@api.token_required
def search_json() -> Response:
    """The published articles that best answer `q`, best first, and whether the best is confident."""
    unknown = sorted(set(request.args) - {"q", "limit"})
    if unknown:
        raise api.ApiError(400, f"ไม่รู้จักพารามิเตอร์ {', '.join(unknown)} / Unknown parameter(s): {', '.join(unknown)}")
    query = request.args.get("q", "")
    if not query.strip():
        raise api.ApiError(400, "ต้องระบุ q / The query q is required")
    if len(query) > MAX_QUERY or "\x00" in query:
        raise api.ApiError(400, f"q ต้องยาวไม่เกิน {MAX_QUERY} ตัวอักษร / q must be at most {MAX_QUERY} characters")
    raw_limit = request.args.get("limit", "3")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
        raise api.ApiError(400, f"limit ต้องเป็น 1-{MAX_LIMIT} / limit must be 1-{MAX_LIMIT}")
    rt = runtime()
    with rt.db.transaction() as session:
        result = knowledge_search.search(session, query, limit=int(raw_limit))
    items = [
        {"key": h.key, "title": h.title, "topic": h.topic_code, "answer": h.answer, "reference": h.reference,
         "score": h.score}
        for h in result.hits
    ]  # fmt: skip
    return jsonify(confident=result.confident, items=items)


openapi.PATHS["/kb/search"] = {
    "get": {
        "summary": "Search the published knowledge-base articles (Thai-aware, offline)",
        "description": "BM25 over PyThaiNLP-segmented words fused with multilingual-e5-small embeddings. "
        "`confident` is true when the best article clears the threshold the chat uses to answer on its own.",
        "parameters": [
            {
                "name": "q",
                "in": "query",
                "required": True,
                "schema": {"type": "string", "minLength": 1, "maxLength": MAX_QUERY},
                "description": "The question",
            },
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 3},
                "description": "How many articles",
            },
        ],  # fmt: skip
        "responses": {
            "200": {
                "description": "The articles, best first",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["confident", "items"],
                            "properties": {
                                "confident": {"type": "boolean"},
                                "items": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["key", "title", "topic", "answer", "reference", "score"],
                                        "properties": {
                                            "key": {"type": "string"},
                                            "title": {"type": "string"},
                                            "topic": {"type": "string"},
                                            "answer": {"type": "string"},
                                            "reference": {"type": "string"},
                                            "score": {"type": "number"},
                                        },
                                    },
                                },
                            },
                        }
                    }
                },
            },
            "400": {"$ref": "#/components/responses/BadRequest"},
            "401": {"$ref": "#/components/responses/Unauthorized"},
        },
    }
}
