/*
 * mbuf.h - packet buffers, as FreeBSD's sys/mbuf.h, with per-stack zones
 * instead of global ones.
 *
 * An mbuf is UST_MSIZE bytes: a header and either internal storage (m_dat)
 * or a reference to an external buffer (M_EXT): a cluster from the stack's
 * cluster or jumbo zone with a reference count, or a buffer a driver lends
 * with its own free routine (DPDK, netmap).  Packets are chains through
 * m_next; the first mbuf carries M_PKTHDR and struct pkthdr.  Queues of
 * packets link through m_nextpkt.
 *
 * Every function that takes an mbuf says whether it consumes it; it does
 * so on every path, failure included.  Allocation failure is an ordinary
 * path: the caller drops and counts.
 */
#ifndef _USTACK_KERN_MBUF_H_
#define _USTACK_KERN_MBUF_H_

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <ustack/ustack_osal.h>

#include "kern/kassert.h"

struct ifnet;

/* m_flags */
#define M_EXT 0x0001u    /* data lives in an external buffer */
#define M_PKTHDR 0x0002u /* first mbuf of a packet: m_pkthdr valid */
#define M_EOR 0x0004u    /* end of record */
#define M_RDONLY 0x0008u /* data shared or lent: do not write */
#define M_BCAST 0x0010u  /* received as link-layer broadcast */
#define M_MCAST 0x0020u  /* received as link-layer multicast */
#define M_RSSCOPY \
	0x0040u /* a group's copy of an ARP/ND frame another stack
                           * received: learn from it, never answer it */

/* ext_type */
#define EXT_CLUSTER 1 /* UST_MCLBYTES from the cluster zone */
#define EXT_JUMBO9 2  /* UST_MJUMBYTES from the jumbo zone */
#define EXT_EXTREF 3  /* lent buffer with a caller-supplied free routine */
#define EXT_DRIVER 4  /* a driver's buffer (m_extattach): count in a holder mbuf */

/* Zones an mbuf comes from: one set per stack. */
struct mbuf_zones {
	struct ust_zone *mz_mbuf;  /* UST_MSIZE mbufs */
	struct ust_zone *mz_clust; /* struct m_clhdr + UST_MCLBYTES */
	struct ust_zone *mz_jumbo; /* struct m_clhdr + UST_MJUMBYTES; may be NULL */
	uint64_t mz_nombuf;        /* mbuf allocations refused */
	uint64_t mz_nocluster;     /* cluster allocations refused */
	/* Holds on the zones (mbuf_zones_hold): 1 for their owner, 1 per
	 * buffer lent to another stack (ust_mbuf_keep).  The only field
	 * another thread touches.  The last drop calls mz_last, which the
	 * owner sets when it lets go (kern_stack.c: ust_stack_destroy). */
	_Atomic uint32_t mz_holds;
	void (*mz_last)(struct mbuf_zones *mz);
	struct ust_mem *mz_mem; /* the account the zones charge */
};

/* Packet header (only in the first mbuf of a chain). */
struct pkthdr {
	struct ifnet *rcvif; /* receiving interface */
	uint32_t len;        /* total packet length */
	uint32_t flowid;     /* RSS hash, for steering */
	/* 16 bits hold every UST_CSUM_* flag; the header stays 24 bytes on
	 * LP64 (a larger one takes data room from every mbuf, MLEN/MHLEN). */
	uint16_t csum_flags; /* UST_CSUM_* (ustack_driver.h) */
	uint16_t csum_data;
	uint16_t tso_segsz; /* MSS for UST_CSUM_TSO */
	uint8_t rsstype;    /* UST_RSS_* of flowid (ustack_group.h); 0: none */
	/* Wire segments a TCP frame stands for after receive coalescing
	 * (tcp_lro.c); 0 and 1 both mean one.  tcp_input counts them. */
	uint8_t lro_nsegs;
};

typedef void m_ext_free_t(void *arg1, void *arg2);
/* The free routine of an EXT_DRIVER buffer (ust_mbuf_ext_free_fn). */
typedef void m_ext_drvfree_t(void *arg, void *buf);

/* What an EXT_DRIVER buffer's holder mbuf carries in its m_dat: the
 * reference count every mbuf sharing the buffer points at, and the
 * lender's routine.  ext_arg1 of those mbufs is the holder. */
struct m_extref {
	volatile uint32_t er_cnt;
	m_ext_drvfree_t *er_free;
	void *er_arg;
	void *er_buf;
};

/* External storage.  For clusters the reference count lives in the
 * cluster's own header; for lent buffers ext_cnt points at the lender's. */
struct m_ext {
	uint8_t *ext_buf; /* start of the buffer */
	uint32_t ext_size;
	uint16_t ext_type;          /* EXT_* */
	volatile uint32_t *ext_cnt; /* reference count */
	m_ext_free_t *ext_free;     /* EXT_EXTREF: called when the count drops to 0 */
	void *ext_arg1;
	void *ext_arg2;
};

