/*
 * test_fw_ctl.c - the control channel's server (firmware/fw_ctl.c) over an
 * in-memory byte stream: framing (split reads, oversized frames, garbage,
 * bad lengths), the socket, option, poll and knob ops on a stack with no
 * interface, and the bounds (socket table, payload).
 */
#include <stdint.h>
#include <string.h>

#include "fw_ctl.h"
#include "test_env.h"
#include "ust_test.h"

/* The stream: what the host sent, handed out at most `chunk` bytes per
 * read, and what the server wrote. */
static uint8_t s_in[8192];
static size_t s_in_len, s_in_pos, s_chunk;
static uint8_t s_out[65536];
static size_t s_out_len, s_out_pos;
static int s_exit;

static size_t
rd(void *buf, size_t len)
{
	size_t n = s_in_len - s_in_pos;

	if (n > len)
		n = len;
	if (n > s_chunk)
		n = s_chunk;
	memcpy(buf, s_in + s_in_pos, n);
	s_in_pos += n;
	return (n);
}

static void
wr(const void *buf, size_t len)
{
	if (s_out_len + len <= sizeof(s_out)) {
		memcpy(s_out + s_out_len, buf, len);
		s_out_len += len;
	}
}

static void
ex(int status)
{
	s_exit = status;
}

static void
stream_reset(size_t chunk)
{
	s_in_len = s_in_pos = s_out_len = s_out_pos = 0;
	s_chunk = chunk;
	s_exit = -1;
}

static void
push(uint8_t op, uint8_t tag, const void *args, size_t len)
{
	s_in[s_in_len++] = (uint8_t)(len >> 8);
	s_in[s_in_len++] = (uint8_t)len;
	s_in[s_in_len++] = op;
	s_in[s_in_len++] = tag;
	if (len > 0)
		memcpy(s_in + s_in_len, args, len);
	s_in_len += len;
}

struct reply {
	uint8_t op, tag;
	int32_t result;
	const uint8_t *data;
	size_t dlen;
};

/* The next reply the server wrote; 0 when there is none or it is malformed. */
static int
next_reply(struct reply *r)
{
	const uint8_t *p = s_out + s_out_pos;
	size_t len;

	if (s_out_len - s_out_pos < 8)
		return (0);
	len = (size_t)p[0] << 8 | p[1];
	if (len < 4 || s_out_len - s_out_pos < 4 + len || !(p[2] & FW_CTL_REPLY))
		return (0);
	r->op = p[2] & 0x7f;
	r->tag = p[3];
	r->result =
	    (int32_t)((uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7]);
	r->data = p + 8;
	r->dlen = len - 4;
	s_out_pos += 4 + len;
	return (1);
}

/* Runs the server until the input is consumed. */
static void
serve(struct fw_ctl *c)
{
	int i;

	for (i = 0; i < 100000 && s_in_pos < s_in_len; i++)
		fw_ctl_poll(c);
	fw_ctl_poll(c);
}

/* One request, its reply. */
static struct reply
call(struct fw_ctl *c, uint8_t op, const void *args, size_t len)
{
	struct reply r;

	memset(&r, 0, sizeof(r));
	push(op, 0x5a, args, len);
	serve(c);
	if (!next_reply(&r) || r.op != op || r.tag != 0x5a)
		r.result = INT32_MIN;
	return (r);
}

static struct ust_vclock *s_vc;

static struct ust_stack *
setup(struct fw_ctl *c, size_t chunk)
{
	struct ust_stack *st;

	s_vc = ust_vclock_create(1000000000u);
	st = test_stack_new(s_vc, 1);

	stream_reset(chunk);
	fw_ctl_init(c, st, "testboard", rd, wr, ex);
	return (st);
}

static void
teardown(struct fw_ctl *c, struct ust_stack *st)
{
	fw_ctl_fini(c);
	test_stack_free(st);
	ust_vclock_destroy(s_vc);
}

TEST(hello_whole_and_split)
{
	struct fw_ctl c;
	struct ust_stack *st;
	struct reply r;
	size_t chunk;

	for (chunk = 1; chunk <= 8; chunk += 7) {
		st = setup(&c, chunk);
		push(FW_CTL_HELLO, 7, NULL, 0);
		push(FW_CTL_HELLO, 8, NULL, 0);
		serve(&c);
		REQUIRE(next_reply(&r));
		CHECK_EQ(r.op, FW_CTL_HELLO);
		CHECK_EQ(r.tag, 7);
		CHECK_EQ(r.result, 0);
		CHECK(r.dlen > 17 && memcmp(r.data, "testboard ustack ", 17) == 0);
		REQUIRE(next_reply(&r));
		CHECK_EQ(r.tag, 8);
		CHECK(!next_reply(&r));
		teardown(&c, st);
	}
}

