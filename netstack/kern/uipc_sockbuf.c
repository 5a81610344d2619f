/*
 * uipc_sockbuf.c - socket buffers (FreeBSD kern/uipc_sockbuf.c): limits,
 * datagram records with their sender's address, stream data, dropping
 * what the user read.
 *
 *   udp_input -> sbappendaddr          soreceive -> sbdroprecord
 *   tcp_input -> sbappendstream        soreceive -> sbdrop
 *   setsockopt(SO_RCVBUF) -> sbreserve
 *   tcp_autorcvbuf / tcp_autosndbuf -> sbreserve_grow -> sbreserve
 *
 * Accounting: sb_cc counts the bytes of every mbuf queued (a record's
 * name included), sb_mbcnt the storage they hold (UST_MSIZE per mbuf plus
 * its cluster), so that many tiny datagrams cannot pin unbounded memory.
 * Under UST_DEBUG every append and drop ends with SBCHECK(), which
 * recounts the chains against these counters (sbcheck()).
 */
#include <limits.h>

#include <string.h>

#include "kern/kassert.h"
#include "kern/mbuf.h"
#include "kern/socketvar.h"
#include "kern/stack_var.h"

static uint32_t
m_storage(const struct mbuf *m)
{
	return ((uint32_t)UST_MSIZE + ((m->m_flags & M_EXT) ? m->m_ext.ext_size : 0u));
}

static void
sballoc(struct sockbuf *sb, const struct mbuf *m)
{
	sb->sb_cc += m->m_len;
	if (m->m_type != MT_DATA && m->m_type != MT_HEADER)
		sb->sb_ctl += m->m_len;
	sb->sb_mbcnt += m_storage(m);
}

static void
sbfree(struct sockbuf *sb, const struct mbuf *m)
{
	sb->sb_cc -= m->m_len;
	if (m->m_type != MT_DATA && m->m_type != MT_HEADER)
		sb->sb_ctl -= m->m_len;
	sb->sb_mbcnt -= m_storage(m);
}

long
sb_max_adj(const struct ust_stack *st)
{
	uint64_t adj = (uint64_t)V(st, ipc_maxsockbuf) * UST_MCLBYTES / (UST_MSIZE + UST_MCLBYTES);

	/* kern.ipc.maxsockbuf goes to 4 GB - 1; long is 32 bits on ILP32. */
	return (adj > (uint64_t)LONG_MAX ? LONG_MAX : (long)adj);
}

int
sbreserve(struct socket *so, struct sockbuf *sb, long cc)
{
	uint64_t mbmax;

	if (cc <= 0)
		return (UST_EINVAL);
	/* kern.ipc.maxsockbuf bounds every buffer, counting the mbuf overhead
	 * of storing cc bytes in clusters (FreeBSD's sb_max_adj): asking for
	 * more is refused, not clamped, as on FreeBSD. */
	if (cc > sb_max_adj(so->so_stack))
		return (UST_ENOBUFS);
	sb->sb_hiwat = (uint32_t)cc;
	mbmax = (uint64_t)cc * SB_EFFICIENCY;
	sb->sb_mbmax = mbmax > UINT32_MAX ? UINT32_MAX : (uint32_t)mbmax;
	if (sb->sb_lowat > sb->sb_hiwat)
		sb->sb_lowat = sb->sb_hiwat;
	return (0);
}

/*
 * Bytes the stack could still find for socket data: clusters left below
 * the cluster zone's maximum, and memory left in the account (clusters
 * already carved and free in the zone count as left).  A reservation is
 * only a limit, not an allocation, so this is advice: it keeps automatic
 * growth from offering a window the stack could not back (the peer would
 * fill it and we would drop at the driver), not a guarantee.
 */
