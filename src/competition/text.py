"""What text a client may send, as types the request Structs share, and the clean-up of names
that other people read.

PostgreSQL refuses NUL in text, and nobody types the other C0 controls or DEL: they come from
broken or hostile clients only, and then break logs, CSV exports and terminals. So one-line
values (names, addresses, keys, tokens) refuse every control character, and multi-line text
(descriptions, comments, notes) keeps only tab, line feed and carriage return. Anything else is
a 422 that names the field, before a handler runs.

The patterns mean the same to msgspec (Python's `re.search`) and to readers of the OpenAPI
document (ECMAScript): `END` instead of `$`, which in Python also matches before a final line
feed and would let "name\\n" through.
"""

from __future__ import annotations

import re
from typing import Annotated, Final

import msgspec

END: Final = r"(?![\s\S])"
# C0 controls and DEL: none in one line; tab (09), line feed (0A), carriage return (0D) in text.
SINGLE_LINE: Final = r"^[^\x00-\x1f\x7f]*" + END
MULTI_LINE: Final = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
CONTROL_PATTERNS: Final = frozenset({SINGLE_LINE, MULTI_LINE})

EMAIL: Final = r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+" + END

Line = Annotated[str, msgspec.Meta(pattern=SINGLE_LINE)]
Text = Annotated[str, msgspec.Meta(pattern=MULTI_LINE)]
Email = Annotated[
    str, msgspec.Meta(min_length=3, max_length=254, pattern=EMAIL, description="E-mail address")
]

# Unicode's explicit directional formatting characters: embeddings and overrides (U+202A–U+202E)
# and isolates (U+2066–U+2069). In a title or a file name they make text display differently
# from what it is ("Trojan Source", CVE-2021-42574): "rechnung", U+202E, "fdp.exe" shows as
# "rechnungexe.pdf".
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def without_bidi_controls(value: str) -> str:
    """`value` as stored for other people to read: without directional formatting characters."""
    return _BIDI_CONTROLS.sub("", value)


def is_control_message(message: str) -> bool:
    """Whether msgspec's finding is about one of the patterns above (the field holds a control
    character), so that people read what is wrong instead of a regular expression."""
    return any(f"regex {pattern!r}" in message for pattern in CONTROL_PATTERNS)
