"""What an HTML body says (its text) and how it is built (its structure).

Regular expressions rather than an HTML parser: spam HTML is routinely broken, and the regexes
run in C, about ten times faster than ``html.parser`` on the trec06p HTML spam. The text only has
to be good enough to tokenize, not to render.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["HtmlSummary", "summarize_html"]

# Elements and comments are cut by searching forward for their ends (_spans), not with lazy
# regexes such as "<script.*?</script>": on a page of unclosed "<script" those rescan the rest
# of the page from every opening, and 40,000 of them (280 KB) took 42 s.
# Outlook's "<xml>" settings, which a conditional comment (below) holds, are no text either.
_INVISIBLE_OPEN = re.compile(r"<(script|style|head|xml)\b", re.I)
_COMMENT_OPEN = re.compile(r"<!(--)")  # the group names what closes it, as for elements
# A conditional comment, "<!--[if mso]>...<![endif]-->", is a comment to most mail clients,
# but the one its condition names shows what it holds: Outlook on Windows (mso), old Internet
# Explorer (IE). What some reader sees is the message's, links included; a spammer could hide
# text from filters there that every Outlook user reads. Only its two markers are cut. (The
# downlevel-revealed forms, "<!--[if !mso]><!-->...<!--<![endif]-->" and
# "<![if !mso]>...<![endif]>", already show their content as page text.)
_CONDITIONAL_OPEN = re.compile(r"<!--\[if [^\]<>]*\]>", re.I)
_CONDITIONAL_CLOSE = "<![endif]-->"
# [^<>] rather than [^>], here and below: a run of unclosed "<!" or "<body" must not make every
# match scan to the end of the page.
_DECLARATION = re.compile(r"<[!?][^<>]*>")
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^<>]*>", re.S)
# Tags a browser breaks the line at: without them, "<th>Name</th><th>Price</th>" read
# "NamePrice", one word.
_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "tr", "td", "th", "li", "ul", "ol", "dl", "dt", "dd", "table", "title"}
    | {"h1", "h2", "h3", "h4", "h5", "h6", "hr", "center", "blockquote", "pre", "address"}
    | {"section", "article", "header", "footer", "nav", "aside", "main", "form", "fieldset"}
)
# The patterns run over whole pages start with a character class and turn case-blind only
# after it, "(?i:...)": the regex engine skips ahead to a possible first character only when
# that character is not case-blind. Each matches what it would with re.IGNORECASE (hence
# "\u017f", the long s, which IGNORECASE matches with "s"); on the trec06p and SpamAssassin
# HTML, _HREF went from 115 to 37 us a page, _HIDDEN from 99 to 31.
# A quoted value may start with spaces ('href=" http://x.example"'), which browsers skip, and
# hold tabs and line breaks, which the URL standard drops (_target): 'href="http://exa\nmple"'
# goes to example, where the value had ended at the line break. An unquoted value ends at any
# white space. Each character is matched one way only, so the runs cannot backtrack.
_HREF = re.compile(
    r"""[hHsS\u017faA](?i:(?<=h)ref|(?<=s)rc|(?<=a)ction)\s*=\s*"""
    r"""(?:["']\s*([^"'\s>]+(?:[\t\n\r]+[^"'\s>]+)*)|([^"'\s>]+))"""
)
_HIDDEN = re.compile(
    r"[dDvVfF](?i:(?<=d)isplay\s*:\s*none|(?<=v)isibility\s*:\s*hidden"
    r"|(?<=f)ont-size\s*:\s*[01](?:px|pt)?\b)"
)
# What hides an element's text from the reader, in its style attribute (inline CSS is what mail
# clients honour; class rules in <style> blocks are often stripped, and are not read here).
_HIDING_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden"
    # font-size: zero in any unit, or at most one pixel or point (1em is ordinary text). Each
    # zero is spelt one way only ("0*\.?0+" could split a run of zeros n ways, each tried:
    # 20,000 zeros took 18 s).
    r"|font-size\s*:\s*(?:(?:0+(?:\.0*)?|\.0+)\s*(?:px|pt|em|rem|%)?"
    r"|(?:0*\.\d+|1(?:\.0+)?)\s*(?:px|pt))"
    r"\s*(?:[;!\"']|$)",
    re.I,
)
_STYLE_ATTR = re.compile(r"""\bstyle\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_COLOR = re.compile(r"(?<![\w-])color\s*:\s*([#\w]+)", re.I)
_BACKGROUND = re.compile(r"background(?:-color)?\s*:\s*([#\w]+)", re.I)
_COLOR_ATTR = re.compile(r"""\bcolor\s*=\s*["']?([#\w]+)""", re.I)
_BGCOLOR_ATTR = re.compile(r"""\bbgcolor\s*=\s*["']?([#\w]+)""", re.I)
_ANY_BACKGROUND = re.compile(r"[bB](?i:gcolor\s*=|ackground(?:-color)?\s*:)")
_BODY_TAG = re.compile(r"<body\b([^<>]*)>", re.I)
_OPEN_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)\b([^<>]*)>", re.S)
_VOID_TAGS = frozenset({"br", "img", "input", "hr", "meta", "link", "area", "base", "col", "wbr"})
_NAMED_COLORS = {"white": "#ffffff", "black": "#000000", "#fff": "#ffffff", "#000": "#000000"}
_SPACES = re.compile(r"[ \t\r\f\v]+")
# What the URL standard removes from anywhere in a link before reading it.
_TAB_OR_NEWLINE = re.compile("[\t\n\r]")
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
    # Characters of text (tags aside) in elements styled to be invisible, left out of ``text``.
    hidden_chars: int = 0