static uint64_t
sb_room(const struct ust_stack *st)
{
	struct ust_zone_stats zs;
	uint64_t room = UINT64_MAX, mem;

	ust_zone_get_stats(st->st_mbz.mz_clust, &zs);
	if (zs.max != 0)
		room = (uint64_t)(zs.max > zs.in_use ? zs.max - zs.in_use : 0) * MCLBYTES;
	if (st->st_mem.limit != 0) {
		mem =
		    st->st_mem.limit > st->st_mem.in_use ? st->st_mem.limit - st->st_mem.in_use : 0;
		mem += (uint64_t)zs.cached * zs.size;
		/* Each cluster costs its mbuf and header as well. */
		mem = mem / (zs.size + UST_MSIZE) * MCLBYTES;
		if (mem < room)
			room = mem;
	}
	return (room);
}

int
sbreserve_grow(struct socket *so, struct sockbuf *sb, long cc)
{
	if (cc <= (long)sb->sb_hiwat)
		return (0);
	if ((uint64_t)(cc - (long)sb->sb_hiwat) > sb_room(so->so_stack))
		return (UST_ENOBUFS);
	return (sbreserve(so, sb, cc));
}

void
sbflush(struct sockbuf *sb)
{
	while (sb->sb_mb != NULL)
		sbdroprecord(sb);
}

void
sbrelease(struct sockbuf *sb)
{
	sbflush(sb);
	sb->sb_hiwat = 0;
	sb->sb_mbmax = 0;
}

/* Links a complete record (its mbufs already counted) at the tail. */
static void
sblinkrecord(struct sockbuf *sb, struct mbuf *m0)
{
	struct mbuf *m;

	m0->m_nextpkt = NULL;
	if (sb->sb_lastrecord != NULL)
		sb->sb_lastrecord->m_nextpkt = m0;
	else
		sb->sb_mb = m0;
	sb->sb_lastrecord = m0;
	for (m = m0; m->m_next != NULL; m = m->m_next)
		continue;
	sb->sb_mbtail = m;
	sb->sb_records++;
}

int
sbappendaddr(struct sockbuf *sb, const struct sockaddr *from, struct mbuf *m)
{
	struct mbuf *n, *t;
	uint32_t space;

	if (m == NULL || !(m->m_flags & M_PKTHDR))
		return (0);
	space = m->m_pkthdr.len + from->sa_len;
	if ((long)space > sbspace(sb))
		return (0);
	n = m_get(m->m_zones, MT_SONAME);
	if (n == NULL)
		return (0);
	memcpy(n->m_data, from, from->sa_len);
	n->m_len = from->sa_len;
	n->m_next = m;
	for (t = n; t != NULL; t = t->m_next)
		sballoc(sb, t);
	sblinkrecord(sb, n);
	SBCHECK(sb);
	return (1);
}

/*
 * Whether n's bytes may be copied into the trailing space of tail instead
 * of queueing n (FreeBSD's sbcompress): both plain data, tail writable in
 * place, and n small.  Without it every small write or small segment holds
 * an mbuf (and often a cluster) of its own, so an application that writes
 * in small pieces, or a peer that sends them, exhausts the mbuf zone of a
 * small board long before the buffer's byte limit.  Only chunks of up to a
 * quarter cluster are copied, as FreeBSD does, so bulk data is never
 * copied twice.
 */
static int
sb_can_compress(const struct mbuf *tail, const struct mbuf *n)
{
	if (tail == NULL || (tail->m_flags & M_EOR) != 0)
		return (0);
	if ((tail->m_type != MT_DATA && tail->m_type != MT_HEADER) ||
	    (n->m_type != MT_DATA && n->m_type != MT_HEADER))
		return (0);
	return (n->m_len <= UST_MCLBYTES / 4 && n->m_len <= M_TRAILINGSPACE(tail));
}

