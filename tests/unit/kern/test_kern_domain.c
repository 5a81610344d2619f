/*
 * test_kern_domain.c - the protocol switch as kern/ sees it: the
 * registered domains and their tables, socket lookup by type and
 * protocol, knobs from every domain, the knob-changed hook, the zone
 * list, the counter descriptions (ust_stats_describe) against the
 * public structs, and the per-interface hooks (dom_ifattach's if_afdata,
 * set at attach and cleared after dom_ifdetach).
 */
#include <string.h>

#include <ustack/ustack.h>

#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "test_env.h"
#include "test_loopdrv.h"

static const struct domain *
find_domain(int family)
{
	const struct domain *dp;
	unsigned d;

	for (d = 0; (dp = domain_at(d)) != NULL; d++)
		if (dp->dom_family == family)
			return (dp);
	return (NULL);
}

TEST(domain_inet_registered_with_its_switch)
{
	const struct domain *dp = find_domain(UST_AF_INET);
	unsigned i;

	CHECK(domain_count() >= 1);
	CHECK(domain_at(domain_count()) == NULL);
	CHECK(dp != NULL);
	CHECK(dp->dom_nprotosw >= 3);
	for (i = 0; i < dp->dom_nprotosw; i++) {
		const struct protosw *pr = &dp->dom_protosw[i];

		/* Every protocol has state to make and undo; a socket type
		 * needs the calls every socket makes. */
		CHECK(pr->pr_init != NULL && pr->pr_fini != NULL && pr->pr_input != NULL);
		if (pr->pr_type != 0) {
			CHECK(pr->pr_usrreqs != NULL);
			CHECK(pr->pr_usrreqs->pru_attach != NULL);
			CHECK(pr->pr_usrreqs->pru_detach != NULL);
			CHECK(pr->pr_usrreqs->pru_send != NULL);
		}
	}
}

#if UST_RAW_IP
TEST(pffindproto_by_type_and_protocol)
{
	const struct protosw *pr;

	pr = pffindproto(UST_AF_INET, UST_SOCK_STREAM, 0);
	CHECK(pr != NULL && pr->pr_protocol == 6 && (pr->pr_flags & PR_CONNREQUIRED));
	pr = pffindproto(UST_AF_INET, UST_SOCK_DGRAM, 0);
	CHECK(pr != NULL && pr->pr_protocol == 17 && (pr->pr_flags & PR_ATOMIC));
	CHECK(pffindproto(UST_AF_INET, UST_SOCK_DGRAM, 17) == pr);
	/* raw(4): the caller names the protocol; ICMP is the one spoken. */
	CHECK(pffindproto(UST_AF_INET, UST_SOCK_RAW, 0) == NULL);
	pr = pffindproto(UST_AF_INET, UST_SOCK_RAW, 1);
	CHECK(pr != NULL && pr->pr_protocol == 1);
	CHECK(pffindproto(UST_AF_INET, UST_SOCK_STREAM, 17) == NULL);
	CHECK(pffindproto(UST_AF_INET, UST_SOCK_DGRAM, 6) == NULL);
	CHECK(pffindproto(UST_AF_INET, 99, 0) == NULL);
	/* Only the family's own domain is searched: AF_INET6 finds inet6sw's
	 * TCP, never inetsw's. */
#if UST_INET6
	CHECK(pffindproto(UST_AF_INET6, UST_SOCK_STREAM, 0) != NULL &&
	    pffindproto(UST_AF_INET6, UST_SOCK_STREAM, 0) !=
	        pffindproto(UST_AF_INET, UST_SOCK_STREAM, 0));
#else
	CHECK(pffindproto(UST_AF_INET6, UST_SOCK_STREAM, 0) == NULL);
#endif
	CHECK(pffindproto(0, UST_SOCK_DGRAM, 0) == NULL);
	CHECK(pffinddomain(UST_AF_INET) != NULL &&
	    pffinddomain(UST_AF_INET)->dom_family == UST_AF_INET);
}
#endif

