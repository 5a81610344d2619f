/*
 * tcp_fastopen.c - TCP Fast Open (RFC 7413), FreeBSD's design
 * (tcp_fastopen.h has the overview; docs/tcp.md the knobs and use).
 *
 *   setsockopt(TCP_FASTOPEN) -> tcp_fastopen_ctloutput
 *   client: tcp_connect_start -> tcp_fastopen_connect (cookie cache) ->
 *       tcp_output (tcp_fastopen_syn_opt, tcp_fastopen_syn_len) ->
 *       tcp_do_syn_sent -> tcp_fastopen_client_synack (cache, SYN data
 *       acked or sent again, path disabled on failure)
 *   server: tcp_input_listen -> tcp_fastopen_listen_syn -> [valid cookie:
 *       connection now (tcp_synrcvd_init), data to so_rcv,
 *       SYN-ACK from tcp_output | request or bad cookie: syncache_add with
 *       to_tfo_reply -> syncache_respond -> tcp_fastopen_reply_opt]
 *
 * Per-stack state (struct tfo_state, st->st_tfo): the server keys and
 * PSKs, the client cookie cache (hash buckets of entries from a zone, at
 * most ccache_bucket_limit per bucket, least recently used first to go).
 * No per-packet allocation outside the zone; the key rotation (autokey) is
 * done lazily when a cookie is made or checked.
 */
#include <string.h>
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "kern/sysctl.h"
#include "netinet/tcp_var.h"
#include "netinet/cc/cc.h"
#include "netinet/tcp_fastopen.h"

#if UST_TCP_TFO

#define MS_TO_NS(ms) ((uint64_t)(ms)*1000000ull)
#define S_TO_NS(s) ((uint64_t)(s)*1000000000ull)

struct tfo_ccache_entry {
	struct tfo_ccache_entry *ce_next;
	uint8_t ce_isv6;
	uint8_t ce_cookie_len; /* 0: no cookie (a request is due) */
	uint16_t ce_port;      /* the server's, network order */
	uint16_t ce_mss;       /* the server's MSS option, 0: none */
	uint8_t ce_addr[16];   /* the server's address */
	uint8_t ce_cookie[TCP_FASTOPEN_MAX_COOKIE_LEN];
	uint64_t ce_disable_until; /* stack time: no TFO to it before this */
};

struct tfo_ccache_bucket {
	struct tfo_ccache_entry *cb_first; /* most recently used first */
	uint32_t cb_count;
};

struct tfo_state {
	uint64_t tfo_keys[TCP_FASTOPEN_MAX_KEYS][2]; /* newest at tfo_keys[tfo_keynext - 1] */
	uint64_t tfo_psks[TCP_FASTOPEN_MAX_PSKS][2];
	uint32_t tfo_nkeys, tfo_keynext, tfo_npsks, tfo_psknext;
	uint64_t tfo_autokey_at; /* stack time of the last automatic key */
	int64_t tfo_client_seen; /* client_enable as last seen */
	struct tfo_ccache_bucket *tfo_cc;
	uint32_t tfo_ccmask; /* buckets - 1 */
	uint32_t tfo_cccount;
	uint64_t tfo_cckey[2];
	struct ust_zone *tfo_cczone;
};

static int tfo_cookie_len_valid(unsigned len);
static int tfo_cc_alloc(struct ust_stack *st);

/* ---------------------------------------------------------------------
 * Keys and cookies.
 * ------------------------------------------------------------------- */

static void
tfo_key_words(const uint8_t key[TCP_FASTOPEN_KEY_LEN], uint64_t w[2])
{
	unsigned i;

	w[0] = w[1] = 0;
	for (i = 0; i < 8; i++) {
		w[0] |= (uint64_t)key[i] << (8 * i);
		w[1] |= (uint64_t)key[8 + i] << (8 * i);
	}
}

uint64_t
tcp_fastopen_siphash(const uint8_t key[TCP_FASTOPEN_KEY_LEN], const uint8_t *in, size_t len)
{
	uint64_t w[2];

	tfo_key_words(key, w);
	return (tcp_siphash24(w, in, len));
}

