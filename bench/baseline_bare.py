"""Baseline (a): the ceiling of the stack. Flask under gunicorn answering 200 and doing nothing else."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.post("/webhook/line")
def webhook() -> str:
    return "OK"
