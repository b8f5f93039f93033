"""Notification outbox: created with the event, e-mailed afterwards in the recipient's language,
each at most once; a Redis outage delays delivery but loses nothing (real Redis, stopped and
restarted); the notification centre shows and marks a user's own notifications only."""

from __future__ import annotations

import shutil
import smtplib
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.core import mail
from django.test import Client
from django.utils import translation
from django_tenants.utils import schema_context

from absences.models import Escalation
from tests.absences.test_evaluation import TODAY, add_hours, make_calendar, policy
from tests.conftest import host
from tests.factories import StaffRoleFactory, StudentFactory, TeachingGroupFactory, UserFactory, sign_in
from welfare import tasks
from welfare.models import Notification, Role
from welfare.services import notifications
from welfare.services.notifications import Message, deliver_pending, notify

pytestmark = pytest.mark.django_db

def pending() -> list[Notification]:
    return list(Notification.objects.filter(email_status=Notification.EmailStatus.PENDING))


def test_notify_renders_in_each_recipients_language_and_never_twice(in_espoo):
    finnish = UserFactory(preferred_language="fi")
    swedish = UserFactory(preferred_language="sv")
    inactive = UserFactory(is_active=False)

    def render():
        return Message(title=f"title-{translation.get_language()}")

    created = notify([finnish.pk, swedish.pk, inactive.pk], kind="test", dedupe_prefix="test:1", render=render)
    again = notify([finnish.pk, swedish.pk], kind="test", dedupe_prefix="test:1", render=render)
    assert (created, again) == (2, 0)
    titles = dict(Notification.objects.values_list("recipient_id", "title"))
    assert titles == {finnish.pk: "title-fi", swedish.pk: "title-sv"}


