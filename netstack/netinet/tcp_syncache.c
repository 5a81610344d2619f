/*
 * tcp_syncache.c - the syncache and SYN cookies (FreeBSD
 * netinet/tcp_syncache.c; RFC 9293 3.10.7.2 LISTEN, RFC 4987 SYN cookies).
 *
 * A SYN to a listener does not create a socket: it creates a small entry
 * (struct syncache, from a zone with a hard maximum) in a hash table keyed
 * with a per-stack secret, and answers with a SYN-ACK.  The socket is made
 * only when the handshake's ACK arrives.  When a bucket or the whole cache
 * is full (or net.inet.tcp.syncookies_only is set) the state goes into the
 * ISN instead: a SYN cookie.
 *
 *   tcp_input (LISTEN, SYN) -> syncache_add -> [cache hit: dup SYN ->
 *       SYN-ACK again | new entry | cookie] -> syncache_respond -> ip_output
 *   tcp_input (LISTEN, ACK) -> syncache_expand -> [entry | cookie] ->
 *       syncache_socket -> sonewconn, tcp_attach_pcb, in_pcbconnect,
 *       tcp_mss, cc_conn_init, soisconnected (accept queue, listener wakes)
 *   tcp_input (LISTEN, RST) -> syncache_chkrst
 *   tcp_ctlinput -> syncache_unreach
 *   callout per bucket -> syncache_timer -> SYN-ACK retransmission with
 *       backoff, at most net.inet.tcp.syncache.rexmtlimit times, then drop
 *
 * SYN cookies (RFC 4987 3.6) in FreeBSD's layout: the ISS is
 *
 *     | MAC: 24 bits | WWW MMM S P ^ the MAC's top byte: 8 bits |
 *
 * W the index of the peer's window scale in FreeBSD's table
 * {none, 0, 1, 2, 4, 6, 7, 8} (rounded down: we may underestimate its
 * window, never overestimate it), M the MSS index ({216, 536, 1200, 1360,
 * 1400, 1440, 1452, 1460}, rounded down), S SACK-permitted, P the parity
 * of the secret.  The MAC is a SipHash-2-4 over the 4-tuple, the peer's
 * ISN and those 8 bits, keyed with one of two per-stack secrets; every
 * SYNCOOKIE_LIFETIME the secret of the new parity is drawn afresh, so a
 * cookie is good for 15 to 30 s, and an older or forged one fails the
 * MAC (tcps_sc_spurcookie).  Our own window scale is what the listener
 * would offer again (tcp_request_wscale).  Timestamps need no bit: the
 * ACK carries them when the SYN-ACK did (RFC 7323 3.2), so they are
 * agreed when the ACK has them, with an offset that is a keyed hash of
 * the 4-tuple, the same for the SYN-ACK and the ACK.  ECN has no bit in
 * FreeBSD's cookie either: a cookie SYN-ACK never carries ECE and the
 * connection runs without ECN, which RFC 3168 6.1.1 allows (the peer
 * reads a SYN-ACK without ECE as "no").  Entries of the cache use an RFC 6528 ISN,
 * not a cookie, so an ACK for an entry that expired is answered with a RST
 * rather than half-recovered.
 */
#include <string.h>

#include "kern/mbuf.h"
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "netinet/in_route.h"
#include "netinet/cc/cc.h"
#include "netinet/in_pcb.h"
#include "netinet/ip.h"
#include "netinet/ip_var.h"
#include "netinet/tcp_udp_tunnel.h"
#include "netinet/tcp_var.h"
#if UST_INET6
#include "netinet6/ip6_var.h"
#endif

#if UST_TCP_SYNCACHE
#define SYNCACHE_HASHSIZE 512 /* FreeBSD's: 512 buckets x 30 = cachelimit */
#define SYNCOOKIE_LIFETIME_NS (15ull * 1000000000ull)
#define MS_TO_NS(ms) ((uint64_t)(ms)*1000000ull)

/* sc_flags */
#define SCF_WINSCALE 0x01  /* both sides send window scale */
#define SCF_TIMESTAMP 0x02 /* both sides send timestamps */
#define SCF_NOOPT 0x04     /* the listener wants no options (TCP_NOOPT) */
#define SCF_UNREACH 0x08   /* an ICMP unreachable was seen */
#define SCF_SACK 0x10      /* both sides send SACK-permitted (RFC 2018) */
#define SCF_ECN 0x20       /* ECN-setup SYN accepted (RFC 3168 6.1.1) */
#define SCF_TFO 0x80       /* the SYN-ACK brings a Fast Open cookie (RFC 7413) */
#define SCF_SIGNATURE 0x40 /* the listener has TCP_MD5SIG (RFC 2385) */

struct syncache {
	struct syncache *sc_next; /* bucket chain */
	struct syncache **sc_prevp;
	struct in_conninfo sc_inc; /* foreign = the peer, local = us */
	tcp_seq sc_irs;
	tcp_seq sc_iss;
	uint32_t sc_tsreflect; /* the peer's TSval to echo */
	uint32_t sc_tsoff;     /* our timestamp offset */
	uint32_t sc_wnd;       /* window in the SYN-ACK (unscaled) */
	uint16_t sc_peer_mss;  /* 0: no MSS option */
	uint8_t sc_requested_s_scale;
	uint8_t sc_request_r_scale;
	uint8_t sc_flags; /* SCF_* */
	uint8_t sc_rxmits;
	uint8_t sc_ttl;
	uint8_t sc_tos;
	uint16_t sc_port;    /* TCP over UDP: the SYN's UDP source port; 0: plain */
	uint64_t sc_rxttime; /* next SYN-ACK retransmission (ns) */
};

struct syncache_state;

struct syncache_head {
	struct syncache *sch_first;
	uint32_t sch_length;
	struct callout sch_timer;
	struct syncache_state *sch_ss;
};

struct syncache_state {
	struct ust_stack *ss_st;
	struct syncache_head *ss_hash;
	uint32_t ss_nbuckets;
	uint32_t ss_hashmask;
	uint32_t ss_count;
	struct ust_zone *ss_zone;
	uint64_t ss_hashkey[2];
	uint64_t ss_cookiekey[2][2]; /* SipHash keys of the odd and even secret */
	uint64_t ss_cookie_epoch;    /* stack_now / SYNCOOKIE_LIFETIME at the last draw */
};