#if UST_SYSCTL_NAMES
TEST(sysctl_registry_spans_kern_and_domains)
{
	struct ust_sysctl_info a, b;
	unsigned i, j, n = 0, nstr = 0;
	int have_ipc = 0, have_tcp = 0, have_cc = 0;

	for (i = 0; ust_sysctl_info(i, &a) == 0; i++) {
		CHECK(a.name != NULL && a.descr != NULL && a.descr[0] != '\0');
		if (a.flags & UST_SYSCTL_STRING)
			nstr++;
		else
			CHECK(nstr == 0); /* the string knobs come last */
		have_ipc |= strcmp(a.name, "kern.ipc.maxsockets") == 0;
		have_tcp |= strcmp(a.name, "net.inet.tcp.mssdflt") == 0;
		have_cc |= strcmp(a.name, "net.inet.tcp.cc.algorithm") == 0;
		for (j = 0; j < i; j++) {
			CHECK_EQ(ust_sysctl_info(j, &b), 0);
			CHECK(strcmp(a.name, b.name) != 0);
		}
		n++;
	}
	CHECK_EQ(ust_sysctl_info(n, &a), -UST_ENOENT);
	CHECK(have_ipc && have_tcp && have_cc);
	CHECK(nstr >= 2);
}
#endif

static int
zone_max(struct ust_stack *st, const char *name, uint32_t *max)
{
	struct ust_zone_stats zs;
	unsigned i;

	for (i = 0; ust_stack_get_zone_stats(st, i, &zs) == 0; i++) {
		if (strcmp(zs.name, name) == 0) {
			*max = zs.max;
			return (1);
		}
	}
	return (0);
}

TEST(knob_change_reaches_the_domain)
{
	struct ust_vclock *vc = ust_vclock_create(0);
	struct ust_stack *st = test_stack_new(vc, ust_test_seed);
	uint32_t before = 0, after = 0;

	/* kern.ipc.maxsockets is the socket layer's; TCP's zones follow it
	 * through inetdomain's knob follower (in_knob_changed), as FreeBSD's
	 * maxsockets_change event. */
	CHECK(zone_max(st, "tcpcb", &before));
	CHECK_EQ(ust_sysctl_set(st, "kern.ipc.maxsockets", 200000), 0);
	CHECK(zone_max(st, "tcpcb", &after));
	CHECK(after > before);
	CHECK_EQ(after, 400000);
	test_stack_free(st);
	ust_vclock_destroy(vc);
}

TEST(zone_list_has_every_protocols_zones)
{
	struct ust_vclock *vc = ust_vclock_create(0);
	struct ust_stack *st = test_stack_new(vc, ust_test_seed);
	const char *want[] = { "mbuf", "tcpcb", "tcp_inpcb", "udp_inpcb" };
	uint32_t max;
	unsigned i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		CHECK(zone_max(st, want[i], &max));
	test_stack_free(st);
	ust_vclock_destroy(vc);
}

/* Every counter of every public struct is described, once, in order. */
struct stat_group {
	const char *name;
	size_t size;
};

#if UST_STATS
TEST(stats_describe_covers_every_counter)
{
	static const struct stat_group groups[] = {
		{ "ether", sizeof(struct ust_etherstat) },
		{ "arp", sizeof(struct ust_arpstat) },
		{ "ip", sizeof(struct ust_ipstat) },
		{ "icmp", sizeof(struct ust_icmpstat) },
		{ "udp", sizeof(struct ust_udpstat) },
		{ "tcp", sizeof(struct ust_tcpstat) },
#if UST_INET6
		{ "ip6", sizeof(struct ust_ip6stat) },
		{ "icmp6", sizeof(struct ust_icmp6stat) },
#endif
	};
	struct ust_stat_desc d, prev;
	unsigned idx = 0, g;
	size_t covered;

	for (g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		covered = 0;
		while (ust_stats_describe(idx, &d) == 0 && strcmp(d.group, groups[g].name) == 0) {
			CHECK(d.name != NULL && d.name[0] != '\0');
			CHECK(d.descr != NULL && d.descr[0] != '\0');
			CHECK(d.count >= 1);
			/* Fields are contiguous uint64_t in struct order. */
			CHECK_EQ(d.offset, covered);
			if (covered > 0)
				CHECK(strcmp(prev.name, d.name) != 0);
			covered += (size_t)d.count * sizeof(uint64_t);
			prev = d;
			idx++;
		}
		CHECK_EQ(covered, groups[g].size);
	}
	CHECK_EQ(ust_stats_describe(idx, &d), -UST_ENOENT);
	/* The counters FreeBSD's netstat -s shows under SACK have a text. */
	for (idx = 0; ust_stats_describe(idx, &d) == 0; idx++)
		if (strcmp(d.name, "tcps_sack_recovery_episode") == 0)
			break;
	CHECK(ust_stats_describe(idx, &d) == 0);
	CHECK(strcmp(d.descr, "SACK recovery episodes") == 0);
}
#endif

