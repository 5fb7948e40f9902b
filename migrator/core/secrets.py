"""Secret values (registry passwords, auth strings, identity tokens, and the user
information of a URL, `https://user:password@host`) never enter a report, a diff or a log:
`redact` is applied to every value that is rendered, `redact_urls` to rendered text."""
from __future__ import annotations

import json
import re
from typing import Any

SECRET_KEYS = frozenset({"password", "auth", "identitytoken", "token", "identity_token"})


def is_secret(path: tuple[Any, ...] | list[Any]) -> bool:
    return bool(path) and str(path[-1]).lower() in SECRET_KEYS


def redact(path: tuple[Any, ...] | list[Any], value: Any) -> Any:
    return "<redacted>" if is_secret(path) else _redact_urls_in(value)


#: The user information of a URL (`scheme://user:password@host`), up to the last `@` before the
#: host, as Go's url.Parse reads it: redacted whole (a lone name can be a token).
_USERINFO = re.compile(r"(?i)(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*://)([^/?#\s\"'<>`]*)@")
REDACTED = "<redacted>"


def redact_urls(text: str) -> str:
    """`text` with the user information of every URL in it replaced by <redacted>."""
    return _USERINFO.sub(r"\1<redacted>@", text) if "://" in text else text


def _redact_urls_in(value: Any) -> Any:
    if isinstance(value, str):
        return redact_urls(value)
    if isinstance(value, list):
        return [_redact_urls_in(v) for v in value]
    if isinstance(value, dict):
        return {redact_urls(k) if isinstance(k, str) else k: _redact_urls_in(v)
                for k, v in value.items()}
    return value


def _userinfo(text: str) -> set[str]:
    """The user information of each URL in `text`, and its password part, for `scrub`."""
    found = {m.group(2) for m in _USERINFO.finditer(text)}
    for rest in text.split("://")[1:]:  # a password holding '/' too (Go refuses such a URL)
        word = rest.split(None, 1)[0] if rest.strip() else ""
        if "@" in word:
            found.add(word.rsplit("@", 1)[0])
    return {part for info in found for part in (info, info.partition(":")[2])
            if part and part != REDACTED}


SHOWN = 200          # characters of a value (quoted, or any run without blanks) a message shows
MAX_MESSAGE = 2000   # characters of a lint message
_LONG = re.compile(r"""'(?:[^'\\\n]|\\.){%d,}'|"(?:[^"\\\n]|\\.){%d,}"|\S{%d,}"""
                   % (SHOWN, SHOWN, SHOWN))


def cut(text: str, limit: int | None = MAX_MESSAGE) -> str:
    """A message with every quoted value or unbroken run longer than SHOWN characters cut to
    SHOWN, and the whole cut to `limit`: a 10 MB value must not make a 10 MB line."""
    if len(text) <= SHOWN:
        return text
    text = _LONG.sub(lambda m: m.group()[:SHOWN - 4] + "..." + (
        m.group()[-1] if m.group()[0] in "'\"" else ""), text)
    return text if limit is None or len(text) <= limit else text[:limit - 3] + "..."


#: Request headers whose values are credentials (registry.headers.<name>, hosts.toml [header]).
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key",
                            "x-auth-token", "x-registry-auth"})
SCRUB_MIN = 4  # shorter values are not scrubbed from free text (they would mangle it)
_SECRET_LINE = None


def secret_values(tree: Any, path: tuple = ()) -> set[str]:
    """Every scalar held at a secret key (or a credential header) anywhere in `tree`, as text,
    for `scrub`: the last line of defence for messages that might quote an input value."""
    out: set[str] = set()
    stack: list[tuple[Any, tuple, bool]] = [(tree, path, False)]
    while stack:
        node, where, secret = stack.pop()
        secret = secret or is_secret(where) or (
            len(where) >= 2 and str(where[-2]).lower() in ("headers", "header")
            and str(where[-1]).lower() in SECRET_HEADERS)
        if isinstance(node, dict):  # a registry `auth` table holds a username too: its keys
            keep = secret and (str(where[-1]).lower() != "auth"  # decide (but not in auth.auth)
                               or len(where) > 1 and str(where[-2]).lower() == "auth")
            stack.extend((v, where + (k,), keep) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, where + (i,), secret) for i, v in enumerate(node))
        elif secret:
            out.add(node if isinstance(node, str) else json.dumps(node, default=str))
        if isinstance(node, str) and "://" in node:
            out |= _userinfo(node)
        if isinstance(node, dict):
            for k in node:
                if isinstance(k, str) and "://" in k:
                    out |= _userinfo(k)
    return out


def secret_values_in_text(text: str) -> set[str]:
    """The values of secret-looking `key = value` lines of a text that may not parse as TOML,
    and the user information of its URLs."""
    global _SECRET_LINE
    if _SECRET_LINE is None:
        names = "|".join(sorted(SECRET_KEYS | SECRET_HEADERS, key=len, reverse=True))
        _SECRET_LINE = re.compile(
            r"""(?im)(?:^|[\s{,.])["']?(?:%s)["']?[ \t]*=[ \t]*(.*)$""" % names)
    out: set[str] = set()
    for m in _SECRET_LINE.finditer(text):
        raw = m.group(1).strip()
        out.add(raw)
        for inner in re.findall(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'', raw):
            out.update(x for x in inner if x)
        bare = re.match(r"[^\s,}\]#]+", raw)
        if bare:
            out.add(bare.group())
    for line in text.splitlines() if "://" in text else ():
        if "://" in line and "@" in line:
            out |= _userinfo(line)
    return out


def scrub(text: str, secrets: set[str] | list[str]) -> str:
    """`text` with every occurrence of a secret value (and of its JSON spelling) redacted, and
    the user information of its URLs."""
    text = redact_urls(text)
    for value in sorted(secrets, key=len, reverse=True):
        if len(value) < SCRUB_MIN:
            continue
        for form in {value, json.dumps(value, ensure_ascii=False)[1:-1],
                     json.dumps(value)[1:-1], repr(value)[1:-1]}:
            if len(form) >= SCRUB_MIN and form in text:
                text = text.replace(form, "<redacted>")
    return text
