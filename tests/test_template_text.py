"""Templates show no text that the catalogs cannot translate.

Every template under ``loyalty/templates`` (``.html`` and ``.txt``) is read with Jinja's lexer:

* the literal text between the tags (the lexer's ``data``) is put back together, each
  ``{{ … }}`` and ``{% … %}`` standing in as a placeholder character, then HTML pages go
  through ``html.parser``: the text nodes and the attributes a person sees or hears
  (``placeholder``, ``title``, ``alt``, ``aria-label``…, the ``value`` of a submit button)
  must hold no letter. ``<script>``, ``<style>`` and ``<svg>`` contents, HTML comments and
  ``{# … #}`` are skipped. Plain-text templates (emails) are checked line by line.
* a string literal inside ``{{ … }}`` or ``{% … %}`` that reads like a label or a sentence
  (a capital, then a lowercase letter: ``"Store"``, ``"Open your card…"``) must be an
  argument of ``_``/``gettext``/``ngettext``/``pgettext``/``npgettext``: ``{{ x or "None" }}``
  or ``{% set title = "Cards" %}`` would be shown untranslated.

A text found exactly in ``ALLOWED_TEXTS`` passes; punctuation, numbers, separators and
entities (``·``, ``—``, ``&nbsp;``, ``©``, ``€``, ``⌫``) hold no letter and pass on their own.
"""
import ast
import os
import re
from html.parser import HTMLParser

import jinja2
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATES = os.path.join(ROOT, "loyalty", "templates")

#: Texts shown as they are in every language, written as a failure quotes them (spaces
#: folded, ``{{…}}`` for an expression). Keep it short, and say why for each. (The product
#: name "Loyalty" is not a brand here: it is translated.)
ALLOWED_TEXTS = {
    "/m/{{…}}": "a storefront's address (/m/<slug>) in the back office: a URL path",
    "C": "the terminal keypad's clear key, a calculator key cap in every language; its "
         "spoken name is translated (aria-label=\"Clear\")",
    "Apple Wallet": "a product's name, the same in every language (the back office's headings)",
    "Google Wallet": "a product's name, the same in every language",
}

#: Attributes whose value is shown or read out to the visitor.
VISIBLE_ATTRIBUTES = {
    "placeholder", "title", "alt", "label",
    "aria-label", "aria-description", "aria-placeholder", "aria-roledescription",
    "aria-valuetext",
    "hx-confirm", "hx-prompt",  # htmx shows them in the browser's dialogs
    "data-no-camera",  # terminal.js shows it with alert()
}
#: ``<input type=…>`` whose ``value`` is the button's label.
BUTTON_INPUT_TYPES = {"submit", "button", "reset"}
#: Elements whose contents are not text for people.
SKIPPED_ELEMENTS = {"script", "style", "svg"}
#: Jinja calls whose string arguments go to the catalogs.
TRANSLATION_CALLS = {"_", "gettext", "ngettext", "pgettext", "npgettext"}

EXPRESSION = "\ue000"  # stands for {{ … }} (private use: neither a letter nor a space)
STATEMENT = "\ue001"  # stands for {% … %}
LETTER = re.compile(r"[^\W\d_]")

_env = jinja2.Environment(extensions=["jinja2.ext.i18n"], keep_trailing_newline=True)


def _template_files():
    found = []
    for directory, _dirs, files in os.walk(TEMPLATES):
        for name in files:
            if name.endswith((".html", ".txt")):
                found.append(os.path.relpath(os.path.join(directory, name), TEMPLATES).replace(os.sep, "/"))
    return sorted(found)


def _read(name):
    with open(os.path.join(TEMPLATES, name), encoding="utf-8") as f:
        return f.read()


def _inside_tag(html):
    """Whether the end of ``html`` sits between a ``<`` and its ``>`` (as in ``class="…``)."""
    return html.rfind("<") > html.rfind(">")