/* FreeBSD's MSS values for cookies (tcp_sc_msstab). */
static const uint16_t syncookie_msstab[8] = { 216, 536, 1200, 1360, 1400, 1440, 1452, 1460 };
/* FreeBSD's window scale values for cookies (tcp_sc_wstab); index 0 is
 * "no window scale option". */
static const uint8_t syncookie_wstab[8] = { 0, 0, 1, 2, 4, 6, 7, 8 };

/* The cookie's 8 bits (FreeBSD's union syncookie). */
#define SYNCOOKIE_ODD 0x01  /* P: the secret's parity */
#define SYNCOOKIE_SACK 0x02 /* S: SACK-permitted */
#define SYNCOOKIE_MSS(f) (((f) >> 2) & 7)
#define SYNCOOKIE_WS(f) (((f) >> 5) & 7)

/* ---------------------------------------------------------------------
 * Keyed hashing: SipHash-2-4 (tcp_siphash24, tcp_subr.c) over 64-bit
 * words laid out big-endian.
 * ------------------------------------------------------------------- */

static uint64_t
sc_siphash(const uint64_t key[2], const uint64_t *w, unsigned n)
{
	uint8_t buf[6 * 8]; /* IPv6 cookies: four address words and two */
	unsigned i;

	for (i = 0; i < n && i < 6; i++) {
		be32enc(buf + 8 * i, (uint32_t)(w[i] >> 32));
		be32enc(buf + 8 * i + 4, (uint32_t)w[i]);
	}
	return (tcp_siphash24(key, buf, (size_t)i * 8));
}

/* The window the SYN-ACK advertised: never scaled (RFC 7323 2.2), so at
 * most TCP_MAXWIN whatever the buffer. */
static uint32_t
syncache_adv_wnd(const struct syncache *sc)
{
	return (sc->sc_wnd > TCP_MAXWIN ? TCP_MAXWIN : sc->sc_wnd);
}

/*
 * The bucket of a connection: SipHash of the foreign and local address
 * (one 64-bit word for IPv4, the IPv4 words of old, so every seeded test
 * sees the same buckets; four for IPv6) and the ports.
 */
static struct syncache_head *
syncache_bucket(struct syncache_state *ss, const struct in_conninfo *inc)
{
	uint64_t w[5];

#if UST_INET6
	if (inc_isipv6(inc)) {
		memcpy(w, inc->inc6_faddr.s6_addr8, 16);
		memcpy(w + 2, inc->inc6_laddr.s6_addr8, 16);
		w[4] = (uint64_t)inc->inc_fport << 16 | inc->inc_lport;
		return (&ss->ss_hash[sc_siphash(ss->ss_hashkey, w, 5) & ss->ss_hashmask]);
	}
#endif
	w[0] = (uint64_t)inc->inc_faddr.s_addr << 32 | inc->inc_laddr.s_addr;
	w[1] = (uint64_t)inc->inc_fport << 16 | inc->inc_lport;
	return (&ss->ss_hash[sc_siphash(ss->ss_hashkey, w, 2) & ss->ss_hashmask]);
}

/* Whether a and b are the same 4-tuple (of the same family). */
static int
sc_inc_equal(const struct in_conninfo *a, const struct in_conninfo *b)
{
	if (a->inc_fport != b->inc_fport || a->inc_lport != b->inc_lport)
		return (0);
#if UST_INET6
	if (inc_isipv6(a) || inc_isipv6(b))
		return (inc_isipv6(a) && inc_isipv6(b) &&
		    in6_are_addr_equal(&a->inc6_faddr, &b->inc6_faddr) &&
		    in6_are_addr_equal(&a->inc6_laddr, &b->inc6_laddr));
#endif
	return (a->inc_faddr.s_addr == b->inc_faddr.s_addr &&
	    a->inc_laddr.s_addr == b->inc_laddr.s_addr);
}

static struct syncache *
syncache_lookup(struct syncache_head *sch, const struct in_conninfo *inc)
{
	struct syncache *sc;

	for (sc = sch->sch_first; sc != NULL; sc = sc->sc_next)
		if (sc_inc_equal(&sc->sc_inc, inc))
			return (sc);
	return (NULL);
}

/* The MSS we offer (FreeBSD tcp_mssopt): the route's MTU less the headers. */
static uint16_t
sc_mssopt(struct ust_stack *st, const struct in_conninfo *inc)
{
	uint32_t mss = tcp_mssopt(st, inc);

	if (mss > 65535)
		mss = 65535;
	return ((uint16_t)mss);
}

/* ---------------------------------------------------------------------
 * SYN-ACK output.
 * ------------------------------------------------------------------- */

/* Sends a SYN-ACK (or, for a challenge, an ACK) for sc.  Returns 0 or an
 * error from ip_output. */
