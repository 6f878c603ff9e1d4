"""Delivering one notification to its channel.

Email, Slack, Microsoft Teams and PagerDuty go through Apprise's own plugins (``mailto://``,
``slack://``, ``workflows://``, ``pagerduty://``); webhooks (``Webhook``, ``HttpAction``)
are one signed JSON POST through httpx, because a signature must cover the exact bytes sent.

* **Email**: ``emails`` (comma-separated), ``email_subject``; SMTP server from the action's
  ``smtp_host``/``smtp_port``/``smtp_username``/``smtp_password``/``smtp_from``/
  ``smtp_security`` or the ``ASSAY_SMTP_*`` defaults.
* **Slack**: ``webhook_url`` (a Slack incoming webhook, secret) and optional ``channel``. The
  webhook base (``https://hooks.slack.com/services``) can be replaced with
  ``ASSAY_FLOWS_SLACK_URL`` (a Slack-compatible receiver, or a test server).
* **Microsoft Teams**: ``webhook_url`` (a Teams *Workflows* webhook, secret); the host is
  the URL's own, so any receiver works.
* **PagerDuty**: ``routing_key`` (secret), ``severity``, ``custom_details``; the Events API
  v2 endpoint can be replaced with ``ASSAY_FLOWS_PAGERDUTY_URL``. ``dedup_key`` is the
  delivery id, so PagerDuty folds a repeated delivery into one incident.
* **Webhook** / **HttpAction**: ``webhook_url`` (secret). The body is JSON
  ``{delivery_id, flow, trigger_type, message, context, sent_at}``; header
  ``X-Assay-Signature-256: sha256=<hex>`` is the HMAC-SHA256 of the body's bytes with the
  action's ``secret``; ``X-Assay-Delivery`` repeats the delivery id (idempotency key).
  HttpAction also sends ``Authorization`` per ``auth_type``: ``bearer`` (``token``) or
  ``basic`` (``username`` + ``password``).

:func:`deliver` returns what the receiver answered; it raises :class:`DeliveryError` with
the reason when the channel refused or could not be reached.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import threading
import urllib.parse as up
from dataclasses import dataclass, field
from typing import Any, Final

from .settings import FlowSettings, flow_settings

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Assay-Signature-256"
DELIVERY_HEADER = "X-Assay-Delivery"

EMAIL: Final = "Email"
SLACK: Final = "Slack"
TEAMS: Final = "Microsoft Teams"
PAGERDUTY: Final = "PagerDuty"
WEBHOOK: Final = "Webhook"
HTTP_ACTION: Final = "HttpAction"
IN_APP: Final = "InApp"
NOTIFICATION_TYPES = (IN_APP, EMAIL, SLACK, TEAMS, PAGERDUTY, WEBHOOK, HTTP_ACTION)
SEVERITIES = ("info", "warning", "error", "critical")


def _prop(field_: str, title: str, type_: str = "string", *, required=False, secret=False, **extra) -> dict:
    return {
        "field": field_,
        "map_to": "parameters",
        "required": required,
        "title": title,
        "type": type_,
        "secret": secret,
        **extra,
    }


#: Qualytics' GetActionNotificationSpec for each notification type Assay delivers.
SPECIFICATIONS: list[dict[str, Any]] = [
    {"display_name": "In App", "type": IN_APP, "properties": []},
    {
        "display_name": "Email",
        "type": EMAIL,
        "properties": [
            _prop("emails", "Email Address", required=True, placeholder="user1@example.com, user2@example.com"),
            _prop("email_subject", "Email Subject", default="Assay Notification"),
            _prop("smtp_host", "SMTP Host", info="default: ASSAY_SMTP_HOST"),
            _prop("smtp_port", "SMTP Port", "integer", info="default: ASSAY_SMTP_PORT or 587"),
            _prop("smtp_username", "SMTP Username"),
            _prop("smtp_password", "SMTP Password", secret=True),
            _prop("smtp_from", "Sender", placeholder="assay@example.com"),
            _prop(
                "smtp_security",
                "SMTP Security",
                "enum",
                values=[{"label": v, "value": v} for v in ("starttls", "ssl", "none")],
            ),
        ],
    },
    {
        "display_name": "Slack",
        "type": SLACK,
        "properties": [
            _prop(
                "webhook_url",
                "Incoming Webhook URL",
                required=True,
                secret=True,
                placeholder="https://hooks.slack.com/services/T000/B000/XXXX",
            ),
            _prop("channel", "Channel", placeholder="general"),
        ],
    },
    {
        "display_name": "Microsoft Teams",
        "type": TEAMS,
        "properties": [
            _prop(
                "webhook_url",
                "Workflows Webhook URL",
                required=True,
                secret=True,
                placeholder="https://prod-00.westus.logic.azure.com:443/workflows/…/triggers/manual/paths/invoke?…&sig=…",
            )
        ],
    },
    {
        "display_name": "PagerDuty",
        "type": PAGERDUTY,
        "properties": [
            _prop("routing_key", "Routing Key", required=True, secret=True),
            _prop(
                "severity",
                "Severity",
                "enum",
                default="info",
                values=[{"label": v.title(), "value": v} for v in SEVERITIES],
            ),
            _prop("custom_details", "Additional Details", "object"),
        ],
    },
    {
        "display_name": "Webhook",
        "type": WEBHOOK,
        "secret": "signs each body: header X-Assay-Signature-256 = sha256=HMAC-SHA256(secret, body)",
        "properties": [_prop("webhook_url", "Webhook URL", required=True, secret=True)],
    },
    {
        "display_name": "HTTP Action",
        "type": HTTP_ACTION,
        "secret": "signs each body: header X-Assay-Signature-256 = sha256=HMAC-SHA256(secret, body)",
        "properties": [
            _prop("webhook_url", "Action URL", required=True, secret=True),
            _prop("username", "Username (auth_type basic)"),
            _prop("password", "Password (auth_type basic)", secret=True),
            _prop("token", "Token (auth_type bearer)", secret=True),
        ],
    },
]

SPEC_BY_TYPE = {s["type"]: s for s in SPECIFICATIONS}


def secret_fields(notification_type: str) -> set[str]:
    """Parameter names of ``notification_type`` that are stored encrypted and never returned."""
    spec = SPEC_BY_TYPE.get(notification_type, {"properties": []})
    return {p["field"] for p in spec["properties"] if p["secret"]}


class DeliveryError(Exception):
    """The channel refused the notification or could not be reached; the message says why."""


@dataclass
class Message:
    """One notification to send. ``delivery_id`` is stable across retries of the same
    (event, action), so receivers can drop a repeated delivery."""

    notification_type: str
    parameters: dict[str, Any]
    secrets: dict[str, Any]
    text: str
    title: str
    trigger_type: str
    delivery_id: str
    flow: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    auth_type: str | None = None
    link: str | None = None


def deliver(msg: Message, settings: FlowSettings | None = None) -> str:
    """Send ``msg`` to its channel. Returns a short description of the receiver's answer.

    Raises: DeliveryError (refused, unreachable, misconfigured)."""
    settings = settings or flow_settings()
    kind = msg.notification_type
    if kind in (WEBHOOK, HTTP_ACTION):
        return _webhook(msg, settings)
    if kind == EMAIL:
        return _apprise(_email_url(msg, settings), msg)
    if kind == SLACK:
        return _apprise(_slack_url(msg), msg, slack_base=settings.slack_url)
    if kind == TEAMS:
        return _apprise(_teams_url(msg), msg)
    if kind == PAGERDUTY:
        return _apprise(_pagerduty_url(msg), msg, pagerduty_url=settings.pagerduty_url)
    raise DeliveryError(f"notification type '{kind}' is not delivered by a channel")


# -- URL building (also used to validate parameters when an action is saved) ------------------


def _q(value: Any) -> str:
    return up.quote(str(value), safe="")


def _emails(value: Any) -> list[str]:
    items = value if isinstance(value, list) else str(value or "").split(",")
    return [e.strip() for e in items if str(e).strip()]


def _email_url(msg: Message, s: FlowSettings) -> str:
    p, sec = msg.parameters, msg.secrets
    to = _emails(p.get("emails"))
    if not to:
        raise DeliveryError("parameters.emails: no recipient")
    host = p.get("smtp_host") or s.smtp_host
    if not host:
        raise DeliveryError("no SMTP server: set parameters.smtp_host or ASSAY_SMTP_HOST")
    port = int(p.get("smtp_port") or s.smtp_port)
    security = str(p.get("smtp_security") or s.smtp_security).lower()
    user = p.get("smtp_username") or (s.smtp_username if not p.get("smtp_host") else None)
    password = sec.get("smtp_password") or (s.smtp_password if not p.get("smtp_host") else None)
    scheme = "mailtos" if security in ("ssl", "starttls") else "mailto"
    mode = {"ssl": "ssl", "starttls": "starttls"}.get(security, "insecure")
    login = f"{_q(user)}:{_q(password or '')}@" if user else ""
    query = {
        "smtp": host,
        "from": p.get("smtp_from") or s.smtp_from,
        "to": ",".join(to),
        "mode": mode,
        "format": "text",
    }
    return f"{scheme}://{login}{host}:{port}/?{up.urlencode(query)}"


_SLACK_HOOK = re.compile(r"/services/([^/?#]+)/([^/?#]+)/([^/?#]+)/?$")


def _slack_url(msg: Message) -> str:
    url = str(msg.secrets.get("webhook_url") or "")
    m = _SLACK_HOOK.search(up.urlsplit(url).path)
    if not m:
        raise DeliveryError("parameters.webhook_url: not a Slack incoming webhook (…/services/T…/B…/…)")
    channel = str(msg.parameters.get("channel") or "").lstrip("#")
    target = f"%23{_q(channel)}" if channel else ""
    return f"slack://{'/'.join(_q(t) for t in m.groups())}/{target}?footer=no&image=no&blocks=no"


def _teams_url(msg: Message) -> str:
    url = up.urlsplit(str(msg.secrets.get("webhook_url") or ""))
    m = re.search(r"/workflows/([^/]+)/triggers/", url.path)
    query = dict(up.parse_qsl(url.query))
    if url.scheme != "https" or not url.hostname or not m or not query.get("sig"):
        raise DeliveryError(
            "parameters.webhook_url: not a Teams Workflows webhook (https://…/workflows/<id>/triggers/…?…&sig=…)"
        )
    port = f":{url.port}" if url.port else ""
    args = {"image": "no", "pa": "yes" if url.path.startswith("/powerautomate/") else "no"}
    if query.get("api-version"):
        args["ver"] = query["api-version"]
    return f"workflows://{url.hostname}{port}/{_q(m.group(1))}/{_q(query['sig'])}/?{up.urlencode(args)}"


def _pagerduty_url(msg: Message) -> str:
    p = msg.parameters
    key = str(msg.secrets.get("routing_key") or "")
    if not key:
        raise DeliveryError("parameters.routing_key: required")
    severity = str(p.get("severity") or "info").lower()
    if severity not in SEVERITIES:
        raise DeliveryError(f"parameters.severity: one of {', '.join(SEVERITIES)}")
    source = _q(msg.context.get("datastore_name") or "assay")
    component = _q(msg.context.get("container_name") or msg.context.get("operation_type") or msg.trigger_type)
    args = {
        "severity": severity,
        "dedup": msg.delivery_id,
        "class": msg.trigger_type.lower(),
        "image": "no",
        "region": "us",
    }
    if msg.link:
        args["click"] = msg.link
    for k, v in (p.get("custom_details") or {}).items():
        args[f"+{k}"] = str(v)
    return f"pagerduty://{_q(key)}@events-v2/{source}/{component}/?{up.urlencode(args)}"


def check_parameters(notification_type: str, parameters: dict, secrets: dict) -> None:
    """Raise DeliveryError when the settings of a notification action cannot work (a missing
    recipient, a URL that is not the service's). Called when an action is saved."""
    msg = Message(notification_type, parameters, secrets, "", "", "Manual", "check")
    try:
        _check_fields(notification_type, parameters, secrets, msg)
    except (TypeError, ValueError, AttributeError) as e:  # a value of the wrong type
        raise DeliveryError(f"parameters: {e}") from None
    url = {
        EMAIL: lambda: _email_url(msg, flow_settings()),
        SLACK: lambda: _slack_url(msg),
        TEAMS: lambda: _teams_url(msg),
    }
    url[PAGERDUTY] = lambda: _pagerduty_url(msg)
    if notification_type in url:
        import apprise

        if apprise.Apprise.instantiate(url[notification_type]()) is None:
            raise DeliveryError(f"parameters: Apprise refuses these {notification_type} settings (a malformed token?)")


def _check_fields(notification_type: str, parameters: dict, secrets: dict, msg: Message) -> None:
    if notification_type == EMAIL:
        emails = parameters.get("emails")
        if not isinstance(emails, str) and not (isinstance(emails, list) and all(isinstance(e, str) for e in emails)):
            raise DeliveryError("parameters.emails: a comma-separated text or a list of addresses")
        if parameters.get("smtp_port") is not None:
            port = parameters["smtp_port"]
            if isinstance(port, bool) or not str(port).isdigit() or not 1 <= int(port) <= 65535:
                raise DeliveryError("parameters.smtp_port: a TCP port, 1 to 65535")
        if not _emails(parameters.get("emails")):
            raise DeliveryError("parameters.emails: at least one address is required")
        bad = [e for e in _emails(parameters.get("emails")) if not re.fullmatch(r"[^@\s]+@[^@\s]+", e)]
        if bad:
            raise DeliveryError(f"parameters.emails: not an email address: {', '.join(bad)}")
        if parameters.get("smtp_security") and str(parameters["smtp_security"]).lower() not in (
            "none",
            "starttls",
            "ssl",
        ):
            raise DeliveryError("parameters.smtp_security: one of none, starttls, ssl")
    elif notification_type == SLACK:
        _slack_url(msg)
    elif notification_type == TEAMS:
        _teams_url(msg)
    elif notification_type == PAGERDUTY:
        if parameters.get("custom_details") is not None and not isinstance(parameters["custom_details"], dict):
            raise DeliveryError("parameters.custom_details: an object of key/value pairs")
        _pagerduty_url(msg)
    elif notification_type in (WEBHOOK, HTTP_ACTION):
        url = up.urlsplit(str(secrets.get("webhook_url") or ""))
        if url.scheme not in ("http", "https") or not url.hostname:
            raise DeliveryError("parameters.webhook_url: an http(s) URL is required")


# -- Apprise ---------------------------------------------------------------------------------

_apprise_lock = threading.Lock()  # Apprise's log capture is process-wide
_PAGERDUTY_REGION = "assay-endpoint"


def _apprise(url: str, msg: Message, *, slack_base: str | None = None, pagerduty_url: str | None = None) -> str:
    import apprise

    plugin: Any = apprise.Apprise.instantiate(url)
    if plugin is None:
        raise DeliveryError(f"{msg.notification_type}: the settings do not make a valid destination")
    if slack_base is not None:
        plugin.webhook_url = slack_base  # documented override: ASSAY_FLOWS_SLACK_URL
    if pagerduty_url is not None:
        from apprise.plugins import pagerduty

        pagerduty.PAGERDUTY_API_LOOKUP[_PAGERDUTY_REGION] = pagerduty_url  # ASSAY_FLOWS_PAGERDUTY_URL
        plugin.region_name = _PAGERDUTY_REGION
    with _apprise_lock, apprise.LogCapture(level=logging.WARNING) as captured:
        ok = plugin.notify(body=msg.text, title=msg.title)
        problems = captured.getvalue().strip()
    if not ok:
        raise DeliveryError(f"{msg.notification_type} delivery failed: {problems or 'refused'}"[:2000])
    return f"{msg.notification_type} accepted the notification"


# -- webhooks ------------------------------------------------------------------------------------


def signature(secret: str, body: bytes) -> str:
    """The ``X-Assay-Signature-256`` value of ``body``: ``sha256=`` + hex HMAC-SHA256 with ``secret``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_body(msg: Message) -> bytes:
    """The exact bytes POSTed to a webhook (compact JSON, keys sorted)."""
    payload = {
        "delivery_id": msg.delivery_id,
        "flow": msg.flow,
        "trigger_type": msg.trigger_type,
        "message": msg.text,
        "context": msg.context,
        "sent_at": dt.datetime.now(dt.UTC).isoformat(),
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


_http_client: Any = None
_http_lock = threading.Lock()


def _http() -> Any:
    """One httpx client per process (building one loads the CA bundle: ~0.1 s)."""
    global _http_client
    import httpx

    with _http_lock:
        if _http_client is None:
            _http_client = httpx.Client(follow_redirects=False)
        return _http_client


def _webhook(msg: Message, s: FlowSettings) -> str:
    import httpx

    from .. import __version__

    url = str(msg.secrets.get("webhook_url") or "")
    body = webhook_body(msg)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"Assay/{__version__}",
        DELIVERY_HEADER: msg.delivery_id,
        "X-Assay-Event": msg.trigger_type,
    }
    if msg.secrets.get("secret"):
        headers[SIGNATURE_HEADER] = signature(str(msg.secrets["secret"]), body)
    auth = None
    if msg.notification_type == HTTP_ACTION:
        if msg.auth_type == "bearer" and msg.secrets.get("token"):
            headers["Authorization"] = f"Bearer {msg.secrets['token']}"
        elif msg.auth_type in ("basic", "digest") and msg.parameters.get("username"):
            cls = httpx.BasicAuth if msg.auth_type == "basic" else httpx.DigestAuth
            auth = cls(str(msg.parameters["username"]), str(msg.secrets.get("password") or ""))
    try:
        r = _http().post(url, content=body, headers=headers, auth=auth, timeout=s.http_timeout)
    except httpx.HTTPError as e:
        raise DeliveryError(f"webhook unreachable: {type(e).__name__}: {e}") from None
    if not 200 <= r.status_code < 300:
        raise DeliveryError(f"webhook answered HTTP {r.status_code}: {r.text[:500]}")
    return f"HTTP {r.status_code}"
