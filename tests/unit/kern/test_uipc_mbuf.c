/*
 * test_uipc_mbuf.c - unit tests of netstack/kern/uipc_mbuf.c: allocation
 * from per-stack zones, every chain operation on internal, cluster and
 * lent storage, bounds, shared-cluster reference counts, and for each
 * allocating operation a "fail at every step" run: the n-th allocation
 * from the mbuf zone (then the cluster zone) is refused, for n = 1, 2, ...
 * until the operation no longer allocates that many; every run must either
 * succeed with the right bytes or fail as documented, and leak nothing.
 *
 * Data are checked byte for byte against a pattern: byte i of a test
 * packet is pat(i, seed).
 */
#include "test_env.h"

#include <stdbool.h>

#define NCHAIN 8

static uint8_t
pat(uint32_t i, uint32_t seed)
{
	return ((uint8_t)(i * 131u + (i >> 8) * 17u + seed * 29u + 5u));
}

static void
fill(uint8_t *p, uint32_t len, uint32_t start, uint32_t seed)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		p[i] = pat(start + i, seed);
}

static bool
is_pat(const uint8_t *p, uint32_t len, uint32_t start, uint32_t seed)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		if (p[i] != pat(start + i, seed))
			return (false);
	return (true);
}

/* Copies the chain out by walking it (independently of m_copydata). */
static uint32_t
flat(const struct mbuf *m, uint8_t *out, uint32_t cap)
{
	uint32_t n = 0;

	for (; m != NULL; m = m->m_next) {
		if (m->m_len > cap - n) {
			fprintf(stderr, "flat: chain longer than %u\n", cap);
			abort();
		}
		memcpy(out + n, m->m_data, m->m_len);
		n += m->m_len;
	}
	return (n);
}

/* True if the chain holds exactly pat(start .. start+len-1, seed) and, when
 * it has a packet header, m_pkthdr.len says so. */
static bool
chain_is(const struct mbuf *m, uint32_t start, uint32_t len, uint32_t seed)
{
	static uint8_t buf[32768];
	uint32_t n;

	n = flat(m, buf, sizeof(buf));
	if (n != len || !is_pat(buf, len, start, seed))
		return (false);
	if (m != NULL && (m->m_flags & M_PKTHDR) && m->m_pkthdr.len != len)
		return (false);
	return (true);
}

static uint32_t
chain_count(const struct mbuf *m)
{
	uint32_t n = 0;

	for (; m != NULL; m = m->m_next)
		n++;
	return (n);
}

/*
 * A packet of n mbufs of lens[i] bytes each; mbuf i is a cluster if bit i
 * of clmask is set.  Data is pat(0 .., seed).  Built without injected
 * failures, so any failure here is a test bug.
 */
static struct mbuf *
mk_chain(struct test_env *te, const uint32_t *lens, int n, unsigned clmask, uint32_t seed,
    bool pkthdr)
{
	struct mbuf *top = NULL, **np = &top, *m;
	uint32_t off = 0;
	int i;

	for (i = 0; i < n; i++) {
		int flags = (i == 0 && pkthdr) ? M_PKTHDR : 0;

		if (clmask & (1u << i))
			m = m_getcl(&te->mbz, MT_DATA, flags);
		else
			m = m_get2(&te->mbz, 0, MT_DATA, flags);
		if (m == NULL || lens[i] > M_SIZE(m)) {
			fprintf(stderr, "mk_chain: cannot build mbuf %d\n", i);
			abort();
		}
		fill(m->m_data, lens[i], off, seed);
		m->m_len = lens[i];
		off += lens[i];
		*np = m;
		np = &m->m_next;
	}
	if (pkthdr)
		top->m_pkthdr.len = off;
	return (top);
}

static uint32_t
zone_in_use(const struct ust_zone *z)
{
	struct ust_zone_stats zs;

	ust_zone_get_stats(z, &zs);
	return (zs.in_use);
}

static uint64_t
zone_failures(const struct ust_zone *z)
{
	struct ust_zone_stats zs;

	ust_zone_get_stats(z, &zs);
	return (zs.failures);
}

#define REFCNT(m) (*(m)->m_ext.ext_cnt)

/* ------------------------------------------------------------------------
 * Zones and allocation.
 */

TEST(zones_init_fini)
{
	struct test_env te;
	struct ust_zone_stats zs;

	test_env_init(&te, 8, 4, 0);
	REQUIRE(te.mbz.mz_mbuf != NULL);
	REQUIRE(te.mbz.mz_clust != NULL);
	CHECK(te.mbz.mz_jumbo == NULL);
	ust_zone_get_stats(te.mbz.mz_mbuf, &zs);
	CHECK(zs.size >= UST_MSIZE);
	CHECK_EQ(zs.max, 8);
	ust_zone_get_stats(te.mbz.mz_clust, &zs);
	CHECK(zs.size >= sizeof(struct m_clhdr) + UST_MCLBYTES);
	CHECK_EQ(zs.max, 4);
	CHECK_EQ(te.mbz.mz_nombuf, 0);
	CHECK_EQ(te.mbz.mz_nocluster, 0);
	test_env_fini(&te);

#if UST_MJUMBYTES > 0
	test_env_init(&te, 8, 4, 2);
	REQUIRE(te.mbz.mz_jumbo != NULL);
	ust_zone_get_stats(te.mbz.mz_jumbo, &zs);
	CHECK(zs.size >= sizeof(struct m_clhdr) + UST_MJUMBYTES);
	CHECK_EQ(zs.max, 2);
	test_env_fini(&te);
#endif
}

/* mbuf_zones_init failing at each of its allocations leaves nothing. */
TEST(zones_init_fail_every_step)
{
	struct mbuf_zones mz;
	struct ust_mem mem;
	uint64_t n;
	int error = -1;

	for (n = 1; n <= 10; n++) {
		ust_mem_init(&mem, 0);
		mem.fail_after = n;
		error = mbuf_zones_init(&mz, &mem, 8, 4, 2);
		if (error == 0) {
			mbuf_zones_fini(&mz);
			CHECK_EQ(mem.in_use, 0);
			break;
		}
		CHECK_EQ(error, UST_ENOMEM);
		CHECK(mz.mz_mbuf == NULL && mz.mz_clust == NULL && mz.mz_jumbo == NULL);
		CHECK_EQ(mem.in_use, 0);
	}
	CHECK_EQ(error, 0);
	CHECK(n > 1);
}