def summarize_html(source: str) -> HtmlSummary:
    """Extract visible text, link targets and telling tags from (possibly broken) HTML.

    >>> s = summarize_html('<p>Buy <b>now</b> <a href="http://x.example/">here</a><!-- x -->')
    >>> s.text, s.links, sorted(s.tags), s.comments
    ('Buy now here', ('http://x.example/',), ['a'], 1)
    """
    comments, comment_spans = _comment_spans(source)
    # A link in a comment is none of the message's: no reader sees it or can follow it.
    links = tuple(
        _target(quoted or bare) for quoted, bare in _HREF.findall(_cut(source, comment_spans, " "))
    )
    hidden = len(_HIDDEN.findall(source))
    visible = _cut(source, _spans(source, _INVISIBLE_OPEN), " ")
    body = _DECLARATION.sub("", _cut(visible, _comment_spans(visible)[1], ""))
    body, hidden_chars = _strip_hidden(body)
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
    return HtmlSummary(text, links, frozenset(tags), images, comments, hidden, hidden_chars)


def _target(href: str) -> str:
    """Where a link goes, as a browser reads its attribute: entities decoded (spam writes
    "&#104;ttp://" so that a filter reading the source finds no link), spaces around it and
    tabs and line breaks anywhere in it dropped ("ht&#9;tp://" goes to http://)."""
    target = html.unescape(href).strip()
    # Rare (an entity or a line break in a quoted value puts them inside), so looked for with
    # isprintable() first: a search of every link took as long as the rest of this function.
    return target if target.isprintable() else _TAB_OR_NEWLINE.sub("", target)


def _spans(page: str, opening: re.Pattern[str]) -> list[tuple[int, int]]:
    """Where each element (or comment) that ``opening`` starts runs in ``page``, to the end of
    its closing tag; an element never closed is left alone, as a lazy regex would leave it.

    >>> page = "a<script>x</script>b<!-- c -->d<style>"
    >>> _spans(page, _INVISIBLE_OPEN), _spans(page, _COMMENT_OPEN)
    ([(1, 19)], [(20, 30)])
    """
    spans = []
    unclosed: set[str] = set()  # no closing tag after one opening: none after a later one
    position = 0
    while match := opening.search(page, position):
        name = match.group(1).lower()
        closing = None if name in unclosed else _closing(name).search(page, match.end())
        if closing is None:
            unclosed.add(name)
            position = match.end()
            continue
        spans.append((match.start(), closing.end()))
        position = closing.end()
    return spans


def _comment_spans(page: str) -> tuple[int, list[tuple[int, int]]]:
    """How many comments ``page`` holds, and the spans no reader sees: each comment whole,
    but of a conditional comment only its markers.

    >>> _comment_spans("a<!-- b -->c<!--[if mso]>d<![endif]-->e")
    (2, [(1, 11), (12, 25), (26, 38)])
    """
    spans = _spans(page, _COMMENT_OPEN)
    shown: list[tuple[int, int]] = []
    for start, end in spans:
        opener = _CONDITIONAL_OPEN.match(page, start, end)
        closer = end - len(_CONDITIONAL_CLOSE)
        if opener and closer >= opener.end() and page[closer:end].lower() == _CONDITIONAL_CLOSE:
            shown += [(start, opener.end()), (closer, end)]
        else:
            shown.append((start, end))
    return len(spans), shown


@lru_cache(maxsize=8)
def _closing(name: str) -> re.Pattern[str]:
    return re.compile("-->" if name == "--" else rf"</{name}\s*>", re.I)


def _cut(page: str, spans: list[tuple[int, int]], replacement: str) -> str:
    """``page`` with each of ``spans`` replaced."""
    if not spans:
        return page
    pieces, position = [], 0
    for start, end in spans:
        pieces += [page[position:start], replacement]
        position = end
    pieces.append(page[position:])
    return "".join(pieces)


