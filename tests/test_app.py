from dataclasses import replace

from clinic.runtime import Runtime
from wsgi import create_app


def test_healthz_reports_database_and_redis(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "ok"}


def test_healthz_is_503_when_redis_is_down(runtime: Runtime) -> None:
    broken = Runtime(replace(runtime.config, redis_url="redis://127.0.0.1:1/0"), database=runtime.db)
    response = create_app(broken).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "ok"
    assert response.json["redis"].startswith("down")


def test_healthz_is_503_when_the_database_is_down(runtime: Runtime) -> None:
    broken = Runtime(replace(runtime.config, database_url="postgresql+psycopg://nobody@127.0.0.1:1/none"))
    response = create_app(broken).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"].startswith("down")
    assert response.json["redis"] == "ok"
