"""Baseline (b): a synchronous bot in the style of line-bot-sdk's Flask echo example.

It verifies the signature with `WebhookHandler` and calls the reply API inside the
request, as the SDK's example does, so the webhook's answer waits for LINE's. The
bench points it at the local fake API answering after 200 ms. Served by gunicorn as
`bench.baseline_sync_bot:app`; reads LINE_CHANNEL_SECRET, LINE_CHANNEL_ACCESS_TOKEN
and LINE_API_BASE_URL.
"""

from __future__ import annotations

import os

from flask import Flask, abort, request
from linebot.v3 import WebhookHandler
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import ApiClient, Configuration, MessagingApi, ReplyMessageRequest, TextMessage
from linebot.v3.webhooks import MessageEvent, TextMessageContent

app = Flask(__name__)
configuration = Configuration(
    access_token=os.environ["LINE_CHANNEL_ACCESS_TOKEN"],
    host=os.environ.get("LINE_API_BASE_URL", "https://api.line.me"),
)
handler = WebhookHandler(os.environ["LINE_CHANNEL_SECRET"])


@app.post("/webhook/line")
def callback() -> str:
    signature = request.headers.get("X-Line-Signature", "")
    body = request.get_data(as_text=True)
    try:
        handler.handle(body, signature)
    except InvalidSignatureError:
        abort(400)
    return "OK"


@handler.add(MessageEvent, message=TextMessageContent)
def handle_message(event: MessageEvent) -> None:
    with ApiClient(configuration) as api_client:
        MessagingApi(api_client).reply_message_with_http_info(
            ReplyMessageRequest(reply_token=event.reply_token, messages=[TextMessage(text=event.message.text)])
        )
