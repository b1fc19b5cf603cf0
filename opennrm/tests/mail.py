"""A real SMTP server for tests, and the real worker run the way `opennrm serve` runs it."""

import socket

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command


class SmtpSink:
    """A real SMTP server on a fixed local port that can be stopped and started, keeping what it received."""

    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.received = []  # (envelope recipients, message text)
        self.controller = None

    async def handle_DATA(self, server, session, envelope):
        self.received.append((list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))
        return "250 Message accepted for delivery"

    def start(self):
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def emails_with_subject(self, prefix: str):
        return [(to, text) for to, text in self.received if f"Subject: {prefix}" in text]


@pytest.fixture
def smtp_sink(settings):
    sink = SmtpSink()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": sink.port, "timeout": 5},
        }
    }
    yield sink
    sink.stop()


def run_worker():
    call_command("db_worker", batch=True, interval=0, startup_delay=False, verbosity=0)
