/*
 * in_proto.c - the Internet domain (FreeBSD netinet/in_proto.c): the
 * protocol switch inetsw, the state below the protocols, the knobs of
 * netinet and the descriptions of its counters, registered with the
 * socket layer as inetdomain (conf/domains.h).  Adding a protocol to
 * netinet means an entry here; kern/ walks the table.
 *
 *   domains_init -> ether_proto_register(in_ethertypes) ->
 *                   in_dom_init (routes, ARP, IP, raw IP) -> inetsw[i].pr_init
 *   ether_input -> in_ethertypes: ip_ether_input -> ip_input | arp_input
 *   ip_input -> st_ip_protox[proto] -> inetsw[i].pr_input
 *   icmp_input -> ip_protosw_find(quoted proto)->pr_ctlinput
 *   socreate -> pffindproto(family, type, proto) -> inetsw[i].pr_usrreqs
 *   ust_if_detach -> domains_ifdetach -> in_ifdetach (addresses, routes, ARP)
 */
#include <stddef.h>
#include <string.h>

#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "net/ethernet.h"
#include "netinet/in_route.h"
#include "netinet/cc/cc.h"
#include "netinet/icmp_var.h"
#include "netinet/if_ether.h"
#include "netinet/in.h"
#include "netinet/in_pcb.h"
#include "netinet/in_var.h"
#include "netinet/ip_var.h"
#include "netinet/tcp_stacks/tcp_stacks.h"
#include "netinet/tcp_var.h"
#include "netinet/udp_var.h"

/* Stores the zones of zs[] that exist, at most max of them. */
static unsigned
in_zones_put(const struct ust_zone **out, unsigned max, const struct ust_zone *const *zs,
    unsigned n)
{
	unsigned i, k = 0;

	for (i = 0; i < n && k < max; i++)
		if (zs[i] != NULL)
			out[k++] = zs[i];
	return (k);
}

static unsigned
udp_zones(const struct ust_stack *st, const struct ust_zone **zones, unsigned max)
{
	const struct ust_zone *zs[] = { st->st_udbinfo != NULL ? st->st_udbinfo->ipi_zone : NULL };

	return (in_zones_put(zones, max, zs, 1));
}

static unsigned
tcp_zones(const struct ust_stack *st, const struct ust_zone **zones, unsigned max)
{
	const struct ust_zone *zs[] = { syncache_zone(st), st->st_sackhole_zone,
		st->st_tcbinfo != NULL ? st->st_tcbinfo->ipi_zone : NULL, tcp_tcpcb_zone(st) };

	return (in_zones_put(zones, max, zs, sizeof(zs) / sizeof(zs[0])));
}

/* The protocols' zones, in inetsw's order (conf/domains.h DOMAIN_ZONES):
 * named only by ust_stack_get_zone_stats, so a program that never asks
 * links none of this. */
unsigned
in_zones(const struct ust_stack *st, const struct ust_zone **zones, unsigned max)
{
	unsigned n = udp_zones(st, zones, max);

	return (n + tcp_zones(st, zones + n, max - n));
}

/*
 * The protocol switch.  Initialised in this order, torn down in reverse.
 * ICMP's entry also makes raw(4) sockets (of protocol ICMP, the only one
 * raw sockets speak), whose PCBs in_dom_init makes as FreeBSD's raw IP
 * default entry does.
 */
static const struct protosw inetsw[] = {
	{
/* Without raw sockets (UST_RAW_IP 0) ICMP is no socket type. */
#if UST_RAW_IP
	    .pr_type = UST_SOCK_RAW,
	    .pr_usrreqs = &rip_usrreqs,
#endif
	    .pr_protocol = IPPROTO_ICMP,
	    .pr_flags = PR_ATOMIC | PR_ADDR,
	    .pr_init = icmp_init,
	    .pr_fini = icmp_fini,
	    .pr_input = icmp_input,
	},
	{
	    .pr_type = UST_SOCK_DGRAM,
	    .pr_protocol = IPPROTO_UDP,
	    .pr_flags = PR_ATOMIC | PR_ADDR,
	    .pr_init = udp_init,
	    .pr_fini = udp_fini,
	    .pr_input = udp_input,
#if UST_ICMP_CTLINPUT
	    .pr_ctlinput = udp_ctlinput,
#endif
	    .pr_usrreqs = &udp_usrreqs,
	},
	{
	    .pr_type = UST_SOCK_STREAM,
	    .pr_protocol = IPPROTO_TCP,
	    .pr_flags = PR_CONNREQUIRED | PR_WANTRCVD | (UST_TCP_TFO ? PR_IMPLOPCL : 0),
	    .pr_init = tcp_init,
	    .pr_fini = tcp_fini,
	    .pr_input = tcp_input,
#if UST_ICMP_CTLINPUT
	    .pr_ctlinput = tcp_ctlinput,
#endif
	    .pr_usrreqs = &tcp_usrreqs,
	},
};

#define NINETSW (sizeof(inetsw) / sizeof(inetsw[0]))