static int
syncache_respond(struct ust_stack *st, const struct syncache *sc, uint16_t flags)
{
	struct ip_out_args args;
	struct tcphdr th;
	struct tcpopt to;
	struct mbuf *m;
	uint8_t *p;
	unsigned optlen = 0;
	uint16_t sum;

	/* Room for the headers below and up to 60 bytes of TCP header. */
	if (UST_MAX_HDR + TCP_HDR_MIN + TCP_MAXOLEN <= MHLEN)
		m = m_gethdr(&st->st_mbz, MT_DATA);
	else
		m = m_getcl(&st->st_mbz, MT_DATA, M_PKTHDR);
	if (m == NULL) {
		TCPSTAT_INC(st, tcps_sc_dropped);
		return (UST_ENOBUFS);
	}
	m_reserve(m, UST_MAX_HDR);
	p = mtod(m, uint8_t *);
	memset(&to, 0, sizeof(to));
	if ((flags & TH_SYN) && !(sc->sc_flags & SCF_NOOPT)) {
		/* RFC 9293 3.7.1, RFC 7323 2.2 and 3.2: MSS always; window
		 * scale and timestamps only when the SYN carried them. */
		to.to_flags = TOF_MSS;
		to.to_mss = (uint16_t)tcp_tunnel_mss(st, sc->sc_port, sc_mssopt(st, &sc->sc_inc));
		if (sc->sc_flags & SCF_WINSCALE) {
			to.to_flags |= TOF_SCALE;
			to.to_wscale = sc->sc_request_r_scale;
		}
		/* RFC 2018 2: SACK-permitted only when the SYN had it. */
		if (sc->sc_flags & SCF_SACK)
			to.to_flags |= TOF_SACKPERM;
#if UST_TCP_TFO
		if (sc->sc_flags & SCF_TFO)
			tcp_fastopen_reply_opt(st, &sc->sc_inc, &to);
#endif
	}
	if ((sc->sc_flags & SCF_TIMESTAMP) && !(sc->sc_flags & SCF_NOOPT)) {
		to.to_flags |= TOF_TS;
		to.to_tsval = tcp_ts_getticks(st) + sc->sc_tsoff;
		to.to_tsecr = sc->sc_tsreflect;
	}
#if UST_TCP_SIGNATURE
	if (sc->sc_flags & SCF_SIGNATURE)
		to.to_flags |= TOF_SIGNATURE;
#endif
	if (to.to_flags != 0)
		optlen = tcp_opts_write(p + TCP_HDR_MIN, &to);
	/* RFC 3168 6.1.1: an ECN-setup SYN-ACK has ECE and not CWR, and
	 * is itself Not-ECT (sc_tos has its ECN field cleared). */
	if ((flags & TH_SYN) && (sc->sc_flags & SCF_ECN))
		flags |= TH_ECE;
	memset(&th, 0, sizeof(th));
	th.th_sport = ntohs(sc->sc_inc.inc_lport);
	th.th_dport = ntohs(sc->sc_inc.inc_fport);
	th.th_seq = (flags & TH_SYN) ? sc->sc_iss : sc->sc_iss + 1;
	th.th_ack = sc->sc_irs + 1;
	th.th_off = (uint8_t)((TCP_HDR_MIN + optlen) / 4);
	th.th_flags = flags;
	/* RFC 7323 2.2: the window of a SYN is never scaled. */
	th.th_win = (uint16_t)syncache_adv_wnd(sc);
	tcp_hdr_write(p, &th);
	m->m_len = TCP_HDR_MIN + optlen;
	m->m_pkthdr.len = m->m_len;
#if UST_TCP_SIGNATURE
	if ((sc->sc_flags & SCF_SIGNATURE) &&
	    tcp_md5_sign(st, &sc->sc_inc, p, m->m_len, m, m->m_len, 0) != 0) {
		m_freem(m);
		return (UST_EACCES);
	}
#endif
#if UST_INET6
	if (inc_isipv6(&sc->sc_inc)) {
		TCPSTAT_INC(st, tcps_sndtotal);
		if (flags & TH_SYN)
			TCPSTAT_INC(st, tcps_sndctrl);
		else
			TCPSTAT_INC(st, tcps_sndacks);
#if UST_TCP_TUNNEL
		if (sc->sc_port != 0)
			return (tcp_udp_tunnel_output6(st, m, &sc->sc_inc, sc->sc_ttl, sc->sc_tos,
			    NULL, sc->sc_port));
#endif
		return (tcp6_output_seg(st, m, &sc->sc_inc, sc->sc_ttl, sc->sc_tos, NULL, NULL));
	}
#endif
	sum = in4_cksum(m, IPPROTO_TCP, 0, m->m_len, sc->sc_inc.inc_laddr, sc->sc_inc.inc_faddr);
	be16enc(p + 16, sum);
	memset(&args, 0, sizeof(args));
	args.src = sc->sc_inc.inc_laddr;
	args.dst = sc->sc_inc.inc_faddr;
	args.proto = IPPROTO_TCP;
	args.ttl = sc->sc_ttl;
	args.tos = sc->sc_tos;
	TCPSTAT_INC(st, tcps_sndtotal);
	if (flags & TH_SYN)
		TCPSTAT_INC(st, tcps_sndctrl);
	else
		TCPSTAT_INC(st, tcps_sndacks);
#if UST_TCP_TUNNEL
	if (sc->sc_port != 0)
		return (tcp_udp_tunnel_output(st, m, &args, sc->sc_port));
#endif
	return (tcp_ip_output(st, m, &args));
}

/* ---------------------------------------------------------------------
 * Entries and their timers.
 * ------------------------------------------------------------------- */

static void syncache_timer(void *arg);

/* RFC 6298 5.5 backoff from net.inet.tcp.rexmit_initial, as FreeBSD's
 * syncache: 1 s, 2 s, 4 s ... clamped to [rexmit_min, rexmit_max]. */
static uint64_t
syncache_rexmt_ns(const struct ust_stack *st, unsigned rxmits)
{
	uint64_t ms = (uint64_t)V(st, tcp_rexmit_initial) << (rxmits < 16 ? rxmits : 16);

	if (ms < (uint64_t)V(st, tcp_rexmit_min))
		ms = (uint64_t)V(st, tcp_rexmit_min);
	if (ms > (uint64_t)V(st, tcp_rexmit_max))
		ms = (uint64_t)V(st, tcp_rexmit_max);
	return (MS_TO_NS(ms));
}

/* Arms the bucket's callout for its earliest entry. */
static void
syncache_rearm(struct ust_stack *st, struct syncache_head *sch)
{
	struct syncache *sc;
	uint64_t when = UINT64_MAX;

	for (sc = sch->sch_first; sc != NULL; sc = sc->sc_next)
		if (sc->sc_rxttime < when)
			when = sc->sc_rxttime;
	if (when == UINT64_MAX)
		callout_stop(&st->st_wheel, &sch->sch_timer);
	else
		callout_reset_at(&st->st_wheel, &sch->sch_timer, when, syncache_timer, sch);
}

static void
syncache_insert(struct syncache_state *ss, struct syncache_head *sch, struct syncache *sc)
{
	sc->sc_next = sch->sch_first;
	if (sc->sc_next != NULL)
		sc->sc_next->sc_prevp = &sc->sc_next;
	sc->sc_prevp = &sch->sch_first;
	sch->sch_first = sc;
	sch->sch_length++;
	ss->ss_count++;
}

