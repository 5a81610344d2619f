/*
 * socketvar.h - the socket layer (FreeBSD sys/socketvar.h, sys/protosw.h,
 * sys/sockbuf.h): struct socket, socket buffers, the protocol switch a
 * transport plugs into, and the calls between the public socket API
 * (uipc_syscalls.c), the event queues (kern_event.c) and the protocols.
 *
 *   ust_sendto -> sosend -> pr_usrreqs->pru_send (udp_send, tcp_usr_send)
 *   udp_input -> sbappendaddr -> sorwakeup -> event queues, upcall
 *   tcp_input -> sbappendstream -> sorwakeup
 *   ust_recvfrom -> soreceive -> [pru_rcvd]
 *
 * Lifetime: ust_close -> soclose -> pru_detach (with SS_NOFDREF still
 * clear, so that a protocol closing at once never frees the socket under
 * us) -> SS_NOFDREF -> sofree, which frees it unless the protocol set
 * SS_PROTOREF; such a protocol later clears SS_PROTOREF and calls sofree()
 * (tcp_close).
 *
 * Errors inside are positive UST_E* values; uipc_syscalls.c negates them.
 */
#ifndef _USTACK_KERN_SOCKETVAR_H_
#define _USTACK_KERN_SOCKETVAR_H_

#include <stddef.h>
#include <stdint.h>

#include <ustack/ustack.h>

/* The stack's names for the public socket address types (as netinet/in.h
 * does for sockaddr_in): a struct sockaddr is a struct ust_sockaddr. */
#define sockaddr ust_sockaddr
#define sockaddr_storage ust_sockaddr_storage

struct mbuf;
struct socket;
struct ust_stack;
struct evreg;

/* mbuf type of the address that leads a datagram record. */
#ifndef MT_SONAME
#define MT_SONAME 8
#endif

/* ---------------------------------------------------------------------
 * Protocol switch.
 * ------------------------------------------------------------------- */

/* A socket option request (FreeBSD struct sockopt). */
#define SOPT_GET 0
#define SOPT_SET 1
struct sockopt {
	int sopt_dir; /* SOPT_GET / SOPT_SET */
	int sopt_level;
	int sopt_name;
	void *sopt_val;      /* the caller's buffer */
	size_t sopt_valsize; /* in: its size; out (GET): bytes stored */
};

/*
 * What the socket layer asks of a protocol.  A NULL entry means the
 * operation is not supported (EOPNOTSUPP).  Every entry returns 0 or a
 * positive UST_E* code.  An address that gets here has passed
 * uipc_syscalls.c's check (sa_len fits the caller's length and a struct
 * sockaddr_storage, sa_family is the socket's) and sits in aligned
 * storage; the protocol checks sa_len against its own struct.  Output
 * addresses (pru_accept, pru_sockaddr, pru_peeraddr) are written into a
 * struct sockaddr_storage, sa_len saying how much is valid.
 */
struct pr_usrreqs {
	/* Creates the PCB and reserves buffer space. */
	int (*pru_attach)(struct socket *so, int proto);
	/* The user closed the socket: free the PCB or, when the protocol
	 * must linger (TCP), set SS_PROTOREF and call sofree() later. */
	void (*pru_detach)(struct socket *so);
	int (*pru_bind)(struct socket *so, const struct sockaddr *nam);
	int (*pru_connect)(struct socket *so, const struct sockaddr *nam);
	int (*pru_listen)(struct socket *so, int backlog);
	/* so is a new connection taken from its listener's queue. */
	int (*pru_accept)(struct socket *so, struct sockaddr *nam);
	/* Consumes m (a packet with pkthdr, leading space reserved); addr is
	 * NULL for a connected send. */
	int (*pru_send)(struct socket *so, int flags, struct mbuf *m, const struct sockaddr *addr);
	/* The user took data from so_rcv (window updates). */
	int (*pru_rcvd)(struct socket *so, int flags);
	/* MSG_OOB receive: the out-of-band data, if any (TCP). */
	int (*pru_rcvoob)(struct socket *so, void *buf, size_t len, int flags, size_t *got);
	/* The send side was shut down (socantsendmore() already done). */
	int (*pru_shutdown)(struct socket *so);
	int (*pru_disconnect)(struct socket *so);
	/* Tear down without the user (a listener's queue being flushed). */
	void (*pru_abort)(struct socket *so);
	int (*pru_sockaddr)(struct socket *so, struct sockaddr *nam);
	int (*pru_peeraddr)(struct socket *so, struct sockaddr *nam);
	/* Options of levels other than SOL_SOCKET are no entry here: they go
	 * to the domain's handler (conf/domains.h DOMAIN_CTLOUTPUT), called
	 * from sosetopt/sogetopt only, so that a program that never sets or
	 * reads an option links no option code (a table entry would keep it
	 * through --gc-sections). */
};

