#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The vdpa-relay authors
"""Compare two guest RAM dumps page by page (run.sh, stress sets).

  ramcmp.py SRC DST OUTDIR

SRC is the stopped source's RAM, DST the paused destination's. Prints

  <pages differing> <of them with datagram data> : <pfns...>

A differing page "has datagram data" when a differing byte lies inside
a datagram of the test stream in SRC (found by its header magic in this
page or the one before; one datagram spans at most two pages): the
device wrote it, so it is a page whose write was not logged. Other
differing pages were written by the guest CPU. The legacy VGA/ROM hole
is skipped. Up to 16 differing page pairs are kept in OUTDIR.
"""
import os
import sys

PAGE = 4096
HOLE = range(0xA0000 // PAGE, 0x100000 // PAGE)
MAGIC = (0x76644C4D).to_bytes(4, "little")     # udp_common.h E2E_MAGIC
# virtio-net header, Ethernet, IPv4 and UDP headers before the magic;
# e2e header and payload after it.
BEFORE = 12 + 14 + 20 + 8
AFTER = 16 + 1400


def datagram_spans(prev, page):
    """Byte ranges of the page covered by datagrams found in prev+page."""
    buf = prev + page
    spans = []
    i = buf.find(MAGIC)
    while i >= 0:
        lo, hi = i - BEFORE - len(prev), i + AFTER - len(prev)
        if hi > 0 and lo < PAGE:
            spans.append((max(lo, 0), min(hi, PAGE)))
        i = buf.find(MAGIC, i + 1)
    return spans


def has_datagram_diff(prev, pa, pb):
    spans = datagram_spans(prev, pa)
    if not spans:
        return False
    for off in range(PAGE):
        if pa[off] != pb[off] and any(lo <= off < hi for lo, hi in spans):
            return True
    return False


def main():
    src, dst, out = sys.argv[1:4]
    diffs, data = [], 0
    prev = b""
    with open(src, "rb") as a, open(dst, "rb") as b:
        pfn = 0
        while True:
            pa, pb = a.read(PAGE), b.read(PAGE)
            if not pa:
                break
            if pfn not in HOLE and pa != pb:
                diffs.append((pfn, pa, pb))
                data += has_datagram_diff(prev, pa, pb)
            prev = pa
            pfn += 1
    if diffs:
        os.makedirs(out, exist_ok=True)
        for pfn, pa, pb in diffs[:16]:
            with open(f"{out}/{pfn:#x}.src", "wb") as f:
                f.write(pa)
            with open(f"{out}/{pfn:#x}.dst", "wb") as f:
                f.write(pb)
    print(f"{len(diffs)} {data} :",
          " ".join(f"{pfn:#x}" for pfn, _, _ in diffs[:32]))


main()
