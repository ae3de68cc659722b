"""Builders of chat-service events as the API receives them (plain dicts)."""

import itertools

_ids = itertools.count(1)


def _event(type_: str, at: str, event_id: str | None, **fields) -> dict:
    return {"id": event_id or f"evt-{next(_ids)}", "type": type_, "at": at, **fields}


def account_upserted(
    account: str = "acct-1",
    at: str = "2026-01-01T00:00:00Z",
    *,
    email: str | None = None,
    type: str = "consumer",
    plan: str = "free",
    id: str | None = None,
) -> dict:
    data = {"id": account, "email": email or f"{account}@example.com", "type": type, "plan": plan}
    return _event("account.upserted", at, id, account=data)


def consent_changed(
    allowed: bool, at: str, *, account: str = "acct-1", id: str | None = None
) -> dict:
    return _event("consent.changed", at, id, account=account, allowed=allowed)


def message_added(
    at: str,
    *,
    account: str = "acct-1",
    conversation: str = "conv-1",
    message: str | None = None,
    kind: str = "chat",
    title: str = "A chat",
    role: str = "user",
    content: str = "hello",
    id: str | None = None,
) -> dict:
    return _event(
        "message.added",
        at,
        id,
        account=account,
        conversation={"id": conversation, "kind": kind, "title": title},
        message={"id": message or f"msg-{next(_ids)}", "role": role, "content": content},
    )


def conversation_deleted(
    at: str, *, account: str = "acct-1", conversation: str = "conv-1", id: str | None = None
) -> dict:
    return _event("conversation.deleted", at, id, account=account, conversation=conversation)


def conversation_flagged(
    at: str,
    *,
    account: str = "acct-1",
    conversation: str = "conv-1",
    scores: dict | None = None,
    id: str | None = None,
) -> dict:
    return _event(
        "conversation.flagged",
        at,
        id,
        account=account,
        conversation=conversation,
        scores={"violence": 0.91} if scores is None else scores,
    )


def feedback_submitted(
    at: str,
    *,
    account: str = "acct-1",
    feedback: str | None = None,
    kind: str = "thumbs_down",
    conversation: str | None = "conv-1",
    comment: str = "wrong answer",
    excerpt: str = "hello",
    id: str | None = None,
) -> dict:
    data = {
        "id": feedback or f"fb-{next(_ids)}",
        "kind": kind,
        "comment": comment,
        "conversation": conversation,
        "excerpt": excerpt,
    }
    return _event("feedback.submitted", at, id, account=account, feedback=data)