static void
tfo_put64le(uint8_t *p, uint64_t v)
{
	unsigned i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
tfo_sync_counts(struct ust_stack *st)
{
	struct tfo_state *ts = st->st_tfo;

	V(st, tcp_fastopen_numkeys) = ts->tfo_nkeys;
	V(st, tcp_fastopen_numpsks) = ts->tfo_npsks;
}

static void
tfo_addkey(struct ust_stack *st, const uint64_t w[2], int psk)
{
	struct tfo_state *ts = st->st_tfo;
	uint64_t(*ring)[2] = psk ? ts->tfo_psks : ts->tfo_keys;
	uint32_t *next = psk ? &ts->tfo_psknext : &ts->tfo_keynext;
	uint32_t *n = psk ? &ts->tfo_npsks : &ts->tfo_nkeys;
	uint32_t max = psk ? TCP_FASTOPEN_MAX_PSKS : TCP_FASTOPEN_MAX_KEYS;

	ring[*next % max][0] = w[0];
	ring[*next % max][1] = w[1];
	*next = (*next + 1) % max;
	if (*n < max)
		(*n)++;
	tfo_sync_counts(st);
}

/* FreeBSD's autokey: a new random key every autokey seconds, the newest
 * maxkeys kept so that cookies made with the previous one still pass. */
static void
tfo_autokey(struct ust_stack *st)
{
	struct tfo_state *ts = st->st_tfo;
	uint64_t now = stack_now(st), w[2];
	int64_t period = V(st, tcp_fastopen_autokey);

	if (period <= 0)
		return;
	if (ts->tfo_nkeys > 0 && now - ts->tfo_autokey_at < S_TO_NS(period))
		return;
	w[0] = ust_rng_u64(&st->st_rng);
	w[1] = ust_rng_u64(&st->st_rng);
	tfo_addkey(st, w, 0);
	ts->tfo_autokey_at = now;
}

static uint64_t
tfo_addr_hash(const uint64_t key[2], const struct in_conninfo *inc)
{
#if UST_INET6
	if (inc_isipv6(inc))
		return (tcp_siphash24(key, (const uint8_t *)&inc->inc6_faddr, 16));
#endif
	return (tcp_siphash24(key, (const uint8_t *)&inc->inc_faddr, 4));
}

/* The cookie for the client of inc with key k (8 bytes). */
static void
tfo_make_cookie(const uint64_t k[2], const struct in_conninfo *inc, uint8_t out[8])
{
	tfo_put64le(out, tfo_addr_hash(k, inc));
}

/* PSK mode: SipHash keyed with the PSK over the server cookie. */
static void
tfo_psk_cookie(const uint64_t psk[2], const uint8_t in[8], uint8_t out[8])
{
	tfo_put64le(out, tcp_siphash24(psk, in, 8));
}

/* Whether cookie (len bytes) is one we gave the client of inc. */
static int
tfo_cookie_valid(struct ust_stack *st, const struct in_conninfo *inc, const uint8_t *cookie,
    unsigned len)
{
	struct tfo_state *ts = st->st_tfo;
	uint8_t want[8], mangled[8];
	uint32_t i, j;

	if (V(st, tcp_fastopen_acceptany))
		return (tfo_cookie_len_valid(len));
	if (len != TCP_FASTOPEN_COOKIE_LEN)
		return (0);
	tfo_autokey(st);
	for (i = 0; i < ts->tfo_nkeys; i++) {
		tfo_make_cookie(ts->tfo_keys[i], inc, want);
		if (!V(st, tcp_fastopen_psk_enable)) {
			if (memcmp(want, cookie, 8) == 0)
				return (1);
			continue;
		}
		for (j = 0; j < ts->tfo_npsks; j++) {
			tfo_psk_cookie(ts->tfo_psks[j], want, mangled);
			if (memcmp(mangled, cookie, 8) == 0)
				return (1);
		}
	}
	return (0);
}

void
tcp_fastopen_reply_opt(struct ust_stack *st, const struct in_conninfo *inc, struct tcpopt *to)
{
	struct tfo_state *ts = st->st_tfo;

	if (ts == NULL)
		return;
	tfo_autokey(st);
	if (ts->tfo_nkeys == 0)
		return; /* no key: no cookie (autokey 0 and none set) */
	tfo_make_cookie(ts->tfo_keys[(ts->tfo_keynext + TCP_FASTOPEN_MAX_KEYS - 1) %
	                    TCP_FASTOPEN_MAX_KEYS],
	    inc, to->to_tfo_cookie);
	to->to_flags |= TOF_FASTOPEN;
	to->to_tfo_len = TCP_FASTOPEN_COOKIE_LEN;
	TCPSTAT_INC(st, tcps_tfo_cookie_sent);
}

static int
tfo_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* net.inet.tcp.fastopen.setkey / setpsk: 32 hex digits (16 bytes). */
int
tcp_fastopen_setkey(struct ust_stack *st, const char *hex, int psk)
{
	uint8_t key[TCP_FASTOPEN_KEY_LEN];
	uint64_t w[2];
	unsigned i;
	int hi, lo;

	if (st->st_tfo == NULL || hex == NULL)
		return (UST_EINVAL);
	for (i = 0; i < TCP_FASTOPEN_KEY_LEN; i++) {
		if ((hi = tfo_hexval(hex[2 * i])) < 0 || (lo = tfo_hexval(hex[2 * i + 1])) < 0)
			return (UST_EINVAL);
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	if (hex[2 * TCP_FASTOPEN_KEY_LEN] != '\0')
		return (UST_EINVAL);
	tfo_key_words(key, w);
	tfo_addkey(st, w, psk);
	return (0);
}

/* ---------------------------------------------------------------------
 * The client cookie cache.
 * ------------------------------------------------------------------- */

static void
tfo_inc_key(const struct in_conninfo *inc, uint8_t addr[16], uint8_t *isv6)
{
	memset(addr, 0, 16);
	*isv6 = 0;
#if UST_INET6
	if (inc_isipv6(inc)) {
		memcpy(addr, &inc->inc6_faddr, 16);
		*isv6 = 1;
		return;
	}
#endif
	memcpy(addr, &inc->inc_faddr, 4);
}

static struct tfo_ccache_bucket *
tfo_cc_bucket(struct tfo_state *ts, const uint8_t addr[16], uint16_t port)
{
	uint8_t buf[18];

	memcpy(buf, addr, 16);
	memcpy(buf + 16, &port, 2);
	return (&ts->tfo_cc[tcp_siphash24(ts->tfo_cckey, buf, sizeof(buf)) & ts->tfo_ccmask]);
}

/* The entry for inc's server, moved to the front; NULL when absent and
 * not create, or when the cache is off (bucket limit 0). */
static struct tfo_ccache_entry *
tfo_cc_find(struct ust_stack *st, const struct in_conninfo *inc, int create)
{
	struct tfo_state *ts = st->st_tfo;
	struct tfo_ccache_bucket *cb;
	struct tfo_ccache_entry *ce, **pp, **lastp = NULL;
	uint8_t addr[16], isv6;
	uint32_t limit = (uint32_t)V(st, tcp_fastopen_ccache_bucket_limit);

	if (ts == NULL || ts->tfo_cc == NULL || limit == 0)
		return (NULL);
	tfo_inc_key(inc, addr, &isv6);
	cb = tfo_cc_bucket(ts, addr, inc->inc_fport);
	for (pp = &cb->cb_first; (ce = *pp) != NULL; pp = &ce->ce_next) {
		if (ce->ce_isv6 == isv6 && ce->ce_port == inc->inc_fport &&
		    memcmp(ce->ce_addr, addr, 16) == 0) {
			*pp = ce->ce_next;
			ce->ce_next = cb->cb_first;
			cb->cb_first = ce;
			return (ce);
		}
		lastp = pp;
	}
	if (!create)
		return (NULL);
	if (cb->cb_count >= limit && lastp != NULL) {
		/* Full bucket: the least recently used entry makes room. */
		ce = *lastp;
		*lastp = NULL;
	} else {
		if ((ce = ust_zone_alloc(ts->tfo_cczone)) == NULL)
			return (NULL);
		cb->cb_count++;
		ts->tfo_cccount++;
	}
	memset(ce, 0, sizeof(*ce));
	ce->ce_isv6 = isv6;
	ce->ce_port = inc->inc_fport;
	memcpy(ce->ce_addr, addr, 16);
	ce->ce_next = cb->cb_first;
	cb->cb_first = ce;
	return (ce);
}

static int
tfo_cookie_len_valid(unsigned len)
{
	/* RFC 7413 4.1.1: 4 to 16 bytes, an even number. */
	return (len >= TCP_FASTOPEN_MIN_COOKIE_LEN && len <= TCP_FASTOPEN_MAX_COOKIE_LEN &&
	    len % 2 == 0);
}

int
tcp_fastopen_ccache_set(struct ust_stack *st, const struct in_conninfo *inc, const uint8_t *cookie,
    unsigned len, uint16_t mss)
{
	struct tfo_ccache_entry *ce;

	if (!tfo_cookie_len_valid(len))
		return (UST_EINVAL);
	if (tfo_cc_alloc(st) != 0 || (ce = tfo_cc_find(st, inc, 1)) == NULL)
		return (UST_ENOBUFS);
	memcpy(ce->ce_cookie, cookie, len);
	ce->ce_cookie_len = (uint8_t)len;
	ce->ce_mss = mss;
	ce->ce_disable_until = 0;
	return (0);
}

int
tcp_fastopen_ccache_get(struct ust_stack *st, const struct in_conninfo *inc, uint8_t *cookie,
    unsigned *len)
{
	struct tfo_ccache_entry *ce = tfo_cc_find(st, inc, 0);

	*len = 0;
	if (ce == NULL)
		return (UST_ENOENT);
	if (ce->ce_disable_until != 0 && stack_now(st) < ce->ce_disable_until)
		return (UST_EPERM);
	memcpy(cookie, ce->ce_cookie, ce->ce_cookie_len);
	*len = ce->ce_cookie_len;
	return (0);
}

/* FreeBSD's path disable: the server did not do TFO (no cookie for a
 * request, or SYN data unacknowledged without a new cookie); plain SYNs to
 * it for path_disable_time seconds, then a request again. */
void
tcp_fastopen_ccache_disable(struct ust_stack *st, const struct in_conninfo *inc)
{
	struct tfo_ccache_entry *ce = tfo_cc_find(st, inc, 1);

	TCPSTAT_INC(st, tcps_tfo_path_disabled);
	if (ce == NULL)
		return;
	ce->ce_cookie_len = 0;
	ce->ce_disable_until = stack_now(st) + S_TO_NS(V(st, tcp_fastopen_path_disable_time));
	if (ce->ce_disable_until == 0)
		ce->ce_disable_until = 1;
}

uint32_t
tcp_fastopen_ccache_count(const struct ust_stack *st)
{
	return (st->st_tfo != NULL ? st->st_tfo->tfo_cccount : 0);
}

void
tcp_fastopen_ccache_flush(struct ust_stack *st)
{
	struct tfo_state *ts = st->st_tfo;
	struct tfo_ccache_entry *ce;
	uint32_t i;

	if (ts == NULL || ts->tfo_cc == NULL)
		return;
	for (i = 0; i <= ts->tfo_ccmask; i++) {
		while ((ce = ts->tfo_cc[i].cb_first) != NULL) {
			ts->tfo_cc[i].cb_first = ce->ce_next;
			ust_zone_free(ts->tfo_cczone, ce);
		}
		ts->tfo_cc[i].cb_count = 0;
	}
	ts->tfo_cccount = 0;
}

/* ---------------------------------------------------------------------
 * Set-up.
 * ------------------------------------------------------------------- */

/* The client cookie cache, made on the first client use (a stack that
 * never opens with TFO pays nothing): buckets as the memory limit allows
 * (st_hash_buckets), entries from a zone of buckets x bucket_limit. */
static int
tfo_cc_alloc(struct ust_stack *st)
{
	struct tfo_state *ts = st->st_tfo;
	uint32_t n, want = (uint32_t)V(st, tcp_fastopen_ccache_buckets);
	uint64_t max;

	if (ts == NULL)
		return (UST_ENOMEM);
	if (ts->tfo_cc != NULL)
		return (0);
	n = st_hash_buckets(st, want, sizeof(*ts->tfo_cc));
	max = (uint64_t)n * (uint64_t)V(st, tcp_fastopen_ccache_bucket_limit);
	if (max == 0)
		max = 1;
	if (max > (1u << 24))
		max = 1u << 24;
	ts->tfo_cc = st_malloc(st, n * sizeof(*ts->tfo_cc));
	ts->tfo_cczone = ust_zone_create(&st->st_mem, "tfo_ccache", sizeof(struct tfo_ccache_entry),
	    (uint32_t)max, 0);
	if (ts->tfo_cc == NULL || ts->tfo_cczone == NULL) {
		if (ts->tfo_cc != NULL)
			st_free(st, ts->tfo_cc, n * sizeof(*ts->tfo_cc));
		if (ts->tfo_cczone != NULL)
			ust_zone_destroy(ts->tfo_cczone);
		ts->tfo_cc = NULL;
		ts->tfo_cczone = NULL;
		return (UST_ENOMEM);
	}
	memset(ts->tfo_cc, 0, n * sizeof(*ts->tfo_cc));
	ts->tfo_ccmask = n - 1;
	V(st, tcp_fastopen_ccache_buckets) = n;
	return (0);
}

int
tcp_fastopen_init(struct ust_stack *st)
{
	struct tfo_state *ts;

	if (st->st_tfo != NULL)
		return (0);
	if ((ts = st_malloc(st, sizeof(*ts))) == NULL)
		return (UST_ENOMEM);
	memset(ts, 0, sizeof(*ts));
	ts->tfo_cckey[0] = ust_rng_u64(&st->st_rng);
	ts->tfo_cckey[1] = ust_rng_u64(&st->st_rng);
	ts->tfo_client_seen = V(st, tcp_fastopen_client_enable);
	st->st_tfo = ts;
	/* No key yet: autokey makes the first when a listener enables TFO
	 * or a cookie is first made or checked. */
	tfo_sync_counts(st);
	return (0);
}

void
tcp_fastopen_fini(struct ust_stack *st)
{
	struct tfo_state *ts = st->st_tfo;

	if (ts == NULL)
		return;
	tcp_fastopen_ccache_flush(st);
	if (ts->tfo_cczone != NULL)
		ust_zone_destroy(ts->tfo_cczone);
	if (ts->tfo_cc != NULL)
		st_free(st, ts->tfo_cc, (ts->tfo_ccmask + 1) * sizeof(*ts->tfo_cc));
	st_free(st, ts, sizeof(*ts));
	st->st_tfo = NULL;
}

void
tcp_fastopen_knob_changed(struct ust_stack *st, size_t off)
{
	struct tfo_state *ts = st->st_tfo;

	if (ts == NULL || off != offsetof(struct ust_knobs, tcp_fastopen_client_enable))
		return;
	/* FreeBSD: enabling the client (0 -> 1) starts with an empty cache. */
	if (ts->tfo_client_seen == 0 && V(st, tcp_fastopen_client_enable) != 0)
		tcp_fastopen_ccache_flush(st);
	ts->tfo_client_seen = V(st, tcp_fastopen_client_enable);
}

/* ---------------------------------------------------------------------
 * The socket option.
 * ------------------------------------------------------------------- */

static void
tfo_pending_release(struct ust_stack *st, struct tfo_pending *p)
{
	if (p != NULL && --p->tp_refs == 0)
		st_free(st, p, sizeof(*p));
}

/* TCP_FASTOPEN: an int (0 off, else on) or FreeBSD's struct tcp_fastopen
 * { int enable; uint8_t psk[16]; } (a client's PSK, PSK mode).  As on
 * FreeBSD, on a listener (after listen()) it is the server's and needs
 * server_enable; on a socket not yet connected the client's, needing
 * client_enable; in any other state EINVAL. */
int
tcp_fastopen_ctloutput(struct tcpcb *tp, struct sockopt *sopt)
{
	struct ust_stack *st = tp->t_stack;
	int enable;

	if (sopt->sopt_dir == SOPT_GET) {
		enable = (tp->t_tfo_flags & TFO_ENABLED) != 0;
		if (sopt->sopt_valsize < sizeof(int))
			return (UST_EINVAL);
		memcpy(sopt->sopt_val, &enable, sizeof(int));
		sopt->sopt_valsize = sizeof(int);
		return (0);
	}
	if (sopt->sopt_valsize < sizeof(int))
		return (UST_EINVAL);
	memcpy(&enable, sopt->sopt_val, sizeof(int));
	if (tp->t_state != TCPS_CLOSED && tp->t_state != TCPS_LISTEN)
		return (UST_EINVAL);
	if (!enable) {
		tp->t_tfo_flags &= (uint8_t) ~(TFO_ENABLED | TFO_PSK);
		return (0);
	}
	if (tp->t_state == TCPS_LISTEN) {
		/* A server: after listen(), as FreeBSD. */
		if (!V(st, tcp_fastopen_server_enable))
			return (UST_EPERM);
		if (tp->t_tfo_pending == NULL) {
			/* The count of connections waiting for an ACK. */
			tp->t_tfo_pending = st_malloc(st, sizeof(*tp->t_tfo_pending));
			if (tp->t_tfo_pending == NULL)
				return (UST_ENOMEM);
			tp->t_tfo_pending->tp_pending = 0;
			tp->t_tfo_pending->tp_refs = 1;
		}
		tp->t_tfo_flags |= TFO_ENABLED;
		if (st->st_tfo != NULL)
			tfo_autokey(st);
		return (0);
	}
	/* A client (the connection not started yet). */
	if (!V(st, tcp_fastopen_client_enable))
		return (UST_EPERM);
	if (sopt->sopt_valsize >= sizeof(int) + TCP_FASTOPEN_KEY_LEN) {
		const uint8_t *psk = (const uint8_t *)sopt->sopt_val + sizeof(int);
		uint8_t zero[TCP_FASTOPEN_KEY_LEN];

		memset(zero, 0, sizeof(zero));
		if (memcmp(psk, zero, sizeof(zero)) != 0) {
			memcpy(tp->t_tfo_cookie, psk, TCP_FASTOPEN_KEY_LEN);
			tp->t_tfo_flags |= TFO_PSK;
		}
	}
	tp->t_tfo_flags |= TFO_ENABLED;
	return (0);
}

void
tcp_fastopen_synrcvd_done(struct tcpcb *tp)
{
	if (!(tp->t_tfo_flags & TFO_PENDING))
		return;
	tp->t_tfo_flags &= (uint8_t)~TFO_PENDING;
	if (tp->t_tfo_pending != NULL && tp->t_tfo_pending->tp_pending > 0)
		tp->t_tfo_pending->tp_pending--;
	tfo_pending_release(tp->t_stack, tp->t_tfo_pending);
	tp->t_tfo_pending = NULL;
}

void
tcp_fastopen_tcpcb_free(struct tcpcb *tp)
{
	if (tp->t_tfo_flags & TFO_PENDING) {
		tcp_fastopen_synrcvd_done(tp);
		return;
	}
	tfo_pending_release(tp->t_stack, tp->t_tfo_pending);
	tp->t_tfo_pending = NULL;
}

/* ---------------------------------------------------------------------
 * Client.
 * ------------------------------------------------------------------- */

void
tcp_fastopen_connect(struct tcpcb *tp)
{
	struct ust_stack *st = tp->t_stack;
	uint8_t cookie[TCP_FASTOPEN_MAX_COOKIE_LEN], psk[TCP_FASTOPEN_KEY_LEN];
	unsigned len;
	uint64_t w[2];
	int error;

	tp->t_tfo_flags &= (uint8_t) ~(TFO_COOKIE_REQ | TFO_SYN_DATA);
	if (!(tp->t_tfo_flags & TFO_ENABLED) || !V(st, tcp_fastopen_client_enable) ||
	    (tp->t_flags & TF_NOOPT))
		return;
	if (tfo_cc_alloc(st) != 0 || V(st, tcp_fastopen_ccache_bucket_limit) == 0)
		return; /* no cache, no client TFO */
	error = tcp_fastopen_ccache_get(st, &tp->t_inpcb->inp_inc, cookie, &len);
	if (error == UST_EPERM)
		return; /* the path is disabled */
	if (error != 0 || len == 0) {
		tp->t_tfo_flags |= TFO_COOKIE_REQ;
		TCPSTAT_INC(st, tcps_tfo_cookie_req);
		return;
	}
	if (tp->t_tfo_flags & TFO_PSK) {
		/* PSK mode: what goes is SipHash keyed with the PSK over the
		 * server's cookie (8 bytes, as the server checks it). */
		memcpy(psk, tp->t_tfo_cookie, sizeof(psk));
		tfo_key_words(psk, w);
		tfo_put64le(tp->t_tfo_cookie, tcp_siphash24(w, cookie, len));
		len = 8;
	} else
		memcpy(tp->t_tfo_cookie, cookie, len);
	tp->t_tfo_cookie_len = (uint8_t)len;
	tp->t_tfo_flags |= TFO_SYN_DATA;
}

uint32_t
tcp_fastopen_syn_len(const struct tcpcb *tp, uint32_t sbav)
{
	/* RFC 7413 4.2.1: data on the first SYN only with a cookie; a
	 * retransmitted SYN goes without (the data follow the handshake). */
	if (tp->t_state != TCPS_SYN_SENT || !(tp->t_tfo_flags & TFO_SYN_DATA) ||
	    tp->t_rxtshift != 0 || tp->snd_nxt != tp->iss)
		return (0);
	return (sbav < tp->t_maxseg ? sbav : tp->t_maxseg);
}

void
tcp_fastopen_syn_opt(const struct tcpcb *tp, struct tcpopt *to)
{
	if (tp->t_state != TCPS_SYN_SENT)
		return;
	if (tp->t_tfo_flags & TFO_SYN_DATA) {
		to->to_flags |= TOF_FASTOPEN;
		to->to_tfo_len = tp->t_tfo_cookie_len;
		memcpy(to->to_tfo_cookie, tp->t_tfo_cookie, tp->t_tfo_cookie_len);
	} else if (tp->t_tfo_flags & TFO_COOKIE_REQ) {
		to->to_flags |= TOF_FASTOPEN;
		to->to_tfo_len = 0;
	}
}

void
tcp_fastopen_client_synack(struct tcpcb *tp, const struct tcp_seg *seg)
{
	struct ust_stack *st = tp->t_stack;
	struct socket *so = tp->t_inpcb != NULL ? tp->t_inpcb->inp_socket : NULL;
	const struct tcpopt *to = &seg->to;
	const struct in_conninfo *inc = &tp->t_inpcb->inp_inc;
	int valid = (to->to_flags & TOF_FASTOPEN) && tfo_cookie_len_valid(to->to_tfo_len);
	uint32_t acked = 0;
	uint8_t flags = tp->t_tfo_flags;

	if (!(flags & (TFO_COOKIE_REQ | TFO_SYN_DATA)))
		return;
	tp->t_tfo_flags &= (uint8_t) ~(TFO_COOKIE_REQ | TFO_SYN_DATA);
	if ((to->to_flags & TOF_FASTOPEN) && !valid)
		TCPSTAT_INC(st, tcps_tfo_cookie_invalid);
	if (valid) {
		/* RFC 7413 4.1.3: cache it (a new one replaces the old). */
		TCPSTAT_INC(st, tcps_tfo_cookie_rcvd);
		(void)tcp_fastopen_ccache_set(st, inc, to->to_tfo_cookie, to->to_tfo_len,
		    (to->to_flags & TOF_MSS) ? to->to_mss : 0);
	}
	if (flags & TFO_SYN_DATA) {
		if (SEQ_GT(seg->th.th_ack, tp->snd_una))
			acked = seg->th.th_ack - tp->snd_una;
		if (so != NULL && acked > so->so_snd.sb_cc)
			acked = so->so_snd.sb_cc;
		if (acked > 0) {
			/* RFC 7413 4.2.2: the server took the SYN's data. */
			TCPSTAT_INC(st, tcps_tfo_syn_data_acked);
			if (so != NULL) {
				sbdrop(&so->so_snd, acked);
				sowwakeup(so);
			}
			tp->snd_una += acked;
		} else {
			/* Not taken: it goes again right after the handshake. */
			TCPSTAT_INC(st, tcps_tfo_syn_data_rexmit);
			tp->snd_nxt = tp->snd_una;
			if (!valid)
				tcp_fastopen_ccache_disable(st, inc);
		}
	} else if (!valid) {
		/* A request answered without a cookie: no TFO server there. */
		tcp_fastopen_ccache_disable(st, inc);
	}
}

/* ---------------------------------------------------------------------
 * Server.
 * ------------------------------------------------------------------- */

int
tcp_fastopen_listen_syn(struct ust_stack *st, struct tcpcb *ltp, struct tcp_seg *seg,
    struct mbuf **mp)
{
	struct socket *lso = ltp->t_inpcb->inp_socket, *so;
	struct tcpcb *tp;
	struct tfo_pending *pend = ltp->t_tfo_pending;
	uint32_t limit, take;
	long space;

	if (!(ltp->t_tfo_flags & TFO_ENABLED) || !V(st, tcp_fastopen_server_enable) ||
	    !(seg->to.to_flags & TOF_FASTOPEN) || st->st_tfo == NULL)
		return (0);
	if (seg->to.to_tfo_len == 0) {
		/* RFC 7413 4.1.2: a cookie request; the data (if any) is
		 * ignored and the SYN-ACK brings a cookie. */
		TCPSTAT_INC(st, tcps_tfo_cookie_req_rcvd);
		seg->to.to_tfo_reply = 1;
		return (0);
	}
	if (!tfo_cookie_valid(st, &seg->inc, seg->to.to_tfo_cookie, seg->to.to_tfo_len)) {
		TCPSTAT_INC(st, tcps_tfo_cookie_invalid);
		seg->to.to_tfo_reply = 1;
		return (0);
	}
	/* FreeBSD: at most half the backlog (plus one) of TFO connections
	 * may wait for their handshake's ACK, so that a flood of SYNs with
	 * data cannot take the whole queue; beyond it, the usual handshake. */
	limit = lso->so_qlimit / 2;
	if (pend == NULL)
		return (0); /* TCP_FASTOPEN was set before listen(): a client's */
	if (pend->tp_pending > limit) {
		TCPSTAT_INC(st, tcps_tfo_pending_limit);
		return (0);
	}
	if (tcp_listen_newconn(lso, &seg->inc, &tp) != 0) {
		m_freem(*mp);
		*mp = NULL;
		return (1);
	}
	tcp_synrcvd_init(tp, seg);
	/* The initial window now: the server may send before the ACK. */
	cc_conn_init(tp);
	so = tp->t_inpcb->inp_socket;
	pend->tp_pending++;
	pend->tp_refs++;
	tp->t_tfo_pending = pend;
	tp->t_tfo_flags |= TFO_PENDING;
	TCPSTAT_INC(st, tcps_tfo_conn_accepted);
	/* RFC 7413 4.2.2: the data are the application's at once, as far
	 * as the receive buffer takes them (the SYN-ACK acknowledges what
	 * it took; the client sends the rest again). */
	space = sbspace(&so->so_rcv);
	take = seg->tlen;
	if (space < (long)take)
		take = space > 0 ? (uint32_t)space : 0;
	if (take > 0 && *mp != NULL) {
		if (take < seg->tlen)
			m_adj(*mp, -(int)(seg->tlen - take));
		TCPSTAT_INC(st, tcps_tfo_syn_data_rcvd);
		TCPSTAT_ADD(st, tcps_tfo_syn_data_bytes, take);
		tp->rcv_nxt += take;
		tp->rcv_adv = tp->rcv_nxt;
		tp->t_bytes_rcvd_total += take;
		sbappendstream(&so->so_rcv, *mp);
		*mp = NULL;
	} else {
		m_freem(*mp);
		*mp = NULL;
	}
	soisconnected(so);
	if (so->so_rcv.sb_cc > 0)
		sorwakeup(so);
	(void)tcp_output(tp);
	return (1);
}

#endif /* UST_TCP_TFO */