TEST(get_variants)
{
	struct test_env te;
	struct mbuf *m, *h, *c, *c2;
	struct m_clhdr *ch;

	test_env_init(&te, 16, 4, 0);
	m = m_get(&te.mbz, MT_DATA);
	REQUIRE(m != NULL);
	CHECK_EQ(m->m_flags, 0);
	CHECK_EQ(m->m_type, MT_DATA);
	CHECK(m->m_data == m->m_dat);
	CHECK_EQ(m->m_len, 0);
	CHECK(m->m_next == NULL && m->m_nextpkt == NULL);
	CHECK(m->m_zones == &te.mbz);
	CHECK_EQ(M_SIZE(m), MLEN);
	CHECK(M_WRITABLE(m));
	CHECK_EQ(M_LEADINGSPACE(m), 0);
	CHECK_EQ(M_TRAILINGSPACE(m), MLEN);
	CHECK(MLEN >= 64);

	h = m_gethdr(&te.mbz, MT_HEADER);
	REQUIRE(h != NULL);
	CHECK_EQ(h->m_flags, M_PKTHDR);
	CHECK_EQ(h->m_type, MT_HEADER);
	CHECK_EQ(h->m_pkthdr.len, 0);
	CHECK(h->m_pkthdr.rcvif == NULL);

	c = m_getcl(&te.mbz, MT_DATA, M_PKTHDR);
	REQUIRE(c != NULL);
	CHECK_EQ(c->m_flags, M_EXT | M_PKTHDR);
	CHECK_EQ(c->m_ext.ext_type, EXT_CLUSTER);
	CHECK_EQ(c->m_ext.ext_size, MCLBYTES);
	CHECK(c->m_data == c->m_ext.ext_buf);
	CHECK_EQ(M_LEADINGSPACE(c), 0);
	CHECK_EQ(M_TRAILINGSPACE(c), MCLBYTES);
	ch = (struct m_clhdr *)(void *)(c->m_ext.ext_buf - sizeof(*ch));
	CHECK(c->m_ext.ext_cnt == &ch->cl_refcnt);
	CHECK_EQ(ch->cl_refcnt, 1);
	CHECK_EQ(ch->cl_size, MCLBYTES);
	CHECK(M_WRITABLE(c));
	CHECK_EQ(zone_in_use(te.mbz.mz_mbuf), 3);
	CHECK_EQ(zone_in_use(te.mbz.mz_clust), 1);

	/* m_get2 picks the smallest storage that fits. */
	c2 = m_get2(&te.mbz, MLEN, MT_DATA, M_PKTHDR);
	REQUIRE(c2 != NULL);
	CHECK_EQ(c2->m_flags, M_PKTHDR);
	m_free(c2);
	c2 = m_get2(&te.mbz, MLEN + 1, MT_DATA, 0);
	REQUIRE(c2 != NULL);
	CHECK_EQ(c2->m_flags, M_EXT);
	CHECK_EQ(c2->m_ext.ext_size, MCLBYTES);
	m_free(c2);
	c2 = m_get2(&te.mbz, MCLBYTES, MT_DATA, 0);
	REQUIRE(c2 != NULL);
	CHECK_EQ(c2->m_ext.ext_type, EXT_CLUSTER);
	m_free(c2);
	/* No jumbo zone: too big, refused without counting a shortage. */
	CHECK(m_get2(&te.mbz, MCLBYTES + 1, MT_DATA, 0) == NULL);
	CHECK(m_getjcl(&te.mbz, MT_DATA, 0, MJUM9BYTES) == NULL);
	CHECK(m_getjcl(&te.mbz, MT_DATA, 0, 1000) == NULL);
	CHECK_EQ(te.mbz.mz_nombuf, 0);
	CHECK_EQ(te.mbz.mz_nocluster, 0);

	m_free(m);
	m_free(h);
	m_free(c);
	CHECK_EQ(test_env_in_use(&te), 0);
	test_env_fini(&te);

#if UST_MJUMBYTES > 0
	test_env_init(&te, 16, 4, 1);
	c = m_get2(&te.mbz, 9000, MT_DATA, M_PKTHDR);
	REQUIRE(c != NULL);
	CHECK_EQ(c->m_ext.ext_type, EXT_JUMBO9);
	CHECK_EQ(c->m_ext.ext_size, MJUM9BYTES);
	CHECK_EQ(M_TRAILINGSPACE(c), MJUM9BYTES);
	CHECK(c->m_flags & M_PKTHDR);
	CHECK(m_get2(&te.mbz, MJUM9BYTES + 1, MT_DATA, 0) == NULL);
	/* The one jumbo is taken: the next is a counted shortage. */
	CHECK(m_getjcl(&te.mbz, MT_DATA, 0, MJUM9BYTES) == NULL);
	CHECK_EQ(te.mbz.mz_nocluster, 1);
	m_freem(c);
	test_env_fini(&te);
#endif
}

TEST(zone_exhaustion_returns_null_and_counts)
{
	struct test_env te;
	static uint8_t big[MLEN];
	struct mbuf *a, *b, *c, *d, *e;

	test_env_init(&te, 4, 2, 0);
	a = m_getcl(&te.mbz, MT_DATA, 0);
	b = m_getcl(&te.mbz, MT_DATA, 0);
	REQUIRE(a != NULL && b != NULL);
	/* Clusters gone: the mbuf taken for the third is given back. */
	CHECK(m_getcl(&te.mbz, MT_DATA, 0) == NULL);
	CHECK_EQ(te.mbz.mz_nocluster, 1);
	CHECK_EQ(te.mbz.mz_nombuf, 0);
	CHECK_EQ(zone_in_use(te.mbz.mz_mbuf), 2);
	c = m_get(&te.mbz, MT_DATA);
	d = m_gethdr(&te.mbz, MT_DATA);
	REQUIRE(c != NULL && d != NULL);
	CHECK(m_get(&te.mbz, MT_DATA) == NULL);
	CHECK(m_gethdr(&te.mbz, MT_DATA) == NULL);
	CHECK(m_get2(&te.mbz, 10, MT_DATA, 0) == NULL);
	CHECK(m_getcl(&te.mbz, MT_DATA, M_PKTHDR) == NULL);
	CHECK_EQ(te.mbz.mz_nombuf, 4);
	CHECK_EQ(te.mbz.mz_nocluster, 1);
	CHECK_EQ(zone_failures(te.mbz.mz_mbuf), 4);
	/* Operations that need a buffer fail cleanly too. */
	memset(c->m_data, 0x11, 10);
	c->m_len = 10;
	CHECK(m_copym(c, 0, M_COPYALL) == NULL);
	CHECK(m_dup(c) == NULL);
	CHECK_EQ(m_append(c, MLEN, big), UST_ENOBUFS);
	CHECK_EQ(c->m_len, 10);
	/* A freed mbuf is available again. */
	m_free(a);
	e = m_get(&te.mbz, MT_DATA);
	CHECK(e != NULL);
	m_free(b);
	m_free(c);
	m_free(d);
	m_free(e);
	CHECK_EQ(test_env_in_use(&te), 0);
	test_env_fini(&te);
}

TEST(free_and_freem)
{
	struct test_env te;
	static const uint32_t lens[] = { 10, 1000, 20 };
	struct mbuf *m, *second, *n;

	test_env_init(&te, 16, 4, 0);
	CHECK(m_free(NULL) == NULL);
	m_freem(NULL);
	m = mk_chain(&te, lens, 3, 0x2, 1, true);
	second = m->m_next;
	n = m_free(m);
	CHECK(n == second);
	CHECK_EQ(zone_in_use(te.mbz.mz_mbuf), 2);
	CHECK_EQ(zone_in_use(te.mbz.mz_clust), 1);
	m_freem(n);
	CHECK_EQ(test_env_in_use(&te), 0);
	test_env_fini(&te);
}

TEST(length_and_last)
{
	struct test_env te;
	static const uint32_t lens[] = { 10, 0, 200, 5 };
	struct mbuf *m, *last = NULL;

	test_env_init(&te, 16, 4, 0);
	m = mk_chain(&te, lens, 4, 0x4, 1, true);
	CHECK_EQ(m_length(m, &last), 215);
	CHECK(last == m->m_next->m_next->m_next);
	CHECK_EQ(m_length(m, NULL), 215);
	CHECK_EQ(m_length(NULL, &last), 0);
	CHECK(last == NULL);
	m_freem(m);
	test_env_fini(&te);
}

TEST(reserve_and_fixhdr)
{
	struct test_env te;
	struct mbuf *m, *c;

	test_env_init(&te, 16, 4, 0);
	m = m_gethdr(&te.mbz, MT_DATA);
	REQUIRE(m != NULL);
	m_reserve(m, 40);
	CHECK_EQ(M_LEADINGSPACE(m), 40);
	CHECK_EQ(M_TRAILINGSPACE(m), MLEN - 40);
	m_reserve(m, 8);
	CHECK_EQ(M_LEADINGSPACE(m), 8);
	m_reserve(m, MLEN + 100); /* clamped to the storage */
	CHECK_EQ(M_LEADINGSPACE(m), MLEN);
	CHECK_EQ(M_TRAILINGSPACE(m), 0);
	m_reserve(m, 16);
	m->m_len = 20;
#if !UST_DEBUG
	m_reserve(m, 0); /* has data: ignored */
	CHECK_EQ(M_LEADINGSPACE(m), 16);
#endif
	c = m_getcl(&te.mbz, MT_DATA, 0);
	REQUIRE(c != NULL);
	m_reserve(c, UST_MAX_HDR);
	CHECK_EQ(M_LEADINGSPACE(c), UST_MAX_HDR);
	CHECK_EQ(M_TRAILINGSPACE(c), MCLBYTES - UST_MAX_HDR);
	c->m_len = 700;
	m->m_next = c;
	m->m_pkthdr.len = 1;
	m_fixhdr(m);
	CHECK_EQ(m->m_pkthdr.len, 720);
	m_freem(m);
	test_env_fini(&te);
}

