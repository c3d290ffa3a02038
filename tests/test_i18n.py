"""Every message a user can see has an Indonesian translation, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from pledge import i18n

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}


def _extracted() -> set[str]:
    messages: set[str] = set()
    methods = [("pledge/**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        ROOT, method_map=methods, options_map=options, keywords=KEYWORDS
    ):
        messages.update([message] if isinstance(message, str) else message)
    return messages


def _catalog():
    path = i18n.TRANSLATIONS_DIR / "id" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po_file:
        return read_po(po_file, locale="id")


def test_every_message_has_an_indonesian_translation() -> None:
    catalog = _catalog()
    translated = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if all(strings):
            for msgid in ids:
                translated[msgid] = strings[0]
    missing = sorted(_extracted() - set(translated))
    assert missing == [], f"run `make translations` and translate: {missing}"


def test_translations_keep_their_placeholders() -> None:
    for message in _catalog():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == wanted, message.id


def test_locale_switches_the_language() -> None:
    i18n.set_locale("en")
    assert i18n.gettext("Choose at least one pledge.") == "Choose at least one pledge."
    i18n.set_locale("id")
    assert i18n.gettext("Choose at least one pledge.") == "Pilih minimal satu janji."
    assert i18n.number(8215) == "8.215"
    i18n.set_locale("en")
    assert i18n.number(8215) == "8,215"
    i18n.set_locale("xx")
    assert i18n.get_locale() == "id"
