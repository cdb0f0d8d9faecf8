"""The tamper-evident audit log (the seed's "blockchain" item): every stored verdict, area version, register
change and plan step is a leaf of a hash-chained entry, appended by database triggers in the transaction that
stores it. See docs/audit.md for the design, the canonical encodings and the threat model.

- :func:`set_actor` / :func:`acting_as` name the user a session's / a block's entries record (default: the OS
  user, as the CLI wants);
- :func:`head` gives the checkpoint to publish; :func:`verify_log` recomputes everything, optionally against one;
- :func:`entry_for` / :func:`entries_for` find the entry recording a row (records and notices print its hash).
"""

from gi.audit.actor import acting_as, current_actor, set_actor
from gi.audit.hashing import EntryFields, inclusion_proof, leaf_hash, merkle_root, root_from_proof
from gi.audit.log import AuditRef, Checkpoint, entries_for, entry_for, head, inclusion, log_origin
from gi.audit.verify import CANONICAL_SETTINGS, Finding, Verification, verify_log

__all__ = [
    "CANONICAL_SETTINGS",
    "AuditRef",
    "Checkpoint",
    "EntryFields",
    "Finding",
    "Verification",
    "acting_as",
    "current_actor",
    "entries_for",
    "entry_for",
    "head",
    "inclusion",
    "inclusion_proof",
    "leaf_hash",
    "log_origin",
    "merkle_root",
    "root_from_proof",
    "set_actor",
    "verify_log",
]
