/*
 * test_in_cksum.c - the Internet checksum against a byte-at-a-time
 * reference: RFC 1071's worked example, random buffers of every small
 * length, long buffers at every alignment, random mbuf chains with
 * odd-length mbufs and random (off, len) windows, the initial partial
 * sum, the pseudo header, and the property that a buffer with its
 * checksum stored in it sums to zero.
 */
#include "iptest.h"
#include "kern/mbuf.h"
#include "netinet/ip_var.h"

static uint64_t rs;

static uint32_t
rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return ((uint32_t)(rs >> 11));
}

TEST(cksum_rfc1071_example)
{
	static const uint8_t b[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	/* RFC 1071 3: the sum is 0xddf2, so the checksum is 0x220d. */
	CHECK_EQ(in_cksum_buf(b, 8, 0), 0x220d);
	CHECK_EQ(tl_cksum(b, 8, 0), 0x220d);
	CHECK_EQ(in_cksum_buf(b, 0, 0), 0xffff);
	/* Odd length: the last byte is the high half of a word. */
	CHECK_EQ(in_cksum_buf(b + 1, 1, 0), (uint16_t)~0x0100);
}

TEST(cksum_buf_random_lengths)
{
	uint8_t buf[300];
	uint32_t len, i, init;

	rs = ust_test_seed * 2654435761u + 1;
	/* The whole buffer first: the bytes past len are never zero, so a sum
	 * that reads beyond len shows, and no call is handed unwritten memory
	 * (len 0; gcc 12 on ppc32 warned maybe-uninitialized when it was). */
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rnd();
	for (len = 0; len < sizeof(buf); len++) {
		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)rnd();
		init = rnd() & 0x3ffff;
		CHECK_EQ(in_cksum_buf(buf, len, init), tl_cksum(buf, len, init));
		/* All ones bytes: the folding carries. */
		memset(buf, 0xff, len);
		CHECK_EQ(in_cksum_buf(buf, len, 0), tl_cksum(buf, len, 0));
	}
}

/* Long buffers at every alignment: the word-at-a-time sum (eight bytes a
 * load, carries out of 64 bits counted apart) against the reference, with
 * all-ones data where every addition carries. */
TEST(cksum_buf_long_unaligned)
{
	static uint8_t buf[65536 + 8];
	uint32_t a, i, len;

	rs = ust_test_seed * 2246822519u + 3;
	for (a = 0; a < 8; a++) {
		len = 65536 - (rnd() % 64);
		for (i = 0; i < len; i++)
			buf[a + i] = (uint8_t)rnd();
		CHECK_EQ(in_cksum_buf(buf + a, len, 0), tl_cksum(buf + a, len, 0));
		memset(buf + a, 0xff, len);
		CHECK_EQ(in_cksum_buf(buf + a, len, 0xffff), tl_cksum(buf + a, len, 0xffff));
		memset(buf + a, 0, len);
		CHECK_EQ(in_cksum_buf(buf + a, len, 0), 0xffff);
	}
}

/* A chain holding data split at random, odd lengths included. */
static struct mbuf *
chain_build(struct test_env *te, const uint8_t *data, uint32_t len)
{
	struct mbuf *top = NULL, **np = &top, *m;
	uint32_t done = 0, c;

	while (done < len || top == NULL) {
		m = m_get(&te->mbz, MT_DATA);
		if (m == NULL)
			abort();
		/* Leading offset so that data starts odd-aligned sometimes. */
		m->m_data += rnd() % 4;
		c = 1 + rnd() % 40;
		if (c > len - done)
			c = len - done;
		memcpy(m->m_data, data + done, c);
		m->m_len = c;
		done += c;
		*np = m;
		np = &m->m_next;
	}
	return (top);
}

TEST(cksum_mbuf_chains_random)
{
	struct test_env te;
	uint8_t data[1000];
	struct mbuf *m;
	uint32_t iter, len, off, wl, i, init;

	rs = ust_test_seed * 0x9e3779b97f4a7c15ull + 7;
	test_env_init(&te, 512, 16, 0);
	for (iter = 0; iter < 2000; iter++) {
		len = rnd() % sizeof(data);
		for (i = 0; i < len; i++)
			data[i] = (uint8_t)rnd();
		m = chain_build(&te, data, len);
		off = len ? rnd() % (len + 1) : 0;
		wl = (len - off) ? rnd() % (len - off + 1) : 0;
		init = rnd() & 0xfffff;
		if (in_cksum_skip(m, off, wl, init) != tl_cksum(data + off, wl, init)) {
			UST_FAIL_AT(__FILE__, __LINE__, "iter %u len %u off %u wl %u", iter, len,
			    off, wl);
			m_freem(m);
			break;
		}
		/* The whole chain. */
		CHECK_EQ(in_cksum_skip(m, 0, len, 0), tl_cksum(data, len, 0));
		m_freem(m);
	}
	test_env_fini(&te);
}

TEST(cksum_store_and_verify)
{
	uint8_t buf[64];
	uint16_t s;
	uint32_t i, len;

	rs = ust_test_seed + 99;
	for (len = 4; len < sizeof(buf); len += 2) {
		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)rnd();
		buf[2] = buf[3] = 0;
		s = in_cksum_buf(buf, len, 0);
		buf[2] = (uint8_t)(s >> 8);
		buf[3] = (uint8_t)s;
		CHECK_EQ(in_cksum_buf(buf, len, 0), 0);
	}
}

TEST(cksum_pseudo_header)
{
	struct test_env te;
	uint8_t seg[37], ph[12 + sizeof(seg)];
	struct in_addr src = { htonl(0xc6120002u) }, dst = { htonl(0xc6120101u) };
	struct mbuf *m;
	uint32_t i;

	rs = ust_test_seed + 5;
	test_env_init(&te, 64, 4, 0);
	for (i = 0; i < sizeof(seg); i++)
		seg[i] = (uint8_t)rnd();
	/* RFC 768: source, destination, zero, protocol, UDP length. */
	tl_put32(ph, 0xc6120002u);
	tl_put32(ph + 4, 0xc6120101u);
	ph[8] = 0;
	ph[9] = 17;
	ph[10] = 0;
	ph[11] = sizeof(seg);
	memcpy(ph + 12, seg, sizeof(seg));
	CHECK_EQ(in_cksum_buf(seg, sizeof(seg), in_pseudo(src, dst, 17, sizeof(seg))),
	    tl_cksum(ph, sizeof(ph), 0));
	/* in4_cksum at an offset inside a chain. */
	m = chain_build(&te, ph, sizeof(ph));
	CHECK_EQ(in4_cksum(m, 17, 12, sizeof(seg), src, dst), tl_cksum(ph, sizeof(ph), 0));
	m_freem(m);
	/* Large lengths fold (no overflow). */
	CHECK(in_pseudo(src, dst, 6, 0xffffffffu) <= 0xffff);
	test_env_fini(&te);
}
