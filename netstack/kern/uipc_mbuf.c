/*
 * uipc_mbuf.c - mbufs and clusters from per-stack zones, and the chain
 * operations the protocols use (FreeBSD's kern/uipc_mbuf.c and the
 * allocation half of sys/mbuf.h), written for ustack.
 *
 * Storage.  Each mbuf is one UST_MSIZE item of the stack's mbuf zone.  Its
 * data is either internal (m_dat, MLEN bytes) or external (M_EXT): a
 * cluster or jumbo cluster from the stack's cluster zones, whose item is a
 * struct m_clhdr (the reference count) followed by the buffer, or a buffer
 * a driver lends: through m_extadd with its own counter and free routine,
 * or through m_extattach (ust_mbuf_attach_ext) with the counter in a
 * holder mbuf of the same zone, so that lent buffers show in the mbuf
 * zone's statistics and leak checks like any other.
 * m_copym and m_split share external buffers by reference; a shared buffer
 * is read-only (M_WRITABLE false) and m_copyback copies it before writing.
 * struct pkthdr is present in every mbuf, so any mbuf can become the head
 * of a packet without a new allocation.
 *
 * Headroom.  m_get, m_gethdr and m_getcl start the data at the beginning of
 * the storage: callers that will prepend headers reserve room with
 * m_reserve (UST_MAX_HDR for a packet that goes down the stack).
 *
 * Failure.  Every allocation may fail (zone limit, memory limit, injected);
 * a refused mbuf is counted in mz_nombuf, a refused cluster in
 * mz_nocluster.  Each operation documents in mbuf.h whether it consumes its
 * input, and does what it says on the failure paths too: m_pullup and
 * m_prepend free the chain, m_copym, m_dup and m_split leave the source as
 * it was, m_copyback leaves the data as it was.
 *
 * Concurrency.  A stack is single-threaded, so reference counts are plain
 * increments; they go through m_ext_ref()/m_ext_unref() only, the one place
 * to change should buffers ever cross threads (e.g. a lender on another
 * core).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <ustack/ustack.h>
#include <ustack/ustack_osal.h>

#include "kern/mbuf.h"

_Static_assert(sizeof(struct mbuf) + 64 <= UST_MSIZE,
    "UST_MSIZE leaves too little internal storage in an mbuf");
_Static_assert(UST_MCLBYTES >= UST_MSIZE, "a cluster must be larger than an mbuf");
_Static_assert(sizeof(struct m_extref) <= MLEN && MHLEN_OFF % _Alignof(struct m_extref) == 0,
    "a holder mbuf must carry struct m_extref in m_dat");

#define MBUF_ASSERT(cond, msg) KASSERT(cond, ("mbuf: %s", msg))

/* Flags that describe the packet rather than the buffer: they move with
 * the packet header. */
#define M_PKTFLAGS (M_PKTHDR | M_BCAST | M_MCAST | M_RSSCOPY)
/* Flags a caller may ask for at allocation. */
#define M_ALLOCFLAGS (M_PKTHDR | M_EOR | M_BCAST | M_MCAST | M_RSSCOPY)

#define MIN32(a, b) ((a) < (b) ? (a) : (b))

/* The cluster header that precedes an EXT_CLUSTER / EXT_JUMBO9 buffer. */
#define M_CLHDR(m) ((struct m_clhdr *)(void *)((m)->m_ext.ext_buf - sizeof(struct m_clhdr)))

/*
 * The one pair of reference-count operations (see the file header).
 */
static inline void
m_ext_ref(struct mbuf *m)
{
	(*m->m_ext.ext_cnt)++;
}

/* Drops one reference; true when it was the last. */
static inline bool
m_ext_unref(struct mbuf *m)
{
	MBUF_ASSERT(*m->m_ext.ext_cnt > 0, "reference count underflow");
	return (--(*m->m_ext.ext_cnt) == 0);
}

/* ------------------------------------------------------------------------
 * Zones.
 */

/*
 * Creates the stack's zones.  nmbufs and nclusters are hard maxima
 * (0: bounded only by the memory account); njumbo 0, or a build with
 * UST_MJUMBYTES 0, means no jumbo zone.  On failure nothing is left
 * allocated.
 */
