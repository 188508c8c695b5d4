"""Other tools' words for statuses, sources, priorities and lost reasons, and
the database's own lists they are mapped onto (SPEC: Pipeline, Import)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import lru_cache

from sqlmodel import Session

from leadctl import clock, lists, settings

_KEY = re.compile(r"[\W_]+")

STATUS_WORDS: dict[str, list[str]] = {
    "new": [
        "new", "open", "opennotcontacted", "notcontacted", "unworked", "lead", "newlead",
        "subscriber", "subscribed", "notstarted", "untouched", "unread",
    ],
    "contacted": [
        "contacted", "workingcontacted", "attemptedtocontact", "attemptingcontact",
        "inprogress", "working", "connected", "contactmade", "responded",
    ],
    "qualified": [
        "qualified", "marketingqualifiedlead", "salesqualifiedlead", "mql", "sql",
        "prequalified", "opportunity", "opendeal", "proposition", "proposal",
    ],
    "converted": ["converted", "closedconverted", "customer", "won", "closedwon", "evangelist"],
    "nurture": [
        "nurture", "renurture", "nurturing", "contactinfuture", "recycled", "notnow",
        "badtiming", "later",
    ],
    "unqualified": [
        "unqualified", "disqualified", "notqualified", "closednotconverted", "junklead", "junk",
        "badfit", "notafit",
    ],
    "lost": ["lost", "lostlead", "closedlost", "dead", "closed"],
}  # fmt: skip
SOURCE_WORDS: dict[str, list[str]] = {
    "Website": [
        "website", "web", "webform", "webforms", "websiteform", "organicsearch",
        "directtraffic", "searchengine", "seo", "online", "inbound", "webinquiry",
    ],
    "Referral": [
        "referral", "referrals", "partnerreferral", "partner", "employeereferral",
        "externalreferral", "customerreferral", "wordofmouth", "referred",
    ],
    "LinkedIn": ["linkedin", "linkedincom", "linkedinsalesnavigator", "salesnavigator"],
    "Social Media": [
        "socialmedia", "social", "facebook", "twitter", "x", "instagram", "tiktok",
        "youtube", "organicsocial",
    ],
    "Email": ["email", "emailmarketing", "newsletter", "emailcampaign", "mailchimp", "mailing"],
    "Cold Call": ["coldcall", "coldcalling", "phoneinquiry", "phone", "outbound", "outboundcall"],
    "Event": [
        "event", "events", "tradeshow", "conference", "seminar", "seminarinternal",
        "seminarpartner", "webinar", "expo", "meetup", "fair",
    ],
    "Advertisement": [
        "advertisement", "ad", "ads", "paidsearch", "paidsocial", "ppc", "googleads",
        "googleadwords", "adwords", "onlinead", "onlineads", "banner", "paid",
    ],
    "Direct Mail": ["directmail", "postal", "mailer", "postalmail"],
    "Other": ["other", "othercampaigns", "offline", "offlinesources", "unknown"],
}  # fmt: skip
PRIORITY_WORDS: dict[str, list[str]] = {
    "low": ["low", "lowest", "minor", "1"],
    "medium": ["medium", "normal", "med", "average", "default", "0"],
    "high": ["high", "important", "major", "2"],
    "critical": ["critical", "urgent", "veryhigh", "highest", "top", "blocker", "3"],
}
LOST_REASON_WORDS: dict[str, list[str]] = {
    "Not interested": ["notinterested", "nointerest"],
    "Not a fit": ["notafit", "nofit", "badfit", "wrongfit"],
    "Bad timing": ["badtiming", "timing", "nottherighttime"],
    "No budget": ["nobudget", "price", "tooexpensive", "toexpensive", "budget"],
    "Competitor": ["competitor", "lostcompetitor", "wentwithcompetitor", "competition"],
    "Unreachable": ["unreachable", "noresponse", "unresponsive", "cannotreach", "noanswer"],
}

DATE_FORMATS = [
    "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M", "%d.%m.%Y", "%d.%m.%y", "%d %b %Y", "%d %B %Y", "%d-%b-%y", "%d-%b-%Y",
    "%b %d, %Y", "%B %d, %Y", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d", "%m/%d/%y", "%Y%m%d",
]  # fmt: skip


@lru_cache(maxsize=4096)
def word_key(text: str) -> str:
    """Letters and digits, case-folded: ``Open - Not Contacted`` → ``opennotcontacted``
    (cached: a column holds few distinct values)."""
    return _KEY.sub("", text.casefold())


def _invert(words: dict[str, list[str]]) -> dict[str, str]:
    return {word: target for target, keys in words.items() for word in keys}


@dataclass
class Vocabulary:
    """The database's lists, with other tools' words mapped onto them."""

    statuses: dict[str, tuple[str, str | None]]  # word key → (status name, role)
    sources: dict[str, str]  # word key → source name
    lost_reasons: dict[str, str]
    region_setting: str | None
    other_reason: str = "Other"
    _priorities: dict[str, str] = field(default_factory=lambda: _invert(PRIORITY_WORDS))

    @classmethod
    def load(cls, session: Session) -> Vocabulary:
        entries = lists.entries(session, "status")
        by_name = {word_key(e.name): (e.name, e.role) for e in entries}
        statuses = {
            word: by_name[word_key(name)]
            for word, name in _invert(STATUS_WORDS).items()
            if word_key(name) in by_name
        } | by_name
        sources = _matched(lists.names(session, "source"), SOURCE_WORDS)
        reasons = lists.names(session, "lost_reason")
        other = next(
            (r for r in reasons if r.casefold() == "other"), reasons[-1] if reasons else ""
        )
        return cls(
            statuses,
            sources,
            _matched(reasons, LOST_REASON_WORDS),
            settings.get(session, "region"),
            other,
        )

    def status(self, text: str) -> tuple[str, str | None] | None:
        return self.statuses.get(word_key(text))

    def source(self, text: str) -> str | None:
        return self.sources.get(word_key(text))

    def lost_reason(self, text: str) -> str | None:
        return self.lost_reasons.get(word_key(text))

    def priority(self, text: str) -> str | None:
        return self._priorities.get(word_key(text))


def _matched(names: list[str], words: dict[str, list[str]]) -> dict[str, str]:
    """Word key → list entry: other tools' words for entries the list still has, then its own."""
    own = {word_key(name): name for name in names}
    mapped = {word: own[word_key(t)] for word, t in _invert(words).items() if word_key(t) in own}
    return mapped | own


