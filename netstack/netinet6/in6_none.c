/*
 * in6_none.c - the public IPv6 calls of a stack built without netinet6
 * (UST_INET6 0, ustack_opts.h): they link, so that bindings and the
 * exported symbol list are the same in every configuration, and say
 * UST_EAFNOSUPPORT; the counters read as zeros.
 */
#include <string.h>

#include <ustack/ustack.h>

int
ust_if_addr6_add(struct ust_if *ifp, const struct ust_in6_addr *addr, unsigned prefixlen,
    unsigned flags)
{
	(void)ifp, (void)addr, (void)prefixlen, (void)flags;
	return (-UST_EAFNOSUPPORT);
}

int
ust_if_addr6_del(struct ust_if *ifp, const struct ust_in6_addr *addr)
{
	(void)ifp, (void)addr;
	return (-UST_EAFNOSUPPORT);
}

int
ust_if_addr6_get(const struct ust_if *ifp, unsigned idx, struct ust_in6_addr *addr,
    unsigned *prefixlen, unsigned *flags)
{
	(void)ifp, (void)idx, (void)addr, (void)prefixlen, (void)flags;
	return (-UST_EAFNOSUPPORT);
}

int
ust_route6_add(struct ust_stack *st, const struct ust_in6_addr *dst, unsigned prefixlen,
    const struct ust_in6_addr *gateway, struct ust_if *ifp)
{
	(void)st, (void)dst, (void)prefixlen, (void)gateway, (void)ifp;
	return (-UST_EAFNOSUPPORT);
}

int
ust_route6_del(struct ust_stack *st, const struct ust_in6_addr *dst, unsigned prefixlen)
{
	(void)st, (void)dst, (void)prefixlen;
	return (-UST_EAFNOSUPPORT);
}

int
ust_route6_lookup(struct ust_stack *st, const struct ust_in6_addr *dst, unsigned scope_id,
    struct ust_route6_info *out)
{
	(void)st, (void)dst, (void)scope_id, (void)out;
	return (-UST_EAFNOSUPPORT);
}

int
ust_route6_get(struct ust_stack *st, unsigned idx, struct ust_route6_info *out)
{
	(void)st, (void)idx, (void)out;
	return (-UST_EAFNOSUPPORT);
}

int
ust_nd6_add_static(struct ust_if *ifp, const struct ust_in6_addr *addr, const uint8_t mac[6])
{
	(void)ifp, (void)addr, (void)mac;
	return (-UST_EAFNOSUPPORT);
}

int
ust_nd6_del(struct ust_if *ifp, const struct ust_in6_addr *addr)
{
	(void)ifp, (void)addr;
	return (-UST_EAFNOSUPPORT);
}

int
ust_nd6_lookup(struct ust_stack *st, const struct ust_in6_addr *addr, unsigned scope_id,
    struct ust_nd6_entry *out)
{
	(void)st, (void)addr, (void)scope_id, (void)out;
	return (-UST_EAFNOSUPPORT);
}

int
ust_nd6_get(struct ust_stack *st, unsigned idx, struct ust_nd6_entry *out)
{
	(void)st, (void)idx, (void)out;
	return (-UST_EAFNOSUPPORT);
}

void
ust_stats_ip6(const struct ust_stack *st, struct ust_ip6stat *out)
{
	(void)st;
	memset(out, 0, sizeof(*out));
}

void
ust_stats_icmp6(const struct ust_stack *st, struct ust_icmp6stat *out)
{
	(void)st;
	memset(out, 0, sizeof(*out));
}
