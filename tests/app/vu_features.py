#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The vdpa-relay authors
"""vu_features.py SOCKET: the virtio features and queue pairs a vhost-user
backend offers, asked the way a frontend does first (GET_FEATURES,
GET_QUEUE_NUM), printed as one JSON line. For checking a description
file against the real backend it describes."""

import json
import socket
import struct
import sys

GET_FEATURES, GET_QUEUE_NUM = 1, 17
VERSION = 0x1


def ask(sock, request):
    sock.send(struct.pack("<III", request, VERSION, 0))
    hdr = sock.recv(12, socket.MSG_WAITALL)
    req, _, size = struct.unpack("<III", hdr)
    if req != request or size != 8:
        raise SystemExit("bad reply to %d: %r" % (request, hdr))
    return struct.unpack("<Q", sock.recv(8, socket.MSG_WAITALL))[0]


sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.settimeout(10)
sock.connect(sys.argv[1])
features = ask(sock, GET_FEATURES)
queues = ask(sock, GET_QUEUE_NUM)
sock.close()
print(json.dumps({"features": features, "queue_pairs": queues}))