/* pr_flags */
#define PR_ATOMIC 0x01       /* exchange atomic messages only */
#define PR_ADDR 0x02         /* addresses given with messages */
#define PR_CONNREQUIRED 0x04 /* connection required by protocol */
#define PR_IMPLOPCL 0x80     /* sendto() with an address may connect (TCP Fast Open) */
#define PR_WANTRCVD 0x08     /* wants pru_rcvd calls */

/* A control message about a datagram we sent, from the network layer
 * (netinet: ICMP errors, ip_var.h); kern/ only carries the pointer. */
struct icmp_ctl;
struct ip6ctlparam;
struct ust_zone;

/*
 * The protocol switch (FreeBSD sys/protosw.h): one const entry per
 * protocol in its domain's table (netinet/in_proto.c).  kern/ walks the
 * tables for stack creation and teardown (pr_init/pr_fini, in table order
 * and back), socket creation (pr_type, pr_protocol, pr_usrreqs) and the
 * zone list; the domain's network layer demultiplexes input by
 * pr_protocol to pr_input and control messages to pr_ctlinput (IPv4's
 * ICMP) or pr_ctl6input (ICMPv6, netinet6/ip6_var.h), as FreeBSD 14's
 * per-family ctlinput tables.
 */
struct protosw {
	int pr_type;       /* UST_SOCK_*, 0: no sockets */
	int pr_protocol;   /* IPPROTO_* */
	uint32_t pr_flags; /* PR_* */
	/* Per-stack state; 0 or a positive UST_E*.  Each fini undoes its
	 * init, is idempotent and copes with a partial init. */
	int (*pr_init)(struct ust_stack *st);
	void (*pr_fini)(struct ust_stack *st);
	/* m starts at the network header, off is its length; consumes m. */
	void (*pr_input)(struct mbuf *m, uint32_t off);
	void (*pr_ctlinput)(struct ust_stack *st, const struct icmp_ctl *ctl);
	void (*pr_ctl6input)(struct ust_stack *st, const struct ip6ctlparam *ctl);
	const struct pr_usrreqs *pr_usrreqs;
};

struct sysctl_knob;
struct sysctl_strknob;
struct ust_stat_desc;
struct ether_proto;
struct ifnet;

/*
 * A protocol family (FreeBSD sys/domain.h): its protocol switch, the
 * state below the protocols (dom_init before every pr_init, dom_fini after
 * every pr_fini), the ethertypes it receives, its knobs and the
 * descriptions of its counters.  The
 * domains are listed once, in netstack/conf/domains.h; kern/ reaches them
 * through domains_foreach()/domain_at() and never names one.
 */