/* The protocols' socket options, switched on the protocol as FreeBSD's
 * pr_ctloutput entries would be; reached from sosetopt/sogetopt only
 * (conf/domains.h DOMAIN_CTLOUTPUT), so no option code is linked into a
 * program that never sets or reads one. */
int
in_ctloutput(struct socket *so, struct sockopt *sopt)
{
	switch (so->so_proto->pr_protocol) {
	case IPPROTO_TCP:
		return (tcp_ctloutput(so, sopt));
	case IPPROTO_UDP:
		return (udp_ctloutput(so, sopt));
#if UST_RAW_IP
	case IPPROTO_ICMP:
		return (rip_ctloutput(so, sopt));
#endif
	default:
		return (UST_ENOPROTOOPT);
	}
}

/* Every protocol number maps to no entry (0) or its entry's index + 1. */
static void
ip_protox_init(struct ust_stack *st)
{
	unsigned i;

	memset(st->st_ip_protox, 0, sizeof(st->st_ip_protox));
	for (i = NINETSW; i-- > 0;)
		if (inetsw[i].pr_input != NULL)
			st->st_ip_protox[(uint8_t)inetsw[i].pr_protocol] = (uint8_t)(i + 1);
}

const struct protosw *
ip_protosw_find(const struct ust_stack *st, uint8_t proto)
{
	unsigned i = st->st_ip_protox[proto];

	return (i != 0 ? &inetsw[i - 1] : NULL);
}

/* ---------------------------------------------------------------------
 * The link layer's demultiplexing: IPv4 and ARP over Ethernet.
 * ------------------------------------------------------------------- */

static void
ip_ether_input(struct ifnet *ifp, struct mbuf *m, const uint8_t esrc[ETHER_ADDR_LEN])
{
	(void)esrc;
	ip_input(ifp, m);
}

/* IPv4 first: ether_input tries the entries in this order. */
static const struct ether_proto in_ethertypes[] = {
	{ ETHERTYPE_IP, ip_ether_input },
	{ ETHERTYPE_ARP, arp_input },
};

/* Below the protocols: routes, ARP, IP (identification, reassembly, the
 * demultiplexing table) and the raw IP PCBs. */
static void
in_dom_fini(struct ust_stack *st)
{
	rip_fini(st);
	ip_fini(st);
	arp_fini(st);
	in_ifaddr_fini(st);
	route_fini(st);
}

static int
in_dom_init(struct ust_stack *st)
{
	int error;

	ip_protox_init(st);
	if ((error = route_init(st)) != 0 || (error = arp_init(st)) != 0 ||
	    (error = ip_init(st)) != 0 || (error = rip_init(st)) != 0) {
		in_dom_fini(st);
		return (error);
	}
	return (0);
}

/* ---------------------------------------------------------------------
 * Knobs (in_knobs.h), and the string knobs of cc(4).
 * ------------------------------------------------------------------- */

static const struct sysctl_knob in_knobs[] = {
#define KNOB SYSCTL_KNOB
#include "netinet/in_knobs.h"
#undef KNOB
};

/* Their bounds, entry for entry (conf/domains.h DOMAIN_KNOB_BOUNDS). */
const struct sysctl_knob_bounds in_knob_bounds[] = {
#define KNOB SYSCTL_KNOB_BOUNDS
#include "netinet/in_knobs.h"
#undef KNOB
};
_Static_assert(sizeof(in_knob_bounds) / sizeof(in_knob_bounds[0]) ==
        sizeof(in_knobs) / sizeof(in_knobs[0]),
    "in_knob_bounds and in_knobs differ");

#if UST_SYSCTL_NAMES
static int
sysctl_cc_algorithm_get(const struct ust_stack *st, char *buf, size_t len)
{
	return (sysctl_copyout_str(cc_default_algo(st)->name, buf, len));
}

static int
sysctl_cc_algorithm_set(struct ust_stack *st, const char *value)
{
	return (cc_set_default_algo(st, value));
}

static int
sysctl_cc_available_get(const struct ust_stack *st, char *buf, size_t len)
{
	(void)st;
	if (len == 0 || cc_algo_list(buf, len) >= len)
		return (UST_ENOMEM);
	return (0);
}

#if UST_TCP_TFO
/* Write-only: reading gives "" (FreeBSD's are write-only too). */
static int
sysctl_tfo_wo_get(const struct ust_stack *st, char *buf, size_t len)
{
	(void)st;
	return (sysctl_copyout_str("", buf, len));
}

static int
sysctl_tfo_setkey(struct ust_stack *st, const char *value)
{
	return (tcp_fastopen_setkey(st, value, 0));
}

static int
sysctl_tfo_setpsk(struct ust_stack *st, const char *value)
{
	return (tcp_fastopen_setkey(st, value, 1));
}
#endif
static int
sysctl_tcp_functions_default_get(const struct ust_stack *st, char *buf, size_t len)
{
	return (sysctl_copyout_str(tcp_fb_default(st)->tfb_tcp_block_name, buf, len));
}

