"""The lead field options that `add` and `edit` share, declared once.

``lead_fields`` appends these options to a command's signature and hands the
command a single ``raw`` dict of field name → given value.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Annotated, Any

import typer

# parameter name, lead field, option, help
FIELD_OPTIONS: list[tuple[str, str, str, str]] = [
    ("email", "email", "--email", "Email address (syntax-checked)."),
    ("phone", "phone", "--phone", "Phone number; stored as E.164."),
    ("company", "company", "--company", "Company name."),
    ("source", "source", "--source", "Source, from `leadctl sources`."),
    ("priority", "priority", "--priority", "low, medium, high or critical."),
    ("title", "title", "--title", "Job title."),
    ("industry", "industry", "--industry", "Industry."),
    ("country", "country", "--country", "Country (name or ISO code)."),
    ("region", "region", "--region", "Region or state."),
    ("company_size", "company_size", "--company-size", "Employees (e.g. 50 or 11-50)."),
    ("revenue", "annual_revenue", "--revenue", "Annual revenue (e.g. 2500000 or $2.5M)."),
    ("budget", "budget", "--budget", "BANT budget amount."),
    ("authority", "authority", "--authority", "BANT: is a decision maker (yes/no)."),
    ("need", "need", "--need", "BANT need."),
    ("timeline", "timeline", "--timeline", "BANT expected purchase date."),
    ("deal_value", "deal_value", "--deal-value", "Estimated deal value."),
    ("client", "client_id", "--client", "Id of the existing client this lead belongs to."),
    ("utm_source", "utm_source", "--utm-source", "Campaign source."),
    ("utm_medium", "utm_medium", "--utm-medium", "Campaign medium."),
    ("utm_campaign", "utm_campaign", "--utm-campaign", "Campaign name."),
]


REPEATED_OPTIONS = [
    ("tag", "--tag", "Tag (repeat or comma-separate)."),
    ("field", "--field", "Custom field key=value (repeatable)."),
]


def lead_fields(*, with_name: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    options = list(FIELD_OPTIONS)
    if with_name:
        options.insert(0, ("name", "name", "--name", "Full name."))

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(command)
        hints = typing.get_type_hints(command, include_extras=True)
        own = [
            p.replace(annotation=hints[p.name])
            for p in signature.parameters.values()
            if p.name != "raw"
        ]
        added = [
            inspect.Parameter(
                pname,
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[str | None, typer.Option(option, help=help_text)],
            )
            for pname, _, option, help_text in options
        ]
        added += [
            inspect.Parameter(
                pname,
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[list[str] | None, typer.Option(option, help=help_text)],
            )
            for pname, option, help_text in REPEATED_OPTIONS
        ]

        def wrapper(**kwargs: Any) -> Any:
            from leadctl.normalize import parse_field_pairs

            raw: dict[str, Any] = {fname: kwargs.pop(pname) for pname, fname, _, _ in options}
            tags, pairs = kwargs.pop("tag"), kwargs.pop("field")
            if tags:
                raw["tags"] = tags
            if pairs:
                raw["fields"] = parse_field_pairs(pairs)
            return command(raw=raw, **kwargs)

        wrapper.__name__ = command.__name__
        wrapper.__doc__ = command.__doc__
        parameters = own + added
        wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
        return wrapper

    return decorate
