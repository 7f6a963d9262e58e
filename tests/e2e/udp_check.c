/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * udp_check: runs in the e2e guest (static, no libc beyond libc.a).
 *
 * Receives the udp_send stream on E2E_DATA_PORT and checks every
 * datagram. Any datagram on E2E_CTRL_PORT is answered with one line:
 *
 *   stream=S rx=N lost=N dup=N corrupt=N reorder=N max=N gaps=N max_gap=N
 *   max_gap_at=N stale=N
 *
 * lost counts the sequence numbers below the highest one seen that never
 * arrived, so it is meaningful once the stream has stopped. A datagram
 * with a higher stream id resets all counters; one with a lower id is
 * only counted as stale.
 */

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "udp_common.h"

struct counters {
	uint32_t stream;
	uint64_t rx;		/* valid datagrams, first copies only */
	uint64_t dup;
	uint64_t corrupt;	/* bad magic, length or payload */
	uint64_t reorder;	/* arrived after a higher seq */
	uint64_t max;		/* highest seq + 1 */
	uint64_t gaps;		/* jumps forward over missing seqs */
	uint64_t max_gap;	/* longest such jump, in datagrams */
	uint64_t max_gap_at;	/* first seq missing in that jump */
	uint64_t stale;		/* datagrams of an older stream */
};

static struct counters cnt;
static uint8_t seen[E2E_MAX_SEQ / 8];

static int
bind_udp(uint16_t port)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_ANY),
	};
	int rcvbuf = 4 << 20;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("udp_check: socket/bind");
		exit(1);
	}
	/* The guest is slow under TCG: absorb bursts rather than drop. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	return fd;
}

static int
payload_ok(const struct e2e_hdr *h, const uint8_t *p, ssize_t len)
{
	unsigned int i;

	if (len != (ssize_t)(sizeof(*h) + E2E_PAYLOAD) ||
	    h->magic != E2E_MAGIC || h->seq >= E2E_MAX_SEQ)
		return 0;
	for (i = 0; i < E2E_PAYLOAD; i++)
		if (p[sizeof(*h) + i] != e2e_byte(h->stream, h->seq, i))
			return 0;
	return 1;
}

static void
on_data(const uint8_t *buf, ssize_t len)
{
	struct e2e_hdr h;

	if (len < (ssize_t)sizeof(h)) {
		cnt.corrupt++;
		return;
	}
	memcpy(&h, buf, sizeof(h));
	/*
	 * Stream ids only grow: an older one is a datagram that sat in
	 * some queue across a stream boundary (e.g. in a backend while
	 * no guest was attached). Count it, but keep the current stream.
	 */
	if (h.magic == E2E_MAGIC && h.stream < cnt.stream) {
		cnt.stale++;
		return;
	}
	if (h.magic == E2E_MAGIC && h.stream > cnt.stream &&
	    h.seq < E2E_MAX_SEQ) {
		memset(&cnt, 0, sizeof(cnt));
		memset(seen, 0, sizeof(seen));
		cnt.stream = h.stream;
	}
	if (!payload_ok(&h, buf, len)) {
		cnt.corrupt++;
		return;
	}
	if (seen[h.seq / 8] & (1u << (h.seq % 8))) {
		cnt.dup++;
		return;
	}
	seen[h.seq / 8] |= 1u << (h.seq % 8);
	cnt.rx++;
	if (h.seq + 1 < cnt.max) {
		cnt.reorder++;
		return;
	}
	if (h.seq > cnt.max) {
		cnt.gaps++;
		if (h.seq - cnt.max > cnt.max_gap) {
			cnt.max_gap = h.seq - cnt.max;
			cnt.max_gap_at = cnt.max;
		}
	}
	cnt.max = h.seq + 1;
}

static void
on_ctrl(int fd)
{
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	char buf[256];
	int n;

	if (recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
		     &flen) < 0)
		return;
	n = snprintf(buf, sizeof(buf), "stream=%" PRIu32 " rx=%" PRIu64
		     " lost=%" PRIu64 " dup=%" PRIu64 " corrupt=%" PRIu64
		     " reorder=%" PRIu64 " max=%" PRIu64 " gaps=%" PRIu64
		     " max_gap=%" PRIu64 " max_gap_at=%" PRIu64
		     " stale=%" PRIu64 "\n", cnt.stream, cnt.rx,
		     cnt.max - cnt.rx, cnt.dup, cnt.corrupt, cnt.reorder,
		     cnt.max, cnt.gaps, cnt.max_gap, cnt.max_gap_at,
		     cnt.stale);
	sendto(fd, buf, n, 0, (struct sockaddr *)&from, flen);
}

int
main(void)
{
	static uint8_t buf[65536];
	struct pollfd pfd[2] = {
		{ .fd = bind_udp(E2E_DATA_PORT), .events = POLLIN },
		{ .fd = bind_udp(E2E_CTRL_PORT), .events = POLLIN },
	};

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("udp_check: poll");
			return 1;
		}
		if (pfd[1].revents & POLLIN)
			on_ctrl(pfd[1].fd);
		if (pfd[0].revents & POLLIN) {
			ssize_t len;

			/* Drain, so the control port never starves it. */
			while ((len = recv(pfd[0].fd, buf, sizeof(buf),
					   MSG_DONTWAIT)) >= 0)
				on_data(buf, len);
		}
	}
}
