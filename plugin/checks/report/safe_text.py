"""Text from AWS (and from user check files) made safe for the reader's terminal, spreadsheet or
markdown renderer. Any string a resource owner controls (a key policy `Sid`, a key description, a
tag, a bucket name echoed in a reason, a DuckDB error quoting the data) reaches our reports, so
every human-facing format passes it through one of these functions before adding our own markup.
The data formats (JSON, OCSF, `sql --format json`, and SARIF's result `properties`) are not touched:
JSON escaping already keeps control characters inert and consumers need the exact bytes. SARIF's
`message.text`, which GitHub renders, gets its own display form (plugin/checks/report/sarif.py).

`for_terminal(text)` — the `table` formats of `check` and `sql`:
  * ESC sequences are removed whole (CSI `ESC [ ... final`, OSC `ESC ] ... BEL|ESC \\`, DCS/SOS/PM/APC
    `ESC P|X|^|_ ... ESC \\`, and two-character `ESC x`), so that no fragment such as `[2J` is left
    behind. They can clear the screen, move the cursor over our verdict, print a fake "passed",
    conceal text (`ESC [8m`) or set the window title.
  * Then every remaining C0 control except newline and tab (a carriage return or backspace can
    overwrite what was printed), DEL, and every C1 control U+0080-U+009F (U+009B is an 8-bit CSI,
    U+009D an 8-bit OSC to terminals that honour them) is removed.
  * Unicode bidi controls are removed: embeddings/overrides U+202A-U+202E, isolates U+2066-U+2069
    and the marks U+200E, U+200F, U+061C. They reorder what the reader sees ("Trojan Source"), e.g.
    an ARN or account id displayed differently from the one stored.
  Removed rather than replaced with a visible marker: the output keeps the table's widths, and the
  exact bytes remain in the json output for anyone investigating.

`for_csv(cell)` — the `csv` formats: OWASP's CSV-injection advice. A cell whose first character is
  `=`, `+`, `-`, `@`, tab or carriage return is prefixed with a single quote, so that a spreadsheet
  shows it as text instead of evaluating a formula (`=cmd|' /C calc'!A0`, `=HYPERLINK(...)`).
  Plain numbers (`-1`, `+2.5`, `-3e4`) are left alone: they cannot be formulas and `sql` output
  must keep them numeric. The csv module then quotes separators, quotes and newlines.

`for_markdown(text)` — the `markdown` report (a PR comment, `$GITHUB_STEP_SUMMARY`), one table cell
  or heading at a time:
  * `for_terminal` first (the same report is often printed to a terminal), then newlines and carriage
    returns become spaces (a line break would end the table row).
  * Backslash-escaped: `\\ [ ] ( ) ! | `` ` `` * _ ~` — links and images (`[t](u)`, `![t](u)`),
    reference links, table cell breaks (`|`), code spans, and emphasis/strikethrough, which could
    fake our own bold verdict.
  * `& < >` become `&amp; &lt; &gt;`: no raw HTML (`<img src=x onerror=...>`), no `<https://...>`
    autolink, and an entity in the data is shown as written.
  * Bare-URL autolinks (GFM's extension) are broken: the colon of `://` becomes `&#58;`, the dot of
    `www.` becomes `&#46;` and `@` becomes `&#64;` (email autolinks). Renderers see no URL in the
    text, and the reader still sees the same characters.
"""

from __future__ import annotations

import re

# ESC-introduced sequences, longest forms first: CSI, string sequences (OSC, DCS, SOS, PM, APC)
# terminated by BEL or ST (ESC \) or left unterminated to the end, then any other ESC + one char.
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"                 # CSI: parameters, intermediates, final byte
    r"|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC / DCS / SOS / PM / APC ... BEL or ST
    r"|\x1b[\x20-\x7e]?"                        # two-character escapes (ESC 7, ESC c, ...), or a lone ESC
)
# C0 controls except \t and \n, DEL, C1 controls, bidi marks, embeddings, overrides and isolates.
_UNSAFE_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")

_MARKDOWN_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_MARKDOWN_SPECIAL = re.compile(r"[\\\[\]()!|`*_~&<>]")
_AUTOLINK = re.compile(r"://|(?<![A-Za-z0-9])www\.|@", re.IGNORECASE)


def for_terminal(text: object) -> str:
    """`text` without escape sequences, control characters (except newline and tab) or bidi controls."""
    s = str(text)
    if not _UNSAFE_CHARS.search(s):  # the common case: nothing to do
        return s
    return _UNSAFE_CHARS.sub("", _ESCAPE_SEQUENCE.sub("", s))


def for_csv(cell: object) -> str:
    """`cell` as a string a spreadsheet will not evaluate as a formula."""
    s = str(cell)
    if s.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(s):
        return "'" + s
    return s


def for_markdown(text: object) -> str:
    """`text` as literal markdown inline text: no links, images, HTML, autolinks or table breaks."""
    s = for_terminal(text).replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
    s = _MARKDOWN_SPECIAL.sub(lambda m: _MARKDOWN_ESCAPES.get(m.group(0), "\\" + m.group(0)), s)
    return _AUTOLINK.sub(_break_autolink, s)


def _break_autolink(m: re.Match[str]) -> str:
    found = m.group(0)
    if found == "://":
        return "&#58;//"
    if found == "@":
        return "&#64;"
    return found[:3] + "&#46;"  # www. (any case)
