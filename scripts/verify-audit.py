#!/usr/bin/env python3
"""Verify a pipeline-agent audit log with the Python standard library alone.

    scripts/verify-audit.py STATE_DIR        (the agent config's state.path)

Checks, record by record, that `seq` counts 1, 2, 3 ... without gaps, that `prev` is the hash of the
record before (64 zeros for the first), and that `hash` is the SHA-256 of the line without its
`"hash":"...",` member (each line is stored in its canonical form, see docs/audit.md). Then it compares
the anchor the agent keeps in state.sqlite: a log cut short ends before the anchor ("missing tail"), a
rewritten one no longer has the anchored hash ("anchor mismatch"). Records after the anchor are allowed
(an agent that crashed between its two writes leaves a few) and counted.

Exit 0 and "intact: N records, head H"; exit 1 and the first problem, with its seq.
"""
import hashlib
import json
import sqlite3
import sys

GENESIS = "0" * 64
HASH_KEY = b'"hash":"'


def fail(message):
    print(f"BROKEN: {message}")
    sys.exit(1)


def read_anchor(state):
    database = sqlite3.connect(f"file:{state}/state.sqlite?mode=ro", uri=True)
    row = database.execute("SELECT seq, hash FROM audit_anchor WHERE id = 1").fetchone()
    database.close()
    return row  # (seq, hash) or None before the first record


def main(state):
    anchor = read_anchor(state)
    prev, seq, anchored_hash = GENESIS, 0, None
    with open(f"{state}/audit.jsonl", "rb") as log:
        for line in log:
            seq += 1
            line = line.rstrip(b"\n")
            # The record's own hash is its last top-level "hash" member: keys are sorted, and a quote
            # inside a string is escaped, so nothing after it can look like one.
            at = line.rfind(HASH_KEY)
            if at < 0:
                fail(f"seq {seq}: no hash")
            recorded = line[at + len(HASH_KEY):at + len(HASH_KEY) + 64].decode()
            body = line[:at] + line[at + len(HASH_KEY) + 64 + 2:]
            record = json.loads(line)
            if record.get("seq") != seq:
                fail(f"seq {seq}: the record says seq {record.get('seq')} (a record is missing or out of order)")
            if record.get("prev") != prev:
                fail(f"seq {seq}: broken link (prev is not the hash of seq {seq - 1})")
            if hashlib.sha256(body).hexdigest() != recorded or record.get("hash") != recorded:
                fail(f"seq {seq}: hash mismatch (the record was changed after it was written)")
            if anchor and seq == anchor[0]:
                anchored_hash = recorded
            prev = recorded
    if anchor is None:
        if seq:
            fail("the state store has no anchor, but the log has records (was the database replaced?)")
    elif seq < anchor[0]:
        fail(f"missing tail: the log ends at seq {seq}, the anchor says {anchor[0]} (records were cut off)")
    elif anchored_hash != anchor[1]:
        fail(f"anchor mismatch at seq {anchor[0]}: the log was rewritten")
    after = seq - anchor[0] if anchor else 0
    note = f" ({after} after the anchor, written just before a crash)" if after else ""
    print(f"intact: {seq} records, head {prev}{note}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
