/*
 * mld6.c - multicast listener discovery, the host side (RFC 3810, with
 * RFC 2710 compatibility for MLDv1 queries; FreeBSD netinet6/mld6.c much
 * reduced: any-source joins only, no source filters).
 *
 * Joining a reportable group (not ff02::1, not interface-local, RFC 3810
 * 6) sends an unsolicited State Change report (CHANGE_TO_EXCLUDE {}),
 * Robustness Variable times in all, the later ones after a random delay
 * up to the Unsolicited Report Interval (1 s); leaving sends
 * CHANGE_TO_INCLUDE {} likewise.  A General Query is answered with one
 * Current State report (MODE_IS_EXCLUDE {} per group) after a random
 * delay up to its Maximum Response Delay; a Multicast Address Specific
 * Query with that group's record.  Reports go to ff02::16 with hop limit
 * 1 and a router alert, from a link-local address, or :: while none is
 * ready (RFC 3810 5.2.13).  Queries must come from a link-local source
 * with hop limit 1 (RFC 3810 5.1.14).  After an MLDv1 query
 * (net.inet6.mld.v1enable) the interface speaks MLDv1 for the Older
 * Version Querier Present Timeout: reports (131) to the group, done (132)
 * to ff02::2 (RFC 3810 8.2.1, RFC 2710).
 */
#include <string.h>

#include "kern/mbuf.h"
#include "kern/stack_var.h"
#include "netinet6/icmp6.h"
#include "netinet6/in6_var.h"
#include "netinet6/ip6.h"
#include "netinet6/ip6_var.h"
#include "netinet6/nd6.h"
#include "netinet6/nd6_var.h"

#define MLD_RV_DEFAULT 2 /* Robustness Variable (RFC 3810 9.1) */
#define MLD_URI_MS 1000  /* Unsolicited Report Interval (9.11) */
#define MLD_RECLEN 20    /* a record without sources */
#define MLD_HDRLEN 8     /* type, reserved, checksum, reserved, count */

/* in6m_state: what the group's pending reports say. */
#define MLD_ST_IDLE 0
#define MLD_ST_JOIN 1  /* CHANGE_TO_EXCLUDE {} retransmissions left */
#define MLD_ST_QUERY 3 /* a current-state record due */
/* The pending count sits in the upper bits of in6m_state. */
#define MLD_PENDING(inm) ((inm)->in6m_state >> 8)
#define MLD_SET(inm, st, n) ((inm)->in6m_state = ((uint32_t)(n) << 8) | (uint32_t)(st))
#define MLD_KIND(inm) ((inm)->in6m_state & 0xff)

static void mld_timer(void *arg);

/* A group left: its leave reports are due at the next poll, then spread
 * over the Unsolicited Report Interval, Robustness Variable in all. */
static void
mld_leave_add(struct mld_ifinfo *mli, const struct in6_addr *g)
{
	struct ust_stack *st = mli->mli_ifp->if_stack;
	unsigned i, slot = MLD_MAXLEFT;

	for (i = 0; i < MLD_MAXLEFT; i++) {
		if (mli->mli_left[i].ml_pending != 0 &&
		    in6_are_addr_equal(&mli->mli_left[i].ml_group, g)) {
			slot = i;
			break;
		}
		if (mli->mli_left[i].ml_pending == 0 && slot == MLD_MAXLEFT)
			slot = i;
	}
	if (slot == MLD_MAXLEFT)
		return; /* too many at once: the router's timers clean up */
	mli->mli_left[slot].ml_group = *g;
	mli->mli_left[slot].ml_pending = mli->mli_rv;
	mli->mli_left[slot].ml_due = stack_now(st) + 1;
}

static int
mld_reportable(const struct in6_addr *g)
{
	struct in6_addr allnodes = IN6ADDR_LINKLOCAL_ALLNODES_INIT;

	return (IN6_IS_ADDR_MULTICAST(g) && IPV6_ADDR_MC_SCOPE(g) > IPV6_ADDR_SCOPE_INTFACELOCAL &&
	    !in6_are_addr_equal(g, &allnodes));
}