void
sbappendstream(struct sockbuf *sb, struct mbuf *m)
{
	struct mbuf *n;

	KASSERT(sb->sb_mb == NULL || sb->sb_mb->m_nextpkt == NULL,
	    ("sbappendstream: sb %p holds %u records", (void *)sb, (unsigned)sb->sb_records));
	while (m != NULL) {
		n = m;
		m = m->m_next;
		n->m_next = NULL;
		if (n->m_len == 0 && sb->sb_mb != NULL) {
			(void)m_free(n);
			continue;
		}
		if (sb_can_compress(sb->sb_mbtail, n)) {
			so_zc_copied(n);
			memcpy(mtod(sb->sb_mbtail, char *) + sb->sb_mbtail->m_len,
			    mtod(n, const char *), n->m_len);
			sb->sb_mbtail->m_len += n->m_len;
			sb->sb_cc += n->m_len;
			(void)m_free(n);
			continue;
		}
		sballoc(sb, n);
		if (sb->sb_mb == NULL) {
			sblinkrecord(sb, n);
			continue;
		}
		/* One record: the new data goes after the last mbuf. */
		sb->sb_mbtail->m_next = n;
		sb->sb_mbtail = n;
	}
	SBCHECK(sb);
}

struct mbuf *
sbsndptr(struct sockbuf *sb, uint32_t off, uint32_t *moff)
{
	struct mbuf *m = sb->sb_mb;
	uint32_t start = 0;

	if (sb->sb_sndptr != NULL && off >= sb->sb_sndptroff) {
		m = sb->sb_sndptr;
		start = sb->sb_sndptroff;
	}
	while (m != NULL && off - start >= m->m_len) {
		start += m->m_len;
		m = m->m_next;
	}
	if (m == NULL)
		return (NULL);
	sb->sb_sndptr = m;
	sb->sb_sndptroff = start;
	*moff = off - start;
	return (m);
}

void
sbdrop(struct sockbuf *sb, uint32_t len)
{
	struct mbuf *m, *next;

	/* The cached mbuf survives when it starts at or after the cut (it
	 * holds data, so the loop below neither frees nor trims it). */
	if (sb->sb_sndptr != NULL && sb->sb_sndptroff >= len)
		sb->sb_sndptroff -= len;
	else
		sb->sb_sndptr = NULL;

	while (sb->sb_mb != NULL && (len > 0 || sb->sb_mb->m_len == 0)) {
		m = sb->sb_mb;
		if (m->m_len > len) {
			m->m_data += len;
			m->m_len -= len;
			sb->sb_cc -= len;
			if (m->m_type != MT_DATA && m->m_type != MT_HEADER)
				sb->sb_ctl -= len;
			SBCHECK(sb);
			return;
		}
		len -= m->m_len;
		if (m->m_next != NULL) {
			/* The rest of this record starts at the next mbuf. */
			next = m->m_next;
			next->m_nextpkt = m->m_nextpkt;
			if (sb->sb_lastrecord == m)
				sb->sb_lastrecord = next;
		} else {
			next = m->m_nextpkt;
			sb->sb_records--;
			if (sb->sb_lastrecord == m)
				sb->sb_lastrecord = NULL;
			if (sb->sb_mbtail == m)
				sb->sb_mbtail = NULL;
		}
		sbfree(sb, m);
		m->m_next = NULL;
		m->m_nextpkt = NULL;
		m_free(m);
		sb->sb_mb = next;
	}
	if (sb->sb_mb == NULL) {
		sb->sb_lastrecord = NULL;
		sb->sb_mbtail = NULL;
		sb->sb_records = 0;
	}
	KASSERT(len == 0,
	    ("sbdrop: %u bytes beyond the %u queued in sb %p", (unsigned)len, (unsigned)sb->sb_cc,
	        (void *)sb));
	SBCHECK(sb);
}