def _strip_hidden(body: str) -> tuple[str, int]:
    """``body`` without the elements a reader cannot see, and how many characters they held.

    Spammers pad messages with hidden ham text (``display:none``, ``font-size:0``, white on
    white) so that a filter reads more ham than spam; a reader never sees it, so neither should
    the filter. An unclosed hidden element hides the rest, as it does in a mail client. Each
    search for a closing tag starts past the previous one, so the work stays linear.
    """
    if "=" not in body:
        return body, 0
    # Text in the page's own background colour is hidden only where nothing else sets a
    # background: white text in a black table cell on a white page is plainly visible.
    page = _BODY_TAG.search(body)
    page_background = _page_background(page.group(1)) if page else None
    if page_background and len(_ANY_BACKGROUND.findall(body)) > 1:
        page_background = None
    pieces: list[str] = []
    position = hidden_chars = 0
    for match in _OPEN_TAG.finditer(body):
        name = match.group(1).lower()
        if match.start() < position or name in _VOID_TAGS or name == "body":
            continue
        if not _hides(match.group(2), page_background):
            continue
        end = _closing_end(body, name, match.end())
        pieces += [body[position : match.start()], " "]
        hidden_chars += len("".join(_TAG.sub(" ", body[match.end() : end]).split()))
        position = end
    if not pieces:
        return body, 0
    pieces.append(body[position:])
    return "".join(pieces), hidden_chars


# Elements whose end tag HTML lets a page leave out, by what ends them: (containers, which
# start a level of their own, nested lists or tables; the tags that end the element at its
# own level, opening or closing). A mail client ends `<p style="display:none">` at the next
# paragraph or block, so must this: counted as an unclosed element, it hid the whole rest of
# a page written without </p>, visible spam included. A closing tag of a container at the
# element's own level is its parent's end, and ends it too.
_BLOCK_STARTS = (
    "address article aside blockquote center details dir div dl fieldset figcaption figure "
    "footer form h1 h2 h3 h4 h5 h6 header hgroup hr main menu nav ol p pre section table ul "
    "li dd dt td th tr"
)
_CELL_ENDS = frozenset(["td", "th", "tr", "tbody", "thead", "tfoot"])
_IMPLIED_END: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "p": (frozenset(), frozenset(_BLOCK_STARTS.split())),
    "li": (frozenset({"ul", "ol", "menu", "dir"}), frozenset({"li"})),
    "dt": (frozenset({"dl"}), frozenset({"dt", "dd"})),
    "dd": (frozenset({"dl"}), frozenset({"dt", "dd"})),
    "td": (frozenset({"table"}), _CELL_ENDS),
    "th": (frozenset({"table"}), _CELL_ENDS),
    "tr": (frozenset({"table"}), frozenset({"tr", "tbody", "thead", "tfoot"})),
    "option": (frozenset({"select"}), frozenset({"option", "optgroup"})),
}


def _closing_end(body: str, name: str, start: int) -> int:
    """Where the element ``name`` opened just before ``start`` ends (nesting counted)."""
    if name in _IMPLIED_END:
        return _implied_end(body, name, start)
    depth = 1
    for match in _same_tag(name).finditer(body, start):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            return match.end()
    return len(body)


def _implied_end(body: str, name: str, start: int) -> int:
    """Where an element whose end tag may be left out ends: its own end tag, or the tag that
    ends it by implication (see ``_IMPLIED_END``), at its own level of nesting."""
    containers, ends = _IMPLIED_END[name]
    depth = 0
    for tag in _TAG.finditer(body, start):
        closing, tag_name = tag.group(1) == "/", tag.group(2).lower()
        if tag_name in containers:
            if not closing:
                depth += 1
            elif depth:
                depth -= 1
            else:
                return tag.start()  # the parent list or table ends
        elif depth:
            continue
        elif closing and tag_name == name:
            return tag.end()
        elif tag_name in ends:
            return tag.start()
    return len(body)


@lru_cache(maxsize=64)
def _same_tag(name: str) -> re.Pattern[str]:
    return re.compile(rf"<(/?){name}\b[^<>]*>", re.I)


def _hides(attributes: str, page_background: str | None) -> bool:
    """Whether a tag's attributes make its content invisible."""
    if "=" not in attributes:
        return False
    # What follows needs a style or colour attribute; casefold() spells both as IGNORECASE
    # matches them (the long s included), and most tags have neither.
    folded = attributes.casefold()
    if "style" not in folded and "color" not in folded:
        return False
    style = _style(attributes)
    if style and _HIDING_STYLE.search(style):
        return True
    color = _COLOR.search(style) or _COLOR_ATTR.search(attributes)
    if not color:
        return False
    background = _BACKGROUND.search(style) or _BGCOLOR_ATTR.search(attributes)
    behind = _color(background.group(1)) if background else page_background
    return behind is not None and _color(color.group(1)) == behind


def _page_background(attributes: str) -> str | None:
    background = _BACKGROUND.search(_style(attributes)) or _BGCOLOR_ATTR.search(attributes)
    return _color(background.group(1)) if background else None


def _style(attributes: str) -> str:
    """The value of a tag's ``style`` attribute, quoted either way or not at all; "" if none."""
    match = _STYLE_ATTR.search(attributes)
    return next((g for g in match.groups() if g is not None), "") if match else ""


def _color(value: str) -> str:
    value = value.lower()
    return _NAMED_COLORS.get(value, value)
