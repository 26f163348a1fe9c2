"""Background tasks."""

from __future__ import annotations

from smtplib import SMTPException

from app.celery import celery
from app.mail import mailer
from app.models import User


@celery.task(autoretry_for=(SMTPException,), retry_backoff=True, max_retries=5)
def send_password_reset(user_id: int, token_id: int) -> None:
    user = User.objects.get(pk=user_id)
    mailer.send_password_reset(user.email, token_id)