/* ------------------------------------------------------------------------
 * m_prepend.
 */

TEST(prepend_with_room)
{
	struct test_env te;
	struct mbuf *m, *orig;
	uint8_t *data;

	test_env_init(&te, 16, 4, 0);
	m = m_gethdr(&te.mbz, MT_DATA);
	REQUIRE(m != NULL);
	m_reserve(m, 64);
	fill(m->m_data, 50, 20, 3);
	m->m_len = 50;
	m->m_pkthdr.len = 50;
	orig = m;
	data = m->m_data;
	M_PREPEND(m, 20);
	REQUIRE(m != NULL);
	CHECK(m == orig);
	CHECK(m->m_data == data - 20);
	CHECK_EQ(m->m_len, 70);
	CHECK_EQ(M_LEADINGSPACE(m), 44);
	fill(m->m_data, 20, 0, 3);
	CHECK(chain_is(m, 0, 70, 3));
	CHECK_EQ(zone_in_use(te.mbz.mz_mbuf), 1);
	m_freem(m);
	test_env_fini(&te);
}

TEST(prepend_without_room)
{
	struct test_env te;
	struct mbuf *m, *orig, *copy, *big;
	uint8_t *clbuf;
	uint32_t i;

	test_env_init(&te, 16, 8, 0);
	m = m_getcl(&te.mbz, MT_DATA, M_PKTHDR);
	REQUIRE(m != NULL);
	fill(m->m_data, 100, 34, 4);
	m->m_len = 100;
	m->m_pkthdr.len = 100;
	m->m_pkthdr.flowid = 77;
	m->m_flags |= M_BCAST;
	orig = m;
	M_PREPEND(m, 14);
	REQUIRE(m != NULL);
	CHECK(m != orig);
	CHECK(m->m_next == orig);
	CHECK_EQ(m->m_len, 14);
	CHECK(m->m_flags & M_PKTHDR);
	CHECK(m->m_flags & M_BCAST);
	CHECK(!(orig->m_flags & (M_PKTHDR | M_BCAST)));
	CHECK_EQ(m->m_pkthdr.flowid, 77);
	CHECK_EQ(m->m_pkthdr.len, 114);
	CHECK_EQ(((uintptr_t)m->m_data) % 8, 0);
	/* Placed at the end of the new mbuf: the next header fits in front. */
	CHECK(M_LEADINGSPACE(m) >= MLEN - 14 - 7);
	fill(m->m_data, 14, 20, 4);
	M_PREPEND(m, 20);
	REQUIRE(m != NULL);
	CHECK_EQ(chain_count(m), 2);
	fill(m->m_data, 20, 0, 4);
	CHECK(chain_is(m, 0, 134, 4));

	/* More than fits an mbuf: a cluster goes in front. */
	M_PREPEND(m, 500);
	REQUIRE(m != NULL);
	CHECK(m->m_flags & M_EXT);
	CHECK_EQ(m->m_len, 500);
	CHECK_EQ(m->m_pkthdr.len, 634);
	CHECK_EQ(chain_count(m), 3);
	m_freem(m);

	/* A shared cluster has no usable leading space even if it has room:
	 * writing there would show through the other reference. */
	m = m_getcl(&te.mbz, MT_DATA, M_PKTHDR);
	REQUIRE(m != NULL);
	clbuf = m->m_ext.ext_buf;
	memset(clbuf, 0xAA, 64);
	m_reserve(m, 64);
	fill(m->m_data, 100, 0, 5);
	m->m_len = 100;
	m->m_pkthdr.len = 100;
	copy = m_copym(m, 0, M_COPYALL);
	REQUIRE(copy != NULL);
	CHECK_EQ(M_LEADINGSPACE(copy), 0);
	orig = copy;
	M_PREPEND(copy, 10);
	REQUIRE(copy != NULL);
	CHECK(copy != orig);
	for (i = 0; i < 64; i++)
		CHECK_EQ(clbuf[i], 0xAA);
	CHECK(chain_is(m, 0, 100, 5));
	m_freem(copy);

	/* Impossible length: refused, and the chain is consumed. */
	big = m_prepend(m, MCLBYTES + 1); /* no jumbo zone here */
	CHECK(big == NULL);
	CHECK_EQ(test_env_in_use(&te), 0);
	test_env_fini(&te);
}

/* ------------------------------------------------------------------------
 * m_adj.
 */

TEST(adj_head)
{
	struct test_env te;
	static const uint32_t lens[] = { 30, 1000, 40 };
	struct mbuf *m;

	test_env_init(&te, 16, 4, 0);
	m = mk_chain(&te, lens, 3, 0x2, 6, true);
	m_adj(m, 10);
	CHECK_EQ(m->m_len, 20);
	CHECK(chain_is(m, 10, 1060, 6));
	m_adj(m, 520); /* across the first mbuf */
	CHECK_EQ(m->m_len, 0);
	CHECK_EQ(m->m_next->m_len, 500);
	CHECK_EQ(chain_count(m), 3); /* emptied mbufs stay */
	CHECK(m->m_flags & M_PKTHDR);
	CHECK(chain_is(m, 530, 540, 6));
	m_freem(m);
	test_env_fini(&te);
}

TEST(adj_tail)
{
	struct test_env te;
	static const uint32_t lens[] = { 30, 1000, 40 };
	struct mbuf *m;

	test_env_init(&te, 16, 4, 0);
	m = mk_chain(&te, lens, 3, 0x2, 7, true);
	m_adj(m, -15);
	CHECK_EQ(m->m_next->m_next->m_len, 25);
	CHECK(chain_is(m, 0, 1055, 7));
	m_adj(m, -1000); /* across two mbufs */
	CHECK_EQ(m->m_len, 30);
	CHECK_EQ(m->m_next->m_len, 25);
	CHECK_EQ(m->m_next->m_next->m_len, 0);
	CHECK(chain_is(m, 0, 55, 7));
	m_adj(m, 0);
	CHECK(chain_is(m, 0, 55, 7));
	m_freem(m);
	test_env_fini(&te);
}

TEST(adj_whole_chain_and_over_length)
{
	struct test_env te;
	static const uint32_t lens[] = { 30, 1000, 40 };
	struct mbuf *m;

	test_env_init(&te, 16, 8, 0);
	m = mk_chain(&te, lens, 3, 0x2, 8, true);
	m_adj(m, 1070);
	CHECK(chain_is(m, 0, 0, 8));
	CHECK_EQ(chain_count(m), 3);
	m_freem(m);

	m = mk_chain(&te, lens, 3, 0x2, 8, true);
	m_adj(m, INT32_MAX);
	CHECK(chain_is(m, 0, 0, 8));
	m_freem(m);

	m = mk_chain(&te, lens, 3, 0x2, 8, true);
	m_adj(m, -1071);
	CHECK(chain_is(m, 0, 0, 8));
	m_freem(m);

	/* -INT32_MIN does not fit an int32_t: must not be undefined. */
	m = mk_chain(&te, lens, 3, 0x2, 8, true);
	m_adj(m, INT32_MIN);
	CHECK(chain_is(m, 0, 0, 8));
	m_freem(m);

	m_adj(NULL, 5);
	CHECK_EQ(test_env_in_use(&te), 0);
	test_env_fini(&te);
}

