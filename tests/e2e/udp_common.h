/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Wire format shared by udp_send (host) and udp_check (guest).
 *
 * Every datagram is a header followed by payload bytes that are a pure
 * function of (stream, seq, offset), so the receiver can tell a datagram
 * that was corrupted in transit (e.g. written into a guest page the
 * migration never re-sent) from one that was merely lost or repeated.
 */

#ifndef UDP_E2E_COMMON_H
#define UDP_E2E_COMMON_H

#include <stdint.h>

#define E2E_MAGIC	0x76644c4dU	/* "vdLM" */
#define E2E_DATA_PORT	5000
#define E2E_CTRL_PORT	5001
#define E2E_PAYLOAD	1400		/* bytes after the header */
#define E2E_MAX_SEQ	(1u << 22)	/* bitmap size: ~35 min at 2 kpps */

struct e2e_hdr {
	uint32_t magic;
	uint32_t stream;	/* a new stream id resets the counters */
	uint64_t seq;
} __attribute__((packed));

static inline uint8_t
e2e_byte(uint32_t stream, uint64_t seq, unsigned int off)
{
	uint64_t x = seq * 0x9e3779b97f4a7c15ULL ^ stream ^ (off * 0x45d9f3bU);

	x ^= x >> 29;
	return (uint8_t)(x ^ (x >> 11) ^ off);
}

#endif /* UDP_E2E_COMMON_H */