static struct mld_ifinfo *
mld_ifinfo_get(struct ifnet *ifp, int create)
{
	struct in6_ifextra *ext = IN6_IFEXTRA(ifp);
	struct mld_ifinfo *mli;

	if (ext == NULL)
		return (NULL);
	if (ext->mld_ifinfo != NULL || !create)
		return (ext->mld_ifinfo);
	mli = st_malloc(ifp->if_stack, sizeof(*mli));
	if (mli == NULL)
		return (NULL);
	callout_init(&mli->mli_timer);
	mli->mli_ifp = ifp;
	mli->mli_rv = MLD_RV_DEFAULT;
	ext->mld_ifinfo = mli;
	return (mli);
}

void
mld_ifdetach(struct ifnet *ifp)
{
	struct in6_ifextra *ext = IN6_IFEXTRA(ifp);
	struct mld_ifinfo *mli;

	if (ext == NULL || (mli = ext->mld_ifinfo) == NULL)
		return;
	callout_stop(&ifp->if_stack->st_wheel, &mli->mli_timer);
	ext->mld_ifinfo = NULL;
	st_free(ifp->if_stack, mli, sizeof(*mli));
}

/* Arms the interface's timer for the earliest group deadline. */
static void
mld_schedule(struct mld_ifinfo *mli)
{
	struct ifnet *ifp = mli->mli_ifp;
	struct ust_stack *st = ifp->if_stack;
	struct in6_ifextra *ext = IN6_IFEXTRA(ifp);
	uint64_t when = UINT64_MAX, now = stack_now(st);
	unsigned i;

	for (i = 0; i < IN6_MULTI_MAX; i++)
		if (ext->in6_mc[i].in6m_refcount != 0 && ext->in6_mc[i].in6m_timer != 0 &&
		    ext->in6_mc[i].in6m_timer < when)
			when = ext->in6_mc[i].in6m_timer;
	for (i = 0; i < MLD_MAXLEFT; i++)
		if (mli->mli_left[i].ml_pending != 0 && mli->mli_left[i].ml_due < when)
			when = mli->mli_left[i].ml_due;
	if (when == UINT64_MAX) {
		callout_stop(&st->st_wheel, &mli->mli_timer);
		return;
	}
	callout_reset(&st->st_wheel, &mli->mli_timer, now, when > now ? when - now : 0, mld_timer,
	    mli);
}

/* Sends one MLDv2 report of the records rec (n of them). */
/* One MLDv1 message (RFC 2710 3): a report to the group, or a done to
 * all-routers. */
static void
mld_send_v1(struct ifnet *ifp, const struct in6_addr *src, uint8_t type, const uint8_t *group)
{
	struct ust_stack *st = ifp->if_stack;
	struct in6_addr dst = IN6ADDR_LINKLOCAL_ALLROUTERS_INIT;
	uint8_t msg[MLD_MINLEN];
	struct mbuf *m;

	memset(msg, 0, sizeof(msg));
	msg[0] = type;
	memcpy(msg + 8, group, 16);
	if (type == MLD_LISTENER_REPORT)
		memcpy(dst.s6_addr8, group, 16);
	if ((m = nd6_msg(st, msg, sizeof(msg))) == NULL) {
		IP6STAT_INC(st, ip6s_odropped);
		return;
	}
	ND6_COUNT(st, nd6c_mldreports);
	(void)nd6_send(ifp, m, src, &dst, 1, 1);
}

/* Sends the records rec (n of them): one MLDv2 report, or their MLDv1
 * messages while an MLDv1 querier is present (RFC 3810 8.2.1). */
