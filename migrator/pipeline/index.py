"""Where things are in the input, for the report: looked up in indexes built once per file."""
from __future__ import annotations

from migrator.core import loading


class DocIndex:
    """Lookups into the input that the report needs for many paths: built once per migration
    (lazily), so that each lookup costs a few dict probes instead of a scan of the document."""

    def __init__(self, loaded: loading.Loaded) -> None:
        self.loaded = loaded
        self._problems: list | None = None
        self._first: dict[tuple, int] | None = None      # exact path -> first statement
        self._first_kv: dict[tuple, int] | None = None   # exact path -> first key/value
        self._under: dict[tuple, int] | None = None      # any prefix -> first statement below

    def problems(self) -> list:
        """The input's schema problems (validated once, used by the losses and the report)."""
        if self._problems is None:
            from migrator.checks import validate
            self._problems = validate.validate(self.loaded.tree, self.loaded.version)
        return self._problems

    def _exact(self) -> tuple[dict[tuple, int], dict[tuple, int]]:
        if self._first is None or self._first_kv is None:
            first: dict[tuple, int] = {}
            first_kv: dict[tuple, int] = {}
            for i, st in enumerate(self.loaded.doc.statements):
                first.setdefault(st.path, i)
                if st.kind == "keyvalue":
                    first_kv.setdefault(st.path, i)
            self._first, self._first_kv = first, first_kv
        return self._first, self._first_kv

    def position(self, path: tuple, below: bool = False) -> tuple[int | None, int | None]:
        """Line and column of the statement that writes path, or the closest table above it
        (the longest statement path that is a prefix of path; the first such statement); with
        `below`, a statement under path comes before one above it (`[[a.b]]` writes a.b[0])."""
        first, _ = self._exact()
        for n in range(len(path), -1, -1):
            i = first.get(path[:n])
            if i is None and below and n == len(path):
                i = self._first_under().get(path)
            if i is not None:
                st = self.loaded.doc.statements[i]
                return st.line, st.col
        return None, None

    def line(self, path: tuple) -> int | None:
        """The line of the first key/value statement at path or above it."""
        _, first_kv = self._exact()
        hits = [i for n in range(len(path) + 1) if (i := first_kv.get(path[:n])) is not None]
        return self.loaded.doc.statements[min(hits)].line if hits else None

    def _first_under(self) -> dict[tuple, int]:
        """Any path prefix -> the first statement at or below it."""
        if self._under is None:
            under: dict[tuple, int] = {}
            for i, st in enumerate(self.loaded.doc.statements):
                for n in range(len(st.path), -1, -1):
                    key = st.path[:n]
                    if key in under:
                        break  # and so are all shorter prefixes, from an earlier statement
                    under[key] = i
            self._under = under
        return self._under

    def drop_line(self, prefix: tuple) -> int | None:
        """The line of the first statement at or below prefix, or of a key/value above it
        (an inline table that holds it)."""
        _, first_kv = self._exact()
        hits = [i for n in range(len(prefix) + 1) if (i := first_kv.get(prefix[:n])) is not None]
        below = self._first_under().get(prefix)
        if below is not None:
            hits.append(below)
        return self.loaded.doc.statements[min(hits)].line if hits else None