/* ------------------------------------------------------------------------
 * m_pullup.
 */

TEST(pullup_in_place_across_three_mbufs)
{
	struct test_env te;
	static const uint32_t lens[] = { 10, 20, 30, 40 };
	struct mbuf *m, *orig, *fourth;

	test_env_init(&te, 16, 4, 0);
	m = mk_chain(&te, lens, 4, 0, 9, true);
	orig = m;
	fourth = m->m_next->m_next->m_next;
	CHECK(m_pullup(m, 5) == orig); /* already contiguous */
	m = m_pullup(m, 60);
	REQUIRE(m != NULL);
	CHECK(m == orig);
	CHECK_EQ(m->m_len, 60);
	CHECK(m->m_next == fourth); /* 2nd and 3rd emptied and freed */
	CHECK_EQ(zone_in_use(te.mbz.mz_mbuf), 2);
	CHECK(chain_is(m, 0, 100, 9));
	m = m_pullup(m, 75); /* part of the last one */
	REQUIRE(m != NULL);
	CHECK_EQ(m->m_len, 75);
	CHECK_EQ(fourth->m_len, 25);
	CHECK(chain_is(m, 0, 100, 9));
	m_freem(m);
	test_env_fini(&te);
}

TEST(pullup_into_new_buffer)
{
	struct test_env te;
	static const uint32_t lens[] = { 100, 1000, 300 };
	struct mbuf *m, *orig, *copy, *second;

	test_env_init(&te, 16, 8, 0);
	/* A shared cluster at the head cannot take the bytes in place: a
	 * new mbuf takes them and the packet header. */
	m = mk_chain(&te, lens, 3, 0x7, 10, true);
	m->m_pkthdr.flowid = 5;
	copy = m_copym(m, 0, M_COPYALL);
	REQUIRE(copy != NULL);
	orig = copy;
	second = copy->m_next;
	copy = m_pullup(copy, 120); /* empties and frees orig */
	REQUIRE(copy != NULL);
	CHECK(copy != orig);
	CHECK(!(copy->m_flags & M_EXT));
	CHECK(copy->m_flags & M_PKTHDR);
	CHECK_EQ(copy->m_pkthdr.flowid, 5);
	CHECK_EQ(copy->m_len, 120);
	CHECK(copy->m_next == second);
	CHECK(!(second->m_flags & M_PKTHDR));
	CHECK_EQ(second->m_len, 980);
	CHECK(chain_is(copy, 0, 1400, 10));
	CHECK(chain_is(m, 0, 1400, 10));
	CHECK_EQ(REFCNT(m), 1);
	m_freem(copy);

	/* A writable cluster head with room: in place. */
	orig = m;
	m = m_pullup(m, 1200);
	REQUIRE(m != NULL);
	CHECK(m == orig);
	CHECK_EQ(m->m_len, 1200);
	CHECK(chain_is(m, 0, 1400, 10));
	m_freem(m);

	/* More than an mbuf holds behind an internal head: a new cluster,
	 * across three buffers. */
	m = mk_chain(&te, lens, 3, 0x6, 10, true);
	orig = m;
	m = m_pullup(m, 1200);
	REQUIRE(m != NULL);
	CHECK(m != orig);
	CHECK(m->m_flags & M_EXT);
	CHECK(m->m_flags & M_PKTHDR);
	CHECK_EQ(m->m_len, 1200);
	CHECK_EQ(chain_count(m), 2);
	CHECK(chain_is(m, 0, 1400, 10));
	m_freem(m);

	/* Longer than the largest buffer (no jumbo zone here): refused,
	 * chain freed. */
	m = mk_chain(&te, lens, 3, 0x7, 10, true);
	m->m_next->m_next->m_len = MCLBYTES;
	m->m_next->m_len = MCLBYTES;
	CHECK(m_pullup(m, MCLBYTES + 1) == NULL);
	CHECK_EQ(test_env_in_use(&te), 0);
	test_env_fini(&te);
}

TEST(pullup_beyond_packet_length)
{
	struct test_env te;
	static const uint32_t lens[] = { 10, 20, 30 };
	struct mbuf *m;

	test_env_init(&te, 16, 4, 0);
	m = mk_chain(&te, lens, 3, 0, 11, true);
	CHECK(m_pullup(m, 61) == NULL);
	CHECK_EQ(test_env_in_use(&te), 0);
	m = mk_chain(&te, lens, 3, 0x2, 11, true);
	CHECK(m_pullup(m, UINT32_MAX) == NULL);
	CHECK_EQ(test_env_in_use(&te), 0);
	CHECK(m_pullup(NULL, 1) == NULL);
	test_env_fini(&te);
}

/* ------------------------------------------------------------------------
 * m_copydata, m_copyback, m_append.
 */

TEST(copydata_across_chain)
{
	struct test_env te;
	static const uint32_t lens[] = { 10, 1000, 0, 50, 1 };
	static uint8_t buf[1200];
	struct mbuf *m;
	uint32_t off, len;

	test_env_init(&te, 16, 4, 0);
	m = mk_chain(&te, lens, 5, 0x2, 12, true);
	CHECK_EQ(m_copydata(m, 0, 1061, buf), 0);
	CHECK(is_pat(buf, 1061, 0, 12));
	for (off = 0; off <= 1061; off += 7) {
		for (len = 0; off + len <= 1061; len += 13) {
			memset(buf, 0, sizeof(buf));
			CHECK_EQ(m_copydata(m, off, len, buf), 0);
			CHECK(is_pat(buf, len, off, 12));
		}
	}
	CHECK_EQ(m_copydata(m, 1060, 1, buf), 0);
	CHECK_EQ(buf[0], pat(1060, 12));
	CHECK_EQ(m_copydata(m, 1010, 51, buf), 0); /* skips the empty mbuf */
	CHECK(is_pat(buf, 51, 1010, 12));
	m_freem(m);
	test_env_fini(&te);
}

TEST(copydata_out_of_range)
{
	struct test_env te;
	static const uint32_t lens[] = { 10, 1000, 50 };
	static uint8_t buf[2000];
	struct mbuf *m, *e;

	test_env_init(&te, 16, 4, 0);
	m = mk_chain(&te, lens, 3, 0x2, 13, true);
	CHECK_EQ(m_copydata(m, 1060, 0, buf), 0); /* empty, at the end */
	CHECK_EQ(m_copydata(m, 1061, 0, buf), UST_EINVAL);
	CHECK_EQ(m_copydata(m, 0, 1061, buf), UST_EINVAL);
	CHECK_EQ(m_copydata(m, 1059, 2, buf), UST_EINVAL);
	CHECK_EQ(m_copydata(m, 1060, 1, buf), UST_EINVAL);
	CHECK_EQ(m_copydata(m, 5000, 1, buf), UST_EINVAL);
	CHECK_EQ(m_copydata(m, 1, UINT32_MAX, buf), UST_EINVAL);
	CHECK_EQ(m_copydata(m, UINT32_MAX, 1, buf), UST_EINVAL);
	CHECK_EQ(m_copydata(m, UINT32_MAX, UINT32_MAX, buf), UST_EINVAL);
	CHECK_EQ(m_copydata(NULL, 0, 0, buf), 0);
	CHECK_EQ(m_copydata(NULL, 0, 1, buf), UST_EINVAL);
	e = m_get(&te.mbz, MT_DATA);
	REQUIRE(e != NULL);
	CHECK_EQ(m_copydata(e, 0, 0, buf), 0);
	CHECK_EQ(m_copydata(e, 0, 1, buf), UST_EINVAL);
	m_free(e);
	m_freem(m);
	test_env_fini(&te);
}

