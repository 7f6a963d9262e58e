#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Query one DPDK telemetry command and print the JSON reply.

usage: telemetry.py SOCKET_PATH COMMAND[,PARAMS]
       telemetry.py --while-pid PID SOCKET_PATH COMMAND[,PARAMS]

With --while-pid, repeat the query on one connection as fast as replies
come while process PID exists, and print the number of replies (every
reply must be valid JSON).
"""
import json
import os
import socket
import sys


def query(s, cmd):
    s.send(cmd.encode())
    return s.recv(1 << 16).decode()


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def main():
    args = sys.argv[1:]
    pid = None
    if len(args) == 4 and args[0] == "--while-pid":
        pid = int(args[1])
        args = args[2:]
    if len(args) != 2:
        sys.stderr.write(__doc__)
        return 2
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    s.connect(args[0])
    s.recv(4096)  # greeting: version, pid, max_output_len
    if pid is None:
        print(query(s, args[1]))
    else:
        n = 0
        while alive(pid):
            json.loads(query(s, args[1]))
            n += 1
        print(n)
    s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
