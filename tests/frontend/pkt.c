/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test frame generation and verification.
 */
#include <string.h>

#include "pkt.h"

static const uint8_t guest_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };

static uint64_t
pkt_seed(uint32_t qid, uint64_t seq)
{
	return (seq + 1) * 0x9e3779b97f4a7c15ull ^
	       (qid + 1ull) * 0xc2b2ae3d27d4eb4full;
}

static uint8_t
pkt_byte(uint64_t seed, uint32_t i)
{
	return (uint8_t)(seed >> ((i & 7) * 8)) ^ (uint8_t)(i >> 3);
}

void
pkt_build(uint8_t *buf, uint32_t len, uint32_t qid, uint64_t seq)
{
	uint64_t seed = pkt_seed(qid, seq);
	uint32_t i;

	memcpy(buf, peer_mac, 6);
	memcpy(buf + 6, guest_mac, 6);
	buf[12] = PKT_ETHERTYPE >> 8;
	buf[13] = PKT_ETHERTYPE & 0xff;
	memcpy(buf + 14, &qid, 4);
	memcpy(buf + 18, &seq, 8);
	for (i = PKT_HDR_LEN; i < len; i++)
		buf[i] = pkt_byte(seed, i);
}

enum pkt_verdict
pkt_check(const uint8_t *buf, uint32_t len, uint32_t want, uint32_t qid,
	  uint64_t *seq)
{
	uint32_t q, i;
	uint64_t seed;

	if (len != want || len < PKT_HDR_LEN)
		return PKT_BAD_HDR;
	memcpy(&q, buf + 14, 4);
	/* Loopback swaps MACs: the frame now goes to the guest. */
	if (memcmp(buf, guest_mac, 6) || memcmp(buf + 6, peer_mac, 6) ||
	    buf[12] != (PKT_ETHERTYPE >> 8) ||
	    buf[13] != (PKT_ETHERTYPE & 0xff) || q != qid)
		return PKT_BAD_HDR;
	memcpy(seq, buf + 18, 8);
	seed = pkt_seed(qid, *seq);
	for (i = PKT_HDR_LEN; i < len; i++)
		if (buf[i] != pkt_byte(seed, i))
			return PKT_CORRUPT;
	return PKT_OK;
}