TEST(oversized_frame_is_skipped_and_answered)
{
	struct fw_ctl c;
	struct ust_stack *st = setup(&c, 100);
	struct reply r;
	static uint8_t big[FW_CTL_PAYLOAD_MAX + 1];

	/* The oversized request's arguments look like frames: they must not
	 * be taken for any. */
	memset(big, 0, sizeof(big));
	push(FW_CTL_EXIT, 3, big, sizeof(big));
	push(FW_CTL_HELLO, 4, NULL, 0);
	serve(&c);
	REQUIRE(next_reply(&r));
	CHECK_EQ(r.tag, 3);
	CHECK_EQ(r.result, -UST_EMSGSIZE);
	CHECK_EQ(s_exit, -1);
	REQUIRE(next_reply(&r));
	CHECK_EQ(r.tag, 4);
	CHECK_EQ(r.result, 0);
	teardown(&c, st);
}

TEST(bad_lengths_and_descriptors)
{
	struct fw_ctl c;
	struct ust_stack *st = setup(&c, 64);
	static const uint8_t junk[FW_CTL_SOCKETS + 1] = { 0 };
	uint8_t a[8];

	CHECK_EQ(call(&c, FW_CTL_EXIT, junk, 3).result, -UST_EINVAL);
	CHECK_EQ(s_exit, -1);
	CHECK_EQ(call(&c, FW_CTL_SOCKET, junk, 1).result, -UST_EINVAL);
	CHECK_EQ(call(&c, FW_CTL_BIND, junk, 0).result, -UST_EBADF);
	a[0] = FW_CTL_SOCKETS;
	CHECK_EQ(call(&c, FW_CTL_RECV, a, 4).result, -UST_EBADF);
	a[0] = UST_SOCK_DGRAM;
	a[1] = 0;
	REQUIRE_EQ(call(&c, FW_CTL_SOCKET, a, 2).result, 0);
	a[0] = 0;
	CHECK_EQ(call(&c, FW_CTL_BIND, a, 3).result, -UST_EINVAL);
	CHECK_EQ(call(&c, FW_CTL_RECV, a, 3).result, -UST_EINVAL);
	CHECK_EQ(call(&c, FW_CTL_SETSOCKOPT, a, 5).result, -UST_EINVAL);
#if UST_EVQ
	CHECK_EQ(call(&c, FW_CTL_POLL, junk, FW_CTL_SOCKETS + 1).result, -UST_EINVAL);
#else
	/* no event queues compiled in: the host polls by retrying instead */
	CHECK_EQ(call(&c, FW_CTL_POLL, junk, FW_CTL_SOCKETS + 1).result, -UST_EOPNOTSUPP);
#endif
	CHECK_EQ(call(&c, FW_CTL_SYSCTL_GET, junk, 0).result, -UST_EINVAL);
	CHECK_EQ(call(&c, FW_CTL_STATS, junk, 2).result, -UST_EINVAL);
	CHECK_EQ(call(&c, FW_CTL_IFINFO, NULL, 0).result, -UST_ENODEV);
	CHECK_EQ(call(&c, 0x7f, NULL, 0).result, -UST_EOPNOTSUPP);
	CHECK_EQ(call(&c, FW_CTL_EXIT, "\0\0\0\x05", 4).result, 0);
	CHECK_EQ(s_exit, 5);
	teardown(&c, st);
}

/* Random frames (ops in and past the table, arguments of random bytes and
 * lengths) get one well-formed reply each, with their tag. */
TEST(garbage_gets_one_reply_per_frame)
{
	struct fw_ctl c;
	struct ust_stack *st = setup(&c, 13);
	struct reply r;
	uint8_t args[64];
	uint64_t x = ust_test_seed * 0x9e3779b97f4a7c15u + 1;
	int i, j, n, round;

	for (round = 0; round < 40; round++) {
		s_in_len = s_in_pos = s_out_len = s_out_pos = 0;
		for (i = 0; i < 50; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			n = (int)(x % sizeof(args));
			for (j = 0; j < n; j++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				args[j] = (uint8_t)(j < 1 ? x % (FW_CTL_SOCKETS + 2) : x);
			}
			push((uint8_t)((x >> 8) % 0x24), (uint8_t)i, args, (size_t)n);
		}
		serve(&c);
		for (i = 0; i < 50; i++) {
			REQUIRE(next_reply(&r));
			CHECK_EQ(r.tag, i);
			CHECK(r.dlen <= FW_CTL_PAYLOAD_MAX);
		}
		CHECK(!next_reply(&r));
	}
	teardown(&c, st);
}

