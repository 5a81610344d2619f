/*
 * tcp_subr.c - TCP's life-cycle pieces (FreeBSD netinet/tcp_subr.c): the
 * per-stack state (PCB table, tcpcb zone, RFC 6528 secret, RFC 5961
 * challenge-ACK limiter), control blocks from birth (tcp_newtcpcb) to
 * death (tcp_close, tcp_drop, TIME_WAIT), the initial sequence number
 * generator, bare control segments (tcp_respond) and ICMP errors.
 *
 *   ust_stack_create -> tcp_init -> syncache_init
 *   pru_attach -> in_pcballoc + tcp_newtcpcb -> cc_attach(newreno)
 *   tcp_input / timers -> tcp_drop -> [RST] -> tcp_close -> in_pcbfree
 *                                                -> sofree (SS_PROTOREF)
 *   tcp_input (FIN in FIN_WAIT_2 ...) -> tcp_twstart -> TT_2MSL -> tcp_close
 *   icmp_input -> tcp_ctlinput -> tcp_drop / t_softerror / MSS update
 *
 * Socket ownership (agreed with tcp_usrreq.c): pru_detach on a connection
 * that must linger sets SS_PROTOREF; tcp_close then clears it and frees
 * the socket (sofree).  A connection still on a listener's incomplete
 * queue is freed with its socket.  Entering TIME_WAIT lets go of a socket
 * the user already closed (the tcpcb and PCB live on without it); a socket
 * still open stays attached until pru_detach, which in TIME_WAIT just
 * unhooks it (inp_socket = NULL) and leaves the tcpcb to the 2MSL timer.
 */
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "netinet/in_route.h"
#include "netinet/cc/cc.h"
#include "netinet/in_pcb.h"
#include "netinet/in_var.h"
#include "netinet/ip.h"
#include "netinet/icmp_var.h"
#include "netinet/tcp_stacks/tcp_stacks.h"
#include "netinet/tcp_udp_tunnel.h"
#include "netinet/tcp_var.h"
#if UST_INET6
#include "netinet6/icmp6.h"
#include "netinet6/in6_pcb.h"
#include "netinet6/in6_var.h"
#include "netinet6/ip6.h"
#include "netinet6/ip6_var.h"
#endif

#define NS_PER_MS 1000000ull

/* ICMP unreachable codes beyond icmp_var.h's (RFC 1122 3.2.2.1, RFC 1812). */
#ifndef ICMP_UNREACH_NET_UNKNOWN
#define ICMP_UNREACH_NET_UNKNOWN 6
#endif
#ifndef ICMP_UNREACH_NET_PROHIB
#define ICMP_UNREACH_NET_PROHIB 9
#endif
#ifndef ICMP_UNREACH_HOST_PROHIB
#define ICMP_UNREACH_HOST_PROHIB 10
#endif
#ifndef ICMP_UNREACH_TOSNET
#define ICMP_UNREACH_TOSNET 11
#endif
#ifndef ICMP_UNREACH_FILTER_PROHIB
#define ICMP_UNREACH_FILTER_PROHIB 13
#endif

/* Segments to our own addresses waiting for delivery (tcp_ip_output). */
struct tcp_loopent {
	struct mbuf *le_m;
	struct ip_out_args le_args;
};
/* Ring entries at most; fewer when mem_limit is small (st_hash_buckets:
 * 1 KiB under a 48 KiB limit instead of 16 KiB), since a loopback burst
 * that overflows is only a drop TCP recovers from. */
#define TCP_LOOPQ_LEN 1024
#if UST_INET6
/* IPv6 segments to our own addresses: a ring of their own, made on first
 * use, so that an IPv4-only workload keeps its memory. */
struct tcp_loopent6 {
	struct mbuf *le_m;
	struct ip6_out_args le_args;
};
#define TCP_LOOPQ6_LEN 256
#endif

/* Per-stack TCP state (st->st_tcp). */
struct tcp_state {
	struct ust_zone *ts_tcpcb_zone; /* struct tcpcb, hard max */
	uint64_t ts_isn_key[2];         /* RFC 6528 secret, 128 bits */
	uint64_t ts_ack_war_start;      /* RFC 5961 7 window start, ns */
	uint32_t ts_ack_war_count;      /* challenge ACKs in this window */
	struct callout ts_loop_callout; /* drains ts_loopq */
	struct tcp_loopent *ts_loopq;   /* ring of ts_loop_len (a power of two) */
	uint32_t ts_loop_len;
	uint32_t ts_loop_head, ts_loop_count;
	int ts_loop_draining;
#if UST_INET6
	struct tcp_loopent6 *ts_loop6q; /* TCP_LOOPQ6_LEN, or NULL */
	uint32_t ts_loop6_head, ts_loop6_count;
#endif
};

/* Buckets of the TCP PCB hash: 64K, so that 10^5 connections stay O(1). */
#define TCBHASHSIZE 65536

/* ---------------------------------------------------------------------
 * SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input
 * PRF", 2012): the keyed hash of RFC 6528's F().
 * ------------------------------------------------------------------- */

static inline uint64_t
sip_rotl(uint64_t x, unsigned b)
{
	return ((x << b) | (x >> (64 - b)));
}