static void
syncache_drop(struct syncache_state *ss, struct syncache_head *sch, struct syncache *sc)
{
	*sc->sc_prevp = sc->sc_next;
	if (sc->sc_next != NULL)
		sc->sc_next->sc_prevp = sc->sc_prevp;
	sch->sch_length--;
	ss->ss_count--;
	ust_zone_free(ss->ss_zone, sc);
}

static void
syncache_timer(void *arg)
{
	struct syncache_head *sch = arg;
	struct syncache_state *ss = sch->sch_ss;
	struct ust_stack *st = ss->ss_st;
	struct syncache *sc, *next;
	uint64_t now = stack_now(st);

	for (sc = sch->sch_first; sc != NULL; sc = next) {
		next = sc->sc_next;
		if (sc->sc_rxttime > now)
			continue;
		if (sc->sc_rxmits >= V(st, tcp_syncache_rexmtlimit)) {
			/* The peer never completed: forget it. */
			TCPSTAT_INC(st, tcps_sc_stale);
			syncache_drop(ss, sch, sc);
			continue;
		}
		sc->sc_rxmits++;
		if (syncache_respond(st, sc, TH_SYN | TH_ACK) == 0)
			TCPSTAT_INC(st, tcps_sc_retransmitted);
		sc->sc_rxttime = now + syncache_rexmt_ns(st, sc->sc_rxmits);
	}
	syncache_rearm(st, sch);
}

/* ---------------------------------------------------------------------
 * SYN cookies.
 * ------------------------------------------------------------------- */

/* Draws the secret of each parity whose slot has passed: the one of the
 * current period is fresh, the other is the previous period's. */
static void
syncookie_rotate(struct syncache_state *ss)
{
	struct ust_stack *st = ss->ss_st;
	uint64_t epoch = stack_now(st) / SYNCOOKIE_LIFETIME_NS, p;

	if (epoch == ss->ss_cookie_epoch)
		return;
	for (p = 0; p < 2; p++) {
		/* One period on: only the new parity; more: both. */
		if (epoch != ss->ss_cookie_epoch + 1 || p == (epoch & 1)) {
			ss->ss_cookiekey[p][0] = ust_rng_u64(&st->st_rng);
			ss->ss_cookiekey[p][1] = ust_rng_u64(&st->st_rng);
		}
	}
	ss->ss_cookie_epoch = epoch;
}

/* The 32-bit MAC of sc's 4-tuple, its peer ISN and the cookie bits. */
static uint32_t
syncookie_mac(const struct syncache_state *ss, const struct syncache *sc, unsigned bits)
{
	const uint64_t *key = ss->ss_cookiekey[bits & SYNCOOKIE_ODD];
	uint64_t w[6];

#if UST_INET6
	/* IPv6: the two 16-byte addresses as four words. */
	if (inc_isipv6(&sc->sc_inc)) {
		memcpy(w, sc->sc_inc.inc6_faddr.s6_addr8, 16);
		memcpy(w + 2, sc->sc_inc.inc6_laddr.s6_addr8, 16);
		w[4] = (uint64_t)sc->sc_inc.inc_fport << 48 | (uint64_t)sc->sc_inc.inc_lport << 32 |
		    sc->sc_irs;
		w[5] = bits;
		return ((uint32_t)sc_siphash(key, w, 6));
	}
#endif
	w[0] = (uint64_t)sc->sc_inc.inc_faddr.s_addr << 32 | sc->sc_inc.inc_laddr.s_addr;
	w[1] = (uint64_t)sc->sc_inc.inc_fport << 48 | (uint64_t)sc->sc_inc.inc_lport << 32 |
	    sc->sc_irs;
	w[2] = bits;
	return ((uint32_t)sc_siphash(key, w, 3));
}

/* Our timestamp offset for a cookie connection: a keyed hash of the
 * 4-tuple (FreeBSD tcp_new_ts_offset), so the ACK finds it again. */
static uint32_t
syncookie_tsoff(const struct syncache_state *ss, const struct syncache *sc)
{
	uint64_t w[5];

	if (!V(ss->ss_st, tcp_ts_offset_per_conn))
		return (0);
#if UST_INET6
	if (inc_isipv6(&sc->sc_inc)) {
		memcpy(w, sc->sc_inc.inc6_faddr.s6_addr8, 16);
		memcpy(w + 2, sc->sc_inc.inc6_laddr.s6_addr8, 16);
		w[4] = (uint64_t)sc->sc_inc.inc_fport << 16 | sc->sc_inc.inc_lport | 1ull << 63;
		return ((uint32_t)sc_siphash(ss->ss_hashkey, w, 5));
	}
#endif
	w[0] = (uint64_t)sc->sc_inc.inc_faddr.s_addr << 32 | sc->sc_inc.inc_laddr.s_addr;
	w[1] = (uint64_t)sc->sc_inc.inc_fport << 16 | sc->sc_inc.inc_lport | 1ull << 63;
	return ((uint32_t)sc_siphash(ss->ss_hashkey, w, 2));
}

static tcp_seq
syncookie_generate(struct syncache_state *ss, struct syncache *sc)
{
	uint16_t mss = sc->sc_peer_mss != 0 ? sc->sc_peer_mss : (uint16_t)V(ss->ss_st, tcp_mssdflt);
	unsigned mi, wi = 0, bits;
	uint32_t mac;

	syncookie_rotate(ss);
	/* The largest table MSS that the peer can take. */
	for (mi = 7; mi > 0 && syncookie_msstab[mi] > mss; mi--)
		continue;
	/* The largest table scale not above the peer's (index 1 up). */
	if (sc->sc_flags & SCF_WINSCALE)
		for (wi = 7; wi > 1 && syncookie_wstab[wi] > sc->sc_requested_s_scale; wi--)
			continue;
	bits = (unsigned)(ss->ss_cookie_epoch & 1) | mi << 2 | wi << 5;
	if (sc->sc_flags & SCF_SACK)
		bits |= SYNCOOKIE_SACK;
	mac = syncookie_mac(ss, sc, bits);
	/* The low byte hides the bits under the MAC's top byte (FreeBSD). */
	return ((mac & ~0xffu) | ((bits ^ (mac >> 24)) & 0xffu));
}

