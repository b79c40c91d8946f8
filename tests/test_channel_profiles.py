"""Who is writing, and a sign that the bot is working: profile names (cached) and LINE's loading animation."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import profiles
from clinic.models import Requester
from clinic.runtime import Runtime
from tests import factories
from tests.bot_support import (
    line_body,
    line_event,
    line_text,
    messenger_body,
    messenger_message,
    post_line,
    post_messenger,
    run_jobs,
)
from tests.fakeapi import FakeApiServer
from tests.test_desk_pages import login

USER = "U1234567890abcdef1234567890abcdef"
PSID = "6543210987654321"


def requester(runtime: Runtime, channel: str, user_id: str) -> Requester:
    with runtime.db.transaction() as session:
        found = session.scalars(
            select(Requester).where(Requester.channel == channel, Requester.channel_user_id == user_id)
        ).one()
        session.expunge(found)
        return found


def test_line_name_is_read_on_the_first_message_and_cached_for_a_day(  # type: ignore[no-untyped-def]
    client, runtime: Runtime, api_server: FakeApiServer
) -> None:
    api_server.profiles[USER] = {"displayName": "สมศรี ใจดี", "language": "th"}
    # No follow event: the user added the account before the bot was connected.
    for text in ("สวัสดีค่ะ", "เมนู", "สถานะ"):
        assert post_line(client, line_body(line_text(text, USER))).status_code == 200
        run_jobs(runtime)
    assert requester(runtime, "line", USER).display_name == "สมศรี ใจดี"
    (profile,) = api_server.matching("GET", rf"^/v2/bot/profile/{USER}$")  # once for three messages
    assert profile.headers["authorization"] == "Bearer line-test-token"
    key = profiles.cache_key(runtime, "line", USER)
    assert key.startswith(runtime.config.key_prefix)
    assert runtime.redis.get(key) == "สมศรี ใจดี".encode()
    assert 86000 < runtime.redis.ttl(key) <= 86400

    # A day later the cache has expired; the API fails: the name the desk shows stays.
    runtime.redis.delete(key)
    api_server.fail("GET", r"^/v2/bot/profile/", 500, {"message": "Internal error"})
    post_line(client, line_body(line_text("ขอบคุณค่ะ", USER)))
    run_jobs(runtime)
    assert requester(runtime, "line", USER).display_name == "สมศรี ใจดี"
    assert runtime.redis.get(key) is None  # a transient failure is not remembered: the next message asks again

    # A changed name is picked up once the cache is gone.
    api_server.profiles[USER] = {"displayName": "สมศรี (สนง.เขตพระนคร)"}
    post_line(client, line_body(line_text("อีกข้อความ", USER)))
    run_jobs(runtime)
    assert requester(runtime, "line", USER).display_name == "สมศรี (สนง.เขตพระนคร)"


def test_a_refused_profile_is_remembered_briefly_and_nothing_else_changes(  # type: ignore[no-untyped-def]
    client, runtime: Runtime, api_server: FakeApiServer
) -> None:
    api_server.fail("GET", r"^/v2/bot/profile/", 404, {"message": "Not found"}, times=-1)
    for text in ("สวัสดี", "เมนู"):
        post_line(client, line_body(line_text(text, USER)))
        run_jobs(runtime)
    assert requester(runtime, "line", USER).display_name == ""
    assert len(api_server.matching("GET", r"^/v2/bot/profile/")) == 1
    assert 0 < runtime.redis.ttl(profiles.cache_key(runtime, "line", USER)) <= 30 * 60
    # The conversation went on regardless.
    assert len(api_server.matching("POST", r"^/v2/bot/message/reply$", status=200)) == 2


def test_messenger_name_comes_from_the_graph_profile(  # type: ignore[no-untyped-def]
    client, runtime: Runtime, api_server: FakeApiServer
) -> None:
    api_server.graph_profiles[PSID] = {"first_name": "สมชาย", "last_name": "รักงาน", "profile_pic": "https://x"}
    for text in ("สวัสดีครับ", "เมนู"):
        assert post_messenger(client, messenger_body(messenger_message(PSID, text=text))).status_code == 200
        run_jobs(runtime)
    assert requester(runtime, "messenger", PSID).display_name == "สมชาย รักงาน"
    (profile,) = api_server.matching("GET", rf"^/v21\.0/{PSID}$")
    assert profile.query == {"fields": ["first_name,last_name"], "access_token": ["messenger-test-token"]}
    assert profile.status == 200


def test_staff_see_the_chat_name_on_the_ticket(app, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    with runtime.db.transaction() as session:
        factories.staff_user(session, now=runtime.clock.now())
        ticket = factories.ticket(
            session, now=runtime.clock.now(), channel="line", user_id=USER, display_name="สมศรี LINE"
        )
        number = ticket.number
    client = app.test_client()
    assert login(client).status_code == 302
    page = client.get(f"/tickets/{number}").get_data(as_text=True)
    assert "สมศรี LINE" in page
    with runtime.db.transaction() as session:
        person = session.scalars(select(Requester)).one()
        person.person_name = "นางสมศรี ใจดี"
    page = client.get(f"/tickets/{number}").get_data(as_text=True)
    assert "นางสมศรี ใจดี" in page and "ชื่อในแชต: สมศรี LINE" in page


# --- the loading animation ---------------------------------------------------------------------


def test_the_loading_animation_shows_only_while_an_answer_takes_more_than_a_second(  # type: ignore[no-untyped-def]
    client, runtime: Runtime, api_server: FakeApiServer
) -> None:
    post_line(client, line_body(line_text("เมนู", USER)))
    run_jobs(runtime)
    assert not api_server.matching("POST", r"/v2/bot/chat/loading/start$")  # a quick answer needs none

    api_server.content["777001"] = (b"\x89PNG\r\n\x1a\nslow-image", "image/png")
    api_server.slow("GET", r"^/v2/bot/message/777001/content$", 1.6)
    image = line_event("message", USER, message={"id": "777001", "type": "image", "contentProvider": {"type": "line"}})
    post_line(client, line_body(image))
    run_jobs(runtime)
    (loading,) = api_server.matching("POST", r"/v2/bot/chat/loading/start$")
    assert loading.status == 202
    assert loading.headers["authorization"] == "Bearer line-test-token"
    assert loading.headers["content-type"] == "application/json"
    assert loading.json == {"chatId": USER, "loadingSeconds": 20}
    order = [r.path for r in api_server.requests if r.method == "POST" or "777001" in r.path]
    assert order.index("/v2/bot/chat/loading/start") < order.index("/v2/bot/message/777001/content")
    assert order[-1] == "/v2/bot/message/reply"  # the answer still came, after the animation


@pytest.mark.parametrize("status", [400, 500])
def test_a_failing_loading_animation_never_holds_up_the_answer(  # type: ignore[no-untyped-def]
    client, runtime: Runtime, api_server: FakeApiServer, status: int
) -> None:
    api_server.fail("POST", r"/v2/bot/chat/loading/start$", status, times=-1)
    api_server.content["777002"] = (b"\x89PNG\r\n\x1a\nslow-image", "image/png")
    api_server.slow("GET", r"^/v2/bot/message/777002/content$", 1.4)
    image = line_event("message", USER, message={"id": "777002", "type": "image", "contentProvider": {"type": "line"}})
    post_line(client, line_body(image))
    run_jobs(runtime)
    assert api_server.matching("POST", r"/v2/bot/chat/loading/start$", status=status)
    assert api_server.matching("POST", r"^/v2/bot/message/reply$", status=200)


def test_no_loading_animation_in_groups(client, runtime: Runtime, api_server: FakeApiServer) -> None:  # type: ignore[no-untyped-def]
    from bot.line_events import loading_chat

    group = {"type": "group", "groupId": "Cgroup", "userId": USER}
    assert loading_chat(line_text("สวัสดี", source=group)) is None
    assert loading_chat(line_event("follow", USER)) is None
    assert loading_chat(line_text("สวัสดี", USER, mode="standby")) is None
    assert loading_chat(line_text("สวัสดี", USER)) == USER
    assert loading_chat(line_event("postback", USER, postback={"data": "สถานะ"})) == USER


@pytest.mark.browser
def test_the_chat_name_on_the_ticket_page_in_chromium(  # type: ignore[no-untyped-def]
    page, live_server: str, runtime: Runtime, screenshots
) -> None:
    from playwright.sync_api import expect

    with runtime.db.transaction() as session:
        factories.staff_user(session, now=runtime.clock.now())
        ticket = factories.ticket(
            session, now=runtime.clock.now(), channel="line", user_id=USER, display_name="Somsri.J (LINE)"
        )
        ticket.requester.person_name = "นางสมศรี ใจดี"
        ticket.requester.position = "เจ้าพนักงานธุรการ"
        number = ticket.number
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "somsri")
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server}/tickets/{number}")
    expect(page.locator("#chat-name")).to_have_text("ชื่อในแชต: Somsri.J (LINE)")
    # Every message the requester sent carries the same chat name.
    expect(page.get_by_text("Somsri.J (LINE)").first).to_be_visible()
    page.screenshot(path=str(screenshots / "ticket-chat-name-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator("#chat-name")).to_be_visible()
    page.screenshot(path=str(screenshots / "ticket-chat-name-390.png"), full_page=True)