int
mbuf_zones_init(struct mbuf_zones *mz, struct ust_mem *mem, uint32_t nmbufs, uint32_t nclusters,
    uint32_t njumbo)
{
	memset(mz, 0, sizeof(*mz));
	atomic_init(&mz->mz_holds, 1);
	mz->mz_mem = mem;
	mz->mz_mbuf = ust_zone_create(mem, "mbuf", UST_MSIZE, nmbufs, 0);
	if (mz->mz_mbuf == NULL)
		goto fail;
	mz->mz_clust = ust_zone_create(mem, "mbuf_cluster", sizeof(struct m_clhdr) + UST_MCLBYTES,
	    nclusters, 0);
	if (mz->mz_clust == NULL)
		goto fail;
#if UST_MJUMBYTES > 0
	if (njumbo > 0) {
		/* Small slabs: a 9 KiB item times the default slab size
		 * would charge half a megabyte for the first jumbo frame. */
		mz->mz_jumbo = ust_zone_create(mem, "mbuf_jumbo_9k",
		    sizeof(struct m_clhdr) + UST_MJUMBYTES, njumbo, 4);
		if (mz->mz_jumbo == NULL)
			goto fail;
	}
#else
	(void)njumbo;
#endif
	return (0);
fail:
	mbuf_zones_fini(mz);
	return (UST_ENOMEM);
}

/* Destroys the zones; mbufs still held by anyone are lost to them. */
void
mbuf_zones_fini(struct mbuf_zones *mz)
{
	ust_zone_destroy(mz->mz_jumbo);
	ust_zone_destroy(mz->mz_clust);
	ust_zone_destroy(mz->mz_mbuf);
	mz->mz_jumbo = NULL;
	mz->mz_clust = NULL;
	mz->mz_mbuf = NULL;
}

void
mbuf_zones_hold(struct mbuf_zones *mz)
{
	/* The owner holds one, so the count is above zero: no ordering. */
	atomic_fetch_add_explicit(&mz->mz_holds, 1, memory_order_relaxed);
}

void
mbuf_zones_drop(struct mbuf_zones *mz)
{
	/* Release: this holder's reads of the buffers happen before the
	 * zones go; acquire for the one that destroys them. */
	if (atomic_fetch_sub_explicit(&mz->mz_holds, 1, memory_order_acq_rel) == 1 &&
	    mz->mz_last != NULL)
		mz->mz_last(mz);
}

/* A quarter or less of z left: of its maximum, or, when memory is what
 * bounds it (mem_tight), of the items it has carved. */
static int
zone_low(const struct ust_zone *z, int mem_tight)
{
	struct ust_zone_stats zs;

	if (z == NULL)
		return (0);
	ust_zone_get_stats(z, &zs);
	if (zs.max != 0 && zs.in_use >= zs.max - zs.max / 4)
		return (1);
	return (mem_tight && zs.cached < (zs.in_use + zs.cached) / 4);
}

int
mbuf_zones_low(const struct mbuf_zones *mz)
{
	const struct ust_mem *mem = mz->mz_mem;
	int tight = mem != NULL && mem->limit != 0 && mem->in_use >= mem->limit - mem->limit / 4;

	return (zone_low(mz->mz_mbuf, tight) || zone_low(mz->mz_clust, tight) ||
	    zone_low(mz->mz_jumbo, tight));
}

/* ------------------------------------------------------------------------
 * Allocation and free.
 */

struct mbuf *
m_get(struct mbuf_zones *mz, int type)
{
	struct mbuf *m;

	m = ust_zone_alloc(mz->mz_mbuf);
	if (m == NULL) {
		mz->mz_nombuf++;
		return (NULL);
	}
	/* Header only: m_dat is garbage until written, as in FreeBSD. */
	memset(m, 0, MHLEN_OFF);
	m->m_data = m->m_dat;
	m->m_type = (uint16_t)type;
	m->m_zones = mz;
	return (m);
}

struct mbuf *
m_gethdr(struct mbuf_zones *mz, int type)
{
	struct mbuf *m;

	m = m_get(mz, type);
	if (m != NULL)
		m->m_flags |= M_PKTHDR;
	return (m);
}

/*
 * Allocates a cluster of exttype (EXT_CLUSTER or EXT_JUMBO9) into *ext with
 * one reference.  Returns 0 or UST_ENOBUFS (counted).
 */
static int
m_clalloc(struct mbuf_zones *mz, uint16_t exttype, struct m_ext *ext)
{
	struct ust_zone *zone;
	struct m_clhdr *ch;
	uint32_t size;

	if (exttype == EXT_JUMBO9) {
		zone = mz->mz_jumbo;
		size = MJUM9BYTES;
	} else {
		zone = mz->mz_clust;
		size = MCLBYTES;
	}
	if (zone == NULL)
		return (UST_ENOBUFS);
	ch = ust_zone_alloc(zone);
	if (ch == NULL) {
		mz->mz_nocluster++;
		return (UST_ENOBUFS);
	}
	ch->cl_refcnt = 1;
	ch->cl_size = size;
	memset(ext, 0, sizeof(*ext));
	ext->ext_buf = (uint8_t *)(ch + 1);
	ext->ext_size = size;
	ext->ext_type = exttype;
	ext->ext_cnt = &ch->cl_refcnt;
	return (0);
}