/*
 * Whether sc->sc_iss (the ACK's acknowledgment less one) is a cookie we
 * made for sc's 4-tuple and sc_irs with a live secret; if so, restores
 * the MSS, window scale, SACK and (from the ACK, seg) timestamps.
 */
static int
syncookie_check(struct syncache_state *ss, struct syncache *sc, const struct tcp_seg *seg)
{
	struct ust_stack *st = ss->ss_st;
	unsigned bits = (sc->sc_iss ^ (sc->sc_iss >> 24)) & 0xffu, wi;
	uint32_t mac;

	syncookie_rotate(ss);
	mac = syncookie_mac(ss, sc, bits);
	if ((mac & ~0xffu) != (sc->sc_iss & ~0xffu))
		return (0);
	sc->sc_peer_mss = syncookie_msstab[SYNCOOKIE_MSS(bits)];
	if (sc->sc_flags & SCF_NOOPT)
		return (1);
	if (UST_TCP_SACK && (bits & SYNCOOKIE_SACK))
		sc->sc_flags |= SCF_SACK;
	wi = SYNCOOKIE_WS(bits);
	if (UST_TCP_RFC1323 && wi > 0) {
		sc->sc_flags |= SCF_WINSCALE;
		sc->sc_requested_s_scale = syncookie_wstab[wi];
		sc->sc_request_r_scale = tcp_request_wscale(st);
	}
	/* RFC 7323 3.2: the ACK has timestamps only if our SYN-ACK had. */
	if (UST_TCP_RFC1323 && (seg->to.to_flags & TOF_TS) && V(st, tcp_do_rfc1323) != 0 &&
	    V(st, tcp_do_rfc1323) != 2) {
		sc->sc_flags |= SCF_TIMESTAMP;
		sc->sc_tsreflect = seg->to.to_tsval;
		sc->sc_tsoff = syncookie_tsoff(ss, sc);
	}
	return (1);
}

/* ---------------------------------------------------------------------
 * SYN: syncache_add.
 * ------------------------------------------------------------------- */

/* Fills a new entry from the SYN seg arriving at listener lso. */
static void
syncache_fill(struct ust_stack *st, struct socket *lso, const struct tcp_seg *seg,
    struct syncache *sc)
{
	struct inpcb *linp = sotoinpcb(lso);
	struct tcpcb *ltp = intotcpcb(linp);
	long space = sbspace(&lso->so_rcv);

	memset(sc, 0, sizeof(*sc));
	sc->sc_inc = seg->inc;
	sc->sc_port = seg->port; /* a cookie keeps none: the ACK's is taken */
	sc->sc_irs = seg->th.th_seq;
	sc->sc_ttl = linp->inp_ip_ttl;
	sc->sc_tos = (uint8_t)(linp->inp_ip_tos & ~IPTOS_ECN_MASK);
	sc->sc_wnd = space > 0 ? (uint32_t)space : 0;
	if (seg->to.to_flags & TOF_MSS)
		sc->sc_peer_mss = seg->to.to_mss;
	if (ltp != NULL && (ltp->t_flags & TF_NOOPT))
		sc->sc_flags |= SCF_NOOPT;
#if UST_TCP_TFO
	/* RFC 7413 4.1.2: a request or a bad cookie gets a fresh cookie. */
	if (seg->to.to_tfo_reply)
		sc->sc_flags |= SCF_TFO;
#endif
	/* RFC 2385: the listener's SYN-ACKs are signed (tcp_input checked
	 * the SYN); the connection inherits TF_SIGNATURE (tcp_usrreq.c). */
	if (UST_TCP_SIGNATURE && ltp != NULL && (ltp->t_flags & TF_SIGNATURE))
		sc->sc_flags |= SCF_SIGNATURE;
	if (UST_TCP_SACK && (seg->to.to_flags & TOF_SACKPERM) && V(st, tcp_do_sack) &&
	    !(sc->sc_flags & SCF_NOOPT))
		sc->sc_flags |= SCF_SACK;
	/* RFC 3168 6.1.1: an ECN-setup SYN has both ECE and CWR; we accept
	 * with net.inet.tcp.ecn.enable 1 (request and accept) or 2 (accept). */
	if (UST_TCP_ECN && (seg->th.th_flags & (TH_ECE | TH_CWR)) == (TH_ECE | TH_CWR) &&
	    V(st, tcp_do_ecn) != 0)
		sc->sc_flags |= SCF_ECN;
	if (!V(st, tcp_do_rfc1323) || (sc->sc_flags & SCF_NOOPT))
		return;
	/* RFC 7323 2.2 / 3.2: what the peer offered, we answer, as far as
	 * rfc1323 allows (1 both, 2 window scaling only, 3 timestamps only). */
	if ((seg->to.to_flags & TOF_SCALE) && V(st, tcp_do_rfc1323) != 3) {
		sc->sc_flags |= SCF_WINSCALE;
		sc->sc_requested_s_scale =
		    seg->to.to_wscale > TCP_MAX_WINSHIFT ? TCP_MAX_WINSHIFT : seg->to.to_wscale;
		sc->sc_request_r_scale = tcp_request_wscale(st);
	}
	if ((seg->to.to_flags & TOF_TS) && V(st, tcp_do_rfc1323) != 2) {
		sc->sc_flags |= SCF_TIMESTAMP;
		sc->sc_tsreflect = seg->to.to_tsval;
		if (V(st, tcp_ts_offset_per_conn))
			sc->sc_tsoff = ust_rng_u32(&st->st_rng);
	}
}

/* A SYN-ACK whose ISS is a cookie, no state kept. */
static void
syncache_send_cookie(struct ust_stack *st, struct syncache *sc)
{
	struct syncache_state *ss = st->st_syncache;

	/* Everything but ECN is recovered (see the file header). */
	sc->sc_flags &= (uint8_t)~SCF_ECN;
	if (sc->sc_flags & SCF_TIMESTAMP)
		sc->sc_tsoff = syncookie_tsoff(ss, sc);
	sc->sc_iss = syncookie_generate(ss, sc);
	if (syncache_respond(st, sc, TH_SYN | TH_ACK) == 0)
		TCPSTAT_INC(st, tcps_sc_sendcookie);
}