TEST(copyback_overwrite_and_extend)
{
	struct test_env te;
	static const uint32_t lens[] = { 30, 100 };
	static uint8_t src[4096], buf[8192];
	struct mbuf *m;
	uint32_t i;

	test_env_init(&te, 16, 8, 0);
	m = mk_chain(&te, lens, 2, 0x2, 14, true);
	fill(src, sizeof(src), 0, 99);
	CHECK_EQ(m_copyback(m, 20, 50, src), 0); /* across the boundary */
	REQUIRE_EQ(flat(m, buf, sizeof(buf)), 130);
	CHECK(is_pat(buf, 20, 0, 14));
	CHECK(is_pat(buf + 20, 50, 0, 99));
	CHECK(is_pat(buf + 70, 60, 70, 14));
	CHECK_EQ(chain_count(m), 2);

	/* Past the end: the gap is zero-filled and the chain grows. */
	CHECK_EQ(m_copyback(m, 200, 3000, src), 0);
	CHECK_EQ(m->m_pkthdr.len, 3200);
	REQUIRE_EQ(flat(m, buf, sizeof(buf)), 3200);
	CHECK(is_pat(buf + 70, 60, 70, 14));
	for (i = 130; i < 200; i++)
		CHECK_EQ(buf[i], 0);
	CHECK(is_pat(buf + 200, 3000, 0, 99));

	CHECK_EQ(m_copyback(m, 10, 0, src), 0);
	CHECK_EQ(m_copyback(m, UINT32_MAX, 2, src), UST_EINVAL);
	CHECK_EQ(m_copyback(NULL, 0, 2, src), UST_EINVAL);
	CHECK_EQ(m_length(m, NULL), 3200);
	m_freem(m);
	test_env_fini(&te);
}

/* The extension is zeroed only over the gap; the bytes written over are
 * not zeroed first, and recycled (dirty) clusters must not leak into
 * the gap. */
TEST(copyback_gap_over_recycled_clusters_is_zero)
{
	struct test_env te;
	static const uint32_t one[] = { 10 };
	static uint8_t src[4096], buf[16384];
	struct mbuf *m, *d[4];
	uint32_t i;

	test_env_init(&te, 16, 8, 0);
	for (i = 0; i < 4; i++) {
		d[i] = m_getcl(&te.mbz, MT_DATA, 0);
		REQUIRE(d[i] != NULL);
		memset(d[i]->m_data, 0xff, M_SIZE(d[i]));
	}
	for (i = 0; i < 4; i++)
		m_free(d[i]);
	m = mk_chain(&te, one, 1, 0x1, 7, true);
	fill(src, sizeof(src), 0, 33);
	/* A gap of 5000 bytes across the cluster's room and two new ones,
	 * then 1000 bytes written. */
	CHECK_EQ(m_copyback(m, 5010, 1000, src), 0);
	REQUIRE_EQ(flat(m, buf, sizeof(buf)), 6010);
	CHECK(is_pat(buf, 10, 0, 7));
	for (i = 10; i < 5010; i++)
		if (buf[i] != 0)
			break;
	CHECK_EQ(i, 5010);
	CHECK(is_pat(buf + 5010, 1000, 0, 33));
	/* An append right at the end writes every byte. */
	CHECK_EQ(m_append(m, 3000, src), 0);
	REQUIRE_EQ(flat(m, buf, sizeof(buf)), 9010);
	CHECK(is_pat(buf + 6010, 3000, 0, 33));
	m_freem(m);
	test_env_fini(&te);
}

TEST(append_grows_chain)
{
	struct test_env te;
	static uint8_t src[6000];
	struct mbuf *m;

	test_env_init(&te, 16, 8, 0);
	m = m_gethdr(&te.mbz, MT_DATA);
	REQUIRE(m != NULL);
	fill(src, sizeof(src), 0, 15);
	CHECK_EQ(m_append(m, 10, src), 0);
	CHECK_EQ(m->m_len, 10);
	CHECK_EQ(chain_count(m), 1);
	CHECK_EQ(m_append(m, 5990, src + 10), 0);
	CHECK(chain_is(m, 0, 6000, 15));
	CHECK_EQ(m_append(m, 0, src), 0);
	CHECK(chain_is(m, 0, 6000, 15));
	m_freem(m);
	test_env_fini(&te);
}

/* ------------------------------------------------------------------------
 * m_copym, m_dup.
 */

TEST(copym_shares_clusters)
{
	struct test_env te;
	static const uint32_t lens[] = { 40, 1000, 500 };
	static uint8_t src[64], buf[2000];
	struct mbuf *m, *c, *p;

	test_env_init(&te, 32, 8, 0);
	m = mk_chain(&te, lens, 3, 0x6, 16, true);
	m->m_pkthdr.flowid = 1234;
	c = m_copym(m, 0, M_COPYALL);
	REQUIRE(c != NULL);
	CHECK(c->m_flags & M_PKTHDR);
	CHECK_EQ(c->m_pkthdr.flowid, 1234);
	CHECK(chain_is(c, 0, 1540, 16));
	REQUIRE_EQ(chain_count(c), 3);
	/* Internal data is copied, clusters are shared. */
	CHECK(c->m_data != m->m_data);
	CHECK(M_WRITABLE(c) && M_WRITABLE(m));
	CHECK(c->m_next->m_ext.ext_buf == m->m_next->m_ext.ext_buf);
	CHECK(c->m_next->m_next->m_ext.ext_buf == m->m_next->m_next->m_ext.ext_buf);
	CHECK_EQ(REFCNT(m->m_next), 2);
	CHECK_EQ(REFCNT(m->m_next->m_next), 2);
	CHECK(!M_WRITABLE(m->m_next) && !M_WRITABLE(c->m_next));
	CHECK_EQ(M_TRAILINGSPACE(m->m_next), 0);
	CHECK_EQ(zone_in_use(te.mbz.mz_clust), 2);

	/* A write to the copy does not show through the original. */
	fill(src, sizeof(src), 0, 77);
	CHECK_EQ(m_copyback(c, 100, 50, src), 0);
	CHECK(chain_is(m, 0, 1540, 16));
	REQUIRE_EQ(flat(c, buf, sizeof(buf)), 1540);
	CHECK(is_pat(buf, 100, 0, 16));
	CHECK(is_pat(buf + 100, 50, 0, 77));
	CHECK(is_pat(buf + 150, 1390, 150, 16));
	CHECK_EQ(REFCNT(m->m_next), 1);
	CHECK(M_WRITABLE(m->m_next));
	CHECK_EQ(REFCNT(m->m_next->m_next), 2);
	CHECK_EQ(zone_in_use(te.mbz.mz_clust), 3);

	/* Partial copies: no packet header unless from offset 0. */
	p = m_copym(m, 30, 20);
	REQUIRE(p != NULL);
	CHECK(!(p->m_flags & M_PKTHDR));
	CHECK_EQ(chain_count(p), 2);
	CHECK(chain_is(p, 30, 20, 16));
	CHECK_EQ(REFCNT(m->m_next), 2);
	m_freem(p);
	CHECK_EQ(REFCNT(m->m_next), 1);
	p = m_copym(m, 0, 40);
	REQUIRE(p != NULL);
	CHECK(p->m_flags & M_PKTHDR);
	CHECK(chain_is(p, 0, 40, 16));
	m_freem(p);
	p = m_copym(m, 1039, M_COPYALL);
	REQUIRE(p != NULL);
	CHECK(chain_is(p, 1039, 501, 16));
	m_freem(p);
	/* An empty range is one empty mbuf; beyond the chain is NULL. */
	p = m_copym(m, 1540, M_COPYALL);
	REQUIRE(p != NULL);
	CHECK(chain_is(p, 0, 0, 16));
	m_freem(p);
	p = m_copym(m, 700, 0);
	REQUIRE(p != NULL);
	CHECK_EQ(m_length(p, NULL), 0);
	m_freem(p);
	CHECK(m_copym(m, 1541, M_COPYALL) == NULL);
	CHECK(m_copym(m, 0, 1541) == NULL);
	CHECK(m_copym(m, 1000, 541) == NULL);
	CHECK(m_copym(NULL, 0, 1) == NULL);
	CHECK_EQ(REFCNT(m->m_next), 1);

	/* The last reference returns the cluster to its zone. */
	m_freem(m);
	CHECK_EQ(zone_in_use(te.mbz.mz_clust), 2);
	CHECK_EQ(REFCNT(c->m_next->m_next), 1);
	CHECK(M_WRITABLE(c->m_next->m_next));
	m_freem(c);
	CHECK_EQ(test_env_in_use(&te), 0);
	test_env_fini(&te);
}