static void
mld_send_report(struct mld_ifinfo *mli, const uint8_t *rec, unsigned n)
{
	struct ifnet *ifp = mli->mli_ifp;
	struct ust_stack *st = ifp->if_stack;
	struct in6_addr dst = IN6ADDR_LINKLOCAL_ALLV2ROUTERS_INIT, src = IN6ADDR_ANY_INIT;
	struct in6_ifaddr *ia;
	uint8_t hdr[MLD_HDRLEN];
	struct mbuf *m;
	unsigned i;

	if ((ia = in6ifa_ifpforlinklocal(ifp, IN6_IFF_NOTREADY)) != NULL)
		src = ia->ia_addr;
	if (mli->mli_v1_until > stack_now(st)) {
		for (i = 0; i < n; i++)
			mld_send_v1(ifp, &src,
			    rec[i * MLD_RECLEN] == MLDV2_RECORD_CHANGE_TO_INCLUDE ?
			        MLD_LISTENER_DONE :
			        MLD_LISTENER_REPORT,
			    rec + i * MLD_RECLEN + 4);
		return;
	}
	memset(hdr, 0, sizeof(hdr));
	hdr[0] = MLDV2_LISTENER_REPORT;
	hdr[6] = (uint8_t)(n >> 8);
	hdr[7] = (uint8_t)n;
	if ((m = nd6_msg(st, hdr, sizeof(hdr))) == NULL || m_append(m, n * MLD_RECLEN, rec) != 0) {
		m_freem(m);
		IP6STAT_INC(st, ip6s_odropped);
		return;
	}
	ND6_COUNT(st, nd6c_mldreports);
	(void)nd6_send(ifp, m, &src, &dst, 1, 1);
}

static void
mld_timer(void *arg)
{
	struct mld_ifinfo *mli = arg;
	struct ifnet *ifp = mli->mli_ifp;
	struct ust_stack *st = ifp->if_stack;
	struct in6_ifextra *ext = IN6_IFEXTRA(ifp);
	struct in6_multi *inm;
	uint8_t rec[(IN6_MULTI_MAX + MLD_MAXLEFT) * MLD_RECLEN];
	uint64_t now = stack_now(st);
	unsigned i, n = 0, left;

	for (i = 0; i < IN6_MULTI_MAX; i++) {
		inm = &ext->in6_mc[i];
		if (inm->in6m_refcount == 0 || inm->in6m_timer == 0 || inm->in6m_timer > now)
			continue;
		memset(rec + n * MLD_RECLEN, 0, MLD_RECLEN);
		switch (MLD_KIND(inm)) {
		case MLD_ST_JOIN:
			rec[n * MLD_RECLEN] = MLDV2_RECORD_CHANGE_TO_EXCLUDE;
			break;
		default:
			rec[n * MLD_RECLEN] = MLDV2_RECORD_MODE_IS_EXCLUDE;
			break;
		}
		memcpy(rec + n * MLD_RECLEN + 4, inm->in6m_addr.s6_addr8, 16);
		n++;
		left = MLD_PENDING(inm);
		if (MLD_KIND(inm) != MLD_ST_QUERY && left > 1) {
			MLD_SET(inm, MLD_KIND(inm), left - 1);
			inm->in6m_timer =
			    now + 1 + (uint64_t)ust_rng_uniform(&st->st_rng, MLD_URI_MS) * ND6_MS;
		} else {
			MLD_SET(inm, MLD_ST_IDLE, 0);
			inm->in6m_timer = 0;
		}
	}
	for (i = 0; i < MLD_MAXLEFT; i++) {
		struct mld_left *ml = &mli->mli_left[i];

		if (ml->ml_pending == 0 || ml->ml_due > now)
			continue;
		memset(rec + n * MLD_RECLEN, 0, MLD_RECLEN);
		rec[n * MLD_RECLEN] = MLDV2_RECORD_CHANGE_TO_INCLUDE;
		memcpy(rec + n * MLD_RECLEN + 4, ml->ml_group.s6_addr8, 16);
		n++;
		if (--ml->ml_pending != 0)
			ml->ml_due =
			    now + 1 + (uint64_t)ust_rng_uniform(&st->st_rng, MLD_URI_MS) * ND6_MS;
	}
	if (n > 0)
		mld_send_report(mli, rec, n);
	mld_schedule(mli);
}