def _reassemble(source, attribute_blocks=frozenset(), inside_tags=None):
    """The template's literal text, each Jinja tag replaced by a placeholder character.

    Line numbers are kept (a tag that spanned lines leaves its newlines). The literal text of
    ``{% trans %}`` blocks is left out (the catalogs hold it). A block of ``attribute_blocks``
    that a child template fills outside any tag (``{% block body_class %}wide{% endblock %}``)
    is wrapped in a made-up tag, so its contents are read as attributes, as in the page.
    The names of the blocks opened inside a tag are added to ``inside_tags`` (a set) if given.
    """
    out = []
    line = 1
    in_trans = False
    opened = []  # the blocks open at this point, True for those wrapped in a made-up tag
    tag_words = []
    for lineno, kind, value in _env.lex(source):
        if lineno > line:
            out.append("\n" * (lineno - line))
            line = lineno
        if kind == "data":
            if not in_trans:
                out.append(value)
            line += value.count("\n")
            continue
        if kind == "variable_begin":
            out.append(EXPRESSION)
        elif kind == "block_begin":
            tag_words = []
        elif kind == "name" and len(tag_words) < 2:
            tag_words.append(value)
        elif kind == "block_end":
            name = tag_words[0] if tag_words else None
            if name == "trans":
                in_trans = True
            elif name == "endtrans":
                in_trans = False
            elif name == "block" and len(tag_words) > 1:
                in_tag = _inside_tag("".join(out))
                if in_tag and inside_tags is not None:
                    inside_tags.add(tag_words[1])
                wrap = tag_words[1] in attribute_blocks and not in_tag
                opened.append(wrap)
                if wrap:
                    out.append("<jinja-block ")
            elif name == "endblock" and opened and opened.pop():
                out.append(">")
            out.append(STATEMENT)
    return "".join(out)


def _attribute_blocks(names):
    """Blocks whose ``{% block %}`` sits inside an HTML tag in some template (``class="{% block x %}``)."""
    found = set()
    for name in names:
        _reassemble(_read(name), inside_tags=found)
    return frozenset(found)


def _shown(text):
    """``text`` as a reader would quote it: spaces folded, placeholders written as Jinja."""
    text = " ".join(text.split()).strip(STATEMENT + " ")
    return text.replace(EXPRESSION, "{{…}}").replace(STATEMENT, "{%…%}")


def _untranslated(text):
    """Whether ``text`` holds a letter outside the placeholders, and is not an allowed text."""
    if _shown(text) in ALLOWED_TEXTS:
        return False
    return bool(LETTER.search(text.replace(EXPRESSION, " ").replace(STATEMENT, " ")))


class _VisibleText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []  # (line, text)
        self.skipping = []  # the skipped elements open at this point

    def _attributes(self, tag, attrs):
        attrs = [(name.strip(EXPRESSION + STATEMENT), value) for name, value in attrs]
        kind = dict(attrs).get("type") or ""
        for name, value in attrs:
            visible = name in VISIBLE_ATTRIBUTES or (
                name == "value" and tag == "input" and kind.lower() in BUTTON_INPUT_TYPES)
            if visible and value and _untranslated(value):
                self.found.append((self.getpos()[0], f"{name}={_shown(value)!r}"))

    def handle_starttag(self, tag, attrs):
        if self.skipping or tag in SKIPPED_ELEMENTS:
            if tag in SKIPPED_ELEMENTS:
                self.skipping.append(tag)
            return
        self._attributes(tag, attrs)

    def handle_startendtag(self, tag, attrs):
        if not self.skipping and tag not in SKIPPED_ELEMENTS:
            self._attributes(tag, attrs)

    def handle_endtag(self, tag):
        if tag in SKIPPED_ELEMENTS and tag in self.skipping:
            while self.skipping.pop() != tag:
                pass

    def handle_data(self, data):
        if not self.skipping and _untranslated(data):
            # getpos() is where the text starts; report the line of its first letter
            line = self.getpos()[0] + data[: LETTER.search(data.replace(EXPRESSION, " ")).start()].count("\n")
            self.found.append((line, _shown(data)))


def untranslated_text(source, kind="html", attribute_blocks=frozenset()):
    """The literal text of a template that a person would read untranslated, as (line, text)."""
    text = _reassemble(source, attribute_blocks)
    if kind == "txt":
        return [(number, _shown(line)) for number, line in enumerate(text.split("\n"), start=1)
                if _untranslated(line)]
    parser = _VisibleText()
    parser.feed(text)
    parser.close()
    return parser.found


