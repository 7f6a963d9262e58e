/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-user front-end messaging: framing, fd passing and replies.
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vhost_user_msg.h"

/* Wire header: request, flags, payload size (all little-endian u32). */
struct vu_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
} __attribute__((packed));

struct vu_state {
	uint32_t index;
	uint32_t num;
};

struct vu_mem_table {
	uint32_t nregions;
	uint32_t padding;
	struct vu_mem_region regions[VU_MAX_MEM_REGIONS];
};

struct vu_log {
	uint64_t mmap_size;
	uint64_t mmap_offset;
};

union vu_payload {
	uint64_t u64;
	struct vu_state state;
	struct vu_vring_addr addr;
	struct vu_mem_table mem;
	struct vu_log log;
};

struct vu_msg {
	struct vu_hdr hdr;
	union vu_payload p;
} __attribute__((packed));

bool
vu_has_pf(const struct vu_conn *c, unsigned int bit)
{
	return (c->protocol_features >> bit) & 1;
}

static int
try_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}


int
vu_connect(struct vu_conn *c, const char *path, int timeout_ms)
{
	struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
	int fd;

	c->fd = -1;
	c->protocol_features = 0;
	for (;;) {
		fd = try_connect(path);
		if (fd >= 0 || timeout_ms <= 0 ||
		    (fd != -ENOENT && fd != -ECONNREFUSED))
			break;
		nanosleep(&ts, NULL);
		timeout_ms -= 10;
	}
	if (fd < 0)
		return fd;
	c->fd = fd;
	return 0;
}

void
vu_close(struct vu_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static int
send_msg(struct vu_conn *c, const struct vu_msg *m, const int *fds,
	 unsigned int nfds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * VU_MAX_FDS)];
	struct iovec iov = {
		.iov_base = (void *)(uintptr_t)m,
		.iov_len = sizeof(m->hdr) + m->hdr.size,
	};
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	ssize_t n;

	if (nfds > VU_MAX_FDS)
		return -EINVAL;
	if (nfds > 0) {
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	do {
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == iov.iov_len ? 0 : -EIO;
}

static int
read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		done += n;
	}
	return 0;
}

/* Read one reply for @req; the payload must fit @max bytes. */
static int
recv_reply(struct vu_conn *c, uint32_t req, struct vu_msg *m, size_t max)
{
	int ret;

	ret = read_full(c->fd, &m->hdr, sizeof(m->hdr));
	if (ret < 0)
		return ret;
	if (m->hdr.request != req || !(m->hdr.flags & VU_FLAG_REPLY) ||
	    (m->hdr.flags & 0x3) != VU_FLAG_VERSION || m->hdr.size > max)
		return -EPROTO;
	if (m->hdr.size == 0)
		return 0;
	return read_full(c->fd, &m->p, m->hdr.size);
}

/* Receive a reply to req that carries one u64 (a value or an ack). */
static int
recv_u64(struct vu_conn *c, enum vu_request req, uint64_t *val)
{
	struct vu_msg m;
	int ret;

	ret = recv_reply(c, req, &m, sizeof(m.p));
	if (ret < 0)
		return ret;
	if (m.hdr.size != sizeof(uint64_t))
		return -EPROTO;
	*val = m.p.u64;
	return 0;
}

/*
 * Send a request without a mandatory reply. With REPLY_ACK negotiated,
 * ask for an ack so the caller knows the back-end applied it.
 */
static int
request_acked(struct vu_conn *c, uint32_t req, const void *payload,
	      uint32_t size, const int *fds, unsigned int nfds)
{
	struct vu_msg m = { .hdr = { req, VU_FLAG_VERSION, size } };
	bool ack = vu_has_pf(c, VU_PF_REPLY_ACK);
	uint64_t status;
	int ret;

	if (size > sizeof(m.p))
		return -EINVAL;
	if (size)
		memcpy(&m.p, payload, size);
	if (ack)
		m.hdr.flags |= VU_FLAG_NEED_REPLY;
	ret = send_msg(c, &m, fds, nfds);
	if (ret < 0 || !ack)
		return ret;
	ret = recv_u64(c, req, &status);
	if (ret < 0)
		return ret;
	return status == 0 ? 0 : -EIO;
}

int
vu_get_u64(struct vu_conn *c, enum vu_request req, uint64_t *val)
{
	struct vu_msg m = { .hdr = { req, VU_FLAG_VERSION, 0 } };
	int ret;

	ret = send_msg(c, &m, NULL, 0);
	if (ret < 0)
		return ret;
	return recv_u64(c, req, val);
}

int
vu_set_u64(struct vu_conn *c, enum vu_request req, uint64_t val)
{
	return request_acked(c, req, &val, sizeof(val), NULL, 0);
}

int
vu_set_owner(struct vu_conn *c)
{
	return request_acked(c, VU_SET_OWNER, NULL, 0, NULL, 0);
}

int
vu_set_mem_table(struct vu_conn *c, const struct vu_mem_region *reg,
		 const int *fds, unsigned int n)
{
	struct vu_mem_table t = { .nregions = n };

	if (n == 0 || n > VU_MAX_MEM_REGIONS)
		return -EINVAL;
	memcpy(t.regions, reg, n * sizeof(*reg));
	return request_acked(c, VU_SET_MEM_TABLE, &t,
			     offsetof(struct vu_mem_table, regions) +
			     n * sizeof(*reg), fds, n);
}