void
syncache_add(struct ust_stack *st, struct socket *lso, const struct tcp_seg *seg, struct mbuf *m)
{
	struct syncache_state *ss = st->st_syncache;
	struct syncache_head *sch;
	struct syncache *sc, scs;

	/* Data on a SYN is not kept (no TCP Fast Open): the peer sends it
	 * again after the handshake. */
	m_freem(m);
	if (ss == NULL || sotoinpcb(lso) == NULL)
		return;
	sch = syncache_bucket(ss, &seg->inc);
	sc = syncache_lookup(sch, &seg->inc);
	if (sc != NULL) {
		/* A retransmitted SYN: our SYN-ACK was lost (RFC 9293
		 * 3.10.7.2); answer it again, with a fresh timestamp echo. */
		TCPSTAT_INC(st, tcps_sc_dupsyn);
		if ((sc->sc_flags & SCF_TIMESTAMP) && (seg->to.to_flags & TOF_TS))
			sc->sc_tsreflect = seg->to.to_tsval;
		(void)syncache_respond(st, sc, TH_SYN | TH_ACK);
		return;
	}
	syncache_fill(st, lso, seg, &scs);
	if (V(st, tcp_syncookiesonly)) {
		syncache_send_cookie(st, &scs);
		return;
	}
	if (sch->sch_length >= V(st, tcp_syncache_bucketlimit) ||
	    ss->ss_count >= V(st, tcp_syncache_cachelimit)) {
		if (sch->sch_length >= V(st, tcp_syncache_bucketlimit))
			TCPSTAT_INC(st, tcps_sc_bucketoverflow);
		else
			TCPSTAT_INC(st, tcps_sc_cacheoverflow);
		goto nostate;
	}
	sc = ust_zone_alloc(ss->ss_zone);
	if (sc == NULL) {
		TCPSTAT_INC(st, tcps_sc_zonefail);
		goto nostate;
	}
	*sc = scs;
	/* RFC 6528: the ISN of a cached entry is a keyed hash, not a cookie. */
	sc->sc_iss = tcp_new_isn(st, &sc->sc_inc);
	sc->sc_rxttime = stack_now(st) + syncache_rexmt_ns(st, 0);
	syncache_insert(ss, sch, sc);
	TCPSTAT_INC(st, tcps_sc_added);
	(void)syncache_respond(st, sc, TH_SYN | TH_ACK);
	syncache_rearm(st, sch);
	return;
nostate:
	if (V(st, tcp_syncookies))
		syncache_send_cookie(st, &scs);
	else
		TCPSTAT_INC(st, tcps_dropsyn);
}

/* ---------------------------------------------------------------------
 * ACK: syncache_expand.
 * ------------------------------------------------------------------- */

/* The connection's tcpcb from the handshake state (FreeBSD
 * syncache_socket): ESTABLISHED, sequence spaces, options, MSS. */
static void
syncache_tcpcb(struct tcpcb *tp, const struct syncache *sc, const struct tcp_seg *seg)
{
	struct ust_stack *st = tp->t_stack;

	tp->t_state = TCPS_ESTABLISHED;
	tp->t_port = sc->sc_port;
	tp->iss = sc->sc_iss;
	tp->irs = sc->sc_irs;
	/* The ACK acknowledged our SYN. */
	tp->snd_una = tp->snd_nxt = tp->snd_max = tp->snd_up = tp->snd_recover = sc->sc_iss + 1;
	tp->rcv_nxt = tp->rcv_up = tp->last_ack_sent = sc->sc_irs + 1;
	tp->rcv_wnd = sc->sc_wnd;
	tp->rcv_adv = tp->rcv_nxt + tp->rcv_wnd;
	tp->t_flags &= ~(uint32_t)(TF_REQ_SCALE | TF_RCVD_SCALE | TF_REQ_TSTMP | TF_RCVD_TSTMP |
	    TF_SACK_PERMIT | TF_ECN_PERMIT);
	if (sc->sc_flags & SCF_SACK)
		tp->t_flags |= TF_SACK_PERMIT;
	if (sc->sc_flags & SCF_ECN) {
		tp->t_flags |= TF_ECN_PERMIT;
		TCPSTAT_INC(st, tcps_ecn_shs);
	}
	if (sc->sc_flags & SCF_WINSCALE) {
		tp->t_flags |= TF_REQ_SCALE | TF_RCVD_SCALE;
		tp->snd_scale = tp->requested_s_scale = sc->sc_requested_s_scale;
		tp->rcv_scale = tp->request_r_scale = sc->sc_request_r_scale;
	} else {
		tp->snd_scale = tp->rcv_scale = 0;
	}
	if (sc->sc_flags & SCF_TIMESTAMP) {
		tp->t_flags |= TF_REQ_TSTMP | TF_RCVD_TSTMP;
		tp->ts_offset = sc->sc_tsoff;
		/* RFC 7323 4.3: the ACK's TSval is the newest in order. */
		tp->ts_recent = (seg->to.to_flags & TOF_TS) ? seg->to.to_tsval : sc->sc_tsreflect;
		tp->ts_recent_age = stack_now(st);
	}
	/* RFC 9293 3.10.7.4: the window of the ACK (scaled: not a SYN). */
	tp->snd_wnd = (uint32_t)seg->th.th_win << tp->snd_scale;
	tp->max_sndwnd = tp->snd_wnd;
	tp->snd_wl1 = seg->th.th_seq;
	tp->snd_wl2 = seg->th.th_ack;
	tp->t_starttime = tp->t_rcvtime = stack_now(st);
}

/* Makes the connected socket for sc, child of lso.  NULL on failure
 * (*reset per rst_on_sock_fail). */
static struct socket *
syncache_socket(struct ust_stack *st, struct socket *lso, const struct syncache *sc,
    const struct tcp_seg *seg, int *reset)
{
	struct socket *so;
	struct tcpcb *tp;
	int error;

	error = tcp_listen_newconn(lso, &sc->sc_inc, &tp);
	if (error != 0) {
		if (error == UST_ECONNABORTED)
			TCPSTAT_INC(st, tcps_sc_dropped);
		goto abort;
	}
	syncache_tcpcb(tp, sc, seg);
	tcp_mss(tp, sc->sc_peer_mss);
	tcp_rcvbuf_roundup(tp);
	cc_conn_init(tp);
	/* As on an active open: the keep timer always runs; it probes only
	 * with SO_KEEPALIVE or net.inet.tcp.always_keepalive (tcp_timer.c). */
	tcp_timer_activate(tp, TT_KEEP, MS_TO_NS(tcp_keepidle_ms(tp)));
	TCPSTAT_INC(st, tcps_accepts);
	TCPSTAT_INC(st, tcps_connects);
	so = tp->t_inpcb->inp_socket;
	soisconnected(so);
	return (so);
abort:
	TCPSTAT_INC(st, tcps_sc_aborted);
	*reset = V(st, tcp_syncache_rst_on_sock_fail) != 0;
	return (NULL);
}

