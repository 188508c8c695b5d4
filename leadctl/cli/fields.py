"""The lead field options that `add` and `edit` share, from the field registry
(``leadctl.fields``: each field's option and help).

``lead_fields`` appends these options to a command's signature and hands the
command a single ``raw`` dict of field name → given value.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Annotated, Any

import typer

from leadctl.fields import BY_NAME, OPTION_FIELDS, LeadField


def _option(spec: LeadField) -> tuple[str, str, str, str]:
    """(parameter name, lead field, option, help) of a field that is an option."""
    assert spec.option is not None and spec.param is not None
    return (spec.param, spec.name, spec.option, spec.help)


FIELD_OPTIONS = [_option(f) for f in OPTION_FIELDS if f.name != "name"]
NAME_OPTION = _option(BY_NAME["name"])  # edit's; add takes the name as its argument


REPEATED_OPTIONS = [
    ("tag", "--tag", "Tag (repeat or comma-separate)."),
    ("field", "--field", "Custom field key=value (repeatable)."),
]


def lead_fields(*, with_name: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    options = list(FIELD_OPTIONS)
    if with_name:
        options.insert(0, NAME_OPTION)

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
        # Typer reads the options from inspect.signature(), which honours __signature__;
        # typeshed declares no such attribute on functions.
        wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
        return wrapper

    return decorate