void
mld_change(struct ifnet *ifp, struct in6_multi *inm, int join)
{
	struct ust_stack *st = ifp->if_stack;
	struct mld_ifinfo *mli;

	if (!mld_reportable(&inm->in6m_addr))
		return;
	if ((mli = mld_ifinfo_get(ifp, join)) == NULL)
		return;
	if (!join) {
		/* The group's slot goes now; its CHANGE_TO_INCLUDE {}
		 * reports are remembered here. */
		mld_leave_add(mli, &inm->in6m_addr);
		MLD_SET(inm, MLD_ST_IDLE, 0);
		inm->in6m_timer = 0;
		mld_schedule(mli);
		return;
	}
	/* The first report at the next poll (the interface may be
	 * attaching), the others spread over the Unsolicited Report
	 * Interval. */
	MLD_SET(inm, MLD_ST_JOIN, mli->mli_rv);
	inm->in6m_timer = stack_now(st) + 1;
	mld_schedule(mli);
}

/* The Maximum Response Delay of a query in ms (RFC 3810 5.1.3). */
static uint32_t
mld_mrd_ms(uint16_t code, int v2)
{
	if (!v2 || code < 32768)
		return (code);
	return ((uint32_t)((code & 0x0fff) | 0x1000) << (((code >> 12) & 0x7) + 3));
}

void
mld_input(struct mbuf *m, uint32_t off, uint32_t icmp6len)
{
	struct nd6_in in;
	struct ust_stack *st;
	struct ifnet *ifp;
	struct in6_ifextra *ext;
	struct mld_ifinfo *mli;
	struct mld_hdr h;
	struct in6_multi *inm;
	uint64_t now, due;
	uint32_t mrd;
	unsigned i;
	int v2;

	if (nd6_in_read(m, off, icmp6len, &in) != 0)
		goto drop;
	ifp = in.ifp;
	st = in.st;
	if (mld_hdr_parse(in.buf, in.len, &h) != 0) {
		ICMP6STAT_INC(st, icp6s_tooshort);
		goto drop;
	}
	/* Reports of other listeners need nothing from a host (RFC 3810
	 * 6.2: no report suppression in MLDv2). */
	if (h.mld_type != MLD_LISTENER_QUERY)
		goto drop;
	if (in.ip6.ip6_hlim != 1 || !IN6_IS_ADDR_LINKLOCAL(&in.ip6.ip6_src)) {
		ICMP6STAT_INC(st, icp6s_badlen);
		goto drop;
	}
	v2 = icmp6len >= MLD_V2_QUERY_MINLEN;
	if (!v2 && icmp6len != MLD_MINLEN) {
		ICMP6STAT_INC(st, icp6s_badlen);
		goto drop;
	}
	if (!v2 && !V(st, mld_v1enable))
		goto drop;
	if ((ext = IN6_IFEXTRA(ifp)) == NULL || (mli = mld_ifinfo_get(ifp, 1)) == NULL)
		goto drop;
	if (v2 && (in.buf[24] & 0x07) != 0)
		mli->mli_rv = in.buf[24] & 0x07; /* QRV */
	/* RFC 3810 8.2.1: an MLDv1 querier makes us speak MLDv1 for the
	 * Older Version Querier Present Timeout (RV * 125 s + 10 s). */
	if (!v2)
		mli->mli_v1_until =
		    stack_now(st) + ((uint64_t)mli->mli_rv * 125u + 10u) * 1000u * ND6_MS;
	mrd = mld_mrd_ms(h.mld_maxdelay, v2);
	now = stack_now(st);
	due = now + 1 + (mrd != 0 ? (uint64_t)ust_rng_uniform(&st->st_rng, mrd) * ND6_MS : 0);
	for (i = 0; i < IN6_MULTI_MAX; i++) {
		inm = &ext->in6_mc[i];
		if (inm->in6m_refcount == 0 || !mld_reportable(&inm->in6m_addr))
			continue;
		if (!IN6_IS_ADDR_UNSPECIFIED(&h.mld_addr) &&
		    !in6_are_addr_equal(&h.mld_addr, &inm->in6m_addr))
			continue;
		if (MLD_KIND(inm) == MLD_ST_IDLE)
			MLD_SET(inm, MLD_ST_QUERY, 1);
		if (inm->in6m_timer == 0 || inm->in6m_timer > due)
			inm->in6m_timer = due;
	}
	mld_schedule(mli);
drop:
	m_freem(m);
}
