#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The vdpa-relay authors
"""Minimal QMP client for the e2e tests.

  qmp.py SOCK CMD [JSON_ARGS]   run one command, print its "return" as JSON
  qmp.py SOCK wait-migrate SECS poll query-migrate until it is completed,
                                failed or cancelled; print the last answer
  qmp.py SOCK wait-status STATUS SECS
                                poll query-status until it reports STATUS

Exit status 1 on a QMP error or a timeout.
"""
import json
import socket
import sys
import time


class Qmp:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(path)
        self.rfile = self.sock.makefile("r")
        self._read()                    # greeting
        self.cmd("qmp_capabilities")

    def _read(self):
        while True:
            line = self.rfile.readline()
            if not line:
                raise EOFError("QMP connection closed")
            msg = json.loads(line)
            if "event" not in msg:     # events are not ours to answer
                return msg

    def cmd(self, name, args=None):
        req = {"execute": name}
        if args:
            req["arguments"] = args
        self.sock.sendall((json.dumps(req) + "\n").encode())
        if name == "quit":
            return {}
        msg = self._read()
        if "error" in msg:
            raise RuntimeError(f"{name}: {msg['error'].get('desc')}")
        return msg.get("return")


IN_PROGRESS = {"setup", "active", "pre-switchover", "device",
               "cancelling", "wait-unplug"}


def wait_for(q, cmd, done, secs):
    deadline = time.monotonic() + secs
    while True:
        ret = q.cmd(cmd)
        if done(ret):
            return ret, True
        if time.monotonic() > deadline:
            return ret, False
        time.sleep(0.05)


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    q = Qmp(argv[1])
    if argv[2] == "wait-migrate":
        # Until the outgoing migration has left state "none", a QEMU
        # that was itself a migration destination answers query-migrate
        # with its finished *incoming* migration ("completed"). Accept a
        # final state only after an in-progress one was seen, or once
        # that window has certainly passed.
        start = time.monotonic()
        seen = set()

        def done(r):
            st = r.get("status")
            seen.add(st)
            if st not in ("completed", "failed", "cancelled"):
                return False
            return bool(seen & IN_PROGRESS) or \
                time.monotonic() - start > 3
        ret, ok = wait_for(q, "query-migrate", done, float(argv[3]))
        # QEMU 7.2 sets the state to completed before it computes
        # total-time and downtime: an answer in between has both 0
        # (seen once in the e2e results). Ask again for the figures.
        if ok and ret.get("status") == "completed" and \
                "total-time" in ret and ret["total-time"] == 0:
            ret, _ = wait_for(q, "query-migrate",
                              lambda r: r.get("total-time", 0) != 0, 2)
    elif argv[2] == "wait-status":
        ret, ok = wait_for(q, "query-status",
                           lambda r: r.get("status") == argv[3],
                           float(argv[4]))
    else:
        ret = q.cmd(argv[2], json.loads(argv[3]) if len(argv) > 3 else None)
        ok = True
    print(json.dumps(ret))
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (OSError, EOFError, RuntimeError, ValueError) as e:
        print(f"qmp.py: {e}", file=sys.stderr)
        sys.exit(1)
