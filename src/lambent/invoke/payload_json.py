"""Is an Invoke payload JSON, as Lambda's front end decides it (pure).

Lambda refuses a payload that is not UTF-8 JSON before anything runs, sync or async:
400 InvalidRequestContentException `Could not parse request body into json: Could not
parse payload into json: <detail>`, where the detail is the message of the Jackson parser
AWS's front end runs, with its location (`\\n at [Source: (byte[])"<payload>"; line: L,
column: C]`, the payload shown up to 500 bytes).

A valid payload costs one pass of the C JSON scanner (a few microseconds for a typical
event; no copy kept). Only a payload it refuses is scanned again, here, to word the detail
as Jackson words it and to accept what Jackson accepts and Python does not (leading white
space, a BOM, overlong UTF-8). The common cases are worded as AWS answers them (recorded
answers: an unrecognized token, an unexpected or control character, invalid UTF-8, a
number cut short); the others (missing close markers, commas, colons, escapes) in the
wording of the Jackson 2.12 era that those answers show. Not modelled: Jackson's
limits on nesting depth and number length of later versions.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from typing import Any

PREFIX = "Could not parse request body into json: Could not parse payload into json: "
VALUES = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
SNIPPET = 500
_WS = b" \t\r\n"
_ESCAPES = b'"\\/bfnrtu'
_HEX = b"0123456789abcdefABCDEF"
# A run of string content that needs no look (ASCII, no quote, backslash or control).
_PLAIN = re.compile(rb'[^"\\\x00-\x1f\x80-\xff]*')


def _no_constants(name: str) -> None:
    raise ValueError(name)  # NaN and Infinity are not JSON (Python accepts them)


# The C scanner itself: one value from the start, what follows it unread (as Jackson).
# (an attribute the decoder sets on itself, typed here).
_SCAN: Callable[[str, int], tuple[Any, int]] = vars(json.JSONDecoder(parse_constant=_no_constants))[
    "scan_once"
]


def problem(payload: bytes) -> str | None:
    """None when Lambda would accept `payload`, else the detail of its refusal."""
    try:
        text = payload.decode("utf-8")
        _, end = _SCAN(text, 0)
        # After a container or a string Jackson reads nothing more; after a number or a
        # literal it looks at the next character, as the scanner below does.
        if end == len(text) or text[0] in '{["':
            return None
    except (StopIteration, ValueError, RecursionError):
        pass  # not necessarily refused: leading white space, a BOM, overlong UTF-8, ...
    try:
        _Scanner(payload).document()
    except _Refused as refused:
        return str(refused)
    return None


def char_desc(code: int) -> str:
    """How Jackson names a character in its messages."""
    c = chr(code)
    if unicodedata.category(c) == "Cc":
        return f"(CTRL-CHAR, code {code})"
    if code > 255:
        return f"'{c}' (code {code} / 0x{code:x})"
    return f"'{c}' (code {code})"


def _ident_start(code: int) -> bool:
    c = chr(code)
    return c.isalpha() or c in "_$" or unicodedata.category(c) in ("Sc", "Pc", "Nl")


def _ident_part(code: int) -> bool:
    c = chr(code)
    category = unicodedata.category(c)
    if category == "Cc":  # Java's identifier-ignorable controls
        return code <= 8 or 0x0E <= code <= 0x1B or 0x7F <= code <= 0x9F
    return _ident_start(code) or c.isdigit() or category in ("Mn", "Mc", "Nd")


class _Refused(Exception):
    pass


class _Scanner:
    """Jackson's grammar over the bytes, to find and word the first error."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.line = 1
        self.row = 0  # where the current line starts
        # Open containers: (closer, type name, line, column of the opener).
        self.stack: list[tuple[int, str, int, int]] = []

    # -- reporting ---------------------------------------------------------------------
    def where(self, line: int, column: int) -> str:
        shown = self.data[:SNIPPET].decode("utf-8", "replace")
        more = len(self.data) - SNIPPET
        cut = f"[truncated {more} bytes]" if more > 0 else ""
        return f'[Source: (byte[])"{shown}"{cut}; line: {line}, column: {column}]'

    def fail(self, message: str, consumed: int | None = None) -> _Refused:
        """`consumed`: the position just past what the parser had read when it failed."""
        at = self.pos if consumed is None else consumed
        return _Refused(f"{message}\n at {self.where(self.line, at - self.row + 1)}")

    def unexpected(self, at: int, comment: str) -> _Refused:
        return self.fail(f"Unexpected character ({char_desc(self.data[at])}): {comment}", at + 1)

    def eof(self, message: str) -> _Refused:
        return self.fail(f"Unexpected end-of-input{message}")

    def close_eof(self) -> _Refused:
        _, kind, line, column = self.stack[-1]
        return self.eof(
            f": expected close marker for {kind} (start marker at {self.where(line, column)})"
        )

    # -- reading -----------------------------------------------------------------------
    def skip_ws(self) -> int | None:
        """The next significant byte (not consumed), None at the end."""
        data = self.data
        while self.pos < len(data):
            b = data[self.pos]
            if b > 0x20:
                if b == 0x2F:  # '/'
                    raise self.unexpected(
                        self.pos,
                        "maybe a (non-standard) comment? (not recognized as one since Feature "
                        "'ALLOW_COMMENTS' not enabled for parser)",
                    )
                return b
            if b in b"\r\n":
                self.pos += 2 if data[self.pos : self.pos + 2] == b"\r\n" else 1
                self.line += 1
                self.row = self.pos
                continue
            if b not in _WS:
                raise self.fail(
                    f"Illegal character ({char_desc(b)}): only regular white space "
                    "(\\r, \\n, \\t) is allowed between tokens",
                    self.pos + 1,
                )
            self.pos += 1
        return None

    def document(self) -> None:
        if self.data[:3] == b"\xef\xbb\xbf":
            self.pos = self.row = 3
        b = self.skip_ws()
        if b is None:
            return  # no content: Jackson reads no value and reports nothing
        if b in b"]}":
            self.pos += 1
            expected = "}" if b == 0x5D else "]"
            raise self.fail(
                f"Unexpected close marker '{chr(b)}': expected '{expected}' (for root starting "
                f"at {self.where(1, 0)})"
            )
        self.value(b)
        while self.stack:
            self.after_value()
        # Jackson reads the first value only: whatever follows it is not looked at.

    def value(self, b: int) -> None:
        """Read the value starting at `b` (at self.pos); a container is opened only."""
        if b == 0x22:
            self.pos += 1
            self.string("string value")
        elif b in b"{[":
            self.open(b)
        elif b == 0x2D or 0x30 <= b <= 0x39:
            self.number()
        elif b in b"tfn":
            self.literal({0x74: b"true", 0x66: b"false", 0x6E: b"null"}[b])
        else:
            self.unexpected_value(b)

    def unexpected_value(self, b: int) -> None:
        if b in b",}" or (b == 0x5D and self.stack and self.stack[-1][0] == 0x5D):
            raise self.unexpected(self.pos, "expected a value")
        if b == 0x4E and self.data.startswith(b"NaN", self.pos):
            self.non_standard("NaN", 3)
        if b == 0x49 and self.data.startswith(b"Infinity", self.pos):
            self.non_standard("Infinity", 8)
        if _ident_start(b):  # a byte over 0x7f is taken as the Latin-1 character
            self.pos += 1
            self.bad_token(chr(b))
        raise self.unexpected(self.pos, f"expected a valid value {VALUES}")

    def non_standard(self, token: str, size: int) -> None:
        self.pos += size
        raise self.fail(
            f"Non-standard token '{token}': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS`"
            " to allow"
        )

    def bad_token(self, matched: str) -> None:
        """Jackson's report of a bad token: it reads on while identifier characters come
        (the first other character is consumed too), then names what it read."""
        text = matched
        while self.pos < len(self.data):
            code = self.char_for_error()
            if not _ident_part(code):
                break
            text += chr(code)
            if len(text) >= 256:
                text += "..."
                break
        raise self.fail(f"Unrecognized token '{text}': was expecting {VALUES}")

    def char_for_error(self) -> int:
        """The next character, decoding UTF-8 as Jackson does when it reports a token."""
        first = self.data[self.pos]
        self.pos += 1
        if first < 0x80:
            return first
        if first & 0xE0 == 0xC0:
            code, needed = first & 0x1F, 1
        elif first & 0xF0 == 0xE0:
            code, needed = first & 0x0F, 2
        elif first & 0xF8 == 0xF0:
            code, needed = first & 0x07, 3
        else:
            raise self.fail(f"Invalid UTF-8 start byte 0x{first:x}")
        for _ in range(needed):
            if self.pos >= len(self.data):
                raise self.eof("")
            d = self.data[self.pos]
            self.pos += 1
            if d & 0xC0 != 0x80:
                raise self.fail(f"Invalid UTF-8 middle byte 0x{d:x}")
            code = (code << 6) | (d & 0x3F)
        return code if code <= 0xFFFF else code & 0xFFFF

    def literal(self, word: bytes) -> None:
        start = self.pos
        end = start + len(word)
        if self.data[start:end] == word and (end >= len(self.data) or not self.ident_at(end)):
            self.pos = end
            return
        matched = 0
        while (
            matched < len(word)
            and self.data[start + matched : start + matched + 1] == word[matched : matched + 1]
        ):
            matched += 1
        self.pos = start + matched
        self.bad_token(word[:matched].decode())

    def ident_at(self, at: int) -> bool:
        b = self.data[at]
        return _ident_part(b) if b < 0x80 else True

    # -- strings and numbers -------------------------------------------------------------
    def string(self, what: str) -> None:
        data = self.data
        while self.pos < len(data):
            self.pos = _PLAIN.match(data, self.pos).end()  # type: ignore[union-attr]
            if self.pos >= len(data):
                break
            b = data[self.pos]
            self.pos += 1
            if b == 0x22:
                return
            if b == 0x5C:
                self.escape()
            elif b < 0x20:
                raise self.fail(
                    f"Illegal unquoted character ({char_desc(b)}): has to be escaped using "
                    f"backslash to be included in {what}"
                )
            elif b >= 0x80:
                self.pos -= 1
                self.char_for_error()
        if what == "name":
            raise self.eof(": was expecting closing '\"' for name")
        raise self.eof(": was expecting closing quote for a string value")

    def escape(self) -> None:
        if self.pos >= len(self.data):
            raise self.eof(" in character escape sequence")
        b = self.data[self.pos]
        if b not in _ESCAPES:
            code = self.char_for_error()
            raise self.fail(f"Unrecognized character escape {char_desc(code)}")
        self.pos += 1
        if b != 0x75:
            return
        for _ in range(4):
            if self.pos >= len(self.data):
                raise self.eof(" in character escape sequence")
            if self.data[self.pos] not in _HEX:
                raise self.unexpected(
                    self.pos, "expected a hex-digit for character escape sequence"
                )
            self.pos += 1

    def digits(self) -> int:
        start = self.pos
        while self.pos < len(self.data) and 0x30 <= self.data[self.pos] <= 0x39:
            self.pos += 1
        return self.pos - start

    def number_char(self, comment: str) -> _Refused:
        if self.pos >= len(self.data):
            return self.eof(" in a Number value")
        return self.fail(
            f"Unexpected character ({char_desc(self.data[self.pos])}) in numeric value: {comment}",
            self.pos + 1,
        )

    def number(self) -> None:
        data = self.data
        if data[self.pos] == 0x2D:
            self.pos += 1
            if data.startswith(b"Infinity", self.pos):
                self.pos -= 1
                self.non_standard("-Infinity", 9)
        first = self.pos
        if self.digits() == 0:
            raise self.number_char(
                "expected digit (0-9) to follow minus sign, for valid numeric value"
            )
        if data[first] == 0x30 and self.pos - first > 1:
            raise self.fail("Invalid numeric value: Leading zeroes not allowed", first + 2)
        if self.pos < len(data) and data[self.pos] == 0x2E:
            self.pos += 1
            if self.digits() == 0:
                raise self.number_char("Decimal point not followed by a digit")
        if self.pos < len(data) and data[self.pos] in b"eE":
            self.pos += 1
            if self.pos < len(data) and data[self.pos] in b"+-":
                self.pos += 1
            if self.digits() == 0:
                raise self.number_char("Exponent indicator not followed by a digit")
        if not self.stack and self.pos < len(data) and data[self.pos] not in _WS:
            raise self.unexpected(self.pos, "Expected space separating root-level values")

    # -- containers ----------------------------------------------------------------------
    def open(self, b: int) -> None:
        column = self.pos - self.row + 1
        self.pos += 1
        if b == 0x7B:
            self.stack.append((0x7D, "Object", self.line, column))
            self.member(first=True)
        else:
            self.stack.append((0x5D, "Array", self.line, column))
            nxt = self.skip_ws()
            if nxt is None:
                raise self.close_eof()
            if nxt == 0x5D:
                self.pos += 1
                self.stack.pop()
            else:
                self.value(nxt)

    def member(self, *, first: bool) -> None:
        """A field name, its colon and the start of its value (or `}` right after `{`)."""
        b = self.skip_ws()
        if b is None:
            raise self.close_eof()
        if first and b == 0x7D:
            self.pos += 1
            self.stack.pop()
            return
        if b != 0x22:
            raise self.unexpected(self.pos, "was expecting double-quote to start field name")
        self.pos += 1
        self.string("name")
        b = self.skip_ws()
        if b is None:
            raise self.eof(" within/between Object entries")
        if b != 0x3A:
            raise self.unexpected(
                self.pos, "was expecting a colon to separate field name and value"
            )
        self.pos += 1
        b = self.skip_ws()
        if b is None:
            raise self.eof(" within/between Object entries")
        self.value(b)

    def after_value(self) -> None:
        closer, kind, line, column = self.stack[-1]
        b = self.skip_ws()
        if b is None:
            raise self.close_eof()
        if b in b"]}":
            self.pos += 1
            if b != closer:
                raise self.fail(
                    f"Unexpected close marker '{chr(b)}': expected '{chr(closer)}' (for {kind} "
                    f"starting at {self.where(line, column)})"
                )
            self.stack.pop()
            return
        if b != 0x2C:
            raise self.unexpected(self.pos, f"was expecting comma to separate {kind} entries")
        self.pos += 1
        if closer == 0x7D:
            self.member(first=False)
            return
        nxt = self.skip_ws()
        if nxt is None:
            raise self.close_eof()
        self.value(nxt)