/*
 * Drops m's reference to its external buffer, returning the buffer to its
 * zone or to its lender with the last one.  m is left with internal
 * storage and no data.
 */
static void
m_ext_release(struct mbuf *m)
{
	struct mbuf_zones *mz = m->m_zones;

	if (m_ext_unref(m)) {
		switch (m->m_ext.ext_type) {
		case EXT_CLUSTER:
			ust_zone_free(mz->mz_clust, M_CLHDR(m));
			break;
		case EXT_JUMBO9:
			ust_zone_free(mz->mz_jumbo, M_CLHDR(m));
			break;
		case EXT_EXTREF:
			if (m->m_ext.ext_free != NULL)
				m->m_ext.ext_free(m->m_ext.ext_arg1, m->m_ext.ext_arg2);
			break;
		case EXT_DRIVER: {
			struct mbuf *h = m->m_ext.ext_arg1;
			struct m_extref *er = mtod(h, struct m_extref *);

			/* Exactly once: the count reached zero here and no
			 * mbuf refers to the buffer any more. */
			er->er_free(er->er_arg, er->er_buf);
			ust_zone_free(h->m_zones->mz_mbuf, h); /* its own zone */
			break;
		}
		default:
			MBUF_ASSERT(0, "unknown ext_type");
			break;
		}
	}
	memset(&m->m_ext, 0, sizeof(m->m_ext));
	m->m_flags &= (uint16_t) ~(M_EXT | M_RDONLY);
	m->m_data = m->m_dat;
	m->m_len = 0;
}

/* An mbuf with a cluster of size MCLBYTES or MJUM9BYTES (an addition to
 * the FreeBSD-shaped interface, for drivers that receive jumbo frames). */
struct mbuf *
m_getjcl(struct mbuf_zones *mz, int type, int flags, uint32_t size)
{
	struct mbuf *m;
	uint16_t exttype;

	if (size == MCLBYTES)
		exttype = EXT_CLUSTER;
	else if (size == MJUM9BYTES && mz->mz_jumbo != NULL)
		exttype = EXT_JUMBO9;
	else
		return (NULL);
	m = m_get(mz, type);
	if (m == NULL)
		return (NULL);
	if (m_clalloc(mz, exttype, &m->m_ext) != 0) {
		ust_zone_free(mz->mz_mbuf, m);
		return (NULL);
	}
	m->m_flags = (uint16_t)(M_EXT | ((unsigned)flags & M_ALLOCFLAGS));
	m->m_data = m->m_ext.ext_buf;
	return (m);
}

struct mbuf *
m_getcl(struct mbuf_zones *mz, int type, int flags)
{
	return (m_getjcl(mz, type, flags, MCLBYTES));
}

/*
 * The smallest storage that holds size bytes: internal, cluster or jumbo.
 * A size above the largest cluster this stack has is refused without
 * being counted: it is the caller's mistake, not a shortage.
 */
struct mbuf *
m_get2(struct mbuf_zones *mz, uint32_t size, int type, int flags)
{
	struct mbuf *m;

	if (size <= MLEN) {
		m = m_get(mz, type);
		if (m != NULL)
			m->m_flags |= (uint16_t)((unsigned)flags & M_ALLOCFLAGS);
		return (m);
	}
	if (size <= MCLBYTES)
		return (m_getjcl(mz, type, flags, MCLBYTES));
	if (mz->mz_jumbo != NULL && size <= MJUM9BYTES)
		return (m_getjcl(mz, type, flags, MJUM9BYTES));
	return (NULL);
}

/*
 * Attaches a lent buffer to m.  The lender's counter *cnt (never NULL) is
 * incremented here and decremented when an mbuf referring to the buffer is
 * freed; freef(arg1, arg2) runs when it reaches zero.  A lender that keeps
 * its own reference starts *cnt at 1 and drops it itself.  flags may hold
 * M_RDONLY for a buffer that must never be written in place.  The data
 * starts at buf with m_len 0: the caller sets m_len.  Whatever storage m
 * had is released first.
 */
void
m_extadd(struct mbuf *m, uint8_t *buf, uint32_t size, volatile uint32_t *cnt, m_ext_free_t *freef,
    void *arg1, void *arg2, int flags)
{
	MBUF_ASSERT(cnt != NULL, "m_extadd without a counter");
	if (m->m_flags & M_EXT)
		m_ext_release(m);
	m->m_ext.ext_buf = buf;
	m->m_ext.ext_size = size;
	m->m_ext.ext_type = EXT_EXTREF;
	m->m_ext.ext_cnt = cnt;
	m->m_ext.ext_free = freef;
	m->m_ext.ext_arg1 = arg1;
	m->m_ext.ext_arg2 = arg2;
	m_ext_ref(m);
	m->m_flags |= (uint16_t)(M_EXT | ((unsigned)flags & M_RDONLY));
	m->m_data = buf;
	m->m_len = 0;
}