static inline void
sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = sip_rotl(v[1], 13);
	v[1] ^= v[0];
	v[0] = sip_rotl(v[0], 32);
	v[2] += v[3];
	v[3] = sip_rotl(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = sip_rotl(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = sip_rotl(v[1], 17);
	v[1] ^= v[2];
	v[2] = sip_rotl(v[2], 32);
}

/* SipHash-2-4 of len bytes with the key k0 || k1 (each read as the
 * little-endian 64-bit halves of the 16-byte key). */
uint64_t
tcp_siphash24(const uint64_t key[2], const uint8_t *in, size_t len)
{
	uint64_t v[4], m, b = (uint64_t)len << 56;
	size_t i, full = len & ~(size_t)7;
	unsigned j;

	v[0] = key[0] ^ 0x736f6d6570736575ull;
	v[1] = key[1] ^ 0x646f72616e646f6dull;
	v[2] = key[0] ^ 0x6c7967656e657261ull;
	v[3] = key[1] ^ 0x7465646279746573ull;
	for (i = 0; i < full; i += 8) {
		m = 0;
		for (j = 0; j < 8; j++)
			m |= (uint64_t)in[i + j] << (8 * j);
		v[3] ^= m;
		sip_round(v);
		sip_round(v);
		v[0] ^= m;
	}
	for (j = 0; i + j < len; j++)
		b |= (uint64_t)in[i + j] << (8 * j);
	v[3] ^= b;
	sip_round(v);
	sip_round(v);
	v[0] ^= b;
	v[2] ^= 0xff;
	for (j = 0; j < 4; j++)
		sip_round(v);
	return (v[0] ^ v[1] ^ v[2] ^ v[3]);
}

/* RFC 6528 3: ISN = M + F(localip, localport, remoteip, remoteport,
 * secretkey), M a 4-microsecond timer (RFC 9293 3.4.1), F SipHash-2-4. */
tcp_seq
tcp_new_isn(struct ust_stack *st, const struct in_conninfo *inc)
{
	struct tcp_state *ts = st->st_tcp;
	uint8_t buf[36];
	size_t len = 12;
	uint64_t key[2] = { 0, 0 }, h;
	uint32_t m;

	/* The addresses and ports as they are on the wire: local address and
	 * port, foreign address and port, 12 bytes for IPv4 (the ISNs every
	 * seeded test and conformance script sees), 36 for IPv6. */
#if UST_INET6
	if (inc_isipv6(inc)) {
		memcpy(buf, inc->inc6_laddr.s6_addr8, 16);
		memcpy(buf + 16, &inc->inc_lport, 2);
		memcpy(buf + 18, inc->inc6_faddr.s6_addr8, 16);
		memcpy(buf + 34, &inc->inc_fport, 2);
		len = 36;
	} else
#endif
	{
		memcpy(buf, &inc->inc_laddr.s_addr, 4);
		memcpy(buf + 4, &inc->inc_lport, 2);
		memcpy(buf + 6, &inc->inc_faddr.s_addr, 4);
		memcpy(buf + 10, &inc->inc_fport, 2);
	}
	if (ts != NULL) {
		key[0] = ts->ts_isn_key[0];
		key[1] = ts->ts_isn_key[1];
	}
	h = tcp_siphash24(key, buf, len);
	m = (uint32_t)(stack_now(st) / 4000);
	return ((tcp_seq)(m + (uint32_t)h));
}

/* The timestamp clock (RFC 7323 5.4): milliseconds of the stack clock. */
uint32_t
tcp_ts_getticks(const struct ust_stack *st)
{
	return ((uint32_t)(stack_now(st) / NS_PER_MS));
}

/* ---------------------------------------------------------------------
 * Local delivery.
 *
 * ip_output hands a datagram for one of our own addresses straight to
 * ip_input.  For TCP that would re-enter tcp_input (and through it
 * tcp_output, tcp_close ...) from inside tcp_output, with the sender's
 * tcpcb half-way through its bookkeeping.  FreeBSD queues loopback
 * packets (netisr); we do the same here: such segments wait in a ring
 * and a callout delivers them one after the other, so that every
 * segment is processed from the top of a fresh call chain.
 * ------------------------------------------------------------------- */

static void
tcp_loop_drain(void *arg)
{
	struct ust_stack *st = arg;
	struct tcp_state *ts = st->st_tcp;
	struct tcp_loopent le;

	ts->ts_loop_draining = 1;
	do {
		while (ts->ts_loop_count > 0) {
			le = ts->ts_loopq[ts->ts_loop_head];
			ts->ts_loop_head = (ts->ts_loop_head + 1) & (ts->ts_loop_len - 1);
			ts->ts_loop_count--;
			(void)ip_output(st, le.le_m, &le.le_args);
		}
#if UST_INET6
		while (ts->ts_loop6_count > 0) {
			struct tcp_loopent6 le6 = ts->ts_loop6q[ts->ts_loop6_head];

			ts->ts_loop6_head = (ts->ts_loop6_head + 1) & (TCP_LOOPQ6_LEN - 1);
			ts->ts_loop6_count--;
			(void)ip6_output(st, le6.le_m, &le6.le_args);
		}
#endif
	} while (ts->ts_loop_count > 0);
	ts->ts_loop_draining = 0;
}

int
tcp_ip_output(struct ust_stack *st, struct mbuf *m, const struct ip_out_args *args)
{
	struct tcp_state *ts = st->st_tcp;
	struct tcp_loopent *le;
	struct inp_route *ro;

	/* Without loopback delivery (UST_IP_LOOPBACK 0) ip_output refuses
	 * our own addresses and the ring below is never made.  A
	 * connection's cached route knows whether the peer is us. */
	if (!UST_IP_LOOPBACK || ts == NULL || ts->ts_loopq == NULL)
		return (ip_output(st, m, args));
	if (args->ro != NULL && (ro = in_route_get(st, args->ro, args->src, args->dst)) != NULL) {
		if (!(ro->ro_flags & RO_LOCAL))
			return (ip_output(st, m, args));
	} else if (!in_localip(st, args->dst))
		return (ip_output(st, m, args));
	if (ts->ts_loop_count == ts->ts_loop_len) {
		/* Full: dropped like a full interface queue; TCP resends. */
		IPSTAT_INC(st, ips_odropped);
		m_freem(m);
		return (UST_ENOBUFS);
	}
	le = &ts->ts_loopq[(ts->ts_loop_head + ts->ts_loop_count) & (ts->ts_loop_len - 1)];
	le->le_m = m;
	le->le_args = *args;
	le->le_args.ro = NULL; /* the PCB may be gone by the time it is sent */
	ts->ts_loop_count++;
	/* The drain loop picks it up if running; else a callout now. */
	if (!ts->ts_loop_draining && !callout_pending(&ts->ts_loop_callout))
		callout_reset(&st->st_wheel, &ts->ts_loop_callout, stack_now(st), 0, tcp_loop_drain,
		    st);
	return (0);
}

#if UST_INET6
/* tcp_ip_output for IPv6. */
int
tcp6_ip_output(struct ust_stack *st, struct mbuf *m, const struct ip6_out_args *args)
{
	struct tcp_state *ts = st->st_tcp;
	struct tcp_loopent6 *le;
	struct inp_route *ro;

	if (!UST_IP_LOOPBACK || ts == NULL || ts->ts_loopq == NULL)
		return (ip6_output(st, m, args));
	if (args->ro != NULL &&
	    (ro = in6_route_get(st, args->ro, &args->src, &args->dst, args->zoneid)) != NULL) {
		if (!(ro->ro_flags & RO_LOCAL))
			return (ip6_output(st, m, args));
	} else if (!in6_localip(st, &args->dst))
		return (ip6_output(st, m, args));
	if (ts->ts_loop6q == NULL) {
		ts->ts_loop6q = st_malloc(st, TCP_LOOPQ6_LEN * sizeof(*ts->ts_loop6q));
		if (ts->ts_loop6q == NULL) {
			m_freem(m);
			return (UST_ENOBUFS);
		}
	}
	if (ts->ts_loop6_count == TCP_LOOPQ6_LEN) {
		IP6STAT_INC(st, ip6s_odropped);
		m_freem(m);
		return (UST_ENOBUFS);
	}
	le = &ts->ts_loop6q[(ts->ts_loop6_head + ts->ts_loop6_count) & (TCP_LOOPQ6_LEN - 1)];
	le->le_m = m;
	le->le_args = *args;
	le->le_args.ro = NULL; /* the PCB may be gone by the time it is sent */
	ts->ts_loop6_count++;
	if (!ts->ts_loop_draining && !callout_pending(&ts->ts_loop_callout))
		callout_reset(&st->st_wheel, &ts->ts_loop_callout, stack_now(st), 0, tcp_loop_drain,
		    st);
	return (0);
}

/* Sends the TCP segment m (its header first, m_pkthdr.len bytes) from
 * inc's local end to its foreign end over IPv6, hop limit and traffic
 * class as given.  The checksum is left to ip6_output (UST_CSUM_TCP),
 * which computes it or hands it to an interface with
 * UST_IFCAP_TXCSUM_IPV6; UST_CSUM_TSO (tcp_output) stays for it too. */
int
tcp6_output_seg(struct ust_stack *st, struct mbuf *m, const struct in_conninfo *inc, uint8_t hlim,
    uint8_t tclass, uint32_t *flowcache, struct inp_route *ro)
{
	struct ip6_out_args args;
	uint8_t *p = mtod(m, uint8_t *);

	memset(&args, 0, sizeof(args));
	args.src = inc->inc6_laddr;
	args.dst = inc->inc6_faddr;
	args.zoneid = inc->inc6_zoneid;
	args.nxt = IPPROTO_TCP;
	args.hlim = hlim;
	args.tclass = tclass;
	args.ro = ro;
	/* The label ip6_output would hash from the same addresses and ports
	 * (RFC 6437: one per flow), once. */
	if (flowcache != NULL && V(st, ip6_auto_flowlabel) && !IN6_IS_ADDR_UNSPECIFIED(&args.src)) {
		if (*flowcache == 0) {
			uint8_t ports[4];

			memcpy(ports, &inc->inc_lport, 2);
			memcpy(ports + 2, &inc->inc_fport, 2);
			*flowcache = ip6_flowlabel(st, &args.src, &args.dst, IPPROTO_TCP, ports,
			    sizeof(ports));
		}
		args.flowlabel = *flowcache;
	}
	m->m_pkthdr.csum_flags |= UST_CSUM_TCP;
	m->m_pkthdr.csum_data = TCP_CSUM_OFF;
	be16enc(p + TCP_CSUM_OFF, 0);
	return (tcp6_ip_output(st, m, &args));
}
#endif

static void
tcp_loop_flush(struct ust_stack *st)
{
	struct tcp_state *ts = st->st_tcp;

	if (callout_pending(&ts->ts_loop_callout))
		callout_stop(&st->st_wheel, &ts->ts_loop_callout);
	while (ts->ts_loop_count > 0) {
		m_freem(ts->ts_loopq[ts->ts_loop_head].le_m);
		ts->ts_loop_head = (ts->ts_loop_head + 1) & (ts->ts_loop_len - 1);
		ts->ts_loop_count--;
	}
#if UST_INET6
	while (ts->ts_loop6_count > 0) {
		m_freem(ts->ts_loop6q[ts->ts_loop6_head].le_m);
		ts->ts_loop6_head = (ts->ts_loop6_head + 1) & (TCP_LOOPQ6_LEN - 1);
		ts->ts_loop6_count--;
	}
#endif
}

/* ---------------------------------------------------------------------
 * Stack set-up.
 * ------------------------------------------------------------------- */

/*
 * kern.ipc.maxsockets was written: the tcpcb and inpcb zones follow it
 * (twice the socket limit, as tcp_init sizes them), the way FreeBSD's
 * maxsockets_change event raises its TCP zones.  Only ever raised: items
 * already handed out stay valid when the knob is lowered, and the socket
 * count check (soalloc) enforces the lower limit on new sockets.
 */
void
tcp_maxsockets_changed(struct ust_stack *st)
{
	struct tcp_state *ts = st->st_tcp;
	struct ust_zone_stats zs;
	uint64_t want = 2 * (uint64_t)V(st, ipc_maxsockets);
	uint32_t max = want > UINT32_MAX ? UINT32_MAX : (uint32_t)want;

	if (ts == NULL || st->st_tcbinfo == NULL)
		return;
	ust_zone_get_stats(ts->ts_tcpcb_zone, &zs);
	if (zs.max != 0 && zs.max < max)
		ust_zone_set_max(ts->ts_tcpcb_zone, max);
	ust_zone_get_stats(st->st_tcbinfo->ipi_zone, &zs);
	if (zs.max != 0 && zs.max < max)
		ust_zone_set_max(st->st_tcbinfo->ipi_zone, max);
}

int
tcp_init(struct ust_stack *st)
{
	struct tcp_state *ts;
	struct inpcbinfo *info;
	uint32_t max = (uint32_t)V(st, ipc_maxsockets);

	if (st->st_tcp != NULL)
		return (0);
	ts = st_malloc(st, sizeof(*ts));
	info = st_malloc(st, sizeof(*info));
	if (ts == NULL || info == NULL)
		goto fail;
	st->st_tcp = ts;
	callout_init(&ts->ts_loop_callout);
	if (UST_IP_LOOPBACK) {
		ts->ts_loop_len = st_hash_buckets(st, TCP_LOOPQ_LEN, sizeof(*ts->ts_loopq));
		ts->ts_loopq = st_malloc(st, ts->ts_loop_len * sizeof(*ts->ts_loopq));
		if (ts->ts_loopq == NULL)
			goto fail;
	}
	/* Connections outlive their sockets (TIME_WAIT, lingering close):
	 * room for twice the socket limit. */
	ts->ts_tcpcb_zone = ust_zone_create(&st->st_mem, "tcpcb", sizeof(struct tcpcb), 2 * max, 0);
	if (ts->ts_tcpcb_zone == NULL)
		goto fail;
	if (in_pcbinfo_init(info, st, "tcp_inpcb",
	        st_hash_buckets(st, TCBHASHSIZE, 3 * sizeof(struct inpcb *)), 2 * max) != 0)
		goto fail;
	st->st_tcbinfo = info;
	info = NULL;
	/* RFC 6528 3: the secret, from the stack's seeded PRNG. */
	ts->ts_isn_key[0] = ust_rng_u64(&st->st_rng);
	ts->ts_isn_key[1] = ust_rng_u64(&st->st_rng);
	ts->ts_ack_war_start = stack_now(st);
	ts->ts_ack_war_count = 0;
	if (syncache_init(st) != 0)
		goto fail;
#if UST_TCP_TFO
	if (tcp_fastopen_init(st) != 0)
		goto fail;
#endif
	if (tcp_sack_init(st) != 0)
		goto fail;
	if (tcp_stacks_init(st) != 0)
		goto fail;
	return (0);
fail:
	if (info != NULL)
		st_free(st, info, sizeof(*info));
	tcp_fini(st);
	return (UST_ENOMEM);
}

/* Frees a tcpcb and everything it holds, without any protocol action
 * (stack teardown). */
static void
tcp_discard(struct tcpcb *tp)
{
	struct ust_stack *st = tp->t_stack;

	tcp_timer_stop_all(tp);
	tcp_reass_flush(tp);
	tcp_free_sackholes(tp);
	tcp_fb_detach(tp);
	cc_detach(tp);
#if UST_TCP_TFO
	tcp_fastopen_tcpcb_free(tp);
#endif
	if (tp->t_inpcb != NULL)
		tp->t_inpcb->inp_ppcb = NULL;
	tcp_output_unqueue(tp);
	ust_zone_free(st->st_tcp->ts_tcpcb_zone, tp);
}

void
tcp_fini(struct ust_stack *st)
{
	struct tcp_state *ts = st->st_tcp;
	struct inpcbinfo *info = st->st_tcbinfo;
	struct inpcb *inp;

	syncache_fini(st);
#if UST_TCP_TFO
	tcp_fastopen_fini(st);
#endif
#if UST_TCP_SIGNATURE
	tcp_md5_fini(st);
#endif
	if (info != NULL) {
		/* sofini() ran first: every socket is gone, so PCBs left
		 * here (TIME_WAIT, orphans) must not look at theirs. */
		for (inp = info->ipi_list; inp != NULL; inp = inp->inp_list.next) {
			inp->inp_socket = NULL;
			if (inp->inp_ppcb != NULL && ts != NULL)
				tcp_discard(inp->inp_ppcb);
		}
		in_pcbinfo_destroy(info);
		st_free(st, info, sizeof(*info));
		st->st_tcbinfo = NULL;
	}
	if (ts != NULL) {
		if (ts->ts_loopq != NULL) {
			tcp_loop_flush(st);
			st_free(st, ts->ts_loopq, ts->ts_loop_len * sizeof(*ts->ts_loopq));
		}
#if UST_INET6
		if (ts->ts_loop6q != NULL)
			st_free(st, ts->ts_loop6q, TCP_LOOPQ6_LEN * sizeof(*ts->ts_loop6q));
#endif
		if (ts->ts_tcpcb_zone != NULL)
			ust_zone_destroy(ts->ts_tcpcb_zone);
		st_free(st, ts, sizeof(*ts));
		tcp_sack_fini(st);
		tcp_stacks_fini(st);
		st->st_tcp = NULL;
	}
}

/* ---------------------------------------------------------------------
 * Control blocks.
 * ------------------------------------------------------------------- */

const struct ust_zone *
tcp_tcpcb_zone(const struct ust_stack *st)
{
	return (st->st_tcp != NULL ? st->st_tcp->ts_tcpcb_zone : NULL);
}

struct tcpcb *
tcp_newtcpcb(struct inpcb *inp)
{
	struct ust_stack *st = inp->inp_stack;
	struct tcpcb *tp;
	uint64_t init_ms = (uint64_t)V(st, tcp_rexmit_initial),
	         min_ms = (uint64_t)V(st, tcp_rexmit_min);

	if (st->st_tcp == NULL)
		return (NULL);
	tp = ust_zone_alloc(st->st_tcp->ts_tcpcb_zone);
	if (tp == NULL)
		return (NULL);
	memset(tp, 0, sizeof(*tp));
	tp->t_inpcb = inp;
	tp->t_stack = st;
	tp->t_state = TCPS_CLOSED;
	callout_init(&tp->t_callout);
	tp->t_maxseg = (uint32_t)V(st, tcp_mssdflt);
	tp->t_rcvmss = tp->t_maxseg;
	/* RFC 6298 2.1: RTO = 1 s (rexmit_initial) until a sample.  RTTVAR
	 * is seeded as FreeBSD does, so that the first backoff of an
	 * unmeasured connection equals FreeBSD's TCP_REXMTVAL. */
	tp->t_srtt = 0;
	tp->t_rttvar = init_ms > min_ms ? (uint32_t)((init_ms - min_ms) * 1000 / 4) : 0;
	tp->t_rxtcur = (uint32_t)(init_ms * 1000);
	/* Congestion control: cc_conn_init sets the initial window once the
	 * MSS is known; until then one segment, ssthresh "infinite". */
	tp->snd_cwnd = (uint32_t)TCP_MAXWIN << TCP_MAX_WINSHIFT;
	tp->snd_ssthresh = (uint32_t)TCP_MAXWIN << TCP_MAX_WINSHIFT;
	if (cc_attach(tp, cc_default_algo(st)) != 0) {
		ust_zone_free(st->st_tcp->ts_tcpcb_zone, tp);
		return (NULL);
	}
	/* RFC 7323: ask for window scaling and timestamps per rfc1323
	 * (1 both, 2 scaling only, 3 timestamps only). */
	switch (V(st, tcp_do_rfc1323)) {
	case 1:
		tp->t_flags |= TF_REQ_SCALE | TF_REQ_TSTMP;
		break;
	case 2:
		tp->t_flags |= TF_REQ_SCALE;
		break;
	case 3:
		tp->t_flags |= TF_REQ_TSTMP;
		break;
	default:
		break;
	}
	/* RFC 2018 2: offer SACK; cleared when the peer's SYN lacks it. */
	if (V(st, tcp_do_sack))
		tp->t_flags |= TF_SACK_PERMIT;
	/* RFC 7323 5.4: a random offset per connection hides the clock. */
	if (V(st, tcp_ts_offset_per_conn))
		tp->ts_offset = ust_rng_u32(&st->st_rng);
	tp->t_starttime = stack_now(st);
	tp->t_rcvtime = tp->t_starttime;
	inp->inp_ppcb = tp;
	tcp_fb_attach(tp, tcp_fb_default(st));
	return (tp);
}

struct tcpcb *
tcp_close(struct tcpcb *tp)
{
	struct ust_stack *st = tp->t_stack;
	struct inpcb *inp = tp->t_inpcb;
	struct socket *so = inp != NULL ? inp->inp_socket : NULL;

	tcp_timer_stop_all(tp);
	tcp_reass_flush(tp);
	tcp_free_sackholes(tp);
	tcp_fb_detach(tp);
	cc_detach(tp);
#if UST_TCP_TFO
	tcp_fastopen_tcpcb_free(tp);
#endif
	tp->t_state = TCPS_CLOSED;
	if (inp != NULL)
		inp->inp_ppcb = NULL;
	tcp_output_unqueue(tp);
	ust_zone_free(st->st_tcp->ts_tcpcb_zone, tp);
	TCPSTAT_INC(st, tcps_closed);
	if (inp != NULL)
		in_pcbfree(inp); /* clears so->so_pcb */
	if (so == NULL)
		return (NULL);
	soisdisconnected(so);
	if (so->so_state & SS_PROTOREF) {
		/* The user closed it and we held it: let it go. */
		so->so_state &= ~SS_PROTOREF;
		sofree(so);
	} else if (so->so_head != NULL && so->so_qstate == SQ_INCOMP &&
	    (so->so_state & SS_NOFDREF)) {
		/* An embryonic connection on a listener's queue. */
		sofree(so);
	}
	return (NULL);
}

struct tcpcb *
tcp_drop(struct tcpcb *tp, int error)
{
	struct ust_stack *st = tp->t_stack;
	struct socket *so = tp->t_inpcb != NULL ? tp->t_inpcb->inp_socket : NULL;

	if (TCPS_HAVERCVDSYN(tp->t_state)) {
		/* RFC 9293 3.10.7 (ABORT): <SEQ=SND.NXT><CTL=RST>. */
		if (tp->t_state != TCPS_TIME_WAIT)
			tcp_respond(st, tp, NULL, tp->rcv_nxt, tp->snd_nxt, TH_RST | TH_ACK);
		tp->t_state = TCPS_CLOSED;
		TCPSTAT_INC(st, tcps_drops);
	} else
		TCPSTAT_INC(st, tcps_conndrops);
	if (error == UST_ETIMEDOUT && tp->t_softerror != 0)
		error = (int)tp->t_softerror;
	if (so != NULL && error != 0)
		soseterror(so, error);
	return (tcp_close(tp));
}

/* Whether the peer of inp is one of our own addresses. */
static int
tcp_peer_islocal(struct ust_stack *st, const struct inpcb *inp)
{
#if UST_INET6
	if (inp->inp_vflag & INP_IPV6)
		return (in6_localip(st, &inp->in6p_faddr));
#endif
	return (in_localip(st, inp->inp_faddr));
}

/*
 * RFC 9293 3.6: TIME_WAIT for 2 * MSL; FreeBSD skips it for a peer that
 * is one of our own addresses (nolocaltimewait).
 */
void
tcp_twstart(struct tcpcb *tp)
{
	struct ust_stack *st = tp->t_stack;
	struct inpcb *inp = tp->t_inpcb;
	struct socket *so = inp != NULL ? inp->inp_socket : NULL;

	if (V(st, tcp_nolocaltimewait) && inp != NULL && tcp_peer_islocal(st, inp)) {
		(void)tcp_close(tp);
		return;
	}
	tp->t_state = TCPS_TIME_WAIT;
	tcp_timer_stop_all(tp);
	tcp_reass_flush(tp);
	tp->t_flags &= ~(TF_DELACK | TF_NEEDFIN | TF_NEEDSYN);
	tcp_timer_activate(tp, TT_2MSL, 2ull * (uint64_t)V(st, tcp_msl) * NS_PER_MS);
	if (so == NULL)
		return;
	soisdisconnected(so);
	if (so->so_state & SS_NOFDREF) {
		/* Nobody will read it any more: the socket goes, the
		 * connection stays for its 2MSL. */
		inp->inp_socket = NULL;
		if (so->so_pcb == inp)
			so->so_pcb = NULL;
		so->so_state &= ~SS_PROTOREF;
		sofree(so);
	}
}

/*
 * The PCB zones are full: end the TIME_WAIT connection nearest its 2MSL
 * deadline to make room, as FreeBSD did while TIME_WAIT had a zone of its
 * own (tcp_tw_2msl_scan reused the oldest once net.inet.tcp.maxtcptw was
 * reached).  TIME_WAIT guards a new incarnation of the same four-tuple
 * against old duplicates (RFC 9293 3.6.1), but a board whose zones hold
 * 30 connections would otherwise refuse every new one for up to 2MSL
 * after a burst of short connections it closed first.  Returns 1 when it
 * freed one.
 */
int
tcp_tw_reclaim(struct ust_stack *st)
{
	struct inpcb *inp, *oldest = NULL;
	struct tcpcb *tp;

	if (st->st_tcbinfo == NULL)
		return (0);
	for (inp = st->st_tcbinfo->ipi_list; inp != NULL; inp = inp->inp_list.next) {
		tp = inp->inp_ppcb;
		if (tp == NULL || tp->t_state != TCPS_TIME_WAIT)
			continue;
		if (oldest == NULL ||
		    tp->t_timers[TT_2MSL] < ((struct tcpcb *)oldest->inp_ppcb)->t_timers[TT_2MSL])
			oldest = inp;
	}
	if (oldest == NULL)
		return (0);
	TCPSTAT_INC(st, tcps_tw_reclaims);
	(void)tcp_close(oldest->inp_ppcb);
	return (1);
}

/* ---------------------------------------------------------------------
 * TCP options on the wire (tcp.h).
 * ------------------------------------------------------------------- */
/* tcp.h says what these do: one copy for tcp_input, tcp_output,
 * tcp_respond and the syncache. */
int
tcp_opts_parse(const uint8_t *cp, size_t len, int is_syn, struct tcpopt *to)
{
	size_t optlen;

	memset(to, 0, sizeof(*to));
	while (len > 0) {
		uint8_t opt = cp[0];

		if (opt == TCPOPT_EOL)
			break;
		if (opt == TCPOPT_NOP) {
			cp++;
			len--;
			continue;
		}
		if (len < 2)
			return (1);
		optlen = cp[1];
		if (optlen < 2 || optlen > len)
			return (1);
		switch (opt) {
		case TCPOPT_MAXSEG:
			if (optlen == TCPOLEN_MAXSEG && is_syn) {
				to->to_flags |= TOF_MSS;
				to->to_mss = be16dec(cp + 2);
			}
			break;
#if UST_TCP_RFC1323
		case TCPOPT_WINDOW:
			if (optlen == TCPOLEN_WINDOW && is_syn) {
				to->to_flags |= TOF_SCALE;
				to->to_wscale = cp[2];
			}
			break;
#endif
#if UST_TCP_SACK
		case TCPOPT_SACK_PERMITTED:
			if (optlen == TCPOLEN_SACK_PERMITTED && is_syn)
				to->to_flags |= TOF_SACKPERM;
			break;
#endif
#if UST_TCP_RFC1323
		case TCPOPT_TIMESTAMP:
			if (optlen == TCPOLEN_TIMESTAMP) {
				to->to_flags |= TOF_TS;
				to->to_tsval = be32dec(cp + 2);
				to->to_tsecr = be32dec(cp + 6);
			}
			break;
#endif
#if UST_TCP_SACK
		case TCPOPT_SACK: {
			unsigned i, n;

			if (optlen <= 2 || (optlen - 2) % TCPOLEN_SACK != 0 || is_syn)
				break;
			n = (unsigned)((optlen - 2) / TCPOLEN_SACK);
			if (n > TCP_MAX_SACK)
				n = TCP_MAX_SACK;
			for (i = 0; i < n; i++) {
				to->to_sacks[i].start = be32dec(cp + 2 + i * 8);
				to->to_sacks[i].end = be32dec(cp + 6 + i * 8);
			}
			to->to_nsacks = (uint8_t)n;
			to->to_flags |= TOF_SACK;
			break;
		}
#endif
#if UST_TCP_TFO
		case 34: /* TCPOPT_FAST_OPEN (RFC 7413 2): SYN and SYN-ACK only */
			if (is_syn) {
				to->to_flags |= TOF_FASTOPEN;
				to->to_tfo_len = (uint8_t)(optlen - 2);
				memcpy(to->to_tfo_cookie, cp + 2,
				    optlen - 2 > 16 ? 16 : optlen - 2);
			}
			break;
#endif
#if UST_TCP_SIGNATURE
		case TCPOPT_SIGNATURE:
			/* RFC 2385 2.0; checked in tcp_input once the
			 * connection is known. */
			if (optlen == TCPOLEN_SIGNATURE) {
				to->to_flags |= TOF_SIGNATURE;
				memcpy(to->to_sig, cp + 2, TCP_SIGLEN);
			}
			break;
#endif
		default:
			break;
		}
		cp += optlen;
		len -= optlen;
	}
	return (0);
}

unsigned
tcp_opts_write(uint8_t *optp, const struct tcpopt *to)
{
	unsigned optlen = 0;

#define TCP_OPT_PAD(cond)                            \
	do {                                         \
		while (cond)                         \
			optp[optlen++] = TCPOPT_NOP; \
	} while (0)
	if (to->to_flags & TOF_MSS) {
		optp[optlen] = TCPOPT_MAXSEG;
		optp[optlen + 1] = TCPOLEN_MAXSEG;
		be16enc(optp + optlen + 2, to->to_mss);
		optlen += TCPOLEN_MAXSEG;
	}
#if UST_TCP_RFC1323
	if (to->to_flags & TOF_SCALE) {
		TCP_OPT_PAD(optlen == 0 || optlen % 2 != 1);
		optp[optlen] = TCPOPT_WINDOW;
		optp[optlen + 1] = TCPOLEN_WINDOW;
		optp[optlen + 2] = to->to_wscale;
		optlen += TCPOLEN_WINDOW;
	}
#endif
#if UST_TCP_SACK
	if (to->to_flags & TOF_SACKPERM) {
		TCP_OPT_PAD(optlen % 2 != 0);
		optp[optlen] = TCPOPT_SACK_PERMITTED;
		optp[optlen + 1] = TCPOLEN_SACK_PERMITTED;
		optlen += TCPOLEN_SACK_PERMITTED;
	}
#endif
#if UST_TCP_RFC1323
	if (to->to_flags & TOF_TS) {
		TCP_OPT_PAD(optlen == 0 || optlen % 4 != 2);
		optp[optlen] = TCPOPT_TIMESTAMP;
		optp[optlen + 1] = TCPOLEN_TIMESTAMP;
		be32enc(optp + optlen + 2, to->to_tsval);
		be32enc(optp + optlen + 6, to->to_tsecr);
		optlen += TCPOLEN_TIMESTAMP;
	}
#endif
#if UST_TCP_SIGNATURE
	/* RFC 2385 2.0: 18 bytes at 2 mod 4 (FreeBSD's NOP, NOP before it);
	 * the digest is zero until tcp_md5_sign fills it. */
	if (to->to_flags & TOF_SIGNATURE) {
		TCP_OPT_PAD(optlen == 0 || optlen % 4 != 2);
		optp[optlen] = TCPOPT_SIGNATURE;
		optp[optlen + 1] = TCPOLEN_SIGNATURE;
		memset(optp + optlen + 2, 0, TCP_SIGLEN);
		optlen += TCPOLEN_SIGNATURE;
	}
#endif
#if UST_TCP_SACK
	if ((to->to_flags & TOF_SACK) && to->to_nsacks > 0) {
		unsigned i, n;

		TCP_OPT_PAD(optlen % 4 != 2);
		n = (TCP_MAXOLEN - optlen - 2) / TCPOLEN_SACK;
		if (n > to->to_nsacks)
			n = to->to_nsacks;
		if (n > 0) {
			optp[optlen] = TCPOPT_SACK;
			optp[optlen + 1] = (uint8_t)(2 + n * TCPOLEN_SACK);
			for (i = 0; i < n; i++) {
				be32enc(optp + optlen + 2 + i * 8, to->to_sacks[i].start);
				be32enc(optp + optlen + 6 + i * 8, to->to_sacks[i].end);
			}
			optlen += 2 + n * TCPOLEN_SACK;
		}
	}
#endif
#if UST_TCP_TFO
	/* RFC 7413 2: after the timestamps, at an even offset, when it fits. */
	if ((to->to_flags & TOF_FASTOPEN) && to->to_tfo_len <= 16 &&
	    optlen + (optlen % 2) + 2u + to->to_tfo_len <= TCP_MAXOLEN) {
		TCP_OPT_PAD(optlen % 2 != 0);
		optp[optlen] = 34;
		optp[optlen + 1] = (uint8_t)(2 + to->to_tfo_len);
		memcpy(optp + optlen + 2, to->to_tfo_cookie, to->to_tfo_len);
		optlen += 2u + to->to_tfo_len;
	}
#endif
#undef TCP_OPT_PAD
	while (optlen % 4 != 0)
		optp[optlen++] = TCPOPT_EOL;
	return (optlen);
}

/* ---------------------------------------------------------------------
 * Control segments.
 * ------------------------------------------------------------------- */

/* A header mbuf for hlen bytes of TCP header with as much of
 * UST_MAX_HDR leading space as fits (ip_output prepends the rest). */
struct mbuf *
tcp_hdr_mbuf(struct ust_stack *st, uint32_t hlen)
{
	struct mbuf *m;
	uint32_t lead = UST_MAX_HDR;

	if ((m = m_gethdr(&st->st_mbz, MT_HEADER)) == NULL)
		return (NULL);
	if (lead + hlen > MHLEN)
		lead = (MHLEN - hlen) & ~7u;
	/* m_reserve() without the call: a fresh header mbuf, internal
	 * storage, lead < MHLEN. */
	m->m_data = m->m_dat + lead;
	return (m);
}

/* Our receive window for a segment we send (not for RSTs): what the
 * buffer has room for, never less than what we already offered, scaled. */
uint32_t
tcp_rcv_window(const struct tcpcb *tp)
{
	const struct socket *so = tp->t_inpcb != NULL ? tp->t_inpcb->inp_socket : NULL;
	long space = so != NULL ? sbspace(&so->so_rcv) : 0;
	uint32_t win, adv;

	if (space < 0)
		space = 0;
	win = (uint32_t)space;
	if (win > (uint32_t)TCP_MAXWIN << tp->rcv_scale)
		win = (uint32_t)TCP_MAXWIN << tp->rcv_scale;
	if (TCPS_HAVERCVDSYN(tp->t_state) && SEQ_GT(tp->rcv_adv, tp->rcv_nxt)) {
		adv = tp->rcv_adv - tp->rcv_nxt;
		if (win < adv)
			win = adv;
	}
	return (win);
}

void
tcp_respond(struct ust_stack *st, struct tcpcb *tp, const struct tcp_seg *seg, tcp_seq ack,
    tcp_seq seq, uint16_t flags)
{
	struct ip_out_args args;
	struct tcphdr th;
	struct tcpopt to;
	struct mbuf *m;
	uint8_t *p, opt[TCP_MAXOLEN];
	uint32_t win = 0, hlen;
	const struct inpcb *inp = tp != NULL ? tp->t_inpcb : NULL;
	/* TCP over UDP: an answer goes the way the segment came. */
	uint16_t port = seg != NULL ? seg->port : (tp != NULL ? tp->t_port : 0);

	memset(&args, 0, sizeof(args));
	memset(&th, 0, sizeof(th));
	memset(&to, 0, sizeof(to));
	if (seg != NULL) {
		args.src = seg->inc.inc_laddr;
		args.dst = seg->inc.inc_faddr;
		th.th_sport = seg->th.th_dport;
		th.th_dport = seg->th.th_sport;
	} else if (inp != NULL) {
		args.src = inp->inp_laddr;
		args.dst = inp->inp_faddr;
		th.th_sport = ntohs(inp->inp_lport);
		th.th_dport = ntohs(inp->inp_fport);
	} else
		return;
	if (tp != NULL) {
		if (!(flags & TH_RST))
			win = tcp_rcv_window(tp) >> tp->rcv_scale;
		/* RFC 7323 3.2: timestamps on every segment once agreed. */
		if ((tp->t_flags & TF_RCVD_TSTMP) && !(tp->t_flags & TF_NOOPT)) {
			to.to_flags |= TOF_TS;
			to.to_tsval = tcp_ts_getticks(st) + tp->ts_offset;
			to.to_tsecr = tp->ts_recent;
		}
	}
	if (win > TCP_MAXWIN)
		win = TCP_MAXWIN;
#if UST_TCP_SIGNATURE
	/* RFC 2385: a signed connection signs its RSTs and ACKs too. */
	if (tp != NULL && (tp->t_flags & TF_SIGNATURE))
		to.to_flags |= TOF_SIGNATURE;
#endif
	hlen = TCP_HDR_MIN + tcp_opts_write(opt, &to);
	if ((m = tcp_hdr_mbuf(st, hlen)) == NULL) {
		TCPSTAT_INC(st, tcps_rcvmemdrop);
		return;
	}
	p = mtod(m, uint8_t *);
	memcpy(p + TCP_HDR_MIN, opt, hlen - TCP_HDR_MIN);
	th.th_seq = seq;
	th.th_ack = (flags & TH_ACK) ? ack : 0;
	th.th_off = (uint8_t)(hlen / 4);
	th.th_flags = flags;
	th.th_win = (uint16_t)win;
	tcp_hdr_write(p, &th);
	m->m_len = hlen;
	m->m_pkthdr.len = hlen;
#if UST_TCP_SIGNATURE
	if ((to.to_flags & TOF_SIGNATURE) &&
	    tcp_md5_sign(st, seg != NULL ? &seg->inc : &inp->inp_inc, p, hlen, m, hlen, 0) != 0) {
		m_freem(m);
		return;
	}
#endif
#if UST_INET6
	if (seg != NULL ? inc_isipv6(&seg->inc) : (inp->inp_vflag & INP_IPV6) != 0) {
		TCPSTAT_INC(st, tcps_sndtotal);
		if (flags & (TH_RST | TH_SYN | TH_FIN))
			TCPSTAT_INC(st, tcps_sndctrl);
		else
			TCPSTAT_INC(st, tcps_sndacks);
#if UST_TCP_TUNNEL
		if (port != 0) {
			(void)tcp_udp_tunnel_output6(st, m, seg != NULL ? &seg->inc : &inp->inp_inc,
			    inp != NULL ? inp->inp_ip_ttl : 0, inp != NULL ? inp->inp_ip_tos : 0,
			    NULL, port);
			return;
		}
#endif
		(void)tcp6_output_seg(st, m, seg != NULL ? &seg->inc : &inp->inp_inc,
		    inp != NULL ? inp->inp_ip_ttl : 0, inp != NULL ? inp->inp_ip_tos : 0, NULL,
		    NULL);
		return;
	}
#endif
	be16enc(p + 16, in4_cksum(m, IPPROTO_TCP, 0, hlen, args.src, args.dst));
	args.proto = IPPROTO_TCP;
	if (inp != NULL) {
		args.ttl = inp->inp_ip_ttl;
		args.tos = inp->inp_ip_tos;
	}
	TCPSTAT_INC(st, tcps_sndtotal);
	if (flags & (TH_RST | TH_SYN | TH_FIN))
		TCPSTAT_INC(st, tcps_sndctrl);
	else
		TCPSTAT_INC(st, tcps_sndacks);
#if UST_TCP_TUNNEL
	if (port != 0) {
		(void)tcp_udp_tunnel_output(st, m, &args, port);
		return;
	}
#endif
	(void)port;
	(void)tcp_ip_output(st, m, &args);
}

/*
 * RFC 5961 7: challenge ACKs are rate limited per stack to ack_war_cnt
 * per ack_war_timewindow milliseconds (0 either: no limit).
 */
void
tcp_send_challenge_ack(struct tcpcb *tp, const struct tcp_seg *seg)
{
	struct ust_stack *st = tp->t_stack;
	struct tcp_state *ts = st->st_tcp;
	uint64_t now = stack_now(st), win = (uint64_t)V(st, tcp_ack_war_timewindow) * NS_PER_MS;
	int64_t cnt = V(st, tcp_ack_war_cnt);

	if (cnt > 0 && win > 0) {
		if (now - ts->ts_ack_war_start >= win) {
			ts->ts_ack_war_start = now;
			ts->ts_ack_war_count = 0;
		}
		if ((int64_t)ts->ts_ack_war_count >= cnt) {
			TCPSTAT_INC(st, tcps_challenge_ack_limited);
			return;
		}
		ts->ts_ack_war_count++;
	}
	TCPSTAT_INC(st, tcps_challenge_ack);
	/* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> */
	tcp_respond(st, tp, seg, tp->rcv_nxt, tp->snd_nxt, TH_ACK);
}

/* ---------------------------------------------------------------------
 * ICMP (RFC 1122 4.2.3.9, RFC 5927, RFC 1191).
 * ------------------------------------------------------------------- */

/* RFC 1191 / FreeBSD tcp_mtudisc: a smaller path MTU for our segments. */
static void
tcp_mtudisc(struct tcpcb *tp, uint32_t mtu)
{
	struct ust_stack *st = tp->t_stack;
	uint32_t mss;

	if (mtu <= tcp_hdrlen(&tp->t_inpcb->inp_inc))
		return;
	mss = tcp_tunnel_mss(st, tp->t_port, mtu - tcp_hdrlen(&tp->t_inpcb->inp_inc));
	if (mss < (uint32_t)V(st, tcp_minmss))
		mss = (uint32_t)V(st, tcp_minmss);
	if (mss >= tp->t_maxseg)
		return;
	tp->t_maxseg = mss;
	if (!TCPS_HAVEESTABLISHED(tp->t_state) || tp->t_state == TCPS_TIME_WAIT)
		return;
	/* Resend what was lost to the smaller MTU, without an RTT sample. */
	TCPSTAT_INC(st, tcps_mturesent);
	tp->t_rtttime = 0;
	tp->snd_nxt = tp->snd_una;
	(void)tcp_output(tp);
}

/* Errors FreeBSD treats as hard in SYN_SENT (icmp_may_rst): the peer's
 * port, protocol, administrative prohibition, TTL exceeded.  0: soft or
 * ignored. */
static int
tcp_icmp_harderr(const struct icmp_ctl *ctl)
{
	if (ctl->type == ICMP_UNREACH) {
		switch (ctl->code) {
		case ICMP_UNREACH_PROTOCOL:
		case ICMP_UNREACH_PORT:
		case ICMP_UNREACH_NET_PROHIB:
		case ICMP_UNREACH_HOST_PROHIB:
		case ICMP_UNREACH_FILTER_PROHIB:
			return (UST_ECONNREFUSED);
		default:
			return (0);
		}
	}
	if (ctl->type == ICMP_TIMXCEED && ctl->code == ICMP_TIMXCEED_INTRANS)
		return (UST_EHOSTUNREACH);
	return (0);
}

static int
tcp_icmp_softerr(const struct icmp_ctl *ctl)
{
	if (ctl->type == ICMP_UNREACH) {
		switch (ctl->code) {
		case ICMP_UNREACH_NET:
		case ICMP_UNREACH_NET_UNKNOWN:
		case ICMP_UNREACH_TOSNET:
			return (UST_ENETUNREACH);
		case ICMP_UNREACH_NEEDFRAG:
			return (0);
		default:
			return (UST_EHOSTUNREACH);
		}
	}
	if (ctl->type == ICMP_TIMXCEED)
		return (UST_EHOSTUNREACH);
	if (ctl->type == ICMP_PARAMPROB)
		return (UST_ENOPROTOOPT);
	return (0);
}

/* An ICMP error about inp's segment with sequence number seq: a packet
 * too big (needfrag, mtu), else the hard and the soft error it maps to
 * (0: none). */
static void
tcp_ctlinput_inp(struct ust_stack *st, struct inpcb *inp, tcp_seq seq, int needfrag, uint32_t mtu,
    int harderr, int softerr, uint16_t port)
{
	struct tcpcb *tp = intotcpcb(inp);

	if (tp == NULL || tp->t_state == TCPS_LISTEN || tp->t_state == TCPS_TIME_WAIT)
		return;
	/* TCP over UDP: the error must quote what this connection sends,
	 * to its UDP port, or plain TCP for a plain one (FreeBSD). */
	if (tp->t_port != port)
		return;
	/* RFC 5927 4.1: act only when the quoted sequence number is one we
	 * have sent and not seen acknowledged. */
	if (SEQ_LT(seq, tp->snd_una) || SEQ_GEQ(seq, tp->snd_max))
		return;
	if (needfrag) {
		/* RFC 1191: an MTU of 0 (old routers) or not smaller than
		 * what we use now says nothing. */
		if (mtu != 0 && V(st, tcp_path_mtu_discovery))
			tcp_mtudisc(tp, mtu);
		return;
	}
	if (tp->t_state == TCPS_SYN_SENT && V(st, tcp_icmp_may_rst) && harderr != 0) {
		(void)tcp_drop(tp, harderr);
		return;
	}
	/* RFC 1122 4.2.3.9: soft errors are remembered and reported only
	 * if the connection times out (FreeBSD tcp_notify: a handshake
	 * that keeps failing is dropped after a few retransmissions). */
	if (softerr == 0)
		return;
	if (tp->t_state < TCPS_ESTABLISHED && tp->t_rxtshift > 3 && tp->t_softerror != 0) {
		(void)tcp_drop(tp, softerr);
		return;
	}
	tp->t_softerror = (uint32_t)softerr;
}

void
tcp_ctlinput(struct ust_stack *st, const struct icmp_ctl *ctl)
{
	tcp_ctlinput_with_port(st, ctl, 0);
}

void
tcp_ctlinput_with_port(struct ust_stack *st, const struct icmp_ctl *ctl, uint16_t port)
{
	struct inpcb *inp;
	uint16_t sport, dport;
	tcp_seq seq;

	if (st->st_tcbinfo == NULL || ctl->proto != IPPROTO_TCP || ctl->l4 == NULL ||
	    ctl->l4len < 8)
		return;
	/* The quoted header is ours: source port ours, sequence ours. */
	sport = be16dec(ctl->l4);
	dport = be16dec(ctl->l4 + 2);
	seq = be32dec(ctl->l4 + 4);
	inp = in_pcblookup(st->st_tcbinfo, ctl->dst, htons(dport), ctl->src, htons(sport), 0);
	if (inp == NULL) {
		/* Maybe a SYN-ACK of a connection in the syncache. */
		syncache_unreach(st, ctl);
		return;
	}
	tcp_ctlinput_inp(st, inp, seq,
	    ctl->type == ICMP_UNREACH && ctl->code == ICMP_UNREACH_NEEDFRAG, ctl->mtu,
	    tcp_icmp_harderr(ctl), tcp_icmp_softerr(ctl), port);
}

#if UST_INET6
/* FreeBSD's icmp6_errmap for TCP: the hard errors icmp_may_rst acts on in
 * SYN_SENT (port unreachable, administratively prohibited, unrecognized
 * next header, hop limit exceeded) and the soft ones remembered. */
static int
tcp6_icmp_harderr(const struct ip6ctlparam *ctl)
{
	switch (ctl->type) {
	case ICMP6_DST_UNREACH:
		if (ctl->code == ICMP6_DST_UNREACH_ADMIN || ctl->code == ICMP6_DST_UNREACH_NOPORT)
			return (UST_ECONNREFUSED);
		return (0);
	case ICMP6_PARAM_PROB:
		return (ctl->code == ICMP6_PARAMPROB_NEXTHEADER ? UST_ECONNREFUSED : 0);
	case ICMP6_TIME_EXCEEDED:
		return (ctl->code == ICMP6_TIME_EXCEED_TRANSIT ? UST_EHOSTUNREACH : 0);
	default:
		return (0);
	}
}

static int
tcp6_icmp_softerr(const struct ip6ctlparam *ctl)
{
	switch (ctl->type) {
	case ICMP6_DST_UNREACH:
		if (ctl->code == ICMP6_DST_UNREACH_ADMIN || ctl->code == ICMP6_DST_UNREACH_NOPORT)
			return (UST_ECONNREFUSED);
		return (UST_EHOSTUNREACH);
	case ICMP6_TIME_EXCEEDED:
		return (UST_EHOSTUNREACH);
	case ICMP6_PARAM_PROB:
		return (
		    ctl->code == ICMP6_PARAMPROB_NEXTHEADER ? UST_ECONNREFUSED : UST_ENOPROTOOPT);
	default:
		return (0);
	}
}

void
tcp6_ctlinput(struct ust_stack *st, const struct ip6ctlparam *ctl)
{
	tcp6_ctlinput_with_port(st, ctl, 0);
}

void
tcp6_ctlinput_with_port(struct ust_stack *st, const struct ip6ctlparam *ctl, uint16_t port)
{
	struct inpcb *inp;
	uint16_t sport, dport;
	tcp_seq seq;

	if (st->st_tcbinfo == NULL || ctl->nxt != IPPROTO_TCP || ctl->l4 == NULL || ctl->l4len < 8)
		return;
	/* The quoted header is ours: source port ours, sequence ours. */
	sport = be16dec(ctl->l4);
	dport = be16dec(ctl->l4 + 2);
	seq = be32dec(ctl->l4 + 4);
	inp = in6_pcblookup(st->st_tcbinfo, &ctl->dst, htons(dport), &ctl->src, htons(sport), 0,
	    ctl->zoneid != 0 ? ifnet_byindex(st, ctl->zoneid) : NULL);
	if (inp == NULL) {
		syncache_unreach6(st, ctl);
		return;
	}
	/* RFC 8201 4: a packet too big below the minimum MTU is ignored. */
	if (ctl->type == ICMP6_PACKET_TOO_BIG && ctl->mtu < IPV6_MMTU)
		return;
	/* RFC 8201 4: the path MTU itself is ip6's (pmtu6_update, done
	 * by icmp6_input); TCP shrinks its segments. */
	tcp_ctlinput_inp(st, inp, seq, ctl->type == ICMP6_PACKET_TOO_BIG, ctl->mtu,
	    tcp6_icmp_harderr(ctl), tcp6_icmp_softerr(ctl), port);
}
#endif