struct socket *
syncache_expand(struct ust_stack *st, struct socket *lso, const struct tcp_seg *seg, int *reset)
{
	struct syncache_state *ss = st->st_syncache;
	struct syncache_head *sch;
	struct syncache *sc, scs;
	struct socket *so;

	*reset = 0;
	if (ss == NULL || sotoinpcb(lso) == NULL)
		return (NULL);
	sch = syncache_bucket(ss, &seg->inc);
	sc = syncache_lookup(sch, &seg->inc);
	if (sc != NULL) {
		/* TCP over UDP: only from the SYN's UDP port (plain: none);
		 * else a RST the way it came, the entry kept (FreeBSD). */
		if (sc->sc_port != seg->port) {
			*reset = 1;
			return (NULL);
		}
		/* RFC 9293 3.10.7.4 (SYN-RECEIVED): the ACK must acknowledge
		 * our SYN exactly, else a RST <SEQ=SEG.ACK><CTL=RST>. */
		if (seg->th.th_ack != sc->sc_iss + 1) {
			TCPSTAT_INC(st, tcps_sc_badack);
			*reset = 1;
			return (NULL);
		}
		/* ... and its sequence number be in the window we offered. */
		if (SEQ_LEQ(seg->th.th_seq, sc->sc_irs) ||
		    SEQ_GT(seg->th.th_seq, sc->sc_irs + 1 + syncache_adv_wnd(sc)))
			return (NULL);
		scs = *sc;
		syncache_drop(ss, sch, sc);
		syncache_rearm(st, sch);
		so = syncache_socket(st, lso, &scs, seg, reset);
		if (so != NULL)
			TCPSTAT_INC(st, tcps_sc_completed);
		return (so);
	}
	/* No entry: a SYN cookie, if cookies are on (RFC 4987 3.6). */
	if (!V(st, tcp_syncookies) && !V(st, tcp_syncookiesonly)) {
		*reset = 1;
		return (NULL);
	}
	syncache_fill(st, lso, seg, &scs);
	scs.sc_flags &= (uint8_t) ~(SCF_WINSCALE | SCF_TIMESTAMP | SCF_SACK | SCF_ECN);
	scs.sc_irs = seg->th.th_seq - 1;
	scs.sc_iss = seg->th.th_ack - 1;
	scs.sc_peer_mss = 0;
	if (!syncookie_check(ss, &scs, seg)) {
		TCPSTAT_INC(st, tcps_sc_spurcookie);
		*reset = 1;
		return (NULL);
	}
	if (scs.sc_wnd > TCP_MAXWIN)
		scs.sc_wnd = TCP_MAXWIN;
	TCPSTAT_INC(st, tcps_sc_recvcookie);
	return (syncache_socket(st, lso, &scs, seg, reset));
}

/* ---------------------------------------------------------------------
 * RST and ICMP for entries.
 * ------------------------------------------------------------------- */

void
syncache_chkrst(struct ust_stack *st, const struct tcp_seg *seg)
{
	struct syncache_state *ss = st->st_syncache;
	struct syncache_head *sch;
	struct syncache *sc;

	if (ss == NULL)
		return;
	sch = syncache_bucket(ss, &seg->inc);
	sc = syncache_lookup(sch, &seg->inc);
	if (sc == NULL)
		return;
	/* RFC 9293 3.10.7.4 / RFC 5961 3.2: in the window resets; only the
	 * exact RCV.NXT does (unless insecure_rst), the rest is challenged. */
	if (SEQ_GEQ(seg->th.th_seq, sc->sc_irs + 1) &&
	    SEQ_LT(seg->th.th_seq, sc->sc_irs + 1 + (sc->sc_wnd > 0 ? syncache_adv_wnd(sc) : 1))) {
		if (seg->th.th_seq == sc->sc_irs + 1 || V(st, tcp_insecure_rst)) {
			TCPSTAT_INC(st, tcps_sc_reset);
			syncache_drop(ss, sch, sc);
			syncache_rearm(st, sch);
			return;
		}
		TCPSTAT_INC(st, tcps_badrst_inwindow);
		if (syncache_respond(st, sc, TH_ACK) == 0)
			TCPSTAT_INC(st, tcps_challenge_ack);
		return;
	}
	TCPSTAT_INC(st, tcps_badrst);
}

static void syncache_unreach_inc(struct ust_stack *st, const struct in_conninfo *inc, tcp_seq seq);

void
syncache_unreach(struct ust_stack *st, const struct icmp_ctl *ctl)
{
	struct syncache_state *ss = st->st_syncache;
	struct in_conninfo inc;
	tcp_seq seq;

	if (ss == NULL || ctl->l4 == NULL || ctl->l4len < 8)
		return;
	/* The quoted segment is ours: source us, destination the peer. */
	memset(&inc, 0, sizeof(inc));
	inc.inc_laddr = ctl->src;
	inc.inc_faddr = ctl->dst;
	inc.inc_lport = htons(be16dec(ctl->l4));
	inc.inc_fport = htons(be16dec(ctl->l4 + 2));
	seq = be32dec(ctl->l4 + 4);
	syncache_unreach_inc(st, &inc, seq);
}

#if UST_INET6
void
syncache_unreach6(struct ust_stack *st, const struct ip6ctlparam *ctl)
{
	struct in_conninfo inc;

	if (st->st_syncache == NULL || ctl->l4 == NULL || ctl->l4len < 8)
		return;
	memset(&inc, 0, sizeof(inc));
	inc.inc_flags = INC_ISIPV6;
	inc.inc6_laddr = ctl->src;
	inc.inc6_faddr = ctl->dst;
	inc.inc_lport = htons(be16dec(ctl->l4));
	inc.inc_fport = htons(be16dec(ctl->l4 + 2));
	syncache_unreach_inc(st, &inc, be32dec(ctl->l4 + 4));
}
#endif

