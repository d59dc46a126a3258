"""What an HTML body says (its text) and how it is built (its structure).

Regular expressions rather than an HTML parser: spam HTML is routinely broken, and the regexes
run in C, about ten times faster than ``html.parser`` on the trec06p HTML spam. The text only has
to be good enough to tokenize, not to render.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

__all__ = ["HtmlSummary", "summarize_html"]

_INVISIBLE = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.I | re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_DECLARATION = re.compile(r"<[!?][^>]*>")
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>", re.S)
_BLOCK_TAGS = frozenset({"p", "div", "br", "tr", "td", "li", "table", "h1", "h2", "h3", "title"})
_HREF = re.compile(r"""(?:href|src|action)\s*=\s*["']?([^"'\s>]+)""", re.I)
_HIDDEN = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*[01](?:px|pt)?\b", re.I
)
_SPACES = re.compile(r"[ \t\r\f\v]+")
# Tags whose presence tells structure apart from prose; other tags are too common to matter.
_TELLING_TAGS = frozenset(
    {"form", "input", "script", "iframe", "img", "table", "font", "a", "map", "object", "embed"}
)


@dataclass(frozen=True)
class HtmlSummary:
    """Text and structure of one HTML body."""

    text: str
    links: tuple[str, ...]
    tags: frozenset[str]
    images: int
    comments: int
    hidden_styles: int


def summarize_html(source: str) -> HtmlSummary:
    """Extract visible text, link targets and telling tags from (possibly broken) HTML.

    >>> s = summarize_html('<p>Buy <b>now</b> <a href="http://x.example/">here</a><!-- x -->')
    >>> s.text, s.links, sorted(s.tags), s.comments
    ('Buy now here', ('http://x.example/',), ['a'], 1)
    """
    links = tuple(_HREF.findall(source))
    comments = len(_COMMENT.findall(source))
    hidden = len(_HIDDEN.findall(source))
    body = _DECLARATION.sub("", _COMMENT.sub("", _INVISIBLE.sub(" ", source)))
    tags: set[str] = set()
    images = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal images
        name = match.group(2).lower()
        if name in _TELLING_TAGS:
            tags.add(name)
        images += name == "img"
        # Inline tags vanish so that "fr<b></b>ee" reads "free"; block tags break words.
        return "\n" if name in _BLOCK_TAGS else ""

    text = html.unescape(_TAG.sub(replace, body))
    text = _SPACES.sub(" ", text).strip()
    return HtmlSummary(text, links, frozenset(tags), images, comments, hidden)
