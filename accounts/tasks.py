"""Celery entry points of accounts. Thin: plain values in, one service call."""

from celery import shared_task

from accounts.services import password_reset_mail_send


@shared_task(name="accounts.tasks.password_reset_mail", acks_late=True, serializer="json")
def password_reset_mail(email: str, domain: str, use_https: bool) -> None:
    """The reset mail for `email`, if an active account has it (else nothing:
    the page answered the same either way)."""
    password_reset_mail_send(email=email, domain=domain, use_https=use_https)