struct domain {
	int dom_family; /* UST_AF_* */
	const char *dom_name;
	int (*dom_init)(struct ust_stack *st);
	void (*dom_fini)(struct ust_stack *st);
	const struct protosw *dom_protosw;
	unsigned dom_nprotosw;
	/* The link layer's demultiplexing (net/if_var.h): registered with
	 * ether_proto_register() before dom_init; may be empty. */
	const struct ether_proto *dom_ethertypes;
	unsigned dom_nethertypes;
	/* An interface arrives (FreeBSD's dom_ifattach): the family's state
	 * for it, kept in ifp->if_afdata[IF_AFDATA_IDX(dom_family)] (see
	 * net/if_var.h); NULL when the family needs none or stays off on ifp
	 * (no memory, an MTU IPv6 cannot use).  Called in table order after
	 * the interface is listed, so it may send and join groups.  May be
	 * NULL. */
	void *(*dom_ifattach)(struct ifnet *ifp);
	/* An interface goes away: drop the family's addresses, routes and
	 * neighbours on it (before the driver is detached) and free its
	 * if_afdata, which the caller then clears; may be NULL. */
	void (*dom_ifdetach)(struct ifnet *ifp);
	const struct sysctl_knob *dom_knobs; /* integer knobs (kern/sysctl.h) */
	unsigned dom_nknobs;
	const struct sysctl_strknob *dom_strknobs; /* string knobs */
	unsigned dom_nstrknobs;
	const struct ust_stat_desc *dom_stats; /* ust_stats_describe() */
	unsigned dom_nstats;
};

/* Rows of a dom_stats table from a UST_<G>STAT_FIELDS list of
 * ustack_stats.h: UST_<G>STAT_FIELDS(DOM_STAT, DOM_STAT_ARRAY, g) for
 * struct ust_<g>stat, group "g". */