/* Header of every cluster zone item; the buffer follows it. */
struct m_clhdr {
	volatile uint32_t cl_refcnt;
	uint32_t cl_size;
};

struct mbuf {
	struct mbuf *m_next;    /* next buffer of this packet */
	struct mbuf *m_nextpkt; /* next packet in a queue */
	uint8_t *m_data;        /* start of valid data */
	uint32_t m_len;         /* valid bytes in this buffer */
	uint16_t m_flags;
	uint16_t m_type;
	struct mbuf_zones *m_zones; /* where to return it */
	struct pkthdr m_pkthdr;     /* M_PKTHDR only */
	struct m_ext m_ext;         /* M_EXT only */
	/* Internal storage up to UST_MSIZE. */
	uint8_t m_dat[];
};

#define MHLEN_OFF offsetof(struct mbuf, m_dat)
/* Bytes of internal storage in one mbuf (FreeBSD MLEN/MHLEN are one here). */
#define MLEN ((uint32_t)(UST_MSIZE - MHLEN_OFF))
#define MHLEN MLEN
#define MCLBYTES ((uint32_t)UST_MCLBYTES)
#define MJUM9BYTES ((uint32_t)UST_MJUMBYTES)

/* The usual accessors. */
#define mtod(m, t) ((t)(void *)((m)->m_data))
/* Start and size of the storage the mbuf's data lives in. */
#define M_START(m) (((m)->m_flags & M_EXT) ? (m)->m_ext.ext_buf : (m)->m_dat)
#define M_SIZE(m) (((m)->m_flags & M_EXT) ? (m)->m_ext.ext_size : MLEN)
/* Free space before m_data, and after m_data + m_len. */
#define M_LEADINGSPACE(m) (M_WRITABLE(m) ? (uint32_t)((m)->m_data - M_START(m)) : 0u)
#define M_TRAILINGSPACE(m) \
	(M_WRITABLE(m) ? (uint32_t)(M_START(m) + M_SIZE(m) - ((m)->m_data + (m)->m_len)) : 0u)
/* m_data .. m_data + m_len lie inside the mbuf's storage (invariant
 * checks). */
#define M_DATA_INSIDE(m)                                         \
	((m)->m_data >= M_START(m) && (m)->m_len <= M_SIZE(m) && \
	    (uint32_t)((m)->m_data - M_START(m)) <= M_SIZE(m) - (m)->m_len)
/* Data may be written in place: not read-only and not a shared cluster. */
#define M_WRITABLE(m) \
	(!((m)->m_flags & M_RDONLY) && (!((m)->m_flags & M_EXT) || *(m)->m_ext.ext_cnt == 1))

/* m_type */
#define MT_DATA 1
#define MT_HEADER 2
#define MT_CONTROL 3
#define MT_FREE 0xffff /* UST_DEBUG: set by m_free, so that a freed mbuf is seen */

/* Zones of a stack. */
int mbuf_zones_init(struct mbuf_zones *mz, struct ust_mem *mem, uint32_t nmbufs, uint32_t nclusters,
    uint32_t njumbo);
void mbuf_zones_fini(struct mbuf_zones *mz);
/* One more hold on the zones (the owner's thread; the owner holds one). */
void mbuf_zones_hold(struct mbuf_zones *mz);
/* Drops a hold, from any thread; the last one calls mz->mz_last(mz). */
void mbuf_zones_drop(struct mbuf_zones *mz);
/* 1 when a quarter or less of the zones' mbufs, clusters or memory is
 * left: a lender copies rather than pin more of them. */
int mbuf_zones_low(const struct mbuf_zones *mz);

/* Allocation.  NULL when the zone is exhausted (counted in mz_nombuf /
 * mz_nocluster). */
struct mbuf *m_get(struct mbuf_zones *mz, int type);
struct mbuf *m_gethdr(struct mbuf_zones *mz, int type);
/* An mbuf with a cluster attached (pkthdr if flags has M_PKTHDR). */
struct mbuf *m_getcl(struct mbuf_zones *mz, int type, int flags);
/* An mbuf with a cluster of exactly size bytes: MCLBYTES, or MJUM9BYTES
 * when the stack has a jumbo zone (NULL otherwise). */
struct mbuf *m_getjcl(struct mbuf_zones *mz, int type, int flags, uint32_t size);
/* An mbuf whose storage holds at least size bytes (internal, cluster or
 * jumbo), NULL if size exceeds the largest cluster. */
struct mbuf *m_get2(struct mbuf_zones *mz, uint32_t size, int type, int flags);
/* Attaches a lent buffer; ext_cnt is the lender's counter, incremented
 * here and decremented on free; ext_free runs when it reaches zero. */
void m_extadd(struct mbuf *m, uint8_t *buf, uint32_t size, volatile uint32_t *cnt,
    m_ext_free_t *freef, void *arg1, void *arg2, int flags);