struct mbuf *
m_extattach(struct mbuf_zones *mz, uint8_t *buf, uint32_t size, m_ext_drvfree_t *fn, void *arg)
{
	struct m_extref *er;
	struct mbuf *m, *h;

	MBUF_ASSERT(fn != NULL, "m_extattach without a free routine");
	if ((h = m_get(mz, MT_DATA)) == NULL)
		return (NULL);
	if ((m = m_gethdr(mz, MT_DATA)) == NULL) {
		ust_zone_free(mz->mz_mbuf, h);
		return (NULL);
	}
	er = mtod(h, struct m_extref *);
	er->er_cnt = 1;
	er->er_free = fn;
	er->er_arg = arg;
	er->er_buf = buf;
	m->m_ext.ext_buf = buf;
	m->m_ext.ext_size = size;
	m->m_ext.ext_type = EXT_DRIVER;
	m->m_ext.ext_cnt = &er->er_cnt;
	m->m_ext.ext_arg1 = h;
	/* The stack never writes a lender's buffer: whoever needs to
	 * (m_copyback, a prepend) copies first (M_WRITABLE). */
	m->m_flags |= (uint16_t)(M_EXT | M_RDONLY);
	m->m_data = buf;
	return (m);
}

struct mbuf *
m_free(struct mbuf *m)
{
	struct mbuf *n;

	if (m == NULL)
		return (NULL);
	MBUF_ASSERT(m->m_type != MT_FREE, "m_free of a freed mbuf");
	n = m->m_next;
	if (m->m_flags & M_EXT)
		m_ext_release(m);
#if UST_DEBUG
	m->m_type = MT_FREE;
#endif
	ust_zone_free(m->m_zones->mz_mbuf, m);
	return (n);
}

/* Frees the chain through m_next; m_nextpkt is the caller's business. */
void
m_freem(struct mbuf *m)
{
	while (m != NULL)
		m = m_free(m);
}

/* ------------------------------------------------------------------------
 * Packet header helpers.
 */

/* Copies the packet header of from into to, which becomes a packet head. */
static void
m_copy_pkthdr(struct mbuf *to, const struct mbuf *from)
{
	to->m_pkthdr = from->m_pkthdr;
	to->m_flags |= (uint16_t)(from->m_flags & M_PKTFLAGS);
}

/* Moves it: from is no longer a packet head. */
static void
m_move_pkthdr(struct mbuf *to, struct mbuf *from)
{
	m_copy_pkthdr(to, from);
	from->m_flags &= (uint16_t)~M_PKTFLAGS;
	memset(&from->m_pkthdr, 0, sizeof(from->m_pkthdr));
}

void
m_fixhdr(struct mbuf *m)
{
	if (m != NULL && (m->m_flags & M_PKTHDR))
		m->m_pkthdr.len = m_length(m, NULL);
}

/*
 * Leading space of len bytes in an empty mbuf (clamped to its storage).
 * Ignored on an mbuf that holds data: moving m_data there would lose it.
 */
void
m_reserve(struct mbuf *m, uint32_t len)
{
	MBUF_ASSERT(m->m_len == 0, "m_reserve on an mbuf with data");
	if (m->m_len != 0)
		return;
	if (len > M_SIZE(m))
		len = M_SIZE(m);
	m->m_data = M_START(m) + len;
}

/* ------------------------------------------------------------------------
 * Chain operations.
 */

uint32_t
m_length(const struct mbuf *m, struct mbuf **last)
{
	const struct mbuf *l = NULL;
	uint32_t len = 0;

	for (; m != NULL; m = m->m_next) {
		len += m->m_len;
		l = m;
	}
	/* const only promises that m_length reads; the chain is the
	 * caller's, who may write through *last. */
	if (last != NULL)
		*last = (struct mbuf *)(uintptr_t)l;
	return (len);
}

/*
 * Moves count bytes from the front of chain m (which holds at least that
 * many) to the end of dst's data, freeing the mbufs it empties.  Returns
 * what is left of the chain.
 */