TEST(copym_carries_rdonly_and_eor)
{
	struct test_env te;
	static const uint32_t lens[] = { 40, 1000 };
	struct mbuf *m, *c;

	test_env_init(&te, 16, 4, 0);
	m = mk_chain(&te, lens, 2, 0x2, 17, true);
	m->m_next->m_flags |= M_RDONLY | M_EOR;
	c = m_copym(m, 10, M_COPYALL);
	REQUIRE(c != NULL);
	REQUIRE_EQ(chain_count(c), 2);
	CHECK(c->m_next->m_flags & M_RDONLY);
	CHECK(c->m_next->m_flags & M_EOR);
	m_freem(c);
	c = m_copym(m, 10, 100); /* does not reach the end of record */
	REQUIRE(c != NULL);
	CHECK(!(c->m_next->m_flags & M_EOR));
	m_freem(c);
	m_freem(m);
	test_env_fini(&te);
}

TEST(dup_deep_copy)
{
	struct test_env te;
	static const uint32_t lens[] = { 40, 1000, 2000 };
	struct mbuf *m, *s, *d, *n, *e;

	test_env_init(&te, 32, 16, 0);
	m = mk_chain(&te, lens, 3, 0x6, 18, true);
	m->m_pkthdr.csum_flags = 0x5;
	s = m_copym(m, 0, M_COPYALL); /* make the clusters shared */
	REQUIRE(s != NULL);
	d = m_dup(s);
	REQUIRE(d != NULL);
	CHECK(d->m_flags & M_PKTHDR);
	CHECK_EQ(d->m_pkthdr.csum_flags, 0x5);
	CHECK(chain_is(d, 0, 3040, 18));
	for (n = d; n != NULL; n = n->m_next) {
		CHECK(M_WRITABLE(n));
		if (n->m_flags & M_EXT) {
			CHECK_EQ(REFCNT(n), 1);
			CHECK(n->m_ext.ext_buf != m->m_next->m_ext.ext_buf);
			CHECK(n->m_ext.ext_buf != m->m_next->m_next->m_ext.ext_buf);
		}
	}
	CHECK_EQ(REFCNT(m->m_next), 2);
	/* Writing the duplicate leaves the source alone. */
	memset(d->m_data, 0, d->m_len);
	CHECK(chain_is(s, 0, 3040, 18));
	m_freem(d);

	e = m_gethdr(&te.mbz, MT_DATA);
	REQUIRE(e != NULL);
	d = m_dup(e);
	REQUIRE(d != NULL);
	CHECK(chain_is(d, 0, 0, 0));
	CHECK(d->m_flags & M_PKTHDR);
	m_freem(d);
	m_freem(e);
	CHECK(m_dup(NULL) == NULL);
	m_freem(s);
	m_freem(m);
	test_env_fini(&te);
}

/* ------------------------------------------------------------------------
 * m_split, m_cat.
 */

TEST(split_in_middle_of_mbuf)
{
	struct test_env te;
	static const uint32_t lens[] = { 100, 50 };
	static const uint32_t cl[] = { 1000 };
	struct mbuf *m, *t;

	test_env_init(&te, 16, 4, 0);
	m = mk_chain(&te, lens, 2, 0, 19, true);
	m->m_pkthdr.flowid = 9;
	t = m_split(m, 30);
	REQUIRE(t != NULL);
	CHECK(chain_is(m, 0, 30, 19));
	CHECK(chain_is(t, 30, 120, 19));
	CHECK(t->m_flags & M_PKTHDR);
	CHECK_EQ(t->m_pkthdr.flowid, 9);
	CHECK(m->m_next == NULL);
	CHECK_EQ(chain_count(t), 2);
	m_freem(t);
	m_freem(m);

	/* Inside a cluster: both halves share it, neither may write. */
	m = mk_chain(&te, cl, 1, 0x1, 20, true);
	m->m_flags |= M_EOR;
	t = m_split(m, 400);
	REQUIRE(t != NULL);
	CHECK(chain_is(m, 0, 400, 20));
	CHECK(chain_is(t, 400, 600, 20));
	CHECK(t->m_ext.ext_buf == m->m_ext.ext_buf);
	CHECK_EQ(REFCNT(m), 2);
	CHECK(!M_WRITABLE(m) && !M_WRITABLE(t));
	CHECK_EQ(zone_in_use(te.mbz.mz_clust), 1);
	CHECK(t->m_flags & M_EOR);
	CHECK(!(m->m_flags & M_EOR));
	m_freem(m);
	CHECK_EQ(REFCNT(t), 1);
	CHECK(M_WRITABLE(t));
	m_freem(t);
	CHECK_EQ(test_env_in_use(&te), 0);
	test_env_fini(&te);
}

TEST(split_at_boundary)
{
	struct test_env te;
	static const uint32_t lens[] = { 100, 200, 30 };
	struct mbuf *m, *second, *t;
	uint32_t before;

	test_env_init(&te, 16, 4, 0);
	m = mk_chain(&te, lens, 3, 0x2, 21, true);
	second = m->m_next;
	before = test_env_in_use(&te);
	t = m_split(m, 100);
	REQUIRE(t != NULL);
	CHECK(t == second); /* nothing allocated */
	CHECK_EQ(test_env_in_use(&te), before);
	CHECK(t->m_flags & M_PKTHDR);
	CHECK(chain_is(m, 0, 100, 21));
	CHECK(chain_is(t, 100, 230, 21));
	/* Without a packet header too. */
	t->m_flags &= (uint16_t)~M_PKTHDR;
	second = m_split(t, 200);
	REQUIRE(second != NULL);
	CHECK(!(second->m_flags & M_PKTHDR));
	CHECK_EQ(m_length(t, NULL), 200);
	CHECK_EQ(m_length(second, NULL), 30);
	m_freem(second);
	m_freem(t);
	m_freem(m);
	test_env_fini(&te);
}

TEST(split_at_zero)
{
	struct test_env te;
	static const uint32_t lens[] = { 100, 20 };
	struct mbuf *m, *t;

	test_env_init(&te, 16, 4, 0);
	m = mk_chain(&te, lens, 2, 0, 22, true);
	t = m_split(m, 0);
	REQUIRE(t != NULL);
	CHECK(chain_is(m, 0, 0, 22));
	CHECK(m->m_next == NULL);
	CHECK(chain_is(t, 0, 120, 22));
	CHECK(t->m_flags & M_PKTHDR);
	m_freem(t);
	m_freem(m);
	test_env_fini(&te);
}

TEST(split_at_end_and_beyond)
{
	struct test_env te;
	static const uint32_t lens[] = { 100, 1000 };
	struct mbuf *m, *t;

	test_env_init(&te, 16, 4, 0);
	m = mk_chain(&te, lens, 2, 0x2, 23, true);
	t = m_split(m, 1100);
	REQUIRE(t != NULL);
	CHECK(chain_is(t, 0, 0, 23));
	CHECK(t->m_flags & M_PKTHDR);
	CHECK(chain_is(m, 0, 1100, 23));
	m_freem(t);
	CHECK(m_split(m, 1101) == NULL);
	CHECK(m_split(m, UINT32_MAX) == NULL);
	CHECK(chain_is(m, 0, 1100, 23));
	CHECK_EQ(chain_count(m), 2);
	CHECK(m_split(NULL, 0) == NULL);
	m_freem(m);
	CHECK_EQ(test_env_in_use(&te), 0);
	test_env_fini(&te);
}

