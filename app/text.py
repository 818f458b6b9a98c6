"""Text from outside Sextant (backends, definition files, the URL) made inert before Streamlit draws it.

Streamlit renders Markdown almost everywhere (markdown, captions, metric labels, badges, page links) and
adds its own directives (`:material/icon:`, `:red[…]`, emoji shortcodes, `$…$` LaTeX). Escaping with
backslashes is not enough: GitHub-flavoured Markdown turns bare URLs, `www.` names and e-mail addresses
into links *after* parsing, on the decoded text, and backslash-escaped colons still make icons. So `plain`
writes every Markdown-special character as a numeric character reference (shown as itself, never parsed
as syntax), and puts an invisible word joiner (U+2060) where a link would be recognised: between `:` and
`//`, after `www` before `.`, and before `@`.
"""

from __future__ import annotations

import re

WORD_JOINER = "\u2060"
_SPECIALS = frozenset("\\`*_{}[]()#+-.!|<>~:$&=")
_LINK_STARTS = re.compile(r"(?i)(?<=:)(?=//)|(?<=www)(?=\.)|(?=@)")
_LINE_INDENT = re.compile(r"(?m)^[ \t]+")  # four spaces would start a code block, which shows references raw


def plain(text: object) -> str:
    """`text` as Markdown source that Streamlit shows exactly as written: no formatting, link, image,
    icon, colour, emoji, formula or HTML."""
    joined = _LINK_STARTS.sub(WORD_JOINER, str(text))
    escaped = "".join(_reference(ch) if ch in _SPECIALS else ch for ch in joined)
    return _LINE_INDENT.sub(lambda m: "".join(map(_reference, m.group())), escaped)


def _reference(ch: str) -> str:
    return f"&#{ord(ch)};"