static struct mbuf *
m_drain(struct mbuf *dst, struct mbuf *m, uint32_t count)
{
	uint32_t c;

	while (count > 0) {
		c = MIN32(count, m->m_len);
		memcpy(dst->m_data + dst->m_len, m->m_data, c);
		dst->m_len += c;
		m->m_data += c;
		m->m_len -= c;
		count -= c;
		if (m->m_len == 0) {
			/* The end of a record moves with its last byte. */
			if (m->m_next == NULL)
				dst->m_flags |= (uint16_t)(m->m_flags & M_EOR);
			m = m_free(m);
		}
	}
	return (m);
}

/*
 * The first len bytes contiguous in the first mbuf.  In place when the
 * first mbuf is writable and has the room, otherwise in a new mbuf or
 * cluster (so len may go up to the largest cluster, not just MHLEN) that
 * takes over the packet header.
 */
struct mbuf *
m_pullup(struct mbuf *m, uint32_t len)
{
	struct mbuf *n;
	uint32_t have;

	if (m == NULL)
		return (NULL);
	if (m->m_len >= len)
		return (m);
	/* Check the packet is long enough before touching anything. */
	have = 0;
	for (n = m; n != NULL && have < len; n = n->m_next)
		have += n->m_len;
	if (have < len)
		goto bad;

	if (M_WRITABLE(m) && M_TRAILINGSPACE(m) >= len - m->m_len) {
		m->m_next = m_drain(m, m->m_next, len - m->m_len);
		return (m);
	}
	n = m_get2(m->m_zones, len, m->m_type, 0);
	if (n == NULL)
		goto bad;
	if (m->m_flags & M_PKTHDR)
		m_move_pkthdr(n, m);
	n->m_next = m_drain(n, m, len);
	return (n);
bad:
	m_freem(m);
	return (NULL);
}

/*
 * len bytes in front of the data: in the leading space of m if there is
 * enough, else in a new mbuf (or cluster, for len > MHLEN) placed in front,
 * with its data at the end of its storage so that the next prepend finds
 * room there.  The new bytes are not initialised.
 */
struct mbuf *
m_prepend(struct mbuf *m, uint32_t len)
{
	struct mbuf *n;
	uint32_t off;

	if (m == NULL)
		return (NULL);
	if (M_LEADINGSPACE(m) >= len) {
		m->m_data -= len;
		m->m_len += len;
	} else {
		n = m_get2(m->m_zones, len, m->m_type, 0);
		if (n == NULL) {
			m_freem(m);
			return (NULL);
		}
		if (m->m_flags & M_PKTHDR)
			m_move_pkthdr(n, m);
		/* Align the start down to 8 bytes so that headers written
		 * here are naturally aligned. */
		off = (M_SIZE(n) - len) & ~(uint32_t)7;
		n->m_data = M_START(n) + off;
		n->m_len = len;
		n->m_next = m;
		m = n;
	}
	if (m->m_flags & M_PKTHDR)
		m->m_pkthdr.len += len;
	return (m);
}

/*
 * Trims from the head (len > 0) or the tail (len < 0), at most the whole
 * chain.  Emptied mbufs stay in the chain with m_len 0, as in FreeBSD, so
 * that m stays the caller's head.  m_pkthdr.len follows the trim.
 */
void
m_adj(struct mbuf *mp, int32_t req_len)
{
	struct mbuf *m;
	uint32_t len, c, total, keep;

	if (mp == NULL || req_len == 0)
		return;
	if (req_len > 0) {
		len = (uint32_t)req_len;
		for (m = mp; m != NULL && len > 0; m = m->m_next) {
			c = MIN32(len, m->m_len);
			m->m_data += c;
			m->m_len -= c;
			len -= c;
		}
		if (mp->m_flags & M_PKTHDR) {
			c = (uint32_t)req_len - len; /* bytes actually trimmed */
			mp->m_pkthdr.len = mp->m_pkthdr.len > c ? mp->m_pkthdr.len - c : 0;
		}
		return;
	}
	/* Widen before negating: -INT32_MIN does not fit an int32_t. */
	len = (uint32_t)(-(int64_t)req_len);
	total = m_length(mp, NULL);
	keep = total > len ? total - len : 0;
	if (mp->m_flags & M_PKTHDR)
		mp->m_pkthdr.len = keep;
	for (m = mp; m != NULL; m = m->m_next) {
		c = MIN32(keep, m->m_len);
		m->m_len = c;
		keep -= c;
	}
}

int
m_copydata(const struct mbuf *m, uint32_t off, uint32_t len, void *cp)
{
	uint8_t *dst = cp;
	uint32_t c;

	/* Stop at the mbuf holding byte off (or the end of the chain). */
	while (m != NULL && off >= m->m_len) {
		if (off == m->m_len && len == 0)
			return (0);
		off -= m->m_len;
		m = m->m_next;
	}
	if (len == 0)
		return (m != NULL || off == 0 ? 0 : UST_EINVAL);
	while (len > 0) {
		if (m == NULL)
			return (UST_EINVAL);
		c = MIN32(len, m->m_len - off);
		memcpy(dst, m->m_data + off, c);
		dst += c;
		len -= c;
		off = 0;
		m = m->m_next;
	}
	return (0);
}