/* A family of the test's own, driven through domain_ifattach/ifdetach as
 * domains_ifattach/ifdetach drive the compiled-in ones. */
static struct {
	int attached, detached;
	struct ifnet *ifp;
	void *afdata_at_detach;
	int data;
} fam;

static void *
fam_ifattach(struct ifnet *ifp)
{
	fam.attached++;
	fam.ifp = ifp;
	return (&fam.data);
}

static void
fam_ifdetach(struct ifnet *ifp)
{
	fam.detached++;
	fam.afdata_at_detach = ifp->if_afdata[IF_AFDATA_INET6];
}

TEST(dom_ifattach_sets_afdata_and_ifdetach_clears_it)
{
	static const struct domain fake = {
		.dom_family = UST_AF_INET6,
		.dom_name = "fake6",
		.dom_ifattach = fam_ifattach,
		.dom_ifdetach = fam_ifdetach,
	};
	struct ust_vclock *vc = ust_vclock_create(0);
	struct ust_stack *st = test_stack_new(vc, 1);
	struct loopdrv d;
	struct ust_if *uif;
	struct ifnet *ifp;
	unsigned i, slot;
	const struct domain *dp;
	void *real6;

	memset(&fam, 0, sizeof(fam));
	CHECK_EQ(IF_AFDATA_IDX(UST_AF_INET), IF_AFDATA_INET);
	CHECK_EQ(IF_AFDATA_IDX(UST_AF_INET6), IF_AFDATA_INET6);
	CHECK_EQ(IF_AFDATA_IDX(0), -1);
	loopdrv_init(&d);
	REQUIRE_EQ(ust_if_attach(st, "eth0", &loopdrv_ops, &d, &uif), 0);
	ifp = IFP_FROM_UST(uif);
	/* The compiled-in domains ran at attach; each family with a hook has
	 * a slot, and one without keeps it NULL. */
	for (i = 0; (dp = domain_at(i)) != NULL; i++) {
		CHECK(IF_AFDATA_IDX(dp->dom_family) >= 0);
		slot = (unsigned)IF_AFDATA_IDX(dp->dom_family);
		if (dp->dom_ifattach == NULL)
			CHECK(ifp->if_afdata[slot] == NULL);
	}
	/* IPv6's own state, set aside while the fake family uses its slot. */
	real6 = ifp->if_afdata[IF_AFDATA_INET6];
	CHECK((real6 != NULL) == (UST_INET6 != 0));
	ifp->if_afdata[IF_AFDATA_INET6] = NULL;
	domain_ifattach(&fake, ifp);
	CHECK_EQ(fam.attached, 1);
	CHECK(fam.ifp == ifp);
	CHECK(ifp->if_afdata[IF_AFDATA_INET6] == &fam.data);
	domain_ifdetach(&fake, ifp);
	CHECK_EQ(fam.detached, 1);
	/* The family saw its data, to free it; the slot is clear after. */
	CHECK(fam.afdata_at_detach == &fam.data);
	CHECK(ifp->if_afdata[IF_AFDATA_INET6] == NULL);
	ifp->if_afdata[IF_AFDATA_INET6] = real6; /* IPv6 frees it at detach */
	ust_if_detach(uif);
	CHECK_EQ(d.detached, 1);
	test_stack_free(st);
	ust_vclock_destroy(vc);
}