#define DOM_STAT(g, name, descr) \
	{ #g, #name, descr, (uint32_t)offsetof(struct ust_##g##stat, name), 1 },
#define DOM_STAT_ARRAY(g, name, n, descr) \
	{ #g, #name, descr, (uint32_t)offsetof(struct ust_##g##stat, name), n },

/* The registered domains (uipc_domain.c), in conf/domains.h order. */
unsigned domain_count(void);
const struct domain *domain_at(unsigned idx);

/* Creates the per-stack state of every domain and protocol, in order;
 * on failure undoes what it did.  0 or a positive UST_E*. */
int domains_init(struct ust_stack *st);
/* Undoes domains_init (idempotent; copes with a partial one). */
void domains_fini(struct ust_stack *st);
/* Every domain's dom_ifattach, in table order (ust_if_attach), each
 * result stored in ifp->if_afdata. */
void domains_ifattach(struct ifnet *ifp);
/* Every domain's dom_ifdetach, last family first (ust_if_detach); each
 * family's if_afdata slot is NULL afterwards. */
void domains_ifdetach(struct ifnet *ifp);
/* One domain's share of the two above (unit tests drive a domain of their
 * own through them). */
void domain_ifattach(const struct domain *dp, struct ifnet *ifp);
void domain_ifdetach(const struct domain *dp, struct ifnet *ifp);

/* The domain of family (UST_AF_*), or NULL. */
const struct domain *pffinddomain(int family);
/* The protocol of (family, type, proto) in the domain of family; proto 0
 * picks the type's default. */
const struct protosw *pffindproto(int family, int type, int proto);

/* ---------------------------------------------------------------------
 * Socket buffers.
 * ------------------------------------------------------------------- */

/* sb_state */
#define SBS_CANTSENDMORE 0x01 /* can't send more data to peer */
#define SBS_CANTRCVMORE 0x02  /* can't receive more data from peer */

/* sb_flags */
#define SB_AUTOSIZE 0x0800 /* the protocol may grow sb_hiwat (TCP buffer auto-sizing) */

/*
 * Records (datagrams) are chained through m_nextpkt; the mbufs of one
 * record through m_next.  A datagram record starts with an MT_SONAME mbuf
 * holding the sender's address (sa_len bytes of a struct sockaddr).  A stream buffer is one
 * record.  sb_cc counts every byte queued (names included, as FreeBSD's
 * sb_ccc), sb_ctl the name bytes among them; sb_mbcnt the storage used.
 */
struct sockbuf {
	struct mbuf *sb_mb;         /* first record */
	struct mbuf *sb_lastrecord; /* last record */
	struct mbuf *sb_mbtail;     /* last mbuf of the last record */
	uint32_t sb_cc;             /* bytes queued */
	uint32_t sb_ctl;            /* of which names/control */
	uint32_t sb_hiwat;          /* byte limit */
	uint32_t sb_lowat;          /* low water mark */
	uint32_t sb_mbcnt;          /* storage in use (mbufs + clusters) */
	uint32_t sb_mbmax;          /* storage limit */
	uint32_t sb_records;        /* records queued */
	uint16_t sb_state;          /* SBS_* */
	uint16_t sb_flags;          /* SB_* */
	/* A stream's send position cache (FreeBSD sb_sndptr): the mbuf
	 * holding byte sb_sndptroff of the buffer at its start, so that
	 * each segment's data is found without walking from sb_mb
	 * (sbsndptr()).  NULL: none; sbdrop() keeps it in step. */
	struct mbuf *sb_sndptr;
	uint32_t sb_sndptroff;
	/* Receive buffers: bytes ust_recv_mbuf handed to the application
	 * and not yet given back (ust_mbuf_release).  Outside sb_cc, as
	 * FreeBSD's soreceive(mp0) chains are, but bounded by sb_hiwat so
	 * that a reader that keeps chains cannot drain the stack's mbufs. */
	uint32_t sb_held;
};

/* Storage factor over the byte limit (FreeBSD sb_efficiency). */
#define SB_EFFICIENCY 8

/* Free space: the smaller of byte space and storage space, never < 0. */
static inline long
sbspace(const struct sockbuf *sb)
{
	long bleft = (long)sb->sb_hiwat - (long)sb->sb_cc;
	long mleft = (long)sb->sb_mbmax - (long)sb->sb_mbcnt;

	if (bleft < 0)
		bleft = 0;
	if (mleft < 0)
		mleft = 0;
	return (bleft < mleft ? bleft : mleft);
}

/* Sets the limits of sb to cc bytes.  EINVAL for cc <= 0; capped at
 * kern.ipc.maxsockbuf. */
int sbreserve(struct socket *so, struct sockbuf *sb, long cc);
/* The largest cc sbreserve accepts: kern.ipc.maxsockbuf less the mbuf
 * overhead of holding it in clusters (FreeBSD's sb_max_adj). */
long sb_max_adj(const struct ust_stack *st);
/* Automatic growth (SB_AUTOSIZE) of sb to cc bytes: sbreserve, but only
 * upwards and only when the stack's memory account and cluster zone could
 * still hold the added bytes, so auto-sizing never promises memory the
 * stack does not have.  0, or UST_ENOBUFS with the limits unchanged. */
int sbreserve_grow(struct socket *so, struct sockbuf *sb, long cc);
/* Frees everything queued and zeroes the limits. */
void sbrelease(struct sockbuf *sb);
/* Empties the buffer, keeping its limits. */
void sbflush(struct sockbuf *sb);
/* Queues a datagram m (pkthdr) from `from` as a new record.  Returns 1
 * having consumed m, or 0 when there is no space or no mbuf for the name
 * (m is then still the caller's, to count and drop). */
int sbappendaddr(struct sockbuf *sb, const struct sockaddr *from, struct mbuf *m);
/* Appends stream data to the single record.  Consumes m. */
void sbappendstream(struct sockbuf *sb, struct mbuf *m);
/* Drops len bytes of stream data from the front. */
void sbdrop(struct sockbuf *sb, uint32_t len);
/* The mbuf of a stream buffer holding byte off, and off's place in it
 * (*moff); NULL when off is at or past the end.  Starts from the cached
 * send position when off lies at or after it and caches the result, so a
 * sender moving forward walks each mbuf once. */
struct mbuf *sbsndptr(struct sockbuf *sb, uint32_t off, uint32_t *moff);
/* Removes and frees the first record. */
void sbdroprecord(struct sockbuf *sb);
/* Takes the first len bytes (<= sb_cc) out of a stream buffer as a chain
 * of their own, without copying: whole mbufs are unlinked, an mbuf cut
 * in two shares its cluster with the rest left queued (m_copym; a small
 * internal one is copied).  The chain may hold fewer bytes when no mbuf
 * was left for the cut (m_length tells). */
struct mbuf *sbcut(struct sockbuf *sb, uint32_t len);
/* Removes the first record from a datagram buffer and returns it whole
 * (its MT_SONAME name mbuf included), or NULL when empty. */
struct mbuf *sbcutrecord(struct sockbuf *sb);
/* UST_DEBUG: the buffer's counters against its chains (sb_cc, sb_ctl and
 * sb_mbcnt against the mbufs queued, sb_records, sb_lastrecord and
 * sb_mbtail against the records, the send position cache against its
 * offset, each mbuf's data inside its storage; buffers of more than 256
 * mbufs get the constant-time checks only); a mismatch panics, naming
 * file and line.  SBCHECK() runs it after every append and drop, and
 * compiles to nothing without UST_DEBUG. */
void sbcheck(const struct sockbuf *sb, const char *file, int line);
#if UST_DEBUG
#define SBCHECK(sb) sbcheck((sb), __FILE__, __LINE__)
#else
#define SBCHECK(sb) ((void)sizeof(sb))
#endif

/* ---------------------------------------------------------------------
 * Sockets.
 * ------------------------------------------------------------------- */

/* so_state */
#define SS_ISCONNECTED 0x0002     /* connected to a peer */
#define SS_ISCONNECTING 0x0004    /* in process of connecting */
#define SS_ISDISCONNECTING 0x0008 /* in process of disconnecting */
#define SS_NOFDREF 0x0010         /* the user closed it */
#define SS_PROTOREF 0x0020        /* the protocol still holds it */
#define SS_INUPCALL 0x0040        /* upcall running (no recursion) */
#define SS_ISDISCONNECTED 0x2000  /* socket disconnected from peer */

/* so_options: the UST_SO_* bits of ustack.h, plus SO_ACCEPTCONN. */
#define SO_REUSEADDR UST_SO_REUSEADDR
#define SO_KEEPALIVE UST_SO_KEEPALIVE
#define SO_BROADCAST UST_SO_BROADCAST
#define SO_LINGER UST_SO_LINGER
#define SO_OOBINLINE UST_SO_OOBINLINE
#define SO_REUSEPORT UST_SO_REUSEPORT
#define SO_REUSEPORT_LB UST_SO_REUSEPORT_LB
#define SO_ACCEPTCONN 0x0002 /* listening */

#define SO_MAGIC 0x534f434bu /* "SOCK": a live socket */

struct socket {
	uint32_t so_magic;      /* SO_MAGIC while allocated */
	struct socket *so_next; /* all sockets of the stack */
	struct socket **so_prevp;
	struct ust_stack *so_stack;
	short so_type;       /* UST_SOCK_* */
	uint8_t so_family;   /* UST_AF_*: the domain's dom_family */
	uint32_t so_options; /* SO_* */
	uint32_t so_state;   /* SS_* */
	int so_error;        /* pending error (positive UST_E*) */
	int so_linger;       /* SO_LINGER seconds (stored) */
	const struct protosw *so_proto;
	void *so_pcb; /* the protocol's control block */
	struct sockbuf so_rcv;
	struct sockbuf so_snd;

	/* Listen queues (TCP): a listener holds connections in progress
	 * (so_incomp) and completed ones (so_comp); each of those points back
	 * through so_head and links through so_qnext. */
	struct socket *so_head;
	struct socket *so_incomp; /* listener: first in progress */
	struct socket *so_comp;   /* listener: first completed */
	struct socket *so_comptail;
	struct socket *so_qnext;
	int so_qstate;       /* SQ_INCOMP / SQ_COMP, or 0 */
	uint32_t so_qlen;    /* completed connections queued */
	uint32_t so_incqlen; /* connections in progress */
	uint32_t so_qlimit;  /* backlog */

	ust_upcall_fn so_upcall;
	void *so_upcallarg;
	struct evreg *so_evregs; /* event queue registrations */
};
#define SQ_INCOMP 1
#define SQ_COMP 2

#define SO_TO_UST(so) ((struct ust_socket *)(void *)(so))
#define SO_FROM_UST(u) ((struct socket *)(void *)(u))

/* Creates a socket of the stack, attached to its protocol. */
int socreate(struct ust_stack *st, int family, int type, int proto, struct socket **out);
/* The user's close: leaves every event queue, detaches the protocol and
 * frees the socket unless the protocol keeps it (SS_PROTOREF). */
int soclose(struct socket *so);
/* Frees a socket nobody references (after the protocol let go). */
void sofree(struct socket *so);
int sobind(struct socket *so, const struct sockaddr *nam);
int soconnect(struct socket *so, const struct sockaddr *nam);
int solisten(struct socket *so, int backlog);
/* Takes the first completed connection of a listener. */
int soaccept(struct socket *so, struct socket **out, struct sockaddr *nam);
int soshutdown(struct socket *so, int how);
/* Copies len bytes from buf into mbufs and hands them to the protocol.
 * Returns 0 with *sent set, or an error. */
int sosend(struct socket *so, const void *buf, size_t len, int flags, const struct sockaddr *to,
    size_t *sent);
/* Gather send: the iovcnt buffers of iov as one send (copied, not joined
 * first).  As sosend. */
int sosendv(struct socket *so, const struct ust_iovec *iov, int iovcnt, int flags, size_t *sent);
/* Zero-copy send (ust_send_zc, docs/zerocopy.md): lends buf to the
 * socket; 0 with *sent bytes accepted, done(arg, buf, *sent, status)
 * then runs exactly once; or an error, and done never runs. */
int sosend_zc(struct socket *so, const void *buf, size_t len, int flags, ust_zc_done_fn done,
    void *arg, size_t *sent);
/* Copies at most len bytes of the next datagram (the rest of it is
 * discarded) or of the stream into buf.  EAGAIN when nothing is there. */
int soreceive(struct socket *so, void *buf, size_t len, int flags, struct sockaddr *from,
    size_t *got);
/* Receive without copying (ust_recv_mbuf): at most len bytes of the
 * stream, or the next datagram (trimmed to len), taken out of so_rcv as a
 * chain (*mp) and counted in so_rcv.sb_held.  As soreceive otherwise;
 * EAGAIN too while the chains held reach the buffer's size. */
int soreceive_mbuf(struct socket *so, struct mbuf **mp, size_t len, int flags,
    struct sockaddr *from, size_t *got);
/* The application gives back a chain soreceive_mbuf handed out: frees it
 * and, when so (may be NULL) is still the socket it came from, takes its
 * bytes off so_rcv.sb_held. */
void so_mbuf_release(struct socket *so, struct mbuf *m);
/* The socket's unacknowledged send data is being thrown away (reset,
 * abort, close): the zero-copy sends among it will complete with
 * -UST_ECONNRESET (so_error says the peer reset) or -UST_ECONNABORTED. */
void so_zc_abort(struct socket *so);
/* sbappendstream copied the bytes of m into the buffer's tail: a
 * zero-copy send being appended completes with UST_ZC_COPIED. */
void so_zc_copied(const struct mbuf *m);
int sosetopt(struct socket *so, struct sockopt *sopt);
int sogetopt(struct socket *so, struct sockopt *sopt);
/* Reserves both buffers (protocol attach). */
int soreserve(struct socket *so, long sndcc, long rcvcc);

/* State changes, for protocols. */
void soisconnecting(struct socket *so);
void soisconnected(struct socket *so);
void soisdisconnecting(struct socket *so);
void soisdisconnected(struct socket *so);
void socantsendmore(struct socket *so);
void socantrcvmore(struct socket *so);
/* A listener got a new connection in progress: a fresh socket of the same
 * protocol (not attached; the protocol fills so_pcb), or NULL when the
 * queue is full or no memory is left. */
struct socket *sonewconn(struct socket *head);
/* Sets so_error and wakes both sides. */
void soseterror(struct socket *so, int error);

/* Readiness may have changed: event queues and the upcall hear of it. */
void sorwakeup(struct socket *so);
void sowwakeup(struct socket *so);
void sowakeup(struct socket *so);

/* The socket's readiness now, as UST_EV_* bits. */
uint32_t so_events(const struct socket *so);
int soreadable(const struct socket *so);
int sowriteable(const struct socket *so);

/* Statistics of the socket zone (tests: leak checks). */
void so_zone_stats(struct ust_stack *st, struct ust_zone_stats *out);
/* Sockets open now. */
uint32_t so_count(const struct ust_stack *st);

/* ---------------------------------------------------------------------
 * Event queues (kern_event.c).
 * ------------------------------------------------------------------- */

#if UST_EVQ
/* Initialises the per-stack event state (called by soinit). */
int kqueue_init(struct ust_stack *st);
/* Destroys every event queue left (called by sofini). */
void kqueue_fini(struct ust_stack *st);
/* Readiness of so may have changed: queue its registrations. */
void knote_notify(struct socket *so);
/* The socket is going away: drop all its registrations. */
void knote_sodetach(struct socket *so);
/* Registrations in use (tests). */
uint32_t knote_count(const struct ust_stack *st);
#else /* no event queues (ustack_opts.h) */
static inline int
kqueue_init(struct ust_stack *st)
{
	(void)st;
	return (0);
}
static inline void
kqueue_fini(struct ust_stack *st)
{
	(void)st;
}
static inline void
knote_notify(struct socket *so)
{
	(void)so;
}
static inline void
knote_sodetach(struct socket *so)
{
	(void)so;
}
static inline uint32_t
knote_count(const struct ust_stack *st)
{
	(void)st;
	return (0);
}
#endif

/* Socket layer state of a stack (st->st_so): the socket zone and list,
 * the registration zone and the event queues. */
struct evq;
struct so_state {
	struct ust_zone *ss_zone; /* struct socket */
	struct socket *ss_list;   /* every socket not yet freed */
	uint32_t ss_count;
	struct ust_zone *ss_evzone; /* struct evreg */
	struct evq *ss_evqs;        /* every event queue */
	/* Zero-copy sends not yet complete (struct zc_ref, zone "zc"):
	 * lent (ss_zclist), or let go and waiting for their done call
	 * (ss_zcdone, in order). */
	struct ust_zone *ss_zczone;
	struct zc_ref *ss_zclist;
	struct zc_ref *ss_zcdone, **ss_zcdonetail;
	uint32_t ss_zccount;
};

/* Socket layer state of a stack (sockets, event queues). */
int soinit(struct ust_stack *st);
/* Closes every socket still open and frees every event queue (the
 * zero-copy state stays for so_zc_fini). */
void sofini(struct ust_stack *st);
/* The last of the socket layer, after every protocol and interface let
 * go of its mbufs (ust_stack_destroy): a zero-copy send still lent
 * completes with -UST_ECONNABORTED, then the zone goes. */
void so_zc_fini(struct ust_stack *st);
/* Calls the done functions of the zero-copy sends the stack let go of
 * (kept from inside m_free until a point where an upcall may run: the end
 * of a socket call or of ust_stack_poll's work). */
void so_zc_drain(struct ust_stack *st);
/* Whether so_zc_drain has done functions to call (ss: the stack's st_so). */
static inline int
so_zc_owed(const struct so_state *ss)
{
	return (ss != NULL && ss->ss_zcdone != NULL);
}
/* The zero-copy zone, for zone statistics (NULL when none). */
struct ust_zone *so_zc_zone(const struct ust_stack *st);

#endif /* _USTACK_KERN_SOCKETVAR_H_ */
