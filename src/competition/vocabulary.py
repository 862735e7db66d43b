"""The platform's words for states and kinds, each defined once as a `Literal`.

The request and response Structs, the services' checks, the labels on the pages (competition.web
.labels, one label per value) and the database's CHECK constraints all speak this vocabulary;
`tests/test_vocabulary.py` compares every type here with its column's CHECK constraint in the
migrated database and with the page labels, so a value added in one place and forgotten in another
fails a test instead of a user. The meaning of each state is documented beside it.
"""

from __future__ import annotations

from typing import Literal, get_args

Locale = Literal["de", "en"]

# A competition's life (competitions.phases holds the allowed transitions).
Phase = Literal["draft", "open", "closed", "judging", "deliberation", "published", "archived"]

# A company's members: the owner manages the profile and members.
CompanyRole = Literal["owner", "member"]

# An entry: editable as a draft, judged once submitted; withdrawn by its company, or disqualified
# by the organisers (never judged, ranked or awarded).
EntryStatus = Literal["draft", "submitted", "withdrawn", "disqualified"]

# An attachment: the upload URL is issued (pending), the bytes arrived (uploaded), the
# verification job checked size, hash and type (verified or rejected); deleted by its company or
# expired when the upload never completed.
AttachmentStatus = Literal["pending", "uploaded", "verified", "rejected", "deleted", "expired"]

# An outgoing mail in the outbox: claimed by a sender (sending), delivered, or given up on.
MailStatus = Literal["queued", "sending", "sent", "failed"]

# A juror's seat on one competition's jury.
JurorStatus = Literal["invited", "active", "declined", "removed"]

# A conflict of interest between a juror and a company, by its nature and who recorded it.
ConflictType = Literal[
    "employee",
    "former_employee",
    "customer",
    "supplier",
    "competitor",
    "shareholder",
    "advisor",
    "family",
    "other",
]
ConflictSource = Literal["juror", "organiser"]

# A juror's declaration: matched to a company (or not), waiting for an organiser's decision
# (pending), decided (resolved: recorded as a conflict; dismissed: not a conflict).
DeclarationStatus = Literal["matched", "unmatched", "pending", "resolved", "dismissed"]

# Why an assignment was voided: its juror became a member of the entrant company.
VoidReason = Literal["member"]

# An assignment run (solver) and a result run (aggregation).
AssignmentRunStatus = Literal["queued", "done", "infeasible", "failed", "deployed"]
ResultRunStatus = Literal["queued", "done", "failed"]

# A juror's score sheet: saved as a draft until finalised; and as jurors and organisers see an
# assignment's sheet, "open" while none is saved yet.
SheetStatus = Literal["draft", "final"]
SheetState = Literal["open", "draft", "final"]

# How scores are made comparable across jurors before ranking.
Method = Literal["zscore", "raw"]


def values(vocabulary: object) -> tuple[str, ...]:
    """The words of one vocabulary, in their order of declaration."""
    return tuple(str(v) for v in get_args(vocabulary))