TEST(cat_compacts_and_links)
{
	struct test_env te;
	static const uint32_t l1[] = { 10 };
	static const uint32_t l2[] = { 20, 300, 5 };
	struct mbuf *m, *n, *a, *b;
	uint32_t i;

	test_env_init(&te, 16, 4, 0);
	m = mk_chain(&te, l1, 1, 0, 24, true);
	n = mk_chain(&te, l2, 3, 0x2, 24, true);
	/* Make n's bytes continue m's pattern. */
	for (i = 0, a = n; a != NULL; a = a->m_next) {
		fill(a->m_data, a->m_len, 10 + i, 24);
		i += a->m_len;
	}
	m_cat(m, n);
	CHECK_EQ(m->m_pkthdr.len, 335);
	CHECK(chain_is(m, 0, 335, 24));
	/* The small head of n went into m's spare room; the cluster was
	 * linked, not copied. */
	CHECK_EQ(m->m_len, 30);
	REQUIRE_EQ(chain_count(m), 3);
	CHECK(m->m_next->m_flags & M_EXT);
	CHECK(!(m->m_next->m_flags & M_PKTHDR));
	CHECK_EQ(zone_in_use(te.mbz.mz_mbuf), 3);
	m_cat(m, NULL);
	CHECK(chain_is(m, 0, 335, 24));

	/* A cluster packet head loses its header when appended. */
	a = mk_chain(&te, l2 + 1, 1, 0x1, 25, true);
	b = mk_chain(&te, l2 + 1, 1, 0x1, 25, true);
	m_cat(a, b);
	CHECK(a->m_next == b);
	CHECK(!(b->m_flags & M_PKTHDR));
	CHECK_EQ(a->m_pkthdr.len, 600);
	m_freem(a);
	m_freem(m);
	CHECK_EQ(test_env_in_use(&te), 0);
	test_env_fini(&te);
}

/* ------------------------------------------------------------------------
 * Lent buffers.
 */

struct lender {
	int calls;
	void *arg2;
};

static void
lender_free(void *arg1, void *arg2)
{
	struct lender *l = arg1;

	l->calls++;
	l->arg2 = arg2;
}

TEST(extadd_custom_free)
{
	struct test_env te;
	static uint8_t lent[600];
	volatile uint32_t cnt = 0;
	struct lender l = { 0, NULL };
	struct mbuf *m, *c, *t;

	test_env_init(&te, 16, 4, 0);
	fill(lent, sizeof(lent), 0, 26);
	m = m_gethdr(&te.mbz, MT_DATA);
	REQUIRE(m != NULL);
	m_extadd(m, lent, sizeof(lent), &cnt, lender_free, &l, lent, 0);
	CHECK_EQ(cnt, 1);
	CHECK(m->m_flags & M_EXT);
	CHECK_EQ(m->m_ext.ext_type, EXT_EXTREF);
	CHECK(m->m_data == lent);
	CHECK_EQ(m->m_len, 0);
	m->m_len = 600;
	m->m_pkthdr.len = 600;
	CHECK(M_WRITABLE(m));
	CHECK_EQ(zone_in_use(te.mbz.mz_clust), 0);

	c = m_copym(m, 0, M_COPYALL);
	REQUIRE(c != NULL);
	CHECK_EQ(cnt, 2);
	CHECK(!M_WRITABLE(m));
	t = m_split(c, 100);
	REQUIRE(t != NULL);
	CHECK_EQ(cnt, 3);
	CHECK(chain_is(c, 0, 100, 26));
	CHECK(chain_is(t, 100, 500, 26));
	m_freem(m);
	m_freem(t);
	CHECK_EQ(cnt, 1);
	CHECK_EQ(l.calls, 0);
	m_freem(c);
	CHECK_EQ(cnt, 0);
	CHECK_EQ(l.calls, 1);
	CHECK(l.arg2 == lent);

	/* A lender that keeps its own reference is never called back. */
	cnt = 1;
	m = m_get(&te.mbz, MT_DATA);
	REQUIRE(m != NULL);
	m_extadd(m, lent, sizeof(lent), &cnt, lender_free, &l, lent, 0);
	CHECK_EQ(cnt, 2);
	CHECK(!M_WRITABLE(m));
	m_free(m);
	CHECK_EQ(cnt, 1);
	CHECK_EQ(l.calls, 1);

	/* Read-only: a write copies the data out and hands the buffer back. */
	cnt = 0;
	m = m_gethdr(&te.mbz, MT_DATA);
	REQUIRE(m != NULL);
	m_extadd(m, lent, 100, &cnt, lender_free, &l, NULL, M_RDONLY);
	m->m_len = 100;
	m->m_pkthdr.len = 100;
	CHECK(!M_WRITABLE(m));
	CHECK_EQ(m_copyback(m, 0, 1, "\xff"), 0);
	CHECK_EQ(l.calls, 2);
	CHECK_EQ(cnt, 0);
	CHECK(M_WRITABLE(m));
	CHECK_EQ(lent[0], pat(0, 26)); /* the lent buffer was not written */
	CHECK_EQ(m->m_data[0], 0xff);
	CHECK(is_pat(m->m_data + 1, 99, 1, 26));
	m_freem(m);
	CHECK_EQ(test_env_in_use(&te), 0);
	test_env_fini(&te);
}

/* ------------------------------------------------------------------------
 * Allocation failure at every step.
 */

struct inj {
	struct ust_zone *zone;
	uint64_t failures;
};

static void
inj_arm(struct inj *ij, struct ust_zone *zone, uint64_t n)
{
	ij->zone = zone;
	ij->failures = zone_failures(zone);
	ust_zone_fail_after(zone, n);
}

/* Turns the injection off; true if it fired. */
static bool
inj_disarm(struct inj *ij)
{
	ust_zone_fail_after(ij->zone, 0);
	return (zone_failures(ij->zone) != ij->failures);
}

/* One run: build the input, arm the n-th allocation of zone to fail, run
 * the operation, check the outcome, free everything.  Returns whether the
 * injected failure fired. */
typedef bool step_fn(struct test_env *te, struct ust_zone *zone, uint64_t n);

/* nfail[z]: how many allocations the operation makes from the mbuf zone
 * (z 0) and the cluster zone (z 1), i.e. how many runs must see the
 * injected failure fire before one runs clean. */
static void
fail_every_step(step_fn *step, unsigned nfail_mbuf, unsigned nfail_clust)
{
	struct test_env te;
	struct ust_zone *zones[2];
	unsigned nfail[2] = { nfail_mbuf, nfail_clust };
	uint64_t n;
	unsigned z, fired;

	test_env_init(&te, 256, 64, 0);
	zones[0] = te.mbz.mz_mbuf;
	zones[1] = te.mbz.mz_clust;
	for (z = 0; z < 2; z++) {
		fired = 0;
		for (n = 1; n <= 100; n++) {
			bool f = step(&te, zones[z], n);

			CHECK_EQ(test_env_in_use(&te), 0);
			if (!f)
				break;
			fired++;
		}
		CHECK_EQ(fired, nfail[z]);
	}
	test_env_fini(&te);
}

static bool
step_pullup(struct test_env *te, struct ust_zone *zone, uint64_t n)
{
	static const uint32_t lens[] = { 20, 300, 50 };
	struct mbuf *m;
	struct inj ij;
	bool fired;

	m = mk_chain(te, lens, 3, 0x2, 30, true);
	inj_arm(&ij, zone, n);
	m = m_pullup(m, 200); /* needs a new cluster */
	fired = inj_disarm(&ij);
	if (m == NULL) {
		CHECK(fired);
		return (fired);
	}
	CHECK_EQ(m->m_len, 200);
	CHECK(chain_is(m, 0, 370, 30));
	m_freem(m);
	return (fired);
}