/* A packet-header mbuf whose storage is a driver's buffer buf of size
 * bytes (EXT_DRIVER, read-only: M_RDONLY), data at buf with m_len 0.  A
 * second mbuf of mz, the holder, carries the reference count (struct
 * m_extref), so copies (m_copym, m_split) share the buffer and the last
 * free, whichever mbuf it is, calls fn(arg, buf) once and frees the
 * holder.  NULL when mz has no two mbufs (counted in mz_nombuf); fn is
 * then never called. */
struct mbuf *m_extattach(struct mbuf_zones *mz, uint8_t *buf, uint32_t size, m_ext_drvfree_t *fn,
    void *arg);

/* Frees one mbuf, returns its m_next. */
struct mbuf *m_free(struct mbuf *m);
/* Frees a whole chain (NULL is fine). */
void m_freem(struct mbuf *m);

/* Sum of m_len over the chain. */
uint32_t m_length(const struct mbuf *m, struct mbuf **last);
/* Makes the first len bytes contiguous in the first mbuf.  Consumes m;
 * returns the (possibly new) head, or NULL having freed the chain when len
 * exceeds the packet or no buffer is available. */
struct mbuf *m_pullup(struct mbuf *m, uint32_t len);
/* Prepends len bytes (in place if there is room, else a new mbuf).
 * Consumes m; NULL having freed the chain on failure.  len <= MHLEN. */
struct mbuf *m_prepend(struct mbuf *m, uint32_t len);
#define M_PREPEND(m, plen) ((m) = m_prepend((m), (plen)))
/* Trims len bytes from the head (len > 0) or from the tail (len < 0).
 * Never consumes m. */
void m_adj(struct mbuf *m, int32_t len);
/* Copies len bytes from offset off into cp.  Returns 0, or UST_EINVAL
 * if the chain is too short (nothing promised about cp then). */
int m_copydata(const struct mbuf *m, uint32_t off, uint32_t len, void *cp);
/* Writes len bytes at offset off, extending the chain with new buffers
 * if needed (and m_pkthdr.len with it when m has M_PKTHDR).  Returns 0 or
 * UST_ENOBUFS (m is left valid). */
int m_copyback(struct mbuf *m, uint32_t off, uint32_t len, const void *cp);
/* Appends len bytes at the end of the chain (m_copyback at m_length). */
int m_append(struct mbuf *m, uint32_t len, const void *cp);
/* A packet holding a copy of len bytes from ifp's stack zones, rcvif set
 * (FreeBSD's m_devget); NULL when out of buffers, counted by the caller. */
struct mbuf *m_devget(struct ifnet *ifp, const void *data, size_t len);
/* A new chain that refers to len bytes from off of m: clusters are shared
 * by reference count, internal data is copied.  len UINT32_MAX: to the
 * end.  Does not consume m; NULL on failure (nothing leaked). */
#define M_COPYALL UINT32_MAX
struct mbuf *m_copym(struct mbuf *m, uint32_t off, uint32_t len);
/* A deep copy of a whole packet into fresh writable buffers. */
struct mbuf *m_dup(const struct mbuf *m);
/* Splits the packet at len0: m keeps the first len0 bytes, the tail is
 * returned as a new packet (with pkthdr copied if m had one).  NULL on
 * failure, with m unchanged. */
struct mbuf *m_split(struct mbuf *m, uint32_t len0);
/* Concatenates n to m (n's pkthdr, if any, is dropped); consumes n.
 * m's m_pkthdr.len grows by n's length (unlike FreeBSD: do not add it). */
void m_cat(struct mbuf *m, struct mbuf *n);
/* Recomputes m_pkthdr.len from the chain. */
void m_fixhdr(struct mbuf *m);
/* Reserves len bytes of leading space in an empty mbuf (M_ALIGN-like). */
void m_reserve(struct mbuf *m, uint32_t len);

/*
 * Invariant checks (UST_DEBUG; kern/kassert.h).  m_sanity() walks the
 * packet m and panics, naming file and line, when an mbuf was freed, its
 * data lie outside its storage, an external buffer has no reference, the
 * chain is longer than the mbufs the stack has handed out (a loop), or
 * the head's m_pkthdr.len differs from the sum of m_len.  M_SANITY() calls
 * it where packets enter a layer and compiles to nothing without
 * UST_DEBUG; M_ASSERTPKTHDR() checks that m heads a packet.
 */
void m_sanity(const struct mbuf *m, const char *file, int line);
#if UST_DEBUG
#define M_SANITY(m) m_sanity((m), __FILE__, __LINE__)
#else
#define M_SANITY(m) ((void)sizeof(m))
#endif
#define M_ASSERTPKTHDR(m) \
	KASSERT((m) != NULL && ((m)->m_flags & M_PKTHDR), ("%s: no packet header", __func__))

#endif /* _USTACK_KERN_MBUF_H_ */
