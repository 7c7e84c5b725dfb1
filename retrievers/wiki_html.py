"""A Wikipedia article's HTML (as Kiwix stores it, or kiwix-serve serves it) as clean text:
its paragraphs and list items, each infobox row as a sentence ("Born: September 23, 1930,
Albany, Georgia, U.S."), without references, navigation boxes, edit links, other tables or
the sections after the body (References, External links, See also).

Parsed with the standard library's HTML parser, which takes broken markup as browsers do;
a skipped element is skipped whole, however deeply it nests."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

from .passages import Document

# Elements never read, and elements whose class marks them as apparatus, not prose
_SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "nav", "footer", "sup", "math", "figure",
              "figcaption", "audio", "video", "button"}
_SKIP_CLASSES = {"navbox", "vertical-navbox", "reflist", "references", "mw-editsection", "noprint", "hatnote",
                 "metadata", "ambox", "mw-references-wrap", "thumb", "toc", "catlinks", "sistersitebox",
                 "shortdescription", "mw-empty-elt"}
_BLOCKS = {"p", "li", "dd", "dt", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "div", "section", "details",
           "summary"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}  # titles of what follows, not statements
_VOID = {"br", "img", "meta", "link", "hr", "input", "wbr", "col", "source", "track", "area", "base", "embed"}
# Sections after the body: sources and pointers, not statements
_TAIL_SECTIONS = {"references", "notes", "external links", "see also", "further reading", "bibliography", "sources",
                  "citations", "footnotes", "notes and references", "works cited"}


@dataclass
class Article:
    title: str = ""
    link: str | None = None  # the page's canonical URL, when the HTML names one
    blocks: list[str] = field(default_factory=list)  # infobox sentences first, then the prose in order

    def document(self, doc_id: str) -> Document:
        return Document(id=doc_id, title=self.title, text="\n".join(self.blocks))


def read_article(html: str, title: str = "") -> Article:
    """The article in ``html``: its title (``title`` when the page has none), canonical link
    and text blocks."""
    parser = _ArticleParser()
    parser.feed(html)
    parser.close()
    article = parser.article
    article.title = " ".join(article.title.split()) or title
    article.blocks = parser.infobox + parser.blocks
    return article


class _ArticleParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.article = Article()
        self.blocks: list[str] = []
        self.infobox: list[str] = []
        self._text: list[str] = []
        self._skipping: tuple[str, int] | None = None  # (tag, nesting) of the element being skipped
        self._in_title = False
        self._heading: list[str] | None = None
        self._in_tail = False  # inside References, External links…
        self._table_depth = 0  # tables nest; only an infobox's rows are read
        self._infobox_at: int | None = None
        self._row: dict[str, list[str]] | None = None
        self._cell: str | None = None

    # -- skipping whole elements ----------------------------------------------------------
    def _starts_skip(self, tag: str, attrs: dict) -> bool:
        classes = set((attrs.get("class") or "").split())
        return tag in _SKIP_TAGS or bool(classes & _SKIP_CLASSES) or "display:none" in (attrs.get("style") or "").replace(" ", "")

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self._skipping is not None:
            if tag == self._skipping[0] and tag not in _VOID:
                self._skipping = (tag, self._skipping[1] + 1)
            return
        if tag == "link" and attrs.get("rel") == "canonical" and attrs.get("href", "").startswith(("http://", "https://")):
            self.article.link = attrs["href"]
        if tag == "title":
            self._in_title = True
            return
        if tag in ("h2", "h1"):
            self._in_tail = False
        if self._starts_skip(tag, attrs) and tag not in _VOID:
            self._skipping = (tag, 1)
            return
        if tag == "table":
            self._table_depth += 1
            if self._infobox_at is None and "infobox" in (attrs.get("class") or ""):
                self._infobox_at = self._table_depth
            return
        if self._infobox_at is not None:
            self._infobox_tag(tag)
            return
        if tag in _HEADINGS:
            self._flush()
            self._heading = []
            return
        if tag in _BLOCKS:
            self._flush()
        elif tag == "br":
            self._text.append(" ")

    def handle_endtag(self, tag):
        if self._skipping is not None:
            name, depth = self._skipping
            if tag == name:
                self._skipping = None if depth == 1 else (name, depth - 1)
            return
        if tag == "title":
            self._in_title = False
            return
        if tag == "table":
            if self._infobox_at == self._table_depth:
                self._infobox_at = None
            self._table_depth = max(0, self._table_depth - 1)
            return
        if self._infobox_at is not None:
            self._infobox_end(tag)
            return
        if tag in _HEADINGS and self._heading is not None:
            heading = " ".join("".join(self._heading).split()).casefold()
            if tag == "h2" or heading in _TAIL_SECTIONS:
                self._in_tail = heading in _TAIL_SECTIONS
            self._heading = None
            return
        if tag in _BLOCKS:
            self._flush()

    def handle_comment(self, data):
        if data.strip() == "htdig_noindex":  # Kiwix's mark: what follows (the licence footer) is not the article
            self._flush()
            self._skipping = ("\0end", 1)  # no element closes it

    def handle_data(self, data):
        if self._skipping is not None:
            return
        if self._in_title:
            self.article.title += data
        elif self._heading is not None:
            self._heading.append(data)
        elif self._infobox_at is not None:
            if self._row is not None and self._cell is not None:
                self._row[self._cell].append(data)
        elif self._table_depth == 0 and not self._in_tail:
            self._text.append(data)

    def _flush(self) -> None:
        text = " ".join("".join(self._text).split())
        self._text = []
        if text and len(text.split()) >= 3:  # a lone word is a caption or a label, not a statement
            self.blocks.append(text)

    # -- infobox rows: "Label: value." -----------------------------------------------------
    def _infobox_tag(self, tag: str) -> None:
        if tag == "tr":
            self._row, self._cell = {"th": [], "td": []}, None
        elif tag in ("th", "td") and self._row is not None:
            self._cell = tag
        elif tag in ("br", "li") and self._row is not None and self._cell == "td":
            self._row["td"].append(", ")

    def _infobox_end(self, tag: str) -> None:
        if tag in ("th", "td"):
            self._cell = None
        elif tag == "tr" and self._row is not None:
            label = " ".join("".join(self._row["th"]).split())
            value = " ".join("".join(self._row["td"]).split()).strip(" ,")
            value = ", ".join(p.strip() for p in value.split(",") if p.strip()).rstrip(".")
            if label and value:
                self.infobox.append(f"{label}: {value}.")
            self._row = None
