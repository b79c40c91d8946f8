"""The knowledge base from outside: `GET /api/v1/kb/search` and `clinic kb import` / `export`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from clinic import api_tokens, knowledge
from clinic.models import KnowledgeArticle
from clinic.runtime import Runtime
from tests.test_knowledge import HEADER, load_sample

ROOT = Path(__file__).parent.parent


@pytest.fixture
def bearer(runtime: Runtime) -> dict[str, str]:
    with runtime.db.transaction() as session:
        return {"Authorization": f"Bearer {api_tokens.create(session, name='intranet', now=runtime.clock.now())[1]}"}


def test_search_answers_best_first_with_the_documented_shape(client, runtime: Runtime, bearer) -> None:  # type: ignore[no-untyped-def]
    load_sample(runtime)
    found = client.get("/api/v1/kb/search", query_string={"q": "ตราครุฑสูงกี่ซม", "limit": 2}, headers=bearer)
    assert found.status_code == 200
    body = found.get_json()
    assert body["confident"] is True and len(body["items"]) == 2
    assert body["items"][0]["key"] == "saraban-garuda"
    assert set(body["items"][0]) == {"key", "title", "topic", "answer", "reference", "score"}
    assert body["items"][0]["score"] >= body["items"][1]["score"]
    unknown = client.get("/api/v1/kb/search", query_string={"q": "เบิกค่าเดินทางไปราชการ"}, headers=bearer)
    assert unknown.get_json()["confident"] is False


def test_search_refuses_what_an_attacker_would_send(client, runtime: Runtime, bearer) -> None:  # type: ignore[no-untyped-def]
    load_sample(runtime, vectors=False)
    assert client.get("/api/v1/kb/search", query_string={"q": "ธง"}).status_code == 401
    for query in ({"q": ""}, {"q": "x" * 2001}, {"q": "a\x00b"}, {"q": "ธง", "limit": "0"},
                  {"q": "ธง", "limit": "21"}, {"q": "ธง", "limit": "-1"}, {"q": "ธง", "sql": "1"}):  # fmt: skip
        response = client.get("/api/v1/kb/search", query_string=query, headers=bearer)
        assert response.status_code == 400, query
        assert "/" in response.get_json()["error"]["message"]
    odd = client.get("/api/v1/kb/search", query_string={"q": '\' OR 1=1 -- "*" NEAR('}, headers=bearer)
    assert odd.status_code == 200 and odd.get_json()["confident"] is False


def test_the_route_is_in_the_openapi_document(client) -> None:  # type: ignore[no-untyped-def]
    document = client.get("/api/v1/openapi.json").get_json()
    assert "/kb/search" in document["paths"]


def _clinic(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "manage", *args], env={**os.environ, **env}, capture_output=True,
                          text=True, cwd=ROOT, timeout=120)  # fmt: skip


def test_clinic_kb_import_and_export(runtime: Runtime, config_env: dict[str, str], tmp_path: Path) -> None:
    good = ROOT / "tests" / "data" / "knowledge-sample.csv"
    done = _clinic(config_env, "kb", "import", str(good))
    assert done.returncode == 0, done.stderr
    assert "Created 6" in done.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("\ufeff" + HEADER + "new-one,saraban,ชื่อ,คำถาม,คำตอบ,\nbad key,saraban,ชื่อ,คำถาม,คำตอบ,\n", "utf-8")
    refused = _clinic(config_env, "kb", "import", str(bad))
    assert refused.returncode == 2 and "line 3" in refused.stderr and "Nothing was saved" in refused.stderr
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(KnowledgeArticle)) == 6
        assert knowledge.get(session, "new-one") is None
    out = tmp_path / "out.csv"
    assert _clinic(config_env, "kb", "export", str(out)).returncode == 0
    with runtime.db.transaction() as session:
        assert out.read_text("utf-8") == knowledge.export_csv(session)
