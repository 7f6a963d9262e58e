/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * udp_send: host side of the e2e UDP check.
 *
 *   udp_send send ADDR PPS SECONDS STREAM
 *	send SECONDS * PPS datagrams (seq 0, 1, ...) at a fixed rate
 *   udp_send report ADDR [TIMEOUT_MS]
 *	ask udp_check for its counters and print its one-line answer;
 *	retries every 200 ms until TIMEOUT_MS (default 3000), exit 1 if
 *	no answer came
 */

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "udp_common.h"

static void
usage(void)
{
	fprintf(stderr, "usage: udp_send send ADDR PPS SECONDS STREAM\n"
			"       udp_send report ADDR [TIMEOUT_MS]\n");
	exit(2);
}

static int
udp_connect(const char *addr, uint16_t port)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
	};
	int fd;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		usage();
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("udp_send: socket/connect");
		exit(1);
	}
	return fd;
}

static void
ts_add_ns(struct timespec *t, uint64_t ns)
{
	t->tv_nsec += ns;
	while (t->tv_nsec >= 1000000000L) {
		t->tv_nsec -= 1000000000L;
		t->tv_sec++;
	}
}

static int
do_send(const char *addr, unsigned long pps, unsigned long secs,
	uint32_t stream)
{
	uint8_t buf[sizeof(struct e2e_hdr) + E2E_PAYLOAD];
	struct e2e_hdr h = { .magic = E2E_MAGIC, .stream = stream };
	uint64_t total = (uint64_t)pps * secs, errs = 0;
	uint64_t period_ns = 1000000000ULL / pps;
	int fd = udp_connect(addr, E2E_DATA_PORT);
	struct timespec next;
	unsigned int i;

	if (total > E2E_MAX_SEQ) {
		fprintf(stderr, "udp_send: too many datagrams\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (h.seq = 0; h.seq < total; h.seq++) {
		memcpy(buf, &h, sizeof(h));
		for (i = 0; i < E2E_PAYLOAD; i++)
			buf[sizeof(h) + i] = e2e_byte(stream, h.seq, i);
		/*
		 * ECONNREFUSED (ICMP port unreachable) and EHOSTUNREACH
		 * (ARP failed) happen while the guest is in flight; the
		 * datagram then counts as lost, which is what we measure.
		 */
		if (send(fd, buf, sizeof(buf), 0) < 0)
			errs++;
		/* Absolute deadlines: the rate does not drift with load. */
		ts_add_ns(&next, period_ns);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
				       NULL) == EINTR)
			;
	}
	printf("sent=%" PRIu64 " send_errors=%" PRIu64 "\n", total, errs);
	return 0;
}

static int
do_report(const char *addr, unsigned long timeout_ms)
{
	int fd = udp_connect(addr, E2E_CTRL_PORT);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	unsigned long waited;
	char buf[256];
	ssize_t n;

	for (waited = 0; waited < timeout_ms; waited += 200) {
		if (send(fd, "REPORT", 6, 0) < 0 && errno != ECONNREFUSED &&
		    errno != EHOSTUNREACH) {
			perror("udp_send: send");
			return 1;
		}
		if (poll(&pfd, 1, 200) == 1) {
			n = recv(fd, buf, sizeof(buf) - 1, 0);
			if (n > 0) {
				buf[n] = '\0';
				fputs(buf, stdout);
				return 0;
			}
			usleep(200000);	/* refused: not up yet */
		}
	}
	fprintf(stderr, "udp_send: no report from %s\n", addr);
	return 1;
}

int
main(int argc, char **argv)
{
	if (argc >= 6 && strcmp(argv[1], "send") == 0) {
		unsigned long pps = strtoul(argv[3], NULL, 10);

		if (pps == 0 || pps > 1000000)
			usage();
		return do_send(argv[2], pps, strtoul(argv[4], NULL, 10),
			       (uint32_t)strtoul(argv[5], NULL, 0));
	}
	if (argc >= 3 && strcmp(argv[1], "report") == 0)
		return do_report(argv[2], argc > 3 ?
				 strtoul(argv[3], NULL, 10) : 3000);
	usage();
	return 2;
}
