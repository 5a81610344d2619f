"""Tokenizer for packetdrill scripts, with the preprocessor and comments folded in.

One pass over the text: ``#ifdef/#ifndef/#else/#endif`` lines (at the start of a line) select
regions against a set of defined names; ``//`` and ``/* */`` comments are dropped; backtick
commands and ``%{ }%`` blocks become single tokens holding their raw text (comments are not
stripped inside them: ``//`` is Python's floor division).  ``--name=value`` at the start of a
line becomes one OPTION token.  Newlines are not tokens: packetdrill's grammar is free-form and
each event starts with a time, but tokens keep their line and column for error messages.
"""

from __future__ import annotations

import re
from collections.abc import Set
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["ParseError", "Tok", "Token", "tokenize"]


class ParseError(ValueError):
    """A script that cannot be parsed: where (path, 1-based line and column) and why."""

    def __init__(self, path: str, line: int, column: int, message: str) -> None:
        super().__init__(f"{path}:{line}:{column}: {message}")
        self.path = path
        self.line = line
        self.column = column
        self.message = message


class Tok(StrEnum):
    NUMBER = "number"  # digits with optional fraction, or 0x hex; also hex cookies (0102ab)
    WORD = "word"
    STRING = "string"
    BACKTICK = "backtick"
    CODE = "code"
    OPTION = "option"
    PUNCT = "punct"  # one of + - * < > [ ] ( ) { } , : = | ! ~ . / @ and "..."
    EOF = "eof"


@dataclass(frozen=True)
class Token:
    kind: Tok
    text: str  # for STRING/BACKTICK/CODE: the content without delimiters
    line: int
    col: int
    start: int  # offset of the token's first character in the source
    end: int  # offset just past it
    space_before: bool  # whitespace or a comment separates it from the previous token

    def is_punct(self, text: str) -> bool:
        return self.kind is Tok.PUNCT and self.text == text

    def describe(self) -> str:
        if self.kind is Tok.EOF:
            return "end of file"
        if self.kind in (Tok.BACKTICK, Tok.CODE):
            return f"a {self.kind.value} block"
        return repr(self.text)


# Numbers run digits, letters and underscores together (0x1f, hex cookies such as 0102ab)
# and take one fraction part when the '.' is followed by a digit, so 0.1...0.2 is three tokens.
_TOKEN_RE = re.compile(
    r"""
    (?P<nl>\n)
    | (?P<ws>[ \t\r\f\v]+)
    | (?P<lcomment>//[^\n]*)
    | (?P<bcomment>/\*.*?\*/)
    | (?P<word>[A-Za-z_]\w*)
    | (?P<number>[0-9]\w*(?:\.[0-9]+)?)
    | (?P<punct>\.\.\.|[-+*<>\[\](){},:=|!~./@])
    """,
    re.DOTALL | re.VERBOSE,
)
_GROUP_KIND = {"word": Tok.WORD, "number": Tok.NUMBER, "punct": Tok.PUNCT}
_DIRECTIVES = ("ifdef", "ifndef", "else", "endif")