int
vu_set_log_base(struct vu_conn *c, int fd, uint64_t size, uint64_t offset)
{
	struct vu_msg m = { .hdr = { VU_SET_LOG_BASE, VU_FLAG_VERSION,
				     sizeof(struct vu_log) } };
	int ret;

	if (!vu_has_pf(c, VU_PF_LOG_SHMFD))
		return -ENOTSUP;
	m.p.log.mmap_size = size;
	m.p.log.mmap_offset = offset;
	/*
	 * The spec mandates a reply (zero-size payload) when LOG_SHMFD is
	 * negotiated, so NEED_REPLY is not set: one reply only. DPDK 22.11
	 * answers this way too.
	 */
	ret = send_msg(c, &m, &fd, 1);
	if (ret < 0)
		return ret;
	return recv_reply(c, VU_SET_LOG_BASE, &m, sizeof(m.p));
}

int
vu_set_vring_state(struct vu_conn *c, enum vu_request req, uint32_t idx,
		   uint32_t num)
{
	struct vu_state s = { idx, num };

	return request_acked(c, req, &s, sizeof(s), NULL, 0);
}

int
vu_get_vring_base(struct vu_conn *c, uint32_t idx, uint32_t *num)
{
	struct vu_msg m = { .hdr = { VU_GET_VRING_BASE, VU_FLAG_VERSION,
				     sizeof(struct vu_state) } };
	int ret;

	m.p.state.index = idx;
	ret = send_msg(c, &m, NULL, 0);
	if (ret < 0)
		return ret;
	ret = recv_reply(c, VU_GET_VRING_BASE, &m, sizeof(m.p));
	if (ret < 0)
		return ret;
	if (m.hdr.size != sizeof(struct vu_state) || m.p.state.index != idx)
		return -EPROTO;
	*num = m.p.state.num;
	return 0;
}

int
vu_set_vring_addr(struct vu_conn *c, const struct vu_vring_addr *addr)
{
	return request_acked(c, VU_SET_VRING_ADDR, addr, sizeof(*addr),
			     NULL, 0);
}

int
vu_set_vring_fd(struct vu_conn *c, enum vu_request req, uint32_t idx,
		int fd)
{
	uint64_t v = idx;

	if (fd < 0)
		v |= VU_VRING_NOFD_MASK;
	return request_acked(c, req, &v, sizeof(v), fd < 0 ? NULL : &fd,
			     fd < 0 ? 0 : 1);
}

int
vu_send_raw(struct vu_conn *c, uint32_t request, uint32_t flags,
	    const void *payload, uint32_t size, const int *fds,
	    unsigned int nfds)
{
	struct {
		struct vu_hdr hdr;
		uint8_t p[VU_RAW_MAX_PAYLOAD];
	} __attribute__((packed)) raw = { .hdr = { request, flags, size } };

	if (size > VU_RAW_MAX_PAYLOAD || (size && payload == NULL))
		return -EINVAL;
	if (c->fd < 0)
		return -ENOTCONN;
	if (size)
		memcpy(raw.p, payload, size);
	/* send_msg() only looks at hdr.size past the header. */
	return send_msg(c, (const struct vu_msg *)&raw, fds, nfds);
}

/* Wait for input on the socket: 1 readable, 0 timeout, negative errno. */
static int
wait_readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n;

	do {
		n = poll(&p, 1, timeout_ms);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n;
}

enum vu_reply_kind
vu_recv_reply_timeout(struct vu_conn *c, uint32_t request, int timeout_ms,
		      uint64_t *val)
{
	uint8_t buf[VU_RAW_MAX_PAYLOAD];
	struct vu_hdr h;
	uint64_t v;
	int ret;

	if (val != NULL)
		*val = 0;
	if (c->fd < 0)
		return VU_REPLY_CLOSED;
	for (;;) {
		ret = wait_readable(c->fd, timeout_ms);
		if (ret == 0)
			return VU_REPLY_NONE;
		if (ret < 0)
			return VU_REPLY_ERROR;
		/* The back-end writes a reply with one sendmsg(). */
		ret = read_full(c->fd, &h, sizeof(h));
		if (ret == -ECONNRESET)
			return VU_REPLY_CLOSED;
		if (ret < 0 || h.size > sizeof(buf) ||
		    !(h.flags & VU_FLAG_REPLY))
			return VU_REPLY_ERROR;
		ret = h.size ? read_full(c->fd, buf, h.size) : 0;
		if (ret == -ECONNRESET)
			return VU_REPLY_CLOSED;
		if (ret < 0)
			return VU_REPLY_ERROR;
		if (h.request == request)
			break;
	}
	v = 0;
	memcpy(&v, buf, h.size < sizeof(v) ? h.size : sizeof(v));
	if (val != NULL)
		*val = v;
	return v == 0 ? VU_REPLY_ACK : VU_REPLY_NACK;
}

const char *
vu_reply_kind_name(enum vu_reply_kind k)
{
	static const char *const n[] = {
		[VU_REPLY_ACK] = "ack", [VU_REPLY_NACK] = "nack",
		[VU_REPLY_CLOSED] = "closed", [VU_REPLY_NONE] = "none",
		[VU_REPLY_ERROR] = "error",
	};

	return (unsigned int)k < sizeof(n) / sizeof(n[0]) ? n[k] : "?";
}