class DateReader:
    """Reads one column's dates, remembering the format that worked last.

    Times without a zone are taken as UTC (CRM exports write UTC); a bare date
    is midnight UTC, or ``bare_time`` local for a future appointment.
    """

    def __init__(self, bare_time: time | None = None) -> None:
        self.last: str | None = None
        self.bare_time = bare_time

    def __call__(self, text: str) -> datetime:
        value = self._parse(text.strip())
        if value.tzinfo is None:
            if self.bare_time is not None and value.time() == time(0) and len(text) <= 11:
                return datetime.combine(value.date(), self.bare_time).astimezone().astimezone(UTC)
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def date(self, text: str) -> date:
        return self._parse(text.strip()).date()

    def _parse(self, text: str) -> datetime:
        """The date, in clock's years: a sentinel (0001-01-01, 9999-12-31) is no
        date, so the caller leaves the field blank with a warning."""
        value = self._parse_any(text)
        if not clock.EARLIEST_YEAR <= value.year <= clock.LATEST_YEAR:
            raise ValueError(text)
        return value

    def _parse_any(self, text: str) -> datetime:
        if self.last is not None:
            try:
                return _with_format(text, self.last)
            except ValueError:
                pass
        for fmt in ("iso", *DATE_FORMATS):
            try:
                value = _with_format(text, fmt)
            except ValueError:
                continue
            self.last = fmt
            return value
        raise ValueError(text)


def _with_format(text: str, fmt: str) -> datetime:
    if fmt == "iso":
        return datetime.fromisoformat(text)
    return datetime.strptime(text, fmt)