/*
 * Gives m storage of its own that may be written: data of a shared or
 * read-only buffer is copied into m's internal storage when it fits, else
 * into a new cluster.  The data does not change.  0 or UST_ENOBUFS.
 */
static int
m_makewritable(struct mbuf *m)
{
	struct m_ext ext;
	uint16_t exttype;

	if (M_WRITABLE(m))
		return (0);
	if ((m->m_flags & M_EXT) && m->m_len <= MLEN) {
		uint32_t len = m->m_len;

		memcpy(m->m_dat, m->m_data, len);
		m_ext_release(m);
		m->m_len = len;
		return (0);
	}
	if (m->m_len <= MCLBYTES)
		exttype = EXT_CLUSTER;
	else if (m->m_len <= MJUM9BYTES && m->m_zones->mz_jumbo != NULL)
		exttype = EXT_JUMBO9;
	else
		return (UST_ENOBUFS);
	if (m_clalloc(m->m_zones, exttype, &ext) != 0)
		return (UST_ENOBUFS);
	memcpy(ext.ext_buf, m->m_data, m->m_len);
	if (m->m_flags & M_EXT) {
		uint32_t len = m->m_len;

		m_ext_release(m);
		m->m_len = len;
	}
	m->m_flags &= (uint16_t)~M_RDONLY;
	m->m_flags |= M_EXT;
	m->m_ext = ext;
	m->m_data = ext.ext_buf;
	return (0);
}

/*
 * Writes len bytes at off, growing the chain (the gap, if off is past the
 * end, is zero-filled).  Shared or read-only buffers in the range are
 * copied first, so writes never show through another reference.  Done in
 * three passes so that failure leaves the data as it was: make the range
 * writable, allocate the extension, then write.  0, UST_ENOBUFS, or
 * UST_EINVAL when off + len overflows.
 */
int
m_copyback(struct mbuf *m0, uint32_t off, uint32_t len, const void *cp)
{
	struct mbuf *m, *n, *last = NULL, *ext = NULL, **np;
	const uint8_t *src = cp;
	uint32_t end, pos, need, room, c, zero, zlast;
	int error;

	if (m0 == NULL || len > UINT32_MAX - off)
		return (UST_EINVAL);
	if (len == 0)
		return (0);
	end = off + len;

	pos = 0;
	for (m = m0; m != NULL; m = m->m_next) {
		if (m->m_len > 0 && pos < end && pos + m->m_len > off) {
			error = m_makewritable(m);
			if (error != 0)
				return (error);
		}
		pos += m->m_len;
		last = m;
	}

	if (end > pos) {
		/* New storage: only the gap before off is zeroed, the rest
		 * is about to be written (m_append of a received frame would
		 * otherwise clear all of it first). */
		zero = off > pos ? off - pos : 0;
		need = end - pos;
		room = MIN32(M_TRAILINGSPACE(last), need);
		need -= room;
		zlast = MIN32(room, zero);
		zero -= zlast;
		np = &ext;
		while (need > 0) {
			n = m_get2(m0->m_zones, MIN32(need, MCLBYTES), m0->m_type, 0);
			if (n == NULL) {
				m_freem(ext);
				return (UST_ENOBUFS);
			}
			n->m_len = MIN32(need, M_SIZE(n));
			c = MIN32(n->m_len, zero);
			memset(n->m_data, 0, c);
			zero -= c;
			need -= n->m_len;
			*np = n;
			np = &n->m_next;
		}
		memset(last->m_data + last->m_len, 0, zlast);
		last->m_len += room;
		last->m_next = ext;
		if ((m0->m_flags & M_PKTHDR) && m0->m_pkthdr.len < end)
			m0->m_pkthdr.len = end;
	}

	/* The chain now covers [0, end) with writable storage over the range. */
	m = m0;
	while (off >= m->m_len) {
		off -= m->m_len;
		m = m->m_next;
	}
	while (len > 0) {
		c = MIN32(len, m->m_len - off);
		memcpy(m->m_data + off, src, c);
		src += c;
		len -= c;
		off = 0;
		m = m->m_next;
	}
	return (0);
}

int
m_append(struct mbuf *m, uint32_t len, const void *cp)
{
	return (m_copyback(m, m_length(m, NULL), len, cp));
}