static int
sysctl_tcp_functions_default_set(struct ust_stack *st, const char *value)
{
	return (tcp_fb_set_default(st, value));
}

static int
sysctl_tcp_functions_available_get(const struct ust_stack *st, char *buf, size_t len)
{
	if (len == 0 || tcp_fb_list(st, buf, len) >= len)
		return (UST_ENOMEM);
	return (0);
}

static const struct sysctl_strknob in_strknobs[] = {
	{ "net.inet.tcp.functions_default", "freebsd", UST_SYSCTL_STRING,
	    "TCP stack (function block) of new connections", sysctl_tcp_functions_default_get,
	    sysctl_tcp_functions_default_set },
	{ "net.inet.tcp.functions_available", TCP_FB_AVAILABLE_DEF,
	    UST_SYSCTL_STRING | UST_SYSCTL_RDONLY,
	    "TCP stacks compiled in: name, default (*), connections",
	    sysctl_tcp_functions_available_get, NULL },
	{ "net.inet.tcp.cc.algorithm", UST_CC_CUBIC ? "cubic" : "newreno", UST_SYSCTL_STRING,
	    "Congestion control module of new connections (cc(4))", sysctl_cc_algorithm_get,
	    sysctl_cc_algorithm_set },
	{ "net.inet.tcp.cc.available", UST_CC_CUBIC ? "newreno, cubic" : "newreno",
	    UST_SYSCTL_STRING | UST_SYSCTL_RDONLY, "Congestion control modules compiled in",
	    sysctl_cc_available_get, NULL },
#if UST_TCP_TFO
	{ "net.inet.tcp.fastopen.setkey", "", UST_SYSCTL_STRING,
	    "Add a server key: 32 hex digits (write-only)", sysctl_tfo_wo_get, sysctl_tfo_setkey },
	{ "net.inet.tcp.fastopen.setpsk", "", UST_SYSCTL_STRING,
	    "Add a pre-shared key: 32 hex digits (write-only)", sysctl_tfo_wo_get,
	    sysctl_tfo_setpsk },
#endif
};
#endif

void
in_knob_changed(struct ust_stack *st, size_t off)
{
	/* Like FreeBSD's sysctl_maxsockets: the zones sized from the limit
	 * at start-up follow it, so that a stack can be raised to a million
	 * connections after creation. */
	if (off == offsetof(struct ust_knobs, ipc_maxsockets))
		tcp_maxsockets_changed(st);
#if UST_TCP_TFO
	tcp_fastopen_knob_changed(st, off);
#endif
}

/* ---------------------------------------------------------------------
 * Counters (ustack_stats.h): the descriptions, and the copies.
 * ------------------------------------------------------------------- */

#if UST_STATS
/* clang-format off */
static const struct ust_stat_desc in_stats[] = {
	UST_ARPSTAT_FIELDS(DOM_STAT, DOM_STAT_ARRAY, arp)
	UST_IPSTAT_FIELDS(DOM_STAT, DOM_STAT_ARRAY, ip)
	UST_ICMPSTAT_FIELDS(DOM_STAT, DOM_STAT_ARRAY, icmp)
	UST_UDPSTAT_FIELDS(DOM_STAT, DOM_STAT_ARRAY, udp)
	UST_TCPSTAT_FIELDS(DOM_STAT, DOM_STAT_ARRAY, tcp)
};
/* clang-format on */
#endif

void
ust_stats_arp(const struct ust_stack *st, struct ust_arpstat *out)
{
	*out = st->st_arpstat;
}

void
ust_stats_ip(const struct ust_stack *st, struct ust_ipstat *out)
{
	*out = st->st_ipstat;
}

void
ust_stats_icmp(const struct ust_stack *st, struct ust_icmpstat *out)
{
	*out = st->st_icmpstat;
}

void
ust_stats_udp(const struct ust_stack *st, struct ust_udpstat *out)
{
	*out = st->st_udpstat;
}

void
ust_stats_tcp(const struct ust_stack *st, struct ust_tcpstat *out)
{
	*out = st->st_tcpstat;
}

const struct domain inetdomain = {
	.dom_family = UST_AF_INET,
	.dom_name = "internet",
	.dom_init = in_dom_init,
	.dom_fini = in_dom_fini,
	.dom_protosw = inetsw,
	.dom_nprotosw = NINETSW,
	.dom_ethertypes = in_ethertypes,
	.dom_nethertypes = sizeof(in_ethertypes) / sizeof(in_ethertypes[0]),
	.dom_ifdetach = in_ifdetach,
	.dom_knobs = in_knobs,
	.dom_nknobs = sizeof(in_knobs) / sizeof(in_knobs[0]),
#if UST_SYSCTL_NAMES
	.dom_strknobs = in_strknobs,
	.dom_nstrknobs = sizeof(in_strknobs) / sizeof(in_strknobs[0]),
#endif
#if UST_STATS
	.dom_stats = in_stats,
	.dom_nstats = sizeof(in_stats) / sizeof(in_stats[0]),
#endif
};