def untranslated_literals(source):
    """String literals in Jinja expressions that read like text and are not translated."""
    found = []
    calls = []  # one entry per open bracket: whether it is a translation call's
    previous = None
    for lineno, kind, value in _env.lex(source):
        if kind == "whitespace":
            continue
        if kind in ("variable_begin", "block_begin", "variable_end", "block_end"):
            calls = []
        elif kind == "operator" and value in "([{":
            calls.append(value == "(" and previous is not None and previous[0] == "name"
                         and previous[1] in TRANSLATION_CALLS)
        elif kind == "operator" and value in ")]}":
            if calls:
                calls.pop()
        elif kind == "string" and not any(calls):
            literal = ast.literal_eval(value)
            if literal[:1].isupper() and literal[1:2].islower() and _untranslated(literal):
                found.append((lineno, literal))
        previous = (kind, value)
    return found


TEMPLATE_FILES = _template_files()
ATTRIBUTE_BLOCKS = _attribute_blocks(TEMPLATE_FILES)


def _report(name, found):
    places = "; ".join(f"line {line}: {text!r}" for line, text in found)
    return f"{name}: text outside _()/ngettext(): {places}"


@pytest.mark.parametrize("name", TEMPLATE_FILES)
def test_template_text_is_translated(name):
    kind = "txt" if name.endswith(".txt") else "html"
    found = untranslated_text(_read(name), kind, ATTRIBUTE_BLOCKS)
    assert found == [], _report(name, found)


@pytest.mark.parametrize("name", TEMPLATE_FILES)
def test_template_string_literals_are_translated(name):
    found = untranslated_literals(_read(name))
    assert found == [], _report(name, found)


# The checks themselves.

def test_the_templates_are_found():
    assert "base.html" in TEMPLATE_FILES
    assert any(name.endswith(".txt") for name in TEMPLATE_FILES)


def test_body_classes_are_attributes_not_text():
    assert {"body_class", "main_class"} <= ATTRIBUTE_BLOCKS
    assert untranslated_text('{% block main_class %}container wide{% endblock %}', "html",
                             ATTRIBUTE_BLOCKS) == []


def test_text_outside_the_translation_functions_is_found():
    assert untranslated_text('<p>Hello {{ _("x") }}</p>') == [(1, "Hello {{…}}")]
    assert untranslated_text('<p>\n  {{ count }} stamps\n</p>') == [(2, "{{…}} stamps")]
    assert untranslated_text('<input type="search" placeholder="Name or email">') == [
        (1, "placeholder='Name or email'")]
    assert untranslated_text('<input type="submit" value="Save">') == [(1, "value='Save'")]
    assert untranslated_text('<a href="/" {% if x %}title="Home"{% endif %}>{{ _("x") }}</a>') == [
        (1, "title='Home'")]
    assert untranslated_text('{% if x %}\nHello {{ name }},\n{% endif %}', "txt") == [(2, "Hello {{…}},")]
    assert untranslated_text('<h1>{% if a %}Admin{% endif %}</h1>') == [(1, "Admin")]
    assert untranslated_literals('{{ label or "None" }}') == [(1, "None")]
    assert untranslated_literals('{% set title = "Cards" %}') == [(1, "Cards")]


def test_translated_text_markup_and_code_pass():
    assert untranslated_text('<p>{{ _("x") }}</p>') == []
    assert untranslated_text('<p class="lead" data-testid="card">{{ _("x") }} · {{ n }} &nbsp;—&nbsp; 1/3</p>'
                             '<p>© 2026 · 12,50 € · ⌫</p>') == []
    assert untranslated_text('<input type="hidden" name="csrf_token" value="{{ t }}">') == []
    assert untranslated_text('<input type="text" value="draft">') == []  # a value the visitor typed
    assert untranslated_text('<script>alert("hi")</script><style>p{color:red}</style>') == []
    assert untranslated_text('<svg><text>axis</text></svg><!-- a comment --><!doctype html>') == []
    assert untranslated_text('{# a note #}<p>{% trans %}Hello{% endtrans %}</p>') == []
    assert untranslated_text('{{ _("Hello %(name)s,", name=n) }}\n— {{ shop }}', "txt") == []
    assert untranslated_literals('{{ _("Store") }} {{ ngettext("%(num)d stamp", "%(num)d stamps", n) }}'
                                 '{{ pgettext("key", "Clear") }}') == []
    assert untranslated_literals("{{ url_for('merchant.card', x='HX-Request') }} {{ x|join(' ') }}") == []


def test_allowed_texts_pass_only_as_a_whole():
    assert untranslated_text('<button aria-label="{{ _(\'Clear\') }}">C</button>') == []
    assert untranslated_text('<p>Plan C</p>') == [(1, "Plan C")]
