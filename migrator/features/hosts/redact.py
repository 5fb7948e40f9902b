"""hosts.toml text with its secrets redacted, for diffs and logs."""
from __future__ import annotations

import tomllib
from typing import Any

from migrator.core.secrets import is_secret

# -- secrets -------------------------------------------------------------------------------------

REDACTED = '"<redacted>"'
#: Request headers whose values are credentials (registry.headers.<name>).
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key",
                            "x-auth-token", "x-registry-auth"})


def _secret(path: tuple) -> bool:
    return is_secret(path) or (len(path) >= 2 and path[-2] == "headers"
                               and str(path[-1]).lower() in SECRET_HEADERS)


def redact_toml(text: str) -> str:
    """`text` with the value of every secret key (password, auth, identitytoken, token, a
    credential header such as `headers.Authorization`, and any inline table holding one)
    replaced by "<redacted>", and the user information of every URL, for diffs and logs. Text
    that does not parse only loses the user information of its URLs."""
    from migrator.core import source
    from migrator.core.secrets import redact_urls
    try:
        tree = tomllib.loads(text)
        doc = source.parse(text)
    except Exception:  # not TOML: nothing to locate
        return redact_urls(text)
    spans = []
    for st in doc.statements:
        if st.kind != "keyvalue":
            continue
        value = _get(tree, st.path)
        if _secret(st.path) or (isinstance(value, (dict, list)) and _holds_secret(value,
                                                                                 st.path)):
            spans.append((st.value_start, st.value_end))
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + REDACTED + text[end:]
    return redact_urls(text)


def _holds_secret(value: Any, path: tuple) -> bool:
    if isinstance(value, dict):
        return any(_secret(path + (k,)) or _holds_secret(v, path + (k,))
                   for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_secret(v, path) for v in value)
    return False


def _get(tree: dict, path: tuple) -> Any:
    cur: Any = tree
    for k in path:
        if isinstance(cur, dict):
            cur = cur.get(k)
        elif isinstance(cur, list) and isinstance(k, int) and k < len(cur):
            cur = cur[k]
        else:
            return None
    return cur
