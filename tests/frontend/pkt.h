/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test frame format: Ethernet header, 4-byte queue id, 8-byte sequence
 * number, then payload bytes derived from (queue, seq) so that any
 * corruption is detected.
 */
#ifndef VU_FE_PKT_H
#define VU_FE_PKT_H

#include <stdint.h>

/** Ethernet header + queue id + sequence number. */
#define PKT_HDR_LEN (14u + 4u + 8u)
/** Smallest frame accepted. */
#define PKT_MIN_LEN 60u
/** Local experimental EtherType used by test frames. */
#define PKT_ETHERTYPE 0x88b5u

/** Result of checking a received frame. */
enum pkt_verdict {
	PKT_OK = 0,      /**< intact */
	PKT_BAD_HDR,     /**< MACs, EtherType, length or queue id wrong */
	PKT_CORRUPT,     /**< header fine, payload differs */
};

/**
 * Build the frame for (qid, seq) as sent by the driver.
 *
 * @param buf destination (len bytes)
 * @param len frame length (>= PKT_MIN_LEN)
 * @param qid queue pair id
 * @param seq sequence number
 */
void pkt_build(uint8_t *buf, uint32_t len, uint32_t qid, uint64_t seq);

/**
 * Check a frame returned by the loopback device (MACs swapped).
 *
 * @param buf  frame
 * @param len  received length
 * @param want expected length
 * @param qid  queue pair it was received on
 * @param seq  set to the frame's sequence number when the header is sane
 * @return verdict
 */
enum pkt_verdict pkt_check(const uint8_t *buf, uint32_t len, uint32_t want,
			   uint32_t qid, uint64_t *seq);

#endif /* VU_FE_PKT_H */