struct mbuf *
sbcut(struct sockbuf *sb, uint32_t len)
{
	struct mbuf *top = NULL, **np = &top, *m, *n;

	KASSERT(sb->sb_mb == NULL || sb->sb_mb->m_nextpkt == NULL,
	    ("sbcut: sb %p holds %u records", (void *)sb, (unsigned)sb->sb_records));
	KASSERT(len <= sb->sb_cc,
	    ("sbcut: %u bytes of the %u queued in sb %p", (unsigned)len, (unsigned)sb->sb_cc,
	        (void *)sb));
	sb->sb_sndptr = NULL;
	while ((m = sb->sb_mb) != NULL && (len > 0 || m->m_len == 0)) {
		if (m->m_len > len) {
			/* The cut falls inside m: the front is shared (a
			 * cluster) or copied (internal data, < MLEN bytes). */
			n = m_copym(m, 0, len);
			if (n == NULL)
				break;
			m->m_data += len;
			m->m_len -= len;
			sb->sb_cc -= len;
			*np = n;
			break;
		}
		len -= m->m_len;
		sb->sb_mb = m->m_next;
		if (sb->sb_mb != NULL)
			sb->sb_mb->m_nextpkt = m->m_nextpkt;
		sbfree(sb, m);
		m->m_next = NULL;
		m->m_nextpkt = NULL;
		*np = m;
		np = &m->m_next;
	}
	if (sb->sb_mb == NULL) {
		sb->sb_lastrecord = NULL;
		sb->sb_mbtail = NULL;
		sb->sb_records = 0;
	} else
		sb->sb_lastrecord = sb->sb_mb;
	if (top != NULL && (top->m_flags & M_PKTHDR))
		m_fixhdr(top);
	SBCHECK(sb);
	return (top);
}

struct mbuf *
sbcutrecord(struct sockbuf *sb)
{
	struct mbuf *m, *rec;

	rec = sb->sb_mb;
	if (rec == NULL)
		return (NULL);
	sb->sb_sndptr = NULL;
	sb->sb_mb = rec->m_nextpkt;
	rec->m_nextpkt = NULL;
	sb->sb_records--;
	for (m = rec; m != NULL; m = m->m_next)
		sbfree(sb, m);
	if (sb->sb_mb == NULL) {
		sb->sb_lastrecord = NULL;
		sb->sb_mbtail = NULL;
	}
	SBCHECK(sb);
	return (rec);
}

void
sbdroprecord(struct sockbuf *sb)
{
	struct mbuf *m, *rec;

	rec = sb->sb_mb;
	if (rec == NULL)
		return;
	sb->sb_sndptr = NULL;
	sb->sb_mb = rec->m_nextpkt;
	rec->m_nextpkt = NULL;
	sb->sb_records--;
	for (m = rec; m != NULL; m = m->m_next)
		sbfree(sb, m);
	m_freem(rec);
	if (sb->sb_mb == NULL) {
		sb->sb_lastrecord = NULL;
		sb->sb_mbtail = NULL;
	}
	SBCHECK(sb);
}

#if UST_DEBUG
/* sbcheck() recounts buffers of up to this many mbufs; a longer one (a
 * multi-megabyte TCP window) gets the constant-time checks only, or every
 * append and drop would cost a walk of the window (eight times the run
 * time of the 1 Gbit/s simulations). */
#define SBCHECK_WALK_MAX 256

/* What sbcheck() recounts from the chains (unsigned: printed with %u,
 * and uint32_t is unsigned long on some targets). */
struct sbcount {
	unsigned cc, ctl, mbcnt, records, sndptroff, nmbufs;
	const struct mbuf *lastrecord, *mbtail;
	int sndptr_found;
};

/* One record: its mbufs into c; the chain's own m_nextpkt must be NULL
 * past the first mbuf (records link through their first mbuf only).
 * Returns 0 when the walk passed SBCHECK_WALK_MAX mbufs. */
static int
sbcheck_record(const struct sockbuf *sb, const struct mbuf *rec, struct sbcount *c,
    const char *file, int line)
{
	const struct mbuf *m;

	for (m = rec; m != NULL; m = m->m_next) {
		if (++c->nmbufs > SBCHECK_WALK_MAX)
			return (0);
		if (m != rec && m->m_nextpkt != NULL)
			kassert_panic(file, line, "sbcheck",
			    "sb %p: mbuf %p inside a record has m_nextpkt", (const void *)sb,
			    (const void *)m);
		if (!M_DATA_INSIDE(m))
			kassert_panic(file, line, "sbcheck",
			    "sb %p: mbuf %p data (len %u) outside its %u-byte storage",
			    (const void *)sb, (const void *)m, (unsigned)m->m_len,
			    (unsigned)M_SIZE(m));
		if (m == sb->sb_sndptr) {
			c->sndptr_found = 1;
			c->sndptroff = c->cc;
		}
		c->cc += m->m_len;
		if (m->m_type != MT_DATA && m->m_type != MT_HEADER)
			c->ctl += m->m_len;
		c->mbcnt += m_storage(m);
		c->mbtail = m;
	}
	return (1);
}

