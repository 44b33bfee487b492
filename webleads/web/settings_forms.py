"""Reading settings forms defensively: every value is text of a bounded length (a file
or an over-long value is an error on its field), numbers are parsed without raising,
lists are split on commas and new lines.  Errors are collected per field, translated,
so that a page re-renders its form with each message next to its field (400)."""

from __future__ import annotations

import math
import re

from starlette.datastructures import FormData, UploadFile

from webleads.web.i18n import Translator

_SPLIT = re.compile(r"[,;\n\r]+")


class Fields:
    """The values of one submitted form, and the problems found in them."""

    def __init__(self, form: FormData, t: Translator) -> None:
        self.form = form
        self.t = t
        self.errors: dict[str, str] = {}
        self.values: dict[str, str | list[str]] = {}

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def text(self, name: str, *, max_len: int = 200) -> str:
        raw = self.form.get(name)
        if raw is None:
            value = ""
        elif isinstance(raw, UploadFile):
            self.error(name, str(self.t("Expected text, not a file.")))
            value = ""
        else:
            value = raw.strip()
            if len(value) > max_len:
                self.error(name, str(self.t("At most %(n)s characters.",
                                            n=self.t.number(max_len))))
                value = value[:max_len]
        self.values[name] = value
        return value

    def choices(self, name: str, allowed: tuple[str, ...]) -> list[str]:
        """The checked boxes of a group (values outside ``allowed`` are an error)."""
        out = []
        for raw in self.form.getlist(name)[:100]:
            if isinstance(raw, UploadFile) or raw not in allowed:
                self.error(name, str(self.t("Unknown choice.")))
                continue
            if raw not in out:
                out.append(raw)
        self.values[name] = out
        return out

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.text(name, max_len=100) or default
        if value not in allowed:
            self.error(name, str(self.t("Unknown choice.")))
            return default
        return value

    def items(self, name: str, *, max_len: int = 2000) -> list[str]:
        """A list typed as text: values separated by commas or new lines."""
        return [p.strip() for p in _SPLIT.split(self.text(name, max_len=max_len)) if p.strip()]

    def checked(self, name: str) -> bool:
        return self.text(name, max_len=10) not in ("", "0", "off", "false")

    def integer(self, name: str, *, low: int, high: int, required: bool = False
                ) -> int | None:
        value = self.text(name, max_len=30)
        if not value:
            if required:
                self.error(name, str(self.t("Required.")))
            return None
        try:
            number = int(value.replace("\u202f", "").replace("\u00a0", "").replace(" ", ""))
        except ValueError:
            self.error(name, str(self.t("Expected a whole number.")))
            return None
        if not low <= number <= high:
            self.error(name, str(self.t("Between %(low)s and %(high)s.",
                                        low=self.t.number(low), high=self.t.number(high))))
            return None
        return number

    def number(self, name: str, *, low: float, high: float, required: bool = False
               ) -> float | None:
        value = self.text(name, max_len=30)
        if not value:
            if required:
                self.error(name, str(self.t("Required.")))
            return None
        try:
            number = float(value.replace("\u202f", "").replace("\u00a0", "")
                           .replace(" ", "").replace(",", "."))
        except ValueError:
            self.error(name, str(self.t("Expected a number.")))
            return None
        if not math.isfinite(number) or not low <= number <= high:
            self.error(name, str(self.t("Between %(low)s and %(high)s.",
                                        low=self.t.number(low, 2 if low % 1 else 0),
                                        high=self.t.number(high))))
            return None
        return number
