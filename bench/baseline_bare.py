"""Baseline (a): the ceiling of the stack. Flask under gunicorn answering 200 and doing nothing else."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.post("/webhook/line")
def webhook() -> str:
    return "OK"


@app.get("/chat/api/messages")
def chat_poll() -> dict[str, object]:
    """The web chat's poll answered with nothing new, reading nothing: the stack's own cost of a poll."""
    return {"messages": [], "cursor": "0.0", "has_ticket": False}
