#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Query one DPDK telemetry command and print the JSON reply.

usage: telemetry.py SOCKET_PATH COMMAND[,PARAMS]
"""
import socket
import sys


def main():
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    s.connect(sys.argv[1])
    s.recv(4096)  # greeting: version, pid, max_output_len
    s.send(sys.argv[2].encode())
    print(s.recv(1 << 16).decode())
    s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