TEST(pullup_fail_every_step)
{
	fail_every_step(step_pullup, 1, 1);
}

static bool
step_prepend(struct test_env *te, struct ust_zone *zone, uint64_t n)
{
	static const uint32_t lens[] = { 100 };
	static uint8_t buf[512];
	struct mbuf *m;
	struct inj ij;
	bool fired;

	m = mk_chain(te, lens, 1, 0x1, 31, true);
	inj_arm(&ij, zone, n);
	M_PREPEND(m, 14); /* a new mbuf */
	if (m != NULL)
		M_PREPEND(m, 300); /* a new cluster */
	fired = inj_disarm(&ij);
	if (m == NULL) {
		CHECK(fired);
		return (fired);
	}
	CHECK_EQ(m->m_pkthdr.len, 414);
	CHECK_EQ(m_length(m, NULL), 414);
	CHECK_EQ(m_copydata(m, 314, 100, buf), 0);
	CHECK(is_pat(buf, 100, 0, 31));
	m_freem(m);
	return (fired);
}

TEST(prepend_fail_every_step)
{
	fail_every_step(step_prepend, 2, 1);
}

static bool
step_copym(struct test_env *te, struct ust_zone *zone, uint64_t n)
{
	static const uint32_t lens[] = { 50, 1000, 30, 500 };
	struct mbuf *m, *c;
	struct inj ij;
	bool fired;

	m = mk_chain(te, lens, 4, 0xa, 32, true);
	inj_arm(&ij, zone, n);
	c = m_copym(m, 10, 1500);
	fired = inj_disarm(&ij);
	if (c == NULL)
		CHECK(fired);
	else
		CHECK(chain_is(c, 10, 1500, 32));
	/* The source is untouched either way. */
	CHECK(chain_is(m, 0, 1580, 32));
	CHECK_EQ(REFCNT(m->m_next), c != NULL ? 2 : 1);
	m_freem(c);
	CHECK_EQ(REFCNT(m->m_next), 1);
	m_freem(m);
	return (fired);
}

TEST(copym_fail_every_step)
{
	fail_every_step(step_copym, 4, 0);
}

static bool
step_dup(struct test_env *te, struct ust_zone *zone, uint64_t n)
{
	static const uint32_t lens[] = { 50, 1500, 2000 };
	struct mbuf *m, *d;
	struct inj ij;
	bool fired;

	m = mk_chain(te, lens, 3, 0x6, 33, true);
	inj_arm(&ij, zone, n);
	d = m_dup(m);
	fired = inj_disarm(&ij);
	if (d == NULL)
		CHECK(fired);
	else
		CHECK(chain_is(d, 0, 3550, 33));
	CHECK(chain_is(m, 0, 3550, 33));
	m_freem(d);
	m_freem(m);
	return (fired);
}

TEST(dup_fail_every_step)
{
	fail_every_step(step_dup, 2, 2);
}

static bool
step_split(struct test_env *te, struct ust_zone *zone, uint64_t n)
{
	static const uint32_t lens[] = { 100, 1000 };
	struct mbuf *m, *t, *t2 = NULL;
	struct inj ij;
	bool fired;

	m = mk_chain(te, lens, 2, 0x2, 34, true);
	inj_arm(&ij, zone, n);
	t = m_split(m, 50); /* inside internal storage */
	if (t != NULL)
		t2 = m_split(t, 500); /* inside the cluster */
	fired = inj_disarm(&ij);
	if (t == NULL) {
		CHECK(fired);
		CHECK(chain_is(m, 0, 1100, 34)); /* unchanged */
	} else if (t2 == NULL) {
		CHECK(fired);
		CHECK(chain_is(m, 0, 50, 34));
		CHECK(chain_is(t, 50, 1050, 34));
	} else {
		CHECK(chain_is(m, 0, 50, 34));
		CHECK(chain_is(t, 50, 500, 34));
		CHECK(chain_is(t2, 550, 550, 34));
	}
	m_freem(t2);
	m_freem(t);
	m_freem(m);
	return (fired);
}

TEST(split_fail_every_step)
{
	fail_every_step(step_split, 2, 0);
}

static bool
step_copyback(struct test_env *te, struct ust_zone *zone, uint64_t n)
{
	static const uint32_t lens[] = { 500, 40 };
	static uint8_t src[3000];
	static uint8_t buf[4000];
	struct mbuf *m, *sharer;
	struct inj ij;
	bool fired;
	int error;

	m = mk_chain(te, lens, 2, 0x1, 35, true);
	sharer = m_copym(m, 0, M_COPYALL);
	if (sharer == NULL)
		abort();
	fill(src, sizeof(src), 0, 36);
	inj_arm(&ij, zone, n);
	/* Copy-on-write of the shared cluster, then growth by two clusters. */
	error = m_copyback(m, 450, 3000, src);
	fired = inj_disarm(&ij);
	if (error != 0) {
		CHECK_EQ(error, UST_ENOBUFS);
		CHECK(fired);
		CHECK(chain_is(m, 0, 540, 35)); /* data as it was */
	} else {
		CHECK_EQ(flat(m, buf, sizeof(buf)), 3450);
		CHECK(is_pat(buf, 450, 0, 35));
		CHECK(is_pat(buf + 450, 3000, 0, 36));
		CHECK_EQ(m->m_pkthdr.len, 3450);
	}
	CHECK(chain_is(sharer, 0, 540, 35));
	m_freem(sharer);
	m_freem(m);
	return (fired);
}

TEST(copyback_fail_every_step)
{
	fail_every_step(step_copyback, 2, 3);
}

static bool
step_append(struct test_env *te, struct ust_zone *zone, uint64_t n)
{
	static uint8_t src[5000];
	struct mbuf *m;
	struct inj ij;
	bool fired;
	int error;

	m = m_gethdr(&te->mbz, MT_DATA);
	if (m == NULL)
		abort();
	fill(src, sizeof(src), 0, 37);
	inj_arm(&ij, zone, n);
	error = m_append(m, 10, src);
	if (error == 0)
		error = m_append(m, 4990, src + 10);
	fired = inj_disarm(&ij);
	if (error != 0) {
		CHECK_EQ(error, UST_ENOBUFS);
		CHECK(fired);
		CHECK(chain_is(m, 0, m_length(m, NULL), 37));
		CHECK(m_length(m, NULL) == 0 || m_length(m, NULL) == 10);
	} else
		CHECK(chain_is(m, 0, 5000, 37));
	m_freem(m);
	return (fired);
}

TEST(append_fail_every_step)
{
	fail_every_step(step_append, 3, 3);
}

static bool
step_get(struct test_env *te, struct ust_zone *zone, uint64_t n)
{
	struct mbuf *a, *b, *c;
	struct inj ij;
	uint64_t nombuf = te->mbz.mz_nombuf, nocl = te->mbz.mz_nocluster;
	bool fired;

	inj_arm(&ij, zone, n);
	a = m_getcl(&te->mbz, MT_DATA, M_PKTHDR);
	b = m_get2(&te->mbz, 1000, MT_DATA, 0);
	c = m_gethdr(&te->mbz, MT_DATA);
	fired = inj_disarm(&ij);
	CHECK_EQ((a == NULL) + (b == NULL) + (c == NULL), fired ? 1 : 0);
	/* The refusal is counted against the zone that refused. */
	if (fired && zone == te->mbz.mz_mbuf)
		CHECK_EQ(te->mbz.mz_nombuf, nombuf + 1);
	if (fired && zone == te->mbz.mz_clust)
		CHECK_EQ(te->mbz.mz_nocluster, nocl + 1);
	m_free(a);
	m_free(b);
	m_free(c);
	return (fired);
}

TEST(get_fail_every_step)
{
	fail_every_step(step_get, 3, 2);
}
