"""Other tools' words for statuses, sources, priorities and lost reasons, and
the database's own lists they are mapped onto (SPEC: Pipeline, Import)."""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Any

from sqlmodel import Session

from leadctl import clock, lists, settings

_KEY = re.compile(r"[\W_]+")

STATUS_WORDS: dict[str, list[str]] = {
    "new": [
        "new", "open", "opennotcontacted", "notcontacted", "unworked", "lead", "newlead",
        "subscriber", "subscribed", "notstarted", "untouched", "unread", "nuevo", "nueva",
        "abierto", "abierta", "sincontactar", "nocontactado", "novo", "nova", "aberto",
        "naocontatado", "naocontactado", "nouveau", "nouvelle", "ouvert", "noncontacte", "neu",
        "offen", "nichtkontaktiert", "nuovo", "nuova", "aperto", "noncontattato", "новый", "новая",
        "новые", "новыйлид", "открыт", "неразобранное",
    ],
    "contacted": [
        "contacted", "workingcontacted", "attemptedtocontact", "attemptingcontact", "inprogress",
        "working", "connected", "contactmade", "responded", "contacting", "processing",
        "contactado", "contactada", "encontacto", "contatado", "contatada", "emcontato", "contacte",
        "contactee", "encours", "kontaktiert", "inbearbeitung", "kontaktaufgenommen", "contattato",
        "contattata", "incorso", "attempted", "enproceso", "enprogreso", "emandamento",
        "emprocessamento", "inlavorazione", "вработе", "связались", "первичныйконтакт", "обработка",
        "контакт", "взятвработу",
    ],
    "qualified": [
        "qualified", "marketingqualifiedlead", "salesqualifiedlead", "mql", "sql", "prequalified",
        "opportunity", "opendeal", "proposition", "proposal", "cualificado", "calificado",
        "calificada", "cualificada", "qualificado", "qualificada", "qualifie", "qualifiee",
        "qualifiziert", "qualificato", "qualificata", "квалифицирован", "квалифицированный",
        "negotiation", "negociacion", "negociacao", "negociation", "verhandlung", "trattativa",
        "переговоры", "propuesta", "proposta", "angebot", "offerta", "предложение",
    ],
    "converted": [
        "converted", "closedconverted", "customer", "won", "closedwon", "evangelist", "convertido",
        "convertida", "ganado", "ganada", "cerradoganado", "ganho", "fechadoganho", "convertie",
        "converti", "gagne", "konvertiert", "gewonnen", "convertito", "vinto", "успешно",
        "успешнореализовано", "выиграно", "конвертирован",
    ],
    "nurture": [
        "nurture", "renurture", "nurturing", "contactinfuture", "recycled", "notnow", "badtiming",
        "later", "enpausa", "pausado", "enespera", "pausiert", "inpausa", "enattente", "отложено",
        "отложен",
    ],
    "unqualified": [
        "unqualified", "disqualified", "notqualified", "closednotconverted", "junklead", "junk",
        "badfit", "notafit", "descalificado", "nocalificado", "nocualificado", "desqualificado",
        "naoqualificado", "disqualifie", "nonqualifie", "disqualifiziert", "nichtqualifiziert",
        "squalificato", "nonqualificato", "неквалифицирован", "некачественный", "spam", "спам",
    ],
    "lost": [
        "lost", "lostlead", "closedlost", "dead", "closed", "perdido", "perdida", "cerradoperdido",
        "fechadoperdido", "perdu", "perdue", "verloren", "perso", "persa", "проиграно", "потерян",
        "закрытоинереализовано", "отказ",
    ],
}  # fmt: skip
SOURCE_WORDS: dict[str, list[str]] = {
    "Website": [
        "website", "web", "webform", "webforms", "websiteform", "organicsearch", "directtraffic",
        "searchengine", "seo", "online", "inbound", "webinquiry", "sitioweb", "paginaweb", "sitio",
        "formulario", "formularioweb", "site", "siteweb", "siteinternet", "internet", "webseite",
        "homepage", "sitoweb", "сайт", "вебсайт", "заявкассайта",
    ],
    "Referral": [
        "referral", "referrals", "partnerreferral", "partner", "employeereferral",
        "externalreferral", "customerreferral", "wordofmouth", "referred", "recomendacion",
        "recomendaciones", "referido", "referidos", "referencia", "indicacao", "recomendacao",
        "recommandation", "parrainage", "boucheaoreille", "empfehlung", "weiterempfehlung",
        "passaparola", "segnalazione", "raccomandazione", "referenza", "рекомендация",
        "сарафанноерадио", "socio", "parceiro", "partenaire",
    ],
    "LinkedIn": [
        "linkedin", "linkedincom", "linkedinsalesnavigator", "salesnavigator",
    ],
    "Social Media": [
        "socialmedia", "social", "facebook", "twitter", "x", "instagram", "tiktok", "youtube",
        "organicsocial", "redes", "redessociales", "redsocial", "redessociais", "midiassociais",
        "mediassociaux", "reseauxsociaux", "socialemedien", "sozialemedien", "socialnetwork",
        "socialnetworks", "socialnetworking", "social_media", "socialmedias",
        "socialmediaplattform", "reti", "retisociali", "социальныесети", "соцсети", "vk",
        "vkontakte", "вконтакте", "telegram", "whatsapp",
    ],
    "Email": [
        "email", "emailmarketing", "newsletter", "emailcampaign", "mailchimp", "mailing", "correo",
        "correoelectronico", "emailing", "courrielmarketing", "postaelettronica",
        "электроннаяпочта", "почта", "рассылка",
    ],
    "Cold Call": [
        "coldcall", "coldcalling", "phoneinquiry", "phone", "outbound", "outboundcall",
        "llamadaenfrio", "llamada", "telefono", "ligacao", "ligacaofria", "appel",
        "appeltelephonique", "telefonat", "kaltakquise", "telefonakquise", "chiamata",
        "chiamatafredda", "телефон", "звонок", "холодныйзвонок",
    ],
    "Event": [
        "event", "events", "tradeshow", "conference", "seminar", "seminarinternal",
        "seminarpartner", "webinar", "expo", "meetup", "fair", "evento", "eventos", "feria",
        "congreso", "conferencia", "seminario", "exposicion", "gestiondirecta", "salon", "salao",
        "feira", "evenement", "foire", "salonprofessionnel", "veranstaltung", "messe", "konferenz",
        "fiera", "convegno", "мероприятие", "выставка", "конференция", "семинар",
    ],
    "Advertisement": [
        "advertisement", "ad", "ads", "paidsearch", "paidsocial", "ppc", "googleads",
        "googleadwords", "adwords", "onlinead", "onlineads", "banner", "paid", "publicidad",
        "anuncio", "anuncios", "publicidade", "publicite", "annonce", "annonces", "werbung",
        "anzeige", "anzeigen", "pubblicita", "annuncio", "реклама", "контекстнаяреклама",
    ],
    "Direct Mail": [
        "directmail", "postal", "mailer", "postalmail", "correodirecto", "maladireta",
        "courrierdirect", "publipostage", "postwurf", "direktmailing", "postadiretta",
        "прямаярассылка",
    ],
    "Other": [
        "other", "othercampaigns", "offline", "offlinesources", "unknown", "otro", "otros", "outro",
        "outros", "autre", "autres", "sonstige", "sonstiges", "andere", "altro", "altri", "другое",
        "прочее",
    ],
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
    """Letters and digits, case-folded, without accents: ``Open - Not Contacted`` →
    ``opennotcontacted``, ``Recomendación`` → ``recomendacion`` (cached: a column
    holds few distinct values)."""
    key = _KEY.sub("", text.casefold())
    if not key.isascii():
        key = "".join(
            ch for ch in unicodedata.normalize("NFKD", key) if not unicodedata.combining(ch)
        )
    return key


def _invert(words: dict[str, list[str]]) -> dict[str, str]:
    return {word_key(word): target for target, keys in words.items() for word in keys}


MAX_SOURCE = 60  # characters: a longer "source" is a sentence, not a channel


def new_source_name(text: str) -> str | None:
    """A source value that matches no list entry, as the name of a new entry
    (spaces collapsed); None when it cannot name one (too long, no letter)."""
    name = " ".join(text.split())
    if len(name) > MAX_SOURCE or not any(ch.isalpha() for ch in name):
        return None
    if not name.isprintable():
        return None
    return name


def add_sources(session: Session, names: list[str]) -> None:
    """Append sources to the list, in the import's own transaction (an import
    may add them: the values are its rows', not a change of the list's rules)."""
    from sqlalchemy import func
    from sqlmodel import col, select

    from leadctl.models import Choice

    top = session.exec(select(func.max(col(Choice.position))).where(Choice.list == "source")).one()
    for offset, name in enumerate(names, start=1):
        session.add(Choice(list="source", name=name, position=(top or 0) + offset))
    session.flush()


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

    def won_status(self) -> str | None:
        """The status a converted lead is in (the won role), if the list has one."""
        return next((name for name, role in self.statuses.values() if role == "won"), None)

    def new_source(self, text: str) -> str | None:
        """A name for a source no entry matches, remembered so that later rows
        spelling it alike (``radio``, ``Radio``) get the same one."""
        name = new_source_name(text)
        if name is not None:
            self.sources[word_key(text)] = name
        return name

    def lost_reason(self, text: str) -> str | None:
        return self.lost_reasons.get(word_key(text))

    def priority(self, text: str) -> str | None:
        return self._priorities.get(word_key(text))


class NewSources:
    """The sources an import's rows name that the list does not have yet (the
    row parser made them, maybe in the reader process): found batch by batch,
    in file order, for the writer to add and the summary to name."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.known = {name.casefold() for name in vocabulary.sources.values()}
        self.names: list[str] = []
        self.seen: set[str] = set()  # exact names already looked at: one set lookup a row

    def take(self, rows: list[Any]) -> list[str]:
        """The batch's sources not in the list yet (each once), now known."""
        fresh = []
        seen = self.seen
        for row in rows:
            name = row.values.get("source")
            if name is None or name in seen:
                continue
            seen.add(name)
            if name.casefold() not in self.known:
                self.known.add(name.casefold())
                fresh.append(name)
        self.names += fresh
        return fresh


def _matched(names: list[str], words: dict[str, list[str]]) -> dict[str, str]:
    """Word key → list entry: other tools' words for entries the list still has, then its own."""
    own = {word_key(name): name for name in names}
    mapped = {word: own[word_key(t)] for word, t in _invert(words).items() if word_key(t) in own}
    return mapped | own


_SHAPE = str.maketrans("0123456789" + string.ascii_letters, "9" * 10 + "a" * 52)
MAX_SHAPES = 64  # date shapes remembered per column: a column holds a few


class DateReader:
    """Reads one column's dates, remembering for each shape of text (``99/99/9999
    99:99 aa``) the format that read it last: a column mixing two formats costs
    one try a value, not a walk through every format on each change.

    Times without a zone are taken as UTC (CRM exports write UTC); a bare date
    is midnight UTC, or ``bare_time`` local for a future appointment.
    """

    def __init__(self, bare_time: time | None = None) -> None:
        self.formats: dict[str, str] = {}  # shape of the text → the format that read it
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
        """The date, in clock's years: a placeholder (0001-01-01, 1900-01-01,
        Excel's day zero, 9999-12-31) or a year out of range is no date
        (:class:`clock.NoDate`), so the caller leaves the field blank with a warning."""
        value = self._parse_any(text)
        problem = clock.date_problem(value)
        if problem is not None:
            raise clock.NoDate(f"{problem}: left blank")
        return value

    def _parse_any(self, text: str) -> datetime:
        shape = text.translate(_SHAPE)
        known = self.formats.get(shape)
        if known is not None:
            try:
                return _with_format(text, known)
            except ValueError:
                pass
        if "9" not in shape and not any(c.isdigit() for c in text):
            raise ValueError(text)  # every format has digits: "n/a", "sometime in May"
        for fmt in ("iso", *DATE_FORMATS):
            try:
                value = _with_format(text, fmt)
            except ValueError:
                continue
            if known is not None or len(self.formats) < MAX_SHAPES:
                self.formats[shape] = fmt
            return value
        raise ValueError(text)


def _with_format(text: str, fmt: str) -> datetime:
    if fmt == "iso":
        return datetime.fromisoformat(text)
    return datetime.strptime(text, fmt)