void
sbcheck(const struct sockbuf *sb, const char *file, int line)
{
	struct sbcount c;
	const struct mbuf *rec;

	/* Constant time: the ends of the chains and the counters agree. */
	if ((sb->sb_mb == NULL) != (sb->sb_lastrecord == NULL) ||
	    (sb->sb_mb == NULL) != (sb->sb_mbtail == NULL) ||
	    (sb->sb_mb == NULL && (sb->sb_cc != 0 || sb->sb_mbcnt != 0 || sb->sb_records != 0)) ||
	    (sb->sb_mbtail != NULL && sb->sb_mbtail->m_next != NULL) ||
	    (sb->sb_lastrecord != NULL && sb->sb_lastrecord->m_nextpkt != NULL) ||
	    sb->sb_ctl > sb->sb_cc)
		kassert_panic(file, line, "sbcheck",
		    "sb %p: sb_mb %p sb_lastrecord %p sb_mbtail %p with sb_cc %u sb_ctl %u "
		    "sb_mbcnt %u sb_records %u",
		    (const void *)sb, (const void *)sb->sb_mb, (const void *)sb->sb_lastrecord,
		    (const void *)sb->sb_mbtail, (unsigned)sb->sb_cc, (unsigned)sb->sb_ctl,
		    (unsigned)sb->sb_mbcnt, (unsigned)sb->sb_records);
	memset(&c, 0, sizeof(c));
	for (rec = sb->sb_mb; rec != NULL; rec = rec->m_nextpkt) {
		/* Several records are datagrams, each led by its sender's
		 * name; a stream buffer is one record (sbappendstream). */
		if (rec != sb->sb_mb && rec->m_type != MT_SONAME)
			kassert_panic(file, line, "sbcheck",
			    "sb %p: record %u is not led by an MT_SONAME mbuf (type %u)",
			    (const void *)sb, c.records, (unsigned)rec->m_type);
		if (!sbcheck_record(sb, rec, &c, file, line))
			return;
		c.records++;
		c.lastrecord = rec;
	}
	if (c.cc != sb->sb_cc || c.ctl != sb->sb_ctl || c.mbcnt != sb->sb_mbcnt)
		kassert_panic(file, line, "sbcheck",
		    "sb %p: sb_cc %u sb_ctl %u sb_mbcnt %u, the chains hold %u, %u, %u",
		    (const void *)sb, (unsigned)sb->sb_cc, (unsigned)sb->sb_ctl,
		    (unsigned)sb->sb_mbcnt, c.cc, c.ctl, c.mbcnt);
	if (c.records != sb->sb_records || c.lastrecord != sb->sb_lastrecord ||
	    c.mbtail != sb->sb_mbtail)
		kassert_panic(file, line, "sbcheck",
		    "sb %p: sb_records %u sb_lastrecord %p sb_mbtail %p, the chains have %u, %p, "
		    "%p",
		    (const void *)sb, (unsigned)sb->sb_records, (const void *)sb->sb_lastrecord,
		    (const void *)sb->sb_mbtail, c.records, (const void *)c.lastrecord,
		    (const void *)c.mbtail);
	if (sb->sb_sndptr != NULL && (!c.sndptr_found || c.sndptroff != sb->sb_sndptroff))
		kassert_panic(file, line, "sbcheck",
		    "sb %p: send position %p at offset %u, found %s at %u", (const void *)sb,
		    (const void *)sb->sb_sndptr, (unsigned)sb->sb_sndptroff,
		    c.sndptr_found ? "it" : "nothing", c.sndptroff);
}
#endif /* UST_DEBUG */