TEST(udp_socket_options_poll_and_table_bound)
{
	struct fw_ctl c;
	struct ust_stack *st = setup(&c, 4096);
	struct reply r;
	uint8_t a[32];
	int i;

	a[0] = UST_SOCK_DGRAM;
	a[1] = 0;
	REQUIRE_EQ(call(&c, FW_CTL_SOCKET, a, 2).result, 0);
	/* bind 0.0.0.0:7 */
	memset(a, 0, sizeof(a));
	a[6] = 7;
	CHECK_EQ(call(&c, FW_CTL_BIND, a, 7).result, 0);
	r = call(&c, FW_CTL_GETSOCKNAME, a, 1);
	CHECK_EQ(r.result, 0);
	CHECK(r.dlen == 6 && r.data[4] == 0 && r.data[5] == 7);
	/* SO_RCVBUF = 4096, read back as a big-endian int */
	memset(a, 0, sizeof(a));
	a[3] = 0xff, a[4] = 0xff, a[7] = 0x10, a[8] = 0x02;
	a[11] = 0x10;
	CHECK_EQ(call(&c, FW_CTL_SETSOCKOPT, a, 13).result, 0);
	a[9] = 0, a[10] = 4;
	r = call(&c, FW_CTL_GETSOCKOPT, a, 11);
	CHECK_EQ(r.result, 4);
	CHECK(r.dlen == 4 && r.data[2] == 0x10 && r.data[3] == 0);
	/* nothing to read: EAGAIN, and POLL says writable, not readable */
	a[1] = 0, a[2] = 0, a[3] = 100;
	CHECK_EQ(call(&c, FW_CTL_RECVFROM, a, 4).result, -UST_EAGAIN);
	r = call(&c, FW_CTL_POLL, a, 1);
#if UST_EVQ
	CHECK_EQ(r.result, 1);
	CHECK(r.dlen == 2 && (r.data[1] & UST_EV_OUT) && !(r.data[1] & UST_EV_IN));
#else
	CHECK_EQ(r.result, -UST_EOPNOTSUPP);
#endif
	/* the table holds FW_CTL_SOCKETS */
	a[0] = UST_SOCK_DGRAM;
	a[1] = 0;
	for (i = 1; i < FW_CTL_SOCKETS; i++)
		CHECK_EQ(call(&c, FW_CTL_SOCKET, a, 2).result, i);
	CHECK_EQ(call(&c, FW_CTL_SOCKET, a, 2).result, -UST_EMFILE);
	a[0] = 3;
	CHECK_EQ(call(&c, FW_CTL_CLOSE, a, 1).result, 0);
	CHECK_EQ(call(&c, FW_CTL_CLOSE, a, 1).result, -UST_EBADF);
	a[0] = UST_SOCK_DGRAM;
	CHECK_EQ(call(&c, FW_CTL_SOCKET, a, 2).result, 3);
	CHECK_EQ(call(&c, FW_CTL_RESET, NULL, 0).result, FW_CTL_SOCKETS);
	teardown(&c, st);
}

#if UST_SYSCTL_NAMES
TEST(sysctl_stats_clock)
{
	struct fw_ctl c;
	struct ust_stack *st = setup(&c, 4096);
	static const char ttl[] = "net.inet.ip.ttl", cc[] = "net.inet.tcp.cc.algorithm";
	uint8_t a[80];
	struct reply r;
	int64_t v;

	r = call(&c, FW_CTL_SYSCTL_GET, ttl, sizeof(ttl) - 1);
	CHECK_EQ(r.result, 0);
	CHECK(r.dlen == 8 && r.data[7] == 64);
	a[0] = 0;
	a[1] = sizeof(ttl) - 1;
	memcpy(a + 2, ttl, sizeof(ttl) - 1);
	memset(a + 2 + a[1], 0, 8);
	a[2 + a[1] + 7] = 33;
	CHECK_EQ(call(&c, FW_CTL_SYSCTL_SET, a, 2 + a[1] + 8).result, 0);
	CHECK(ust_sysctl_get(st, ttl, &v) == 0 && v == 33);
	CHECK_EQ(call(&c, FW_CTL_SYSCTL_SET, a, 2 + a[1] + 7).result, -UST_EINVAL);
	CHECK_EQ(call(&c, FW_CTL_SYSCTL_GET, "net.no.such", 11).result, -UST_ENOENT);
	r = call(&c, FW_CTL_SYSCTL_GET, cc, sizeof(cc) - 1);
	CHECK_EQ(r.result, 1);
	CHECK(r.dlen > 0 && r.dlen < 16);
	a[0] = 1;
	a[1] = sizeof(cc) - 1;
	memcpy(a + 2, cc, sizeof(cc) - 1);
	memcpy(a + 2 + a[1], "newreno", 7);
	CHECK_EQ(call(&c, FW_CTL_SYSCTL_SET, a, 2 + a[1] + 7).result, 0);
	a[1] = 200; /* name longer than the request */
	CHECK_EQ(call(&c, FW_CTL_SYSCTL_SET, a, 40).result, -UST_EINVAL);
	a[0] = 6;
	r = call(&c, FW_CTL_STATS, a, 1);
	CHECK_EQ(r.result, (int)sizeof(struct ust_tcpstat));
	CHECK_EQ(r.dlen, sizeof(struct ust_tcpstat));
	r = call(&c, FW_CTL_CLOCK, NULL, 0);
	CHECK_EQ(r.dlen, 16);
	CHECK_EQ(call(&c, FW_CTL_PCBLIST, NULL, 0).result, 0);
	r = call(&c, FW_CTL_LIMITS, NULL, 0);
	CHECK(r.result == 0 && r.dlen == 4);
	CHECK_EQ((r.data[0] << 8 | r.data[1]), FW_CTL_PAYLOAD_MAX);
	CHECK_EQ(r.data[2], FW_CTL_SOCKETS);
	teardown(&c, st);
}
#endif