def test_deliver_pending_sends_each_email_once_and_retries_failures(in_espoo, monkeypatch):
    user = UserFactory(email="opettaja@espoo.test", preferred_language="fi")
    notify([user.pk], kind="test", dedupe_prefix="test:2", render=lambda: Message("Porras 1", "Tee jotain."),
           url="/absences/")
    calls = {"n": 0}
    real_send = mail.EmailMessage.send

    def flaky(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:  # the refusal's text names the address: it must not be stored
            raise smtplib.SMTPRecipientsRefused({"opettaja@espoo.test": (450, b"mailbox busy")})
        return real_send(self, *args, **kwargs)

    monkeypatch.setattr(mail.EmailMessage, "send", flaky)
    assert deliver_pending()["retry"] == 1
    row = Notification.objects.get()
    assert (row.email_status, row.email_attempts, mail.outbox) == ("pending", 1, [])
    assert row.email_error == "SMTPRecipientsRefused" and "espoo.test" not in row.email_error
    assert deliver_pending()["sent"] == 1
    assert deliver_pending() == {"sent": 0, "failed": 0, "skipped": 0, "retry": 0}
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["opettaja@espoo.test"] and message.subject == "Yhdessä: Porras 1"
    assert "Tee jotain." in message.body and f"http://{host(in_espoo)}/absences/" in message.body
    row.refresh_from_db()
    assert row.email_status == "sent" and row.email_attempts == 2 and row.email_sent_at


def test_a_batch_looks_up_the_municipality_host_once(in_espoo):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    users = [UserFactory() for _ in range(3)]
    for index, user in enumerate(users):
        notify([user.pk], kind="test", dedupe_prefix=f"test:batch:{index}", render=lambda: Message("x"),
               url=f"/absences/{index}/")
    with CaptureQueriesContext(connection) as queries:
        assert deliver_pending()["sent"] == 3
    assert sum("municipalities_municipality" in query["sql"] for query in queries.captured_queries) <= 1
    bodies = "\n".join(message.body for message in mail.outbox)
    assert all(f"http://{host(in_espoo)}/absences/{index}/" in bodies for index in range(3))


def test_a_failed_row_does_not_undo_the_rows_already_sent(in_espoo, monkeypatch):
    """Each row is claimed and marked in its own transaction: when a worker dies while sending the
    second e-mail, the first stays marked sent (it is not e-mailed again by the next run)."""
    for index in range(2):
        notify([UserFactory().pk], kind="test", dedupe_prefix=f"test:die:{index}", render=lambda: Message("x"))
    real_send, calls = mail.EmailMessage.send, {"n": 0}

    def dies_on_second(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # not an SMTP error: the worker stops here
        return real_send(self, *args, **kwargs)

    monkeypatch.setattr(mail.EmailMessage, "send", dies_on_second)
    with pytest.raises(KeyboardInterrupt):
        deliver_pending()
    monkeypatch.setattr(mail.EmailMessage, "send", real_send)
    assert sorted(Notification.objects.values_list("email_status", flat=True)) == ["pending", "sent"]
    assert deliver_pending()["sent"] == 1
    assert len(mail.outbox) == 2


def test_a_send_failing_every_time_ends_as_failed(in_espoo, monkeypatch):
    user = UserFactory()
    notify([user.pk], kind="test", dedupe_prefix="test:3", render=lambda: Message("x"))
    monkeypatch.setattr(mail.EmailMessage, "send", lambda self, *a, **k: (_ for _ in ()).throw(OSError("no")))
    for _attempt in range(notifications.MAX_EMAIL_ATTEMPTS):
        deliver_pending()
    assert Notification.objects.get().email_status == "failed"


# --- The notification centre ------------------------------------------------------------------


def test_the_centre_lists_and_marks_read_only_the_users_own_notifications(espoo, in_espoo):
    from django.template import Context, Template

    school = TeachingGroupFactory().school
    me, other = UserFactory(), UserFactory()
    for user in (me, other):
        StaffRoleFactory(user=user, role=Role.PRINCIPAL, school=school)
    notify([me.pk], kind="test", dedupe_prefix="a", render=lambda: Message("Minun ilmoitus"))
    notify([other.pk], kind="test", dedupe_prefix="b", render=lambda: Message("Toisen ilmoitus"))
    mine = Notification.objects.get(recipient_id=me.pk)
    theirs = Notification.objects.get(recipient_id=other.pk)
    client = sign_in(Client(headers={"host": host(espoo), "accept-language": "en"}), me)
    page = client.get("/notifications/")
    assert page.status_code == 200
    assert "Minun ilmoitus" in page.content.decode() and "Toisen ilmoitus" not in page.content.decode()
    tag = Template("{% load welfare_notifications %}{% unread_notifications as n %}{{ n }}")
    request = type("R", (), {"user": me})()
    assert tag.render(Context({"request": request, "user": me})) == "1"
    assert client.post(f"/notifications/{theirs.pk}/read/").status_code == 404
    assert client.post(f"/notifications/{mine.pk}/read/").status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.read_at and theirs.read_at is None
    assert tag.render(Context({"request": request, "user": me})) == "0"


# --- Redis stopped and restarted (real Redis) -------------------------------------------------


class PrivateRedis:
    """A redis-server of this test only, on a unix socket in a temporary directory."""

    def __init__(self):
        self.directory = Path(tempfile.mkdtemp(prefix="yh-redis-"))
        self.socket = self.directory / "redis.sock"
        self.process = None

    @property
    def url(self) -> str:
        return f"redis+socket://{self.socket}?virtual_host=0"

    def start(self):
        self.process = subprocess.Popen(
            ["/usr/bin/redis-server", "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
             "--save", "", "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not self.socket.exists():
            assert self.process.poll() is None and time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None
        self.socket.unlink(missing_ok=True)

    def queued(self) -> int:
        import redis

        return redis.Redis(unix_socket_path=str(self.socket)).llen("celery")


@pytest.fixture
def private_broker():
    from config.celery import app
    from tests.test_celery import _reconnect

    server = PrivateRedis()
    server.start()
    saved = {key: app.conf[key] for key in ("broker_url", "result_backend", "task_always_eager")}
    app.conf.update(broker_url=server.url, result_backend=None, task_always_eager=False)
    _reconnect(app)
    try:
        yield app, server
    finally:
        server.stop()
        shutil.rmtree(server.directory, ignore_errors=True)
        app.conf.update(**saved)
        _reconnect(app)


@pytest.fixture
def committed(espoo):
    """Committed data in Espoo for tests that use several connections (emptied afterwards)."""
    return espoo


@pytest.mark.django_db(transaction=True)
def test_a_redis_outage_delays_notifications_and_loses_none(committed, private_broker):
    from celery.contrib.testing.worker import start_worker

    app, redis_server = private_broker
    with schema_context(committed.schema_name):
        make_calendar()
        policy("lape")
        group = TeachingGroupFactory()
        teacher = UserFactory(email="luokanopettaja@espoo.test")
        StaffRoleFactory(user=teacher, role=Role.CLASS_TEACHER, school=group.school, groups=[group])
        pupil = StudentFactory(group=group)
        add_hours(pupil, 31)

    redis_server.stop()
    from absences.services.evaluation import evaluate_students

    with schema_context(committed.schema_name):
        started = time.monotonic()
        result = evaluate_students(today=TODAY)  # after commit .apply_async() fails: Redis is down
        assert time.monotonic() - started < 10
        assert result.escalations_created == 1
        assert Escalation.objects.count() == 1
        assert [n.recipient_id for n in pending()] == [teacher.pk]
    assert mail.outbox == []

    redis_server.start()
    assert tasks.dispatch_notifications() == 1  # the beat dispatcher queues the municipality's delivery
    assert redis_server.queued() == 1
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        deadline = time.monotonic() + 30
        while not mail.outbox and time.monotonic() < deadline:
            time.sleep(0.1)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["luokanopettaja@espoo.test"]
    with schema_context(committed.schema_name):
        assert pending() == []
        assert Notification.objects.get().email_status == Notification.EmailStatus.SENT
        assert tasks.dispatch_notifications() == 0
        assert deliver_pending()["sent"] == 0
    assert len(mail.outbox) == 1
