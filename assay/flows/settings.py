"""Flow settings, read from the environment on every use (so tests can change them).

| variable                       | default                  | meaning                                              |
|--------------------------------|--------------------------|------------------------------------------------------|
| ASSAY_PUBLIC_URL               | http://127.0.0.1:8000    | base of the links in messages                        |
| ASSAY_FLOWS_POLL_SECONDS       | 2                        | how often the dispatcher looks for work              |
| ASSAY_FLOWS_RETRY_SECONDS      | 30                       | delay before the 2nd attempt; doubles each attempt   |
| ASSAY_FLOWS_RETRY_MAX_SECONDS  | 3600                     | longest delay between two attempts                   |
| ASSAY_FLOWS_MAX_ATTEMPTS       | 12                       | attempts before an action execution fails for good   |
| ASSAY_FLOWS_LEASE_SECONDS      | 300                      | a claimed delivery not finished by then is retried   |
| ASSAY_FLOWS_HTTP_TIMEOUT       | 10                       | seconds per webhook request                          |
| ASSAY_FLOWS_SLACK_URL          | https://hooks.slack.com/services | Slack incoming-webhook base                  |
| ASSAY_FLOWS_PAGERDUTY_URL      | https://events.pagerduty.com/v2/enqueue | PagerDuty Events API v2 endpoint      |
| ASSAY_SMTP_HOST / _PORT        | — / 587                  | default SMTP server of email actions                 |
| ASSAY_SMTP_USERNAME / _PASSWORD| —                        | default SMTP login                                   |
| ASSAY_SMTP_FROM                | assay@localhost          | default sender                                       |
| ASSAY_SMTP_SECURITY            | starttls                 | none, starttls or ssl                                |
"""

from __future__ import annotations

import os
from dataclasses import dataclass

SLACK_DEFAULT = "https://hooks.slack.com/services"
PAGERDUTY_DEFAULT = "https://events.pagerduty.com/v2/enqueue"


def _float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


@dataclass(frozen=True)
class FlowSettings:
    public_url: str
    poll_seconds: float
    retry_seconds: float
    retry_max_seconds: float
    max_attempts: int
    lease_seconds: float
    http_timeout: float
    slack_url: str
    pagerduty_url: str
    smtp_host: str | None
    smtp_port: int
    smtp_username: str | None
    smtp_password: str | None
    smtp_from: str
    smtp_security: str

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt: retry_seconds × 2^(attempts−1),
        at most retry_max_seconds."""
        return min(self.retry_max_seconds, self.retry_seconds * 2 ** max(0, attempts - 1))


def flow_settings() -> FlowSettings:
    env = os.environ.get
    return FlowSettings(
        public_url=(env("ASSAY_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/"),
        poll_seconds=_float("ASSAY_FLOWS_POLL_SECONDS", 2),
        retry_seconds=_float("ASSAY_FLOWS_RETRY_SECONDS", 30),
        retry_max_seconds=_float("ASSAY_FLOWS_RETRY_MAX_SECONDS", 3600),
        max_attempts=max(1, int(_float("ASSAY_FLOWS_MAX_ATTEMPTS", 12))),
        lease_seconds=_float("ASSAY_FLOWS_LEASE_SECONDS", 300),
        http_timeout=_float("ASSAY_FLOWS_HTTP_TIMEOUT", 10),
        slack_url=(env("ASSAY_FLOWS_SLACK_URL") or SLACK_DEFAULT).rstrip("/"),
        pagerduty_url=env("ASSAY_FLOWS_PAGERDUTY_URL") or PAGERDUTY_DEFAULT,
        smtp_host=env("ASSAY_SMTP_HOST") or None,
        smtp_port=int(_float("ASSAY_SMTP_PORT", 587)),
        smtp_username=env("ASSAY_SMTP_USERNAME") or None,
        smtp_password=env("ASSAY_SMTP_PASSWORD") or None,
        smtp_from=env("ASSAY_SMTP_FROM") or "assay@localhost",
        smtp_security=(env("ASSAY_SMTP_SECURITY") or "starttls").lower(),
    )