/* An ICMP error quoting our SYN-ACK with sequence number seq for inc. */
static void
syncache_unreach_inc(struct ust_stack *st, const struct in_conninfo *inc, tcp_seq seq)
{
	struct syncache_state *ss = st->st_syncache;
	struct syncache_head *sch;
	struct syncache *sc;

	sch = syncache_bucket(ss, inc);
	sc = syncache_lookup(sch, inc);
	if (sc == NULL || seq != sc->sc_iss)
		return;
	/* FreeBSD: one error may be transient; a second one after the
	 * retransmissions are mostly spent ends the attempt. */
	if (!(sc->sc_flags & SCF_UNREACH) || sc->sc_rxmits < 3 + 1) {
		sc->sc_flags |= SCF_UNREACH;
		return;
	}
	TCPSTAT_INC(st, tcps_sc_unreach);
	syncache_drop(ss, sch, sc);
	syncache_rearm(st, sch);
}

/* ---------------------------------------------------------------------
 * Per-stack state.
 * ------------------------------------------------------------------- */

int
syncache_init(struct ust_stack *st)
{
	struct syncache_state *ss;
	uint32_t i, max;

	if (st->st_syncache != NULL)
		return (0);
	ss = st_malloc(st, sizeof(*ss));
	if (ss == NULL)
		return (UST_ENOMEM);
	ss->ss_st = st;
	ss->ss_nbuckets = st_hash_buckets(st, SYNCACHE_HASHSIZE, sizeof(*ss->ss_hash));
	ss->ss_hashmask = ss->ss_nbuckets - 1;
	ss->ss_hash = st_malloc(st, ss->ss_nbuckets * sizeof(*ss->ss_hash));
	max = (uint32_t)V(st, tcp_syncache_cachelimit);
	ss->ss_zone = ust_zone_create(&st->st_mem, "syncache", sizeof(struct syncache), max, 0);
	if (ss->ss_hash == NULL || ss->ss_zone == NULL) {
		if (ss->ss_hash != NULL)
			st_free(st, ss->ss_hash, ss->ss_nbuckets * sizeof(*ss->ss_hash));
		if (ss->ss_zone != NULL)
			ust_zone_destroy(ss->ss_zone);
		st_free(st, ss, sizeof(*ss));
		return (UST_ENOMEM);
	}
	for (i = 0; i < ss->ss_nbuckets; i++) {
		callout_init(&ss->ss_hash[i].sch_timer);
		ss->ss_hash[i].sch_ss = ss;
	}
	ss->ss_hashkey[0] = ust_rng_u64(&st->st_rng);
	ss->ss_hashkey[1] = ust_rng_u64(&st->st_rng);
	ss->ss_cookiekey[0][0] = ust_rng_u64(&st->st_rng);
	ss->ss_cookiekey[0][1] = ust_rng_u64(&st->st_rng);
	ss->ss_cookiekey[1][0] = ust_rng_u64(&st->st_rng);
	ss->ss_cookiekey[1][1] = ust_rng_u64(&st->st_rng);
	ss->ss_cookie_epoch = stack_now(st) / SYNCOOKIE_LIFETIME_NS;
	st->st_syncache = ss;
	return (0);
}

void
syncache_fini(struct ust_stack *st)
{
	struct syncache_state *ss = st->st_syncache;
	struct syncache_head *sch;
	uint32_t i;

	if (ss == NULL)
		return;
	for (i = 0; i <= ss->ss_hashmask; i++) {
		sch = &ss->ss_hash[i];
		callout_stop(&st->st_wheel, &sch->sch_timer);
		while (sch->sch_first != NULL)
			syncache_drop(ss, sch, sch->sch_first);
	}
	ust_zone_destroy(ss->ss_zone);
	st_free(st, ss->ss_hash, ss->ss_nbuckets * sizeof(*ss->ss_hash));
	st->st_syncache = NULL;
	st_free(st, ss, sizeof(*ss));
}

/* Entries in the cache now (tests). */
const struct ust_zone *
syncache_zone(const struct ust_stack *st)
{
	return (st->st_syncache != NULL ? st->st_syncache->ss_zone : NULL);
}

uint32_t
syncache_count(const struct ust_stack *st)
{
	return (st->st_syncache != NULL ? st->st_syncache->ss_count : 0);
}

/* Every entry, for the connection table (tcp_pcblist.c): us, the peer. */
void
syncache_foreach(struct ust_stack *st, syncache_visit_fn fn, void *arg)
{
	struct syncache_state *ss = st->st_syncache;
	struct syncache *sc;
	uint32_t i;

	if (ss == NULL)
		return;
	for (i = 0; i <= ss->ss_hashmask; i++)
		for (sc = ss->ss_hash[i].sch_first; sc != NULL; sc = sc->sc_next)
			fn(arg, &sc->sc_inc);
}
#else /* !UST_TCP_SYNCACHE: tcp_input makes the connection at once
	* (tcp_listen_syn); nothing is cached. */
void
syncache_chkrst(struct ust_stack *st, const struct tcp_seg *seg)
{
	(void)st, (void)seg;
}

void
syncache_unreach(struct ust_stack *st, const struct icmp_ctl *ctl)
{
	(void)st, (void)ctl;
}

#if UST_INET6
void
syncache_unreach6(struct ust_stack *st, const struct ip6ctlparam *ctl)
{
	(void)st, (void)ctl;
}
#endif

int
syncache_init(struct ust_stack *st)
{
	(void)st;
	return (0);
}

void
syncache_fini(struct ust_stack *st)
{
	(void)st;
}

const struct ust_zone *
syncache_zone(const struct ust_stack *st)
{
	(void)st;
	return (NULL);
}

uint32_t
syncache_count(const struct ust_stack *st)
{
	(void)st;
	return (0);
}

void
syncache_foreach(struct ust_stack *st, syncache_visit_fn fn, void *arg)
{
	(void)st, (void)fn, (void)arg;
}
#endif /* UST_TCP_SYNCACHE */