/*
 * A new chain for [off, off + len) of m0.  External buffers are shared
 * (one more reference each, M_RDONLY carried over); internal data is
 * copied.  Empty source mbufs are skipped.  The copy gets the packet
 * header when it starts at offset 0 of a packet.  An empty range gives one
 * empty mbuf, so that NULL always means failure: NULL when off or
 * off + len lies beyond the chain, or when an allocation fails (everything
 * allocated so far freed; m0 untouched either way).
 */
struct mbuf *
m_copym(struct mbuf *m0, uint32_t off, uint32_t len)
{
	struct mbuf *m = m0, *n, *top = NULL, **np = &top;
	bool copyhdr, all = (len == M_COPYALL);
	uint32_t c, copied = 0;

	if (m0 == NULL)
		return (NULL);
	copyhdr = off == 0 && (m0->m_flags & M_PKTHDR);
	while (m != NULL && off >= m->m_len) {
		off -= m->m_len;
		m = m->m_next;
	}
	if (m == NULL && off > 0)
		return (NULL);
	for (; m != NULL && (all || len > 0); m = m->m_next, off = 0) {
		c = m->m_len - off;
		if (!all)
			c = MIN32(c, len);
		if (c == 0)
			continue;
		n = m_get(m0->m_zones, m->m_type);
		if (n == NULL)
			goto fail;
		if (m->m_flags & M_EXT) {
			n->m_ext = m->m_ext;
			m_ext_ref(n);
			n->m_flags |= (uint16_t)(M_EXT | (m->m_flags & M_RDONLY));
			n->m_data = m->m_data + off;
		} else
			memcpy(n->m_dat, m->m_data + off, c);
		n->m_len = c;
		if (off + c == m->m_len)
			n->m_flags |= (uint16_t)(m->m_flags & M_EOR);
		copied += c;
		if (!all)
			len -= c;
		*np = n;
		np = &n->m_next;
	}
	if (!all && len > 0)
		goto fail;
	if (top == NULL) {
		top = m_get(m0->m_zones, m0->m_type);
		if (top == NULL)
			return (NULL);
	}
	if (copyhdr) {
		m_copy_pkthdr(top, m0);
		top->m_pkthdr.len = copied;
	}
	return (top);
fail:
	m_freem(top);
	return (NULL);
}

/*
 * A deep copy into new writable buffers: mbufs for what fits, clusters
 * otherwise.  NULL on failure (nothing leaked) or for a NULL chain.
 */
struct mbuf *
m_dup(const struct mbuf *m)
{
	const struct mbuf *l, *src;
	struct mbuf *n, *top = NULL, **np = &top;
	uint32_t total, remain, off, fill, c;
	int flags;

	if (m == NULL)
		return (NULL);
	total = m_length(m, NULL);
	remain = total;
	flags = (m->m_flags & M_PKTHDR) ? M_PKTHDR : 0;
	do {
		n = m_get2(m->m_zones, MIN32(remain, MCLBYTES), m->m_type, flags);
		if (n == NULL) {
			m_freem(top);
			return (NULL);
		}
		flags = 0;
		n->m_len = MIN32(remain, M_SIZE(n));
		remain -= n->m_len;
		*np = n;
		np = &n->m_next;
	} while (remain > 0);

	/* One walk over both chains; the source holds exactly total bytes. */
	src = m;
	off = 0;
	for (n = top; n != NULL; n = n->m_next) {
		for (fill = 0; fill < n->m_len;) {
			while (off == src->m_len) {
				src = src->m_next;
				off = 0;
			}
			c = MIN32(src->m_len - off, n->m_len - fill);
			memcpy(n->m_data + fill, src->m_data + off, c);
			fill += c;
			off += c;
		}
	}
	if (m->m_flags & M_PKTHDR) {
		m_copy_pkthdr(top, m);
		top->m_pkthdr.len = total;
	}
	for (l = m; l->m_next != NULL; l = l->m_next)
		continue;
	for (n = top; n->m_next != NULL; n = n->m_next)
		continue;
	n->m_flags |= (uint16_t)(l->m_flags & M_EOR);
	return (top);
}

/*
 * Splits at len0.  At an mbuf boundary the tail's first mbuf simply
 * becomes its head (every mbuf has room for a packet header), so nothing
 * is allocated; inside an mbuf one new mbuf takes the rest of it, sharing
 * an external buffer or copying internal data.  Splitting at the end gives
 * an empty packet (one empty mbuf), not NULL.  NULL, with m0 unchanged,
 * when len0 is beyond the chain or the allocation fails.
 */
