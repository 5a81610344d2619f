/*
 * test_uipc_mbuf_ext.c - buffers lent by drivers (m_extattach, the inside
 * of ust_mbuf_attach_ext): shared by copies, read-only to the stack, the
 * free routine called exactly once when the last reference goes, and the
 * out-of-mbufs path; and the gather list of a chain (ust_mbuf_sglist).
 */
#include <ustack/ustack_driver.h>

#include "test_env.h"

struct lender {
	int calls;
	void *last_buf;
	uint8_t buf[2048];
};

static void
lender_free(void *arg, void *buf)
{
	struct lender *l = arg;

	l->calls++;
	l->last_buf = buf;
}

static struct mbuf *
lend(struct test_env *te, struct lender *l, uint32_t len)
{
	struct mbuf *m = m_extattach(&te->mbz, l->buf, sizeof(l->buf), lender_free, l);

	if (m != NULL) {
		m->m_len = len;
		m->m_pkthdr.len = len;
	}
	return (m);
}

TEST(ext_free_called_once_after_last_copy)
{
	struct test_env te;
	struct lender l = { 0 };
	struct mbuf *m, *c1, *c2;

	test_env_init(&te, 64, 16, 0);
	memset(l.buf, 0xab, sizeof(l.buf));
	REQUIRE((m = lend(&te, &l, 1000)) != NULL);
	CHECK(!M_WRITABLE(m));
	/* Copies share the buffer, as for a socket buffer and a retransmit. */
	REQUIRE((c1 = m_copym(m, 0, M_COPYALL)) != NULL);
	REQUIRE((c2 = m_copym(m, 100, 200)) != NULL);
	CHECK(mtod(c2, uint8_t *) == l.buf + 100);
	m_freem(m);
	CHECK_EQ(l.calls, 0);
	m_freem(c1);
	CHECK_EQ(l.calls, 0);
	m_freem(c2);
	CHECK_EQ(l.calls, 1);
	CHECK(l.last_buf == l.buf);
	test_env_fini(&te); /* the holder mbuf is back too */
}

TEST(ext_write_copies_never_touches_lender)
{
	struct test_env te;
	struct lender l = { 0 };
	struct mbuf *m;
	uint8_t x = 0x11;

	test_env_init(&te, 64, 16, 0);
	memset(l.buf, 0xab, sizeof(l.buf));
	REQUIRE((m = lend(&te, &l, 600)) != NULL);
	REQUIRE(m_copyback(m, 10, 1, &x) == 0);
	CHECK_EQ(mtod(m, uint8_t *)[10], 0x11);
	CHECK_EQ(l.buf[10], 0xab);
	/* The copy let go of the lent buffer. */
	CHECK_EQ(l.calls, 1);
	m = m_prepend(m, 14);
	REQUIRE(m != NULL);
	m_freem(m);
	CHECK_EQ(l.calls, 1);
	test_env_fini(&te);
}

TEST(ext_split_and_pullup)
{
	struct test_env te;
	struct lender l = { 0 };
	struct mbuf *m, *t;

	test_env_init(&te, 64, 16, 0);
	REQUIRE((m = lend(&te, &l, 1500)) != NULL);
	REQUIRE((t = m_split(m, 700)) != NULL);
	m = m_pullup(m, 40); /* a header made contiguous in a new mbuf */
	REQUIRE(m != NULL);
	m_freem(m);
	CHECK_EQ(l.calls, 0);
	m_freem(t);
	CHECK_EQ(l.calls, 1);
	test_env_fini(&te);
}

TEST(ext_out_of_mbufs)
{
	struct test_env te;
	struct lender l = { 0 };

	/* Two mbufs are needed (packet and holder): with one, nothing is
	 * lent, the routine is never called, the refusal is counted. */
	test_env_init(&te, 1, 16, 0);
	CHECK(lend(&te, &l, 100) == NULL);
	CHECK_EQ(te.mbz.mz_nombuf, 1);
	CHECK_EQ(l.calls, 0);
	test_env_fini(&te);
	test_env_init(&te, 2, 16, 0);
	ust_zone_fail_after(te.mbz.mz_mbuf, 2);
	CHECK(lend(&te, &l, 100) == NULL);
	CHECK_EQ(l.calls, 0);
	test_env_fini(&te);
}

TEST(sglist_lists_chain_without_flattening)
{
	struct test_env te;
	struct lender l = { 0 };
	struct ust_iovec v[4];
	struct mbuf *h, *m;

	test_env_init(&te, 64, 16, 0);
	REQUIRE((h = m_gethdr(&te.mbz, MT_DATA)) != NULL);
	h->m_len = 54;
	REQUIRE((m = lend(&te, &l, 1000)) != NULL);
	m->m_flags &= (uint16_t)~M_PKTHDR;
	h->m_next = m_get(&te.mbz, MT_DATA); /* an empty one, as m_adj leaves */
	REQUIRE(h->m_next != NULL);
	h->m_next->m_next = m;
	m_fixhdr(h);
	CHECK_EQ(ust_mbuf_sglist((struct ust_mbuf *)(void *)h, v, 4), 2);
	CHECK(v[0].iov_base == h->m_data && v[0].iov_len == 54);
	CHECK(v[1].iov_base == l.buf && v[1].iov_len == 1000);
	/* Too few entries: the count still says how many are needed. */
	CHECK_EQ(ust_mbuf_sglist((struct ust_mbuf *)(void *)h, v, 1), 2);
	CHECK_EQ(ust_mbuf_writable((struct ust_mbuf *)(void *)h), 0);
	m_freem(h);
	CHECK_EQ(l.calls, 1);
	test_env_fini(&te);
}