class _Lexer:
    def __init__(self, text: str, path: str, defines: Set[str]) -> None:
        self.src = text
        self.path = path
        self.defines = defines
        self.pos = 0
        self.line = 1
        self.line_start = 0
        # One entry per open #if: (this branch active, parent active, seen #else, line).
        self.conds: list[tuple[bool, bool, bool, int]] = []
        self.tokens: list[Token] = []
        self.space = True

    def error(self, message: str, line: int | None = None, col: int | None = None) -> ParseError:
        if line is None:
            line = self.line
        if col is None:
            col = self.pos - self.line_start + 1
        return ParseError(self.path, line, col, message)

    def active(self) -> bool:
        return not self.conds or self.conds[-1][0]

    def advance_to(self, pos: int) -> None:
        """Move to pos, counting the newlines crossed."""
        nl = self.src.count("\n", self.pos, pos)
        if nl:
            self.line += nl
            self.line_start = self.src.rindex("\n", self.pos, pos) + 1
        self.pos = pos

    def at_line_start(self) -> bool:
        return self.src[self.line_start : self.pos].strip() == ""

    def end_of_line(self) -> int:
        nl = self.src.find("\n", self.pos)
        return len(self.src) if nl < 0 else nl

    def run(self) -> list[Token]:
        src = self.src
        n = len(src)
        match = _TOKEN_RE.match
        while self.pos < n:
            c = src[self.pos]
            if c == "#" and self.at_line_start():
                self.directive()
                continue
            if not self.active():
                eol = self.end_of_line()
                self.advance_to(eol + 1 if eol < n else n)
                continue
            if c == "`":
                self.delimited(Tok.BACKTICK, "`", "`", "backtick command")
                continue
            if c == "%" and src.startswith("%{", self.pos):
                self.delimited(Tok.CODE, "%{", "}%", "%{ code block")
                continue
            if c == '"':
                self.string()
                continue
            if c == "-" and src.startswith("--", self.pos) and self.at_line_start():
                self.option()
                continue
            m = match(src, self.pos)
            if m is None:
                if src.startswith("/*", self.pos):
                    raise self.error("unterminated /* comment")
                raise self.error(f"unexpected character {c!r}")
            kind = m.lastgroup
            end = m.end()
            if kind == "nl":
                self.line += 1
                self.line_start = end
                self.pos = end
                self.space = True
            elif kind == "ws" or kind == "lcomment":
                self.pos = end
                self.space = True
            elif kind == "bcomment":
                self.advance_to(end)
                self.space = True
            else:
                self.emit(_GROUP_KIND[kind or ""], m.group(), end)
        if self.conds:
            raise self.error(f"#if at line {self.conds[-1][3]} has no #endif", self.conds[-1][3], 1)
        self.tokens.append(
            Token(Tok.EOF, "", self.line, self.pos - self.line_start + 1, self.pos, self.pos, True)
        )
        return self.tokens

    def emit(self, kind: Tok, text: str, end: int) -> None:
        col = self.pos - self.line_start + 1
        self.tokens.append(Token(kind, text, self.line, col, self.pos, end, self.space))
        self.space = False
        self.advance_to(end)

    def string(self) -> None:
        src = self.src
        j = self.pos + 1
        while j < len(src) and src[j] != '"':
            if src[j] == "\n":
                raise self.error("unterminated string")
            j += 2 if src[j] == "\\" else 1
        if j >= len(src):
            raise self.error("unterminated string")
        tok_end = j + 1
        col = self.pos - self.line_start + 1
        self.tokens.append(
            Token(Tok.STRING, src[self.pos + 1 : j], self.line, col, self.pos, tok_end, self.space)
        )
        self.space = False
        self.advance_to(tok_end)

    def delimited(self, kind: Tok, opener: str, closer: str, what: str) -> None:
        close = self.src.find(closer, self.pos + len(opener))
        if close < 0:
            raise self.error(f"unterminated {what}")
        col = self.pos - self.line_start + 1
        text = self.src[self.pos + len(opener) : close]
        end = close + len(closer)
        self.tokens.append(Token(kind, text, self.line, col, self.pos, end, self.space))
        self.space = False
        self.advance_to(end)

    def option(self) -> None:
        eol = self.end_of_line()
        text = self.src[self.pos : eol]
        cut = text.find("//")
        if cut >= 0:
            text = text[:cut]
        self.emit(Tok.OPTION, text.rstrip(), self.pos + len(text.rstrip()))

    def directive(self) -> None:
        eol = self.end_of_line()
        text = self.src[self.pos + 1 : eol]
        cut = text.find("//")
        if cut >= 0:
            text = text[:cut]
        words = text.split()
        name = words[0] if words else ""
        line = self.line
        if name not in _DIRECTIVES:
            raise self.error(f"unsupported preprocessor directive '#{name}'")
        if name in ("ifdef", "ifndef"):
            if len(words) != 2:
                raise self.error(f"#{name} takes one name")
            defined = words[1] in self.defines
            parent = self.active()
            self.conds.append((parent and defined == (name == "ifdef"), parent, False, line))
        else:
            if len(words) != 1:
                raise self.error(f"#{name} takes no argument")
            if not self.conds:
                raise self.error(f"#{name} without #ifdef or #ifndef")
            active, parent, seen_else, start = self.conds.pop()
            if name == "else":
                if seen_else:
                    raise self.error(f"second #else for the #if at line {start}")
                self.conds.append((parent and not active, parent, True, start))
        self.advance_to(eol)
        self.space = True


def tokenize(text: str, path: str = "<string>", defines: Set[str] = frozenset()) -> list[Token]:
    """The tokens of text (ending with an EOF token) for the given preprocessor names."""
    return _Lexer(text, path, defines).run()
