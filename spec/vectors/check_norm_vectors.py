#!/usr/bin/env python3
"""Recompute spec/vectors/norm_vectors.json from spec/NORMALIZATION.md alone.

An independent second implementation: Python's codecs, unicodedata and
hashlib, no ICU.  usage: check_norm_vectors.py [norm_vectors.json]
Exit 0 when every vector matches, 1 otherwise.  Vectors whose characters
are newer than Python's Unicode version would be skipped (none are).
"""
import hashlib
import json
import os
import sys
import unicodedata

STRIP_DIACRITICS = 0x1
UNIFY_ALEF_YEH = 0x2

# Step 2
LINE_TERMINATORS = {"\x0b", "\x0c", "\x85", "\u2028", "\u2029"}
# Step 5: the Unicode White_Space property (stable since Unicode 6.3)
WHITE_SPACE = set(
    [chr(c) for c in range(0x09, 0x0E)]
    + [" ", "\x85", "\xa0", "\u1680"]
    + [chr(c) for c in range(0x2000, 0x200B)]
    + ["\u2028", "\u2029", "\u202f", "\u205f", "\u3000"]
)
# Step 4, STRIP_DIACRITICS: set D
D_RANGES = [
    (0x0300, 0x036F), (0x0483, 0x0489),
    (0x0591, 0x05BD), (0x05BF, 0x05BF), (0x05C1, 0x05C2), (0x05C4, 0x05C5), (0x05C7, 0x05C7),
    (0x0610, 0x061A), (0x064B, 0x0652), (0x0656, 0x065F), (0x0670, 0x0670),
    (0x06D6, 0x06DC), (0x06DF, 0x06E4), (0x06E7, 0x06E8), (0x06EA, 0x06ED),
    (0x08D3, 0x08E1), (0x08E3, 0x08FF),
    (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF), (0xFE20, 0xFE2F),
]
UNIFY_MAP = {"\u0671": "\u0627", "\u0649": "\u064a", "\u06cc": "\u064a", "\u06a9": "\u0643"}
ALEF_MARKS = {"\u0653", "\u0654", "\u0655"}


def in_d(ch):
    c = ord(ch)
    return any(lo <= c <= hi for lo, hi in D_RANGES)


def normalize(data, charset, options):
    # Step 1: decode, U+FFFD for ill-formed input, drop one leading U+FEFF
    text = data.decode(charset, errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    # Step 2: line terminators
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join("\n" if ch in LINE_TERMINATORS else ch for ch in text)
    # Step 3: NFD
    text = unicodedata.normalize("NFD", text)
    # Steps 4 and 5 in one pass
    out = []
    pending = pending_lf = False
    base = None
    for ch in text:
        if ch in ("\u0640", "\ufeff"):
            continue
        if options & STRIP_DIACRITICS and in_d(ch):
            continue
        if options & UNIFY_ALEF_YEH:
            ch = UNIFY_MAP.get(ch, ch)
        if ch in WHITE_SPACE:
            pending = True
            pending_lf = pending_lf or ch == "\n"
            continue
        if pending:
            if out:
                out.append("\n" if pending_lf else " ")
                base = out[-1]
            pending = pending_lf = False
        if options & UNIFY_ALEF_YEH and ch in ALEF_MARKS and base == "\u0627":
            continue
        out.append(ch)
        if unicodedata.combining(ch) == 0:
            base = ch
    # Step 6: NFC
    return unicodedata.normalize("NFC", "".join(out))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "norm_vectors.json")
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    bad = 0
    for v in doc["vectors"]:
        data = bytes.fromhex(v["input_hex"])
        got = normalize(data, v["charset"], v["options"]).encode("utf-8")
        want = bytes.fromhex(v["normalized_hex"])
        nid = hashlib.blake2b(got, digest_size=32).digest()[:16].hex()  # first 16 bytes of BLAKE2b-256
        if got != want or nid != v["norm_id"]:
            bad += 1
            print(f"MISMATCH {v['name']!r}: got {got.hex()} {nid}", file=sys.stderr)
    print(f"{len(doc['vectors']) - bad}/{len(doc['vectors'])} vectors match "
          f"(Python {sys.version.split()[0]}, Unicode {unicodedata.unidata_version})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
