"""A real SMTP server on loopback for Roster's tests (aiosmtpd).

Prints {"port": N} once listening, then one JSON line per message received, parsed:
envelope sender and recipients, headers, and the text and HTML parts. Recipients whose
local part starts with "reject" are refused with 550; those starting with "greylist" are
refused with 451 the first time each is seen. Exits when stdin closes.
"""

import asyncio
import email
import email.policy
import json
import socket
import sys

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self):
        self.seen = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        if local.startswith("reject"):
            return "550 5.1.1 No such user here"
        if local.startswith("greylist") and address not in self.seen:
            self.seen.add(address)
            return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        parts = {}
        for part in message.walk():
            kind = part.get_content_type()
            if kind in ("text/plain", "text/html") and kind not in parts:
                parts[kind] = part.get_content()
        print(
            json.dumps(
                {
                    "from": envelope.mail_from,
                    "to": envelope.rcpt_tos,
                    "headers": {k.lower(): str(v) for k, v in message.items()},
                    "text": parts.get("text/plain", ""),
                    "html": parts.get("text/html", ""),
                }
            ),
            flush=True,
        )
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    print(json.dumps({"port": port}), flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