struct mbuf *
m_split(struct mbuf *m0, uint32_t len0)
{
	struct mbuf *m, *n;
	uint32_t remain = len0, tlen;

	if (m0 == NULL)
		return (NULL);
	for (m = m0; remain > m->m_len; m = m->m_next) {
		remain -= m->m_len;
		if (m->m_next == NULL)
			return (NULL);
	}
	/* m keeps its first `remain' bytes; the rest goes to the tail. */
	tlen = m->m_len - remain;
	if (tlen == 0 && m->m_next != NULL) {
		n = m->m_next;
	} else {
		n = m_get(m0->m_zones, m->m_type);
		if (n == NULL)
			return (NULL);
		if (tlen > 0) {
			if (m->m_flags & M_EXT) {
				n->m_ext = m->m_ext;
				m_ext_ref(n);
				n->m_flags |= (uint16_t)(M_EXT | (m->m_flags & M_RDONLY));
				n->m_data = m->m_data + remain;
			} else
				memcpy(n->m_dat, m->m_data + remain, tlen);
			n->m_len = tlen;
			/* The record ends where m's data used to end. */
			n->m_flags |= (uint16_t)(m->m_flags & M_EOR);
			m->m_flags &= (uint16_t)~M_EOR;
			m->m_len = remain;
		}
		n->m_next = m->m_next;
	}
	m->m_next = NULL;
	if (m0->m_flags & M_PKTHDR) {
		m_copy_pkthdr(n, m0);
		n->m_pkthdr.len = m_length(n, NULL);
		m0->m_pkthdr.len = len0;
	}
	return (n);
}

/*
 * Appends n to m.  Small internal mbufs of n are copied into the trailing
 * space of m's last mbuf and freed, so that reassembling many small
 * segments does not make long chains; external buffers are linked, not
 * copied.  Unlike FreeBSD's m_cat, m_pkthdr.len of m grows by n's length
 * (callers must not add it again).
 */
void
m_cat(struct mbuf *m, struct mbuf *n)
{
	struct mbuf *last;
	uint32_t add;

	if (n == NULL)
		return;
	n->m_flags &= (uint16_t)~M_PKTFLAGS;
	add = m_length(n, NULL);
	(void)m_length(m, &last);
	while (n != NULL) {
		if ((n->m_flags & M_EXT) || n->m_len > M_TRAILINGSPACE(last)) {
			last->m_next = n;
			break;
		}
		memcpy(last->m_data + last->m_len, n->m_data, n->m_len);
		last->m_len += n->m_len;
		last->m_flags |= (uint16_t)(n->m_flags & M_EOR);
		n = m_free(n);
	}
	if (m->m_flags & M_PKTHDR)
		m->m_pkthdr.len += add;
}

/* ------------------------------------------------------------------------
 * Invariant checks (UST_DEBUG).
 */

#if UST_DEBUG
void
m_sanity(const struct mbuf *m0, const char *file, int line)
{
	struct ust_zone_stats zs;
	const struct mbuf *m;
	unsigned len = 0, n = 0; /* %u on every target (uint32_t is long on some) */

	KASSERT(m0 != NULL, ("m_sanity: no mbuf"));
	ust_zone_get_stats(m0->m_zones->mz_mbuf, &zs);
	for (m = m0; m != NULL; m = m->m_next) {
		if (m->m_type == MT_FREE)
			kassert_panic(file, line, "m_sanity", "mbuf %p (#%u of %p) was freed",
			    (const void *)m, n, (const void *)m0);
		if (!M_DATA_INSIDE(m))
			kassert_panic(file, line, "m_sanity",
			    "mbuf %p (#%u of %p): data at +%td, %u bytes, outside its %u-byte "
			    "storage",
			    (const void *)m, n, (const void *)m0, m->m_data - M_START(m),
			    (unsigned)m->m_len, (unsigned)M_SIZE(m));
		if ((m->m_flags & M_EXT) &&
		    (m->m_ext.ext_buf == NULL || m->m_ext.ext_cnt == NULL ||
		        *m->m_ext.ext_cnt == 0))
			kassert_panic(file, line, "m_sanity",
			    "mbuf %p (#%u of %p): external buffer without a reference",
			    (const void *)m, n, (const void *)m0);
		if (++n > zs.in_use)
			kassert_panic(file, line, "m_sanity",
			    "chain %p is longer than the %u mbufs in use: a loop", (const void *)m0,
			    (unsigned)zs.in_use);
		len += m->m_len;
	}
	if ((m0->m_flags & M_PKTHDR) && m0->m_pkthdr.len != len)
		kassert_panic(file, line, "m_sanity",
		    "packet %p: m_pkthdr.len %u, its mbufs hold %u", (const void *)m0,
		    (unsigned)m0->m_pkthdr.len, len);
}
#endif /* UST_DEBUG */
