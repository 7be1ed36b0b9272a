"""The store's full-text index: SQLite FTS5 in memory (stdlib ``sqlite3``), built once.

One row per object of interest (see `oscal_mcp.oscal.queries`) and one per document: its title, its
ref (id, control-id or uuid) and the text of all its strings. A caller's words never reach FTS5 as
query syntax: each whitespace-separated word becomes a double-quoted FTS5 string (quotes doubled),
which FTS5 only tokenizes, so ``AND``, ``*``, ``:``, ``(`` or an unbalanced quote are just text and
``ac-2.1`` is the phrase ``ac 2 1``. Every word must match; when that finds nothing, any word may.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass
from typing import Literal

MAX_QUERY_WORDS = 16
MAX_WORD_CHARS = 100
SNIPPET_TOKENS = 16
_WORD_CHARS = re.compile(r"\w")
# SQLite ends a query string at NUL; control characters are never part of a word anyway.
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
# bm25 weights per column: a hit in the title or the ref counts more than one in the body.
_RANK = "bm25({table}, 8.0, 4.0, 1.0)"
ENTRIES = "entries"  # the objects of the stored documents
SECTIONS = "sections"  # the sections of the bundled documentation pages

MatchMode = Literal["all words", "any word"]


class SearchIndexError(Exception):
    """The index cannot be built (no FTS5 in this Python's SQLite) or a query cannot be run."""


class QueryTextError(ValueError):
    """The search text has no word to look for; the message says what to pass."""


@dataclass(frozen=True)
class Row:
    document: int
    model: str
    kind: str
    ref: str
    title: str
    body: str


@dataclass(frozen=True)
class Hit:
    entry: int
    snippet: str


@dataclass(frozen=True)
class HitPage:
    total: int
    mode: MatchMode
    hits: list[Hit]


def match_expression(text: str, *, any_word: bool = False) -> str:
    """The caller's text as a safe FTS5 expression: quoted words joined by AND (implicit) or OR."""
    cleaned = _CONTROL_CHARS.sub(" ", text)
    words = [word[:MAX_WORD_CHARS] for word in cleaned.split() if _WORD_CHARS.search(word)][:MAX_QUERY_WORDS]
    if not words:
        raise QueryTextError("the search text has no letters or digits; give one or more words, ids or uuids")
    quoted = ['"' + word.replace('"', '""') + '"' for word in words]
    return (" OR " if any_word else " ").join(quoted)


class SearchIndex:
    """Rows are added while the store is built (one thread), then only read, under a lock."""

    def __init__(self) -> None:
        try:
            self._db = sqlite3.connect(":memory:", check_same_thread=False)
            self._db.execute(
                "CREATE VIRTUAL TABLE entries USING fts5("
                "title, ref, body, model UNINDEXED, kind UNINDEXED, document UNINDEXED, "
                "tokenize = 'unicode61 remove_diacritics 2')"
            )
            self._db.execute(
                "CREATE VIRTUAL TABLE sections USING fts5("
                "title, ref, body, page UNINDEXED, tokenize = 'unicode61 remove_diacritics 2')"
            )
        except sqlite3.Error as exc:
            raise SearchIndexError(
                f"the full-text index needs SQLite with FTS5, which this Python's sqlite3 lacks ({exc})"
            ) from None
        self._lock = threading.Lock()
        self.size = 0

    def add(self, rows: list[Row]) -> None:
        """Add rows; each gets the entry number ``size`` had before it (0, 1, 2...)."""
        with self._lock:
            self._db.executemany(
                "INSERT INTO entries(rowid, title, ref, body, model, kind, document) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(self.size + n + 1, r.title, r.ref, r.body, r.model, r.kind, r.document) for n, r in enumerate(rows)],
            )
            self.size += len(rows)

    def add_sections(self, rows: list[tuple[str, str, str, str]]) -> None:
        """Add documentation sections (page title, heading, text, page id), numbered 0, 1, 2..."""
        with self._lock:
            self._db.executemany(
                "INSERT INTO sections(rowid, title, ref, body, page) VALUES (?, ?, ?, ?, ?)",
                [(n + 1, *row) for n, row in enumerate(rows)],
            )

    def search(self, text: str, model: str | None, limit: int, offset: int, table: str = ENTRIES) -> HitPage:
        """Rows of `table` matching every word of `text` (else any word), best first; QueryTextError on
        no word. `model` filters entries only."""
        page = self._search(table, match_expression(text), "all words", model, limit, offset)
        if page.total == 0:
            page = self._search(table, match_expression(text, any_word=True), "any word", model, limit, offset)
        return page

    def _search(
        self, table: str, expression: str, mode: MatchMode, model: str | None, limit: int, offset: int
    ) -> HitPage:
        where = f"{table} MATCH ?" + (" AND model = ?" if model and table == ENTRIES else "")
        params: list[object] = [expression, *([model] if model and table == ENTRIES else [])]
        try:
            with self._lock:  # bm25 cannot share a query with a window count: two passes
                total = self._count(table, where, params)
                rows = self._db.execute(
                    f"SELECT rowid, snippet({table}, 2, '[', ']', '\u2026', {SNIPPET_TOKENS}) "  # noqa: S608
                    f"FROM {table} WHERE {where} ORDER BY {_RANK.format(table=table)} LIMIT ? OFFSET ?",
                    [*params, limit, offset],
                ).fetchall()
        except sqlite3.Error as exc:  # not expected: the expression is built from quoted words only
            raise SearchIndexError(f"the search could not be run ({exc})") from None
        return HitPage(total=int(total), mode=mode, hits=[Hit(int(rowid) - 1, str(snip)) for rowid, snip in rows])

    def _count(self, table: str, where: str, params: list[object]) -> int:
        return int(self._db.execute(f"SELECT count(*) FROM {table} WHERE {where}", params).fetchone()[0])  # noqa: S608
