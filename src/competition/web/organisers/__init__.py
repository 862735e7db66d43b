"""Organiser pages: set up a competition, move it through its phases, invite the jury, run and
deploy the assignment, watch progress, compute results, choose and publish winners, read the audit
log and the mail outbox, export CSV.

Each page checks the organiser role through the domain services (`require_organiser` and the
services' own checks) before it reads anything else; long work (assignment and result runs) is
started here and computed by the worker, and its page reloads itself when the worker is done.
One module per group of pages: `setup`, `entries`, `jury`, `runs`, `records`.
"""

from __future__ import annotations

from competition.web.organisers.entries import EntryListPages
from competition.web.organisers.jury import OrganiserJuryPages
from competition.web.organisers.records import RecordPages
from competition.web.organisers.runs import RunPages
from competition.web.organisers.setup import SetupPages

PAGES = (SetupPages, EntryListPages, OrganiserJuryPages, RunPages, RecordPages)

__all__ = ["PAGES"]
