/*
 * lbrig.h - fixtures of the SO_REUSEPORT_LB tests (test_in_pcblb.c for
 * IPv4, netinet6/test_in6_pcblb.c for IPv6): two stacks over the pipe, a
 * (198.18.0.1, 2001:2::1) and b (.2, ::2), static neighbours both ways;
 * N listeners (or UDP sockets) of b in one load-balancing group; many
 * connections from a, each sending its own bytes, accepted and checked
 * one by one.  Included by one test file each (static helpers).
 */
#ifndef UST_LBRIG_H
#define UST_LBRIG_H

#include <stdio.h>
#include <string.h>

#include <ustack/ustack.h>

#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "net/linktest.h"
#include "netinet/in_pcb.h"

#define LB_MS 1000000ull
#define LB_SEC 1000000000ull
#define LB_T0 (1000 * LB_SEC)
#define LB_A4 tl_ip4addr(198, 18, 0, 1)
#define LB_B4 tl_ip4addr(198, 18, 0, 2)
#define LB_MAXMEMB 8
#define LB_MAXCONN 128
#define LB_MSGLEN 24

#if UST_INET6
static const struct in6_addr lb_a6 = { { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } };
static const struct in6_addr lb_b6 = { { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 } };
#endif

static inline int
lb_pair(struct tl_pair *pr, uint64_t seed)
{
	uint8_t maca[6], macb[6];

	if (lt_pair_init(pr, LB_T0, seed) != 0 || tl_pair_addrs(pr, LB_A4, LB_B4, 24) != 0)
		return (-1);
	ust_if_get_mac(pr->ifa, maca);
	ust_if_get_mac(pr->ifb, macb);
	if (ust_arp_add_static(pr->ifa, LB_B4, macb) != 0 ||
	    ust_arp_add_static(pr->ifb, LB_A4, maca) != 0)
		return (-1);
#if UST_INET6
	if (ust_if_addr6_add(pr->ifa, &lb_a6, 64, UST_IN6_IFF_NODAD) != 0 ||
	    ust_if_addr6_add(pr->ifb, &lb_b6, 64, UST_IN6_IFF_NODAD) != 0 ||
	    ust_nd6_add_static(pr->ifa, &lb_b6, macb) != 0 ||
	    ust_nd6_add_static(pr->ifb, &lb_a6, maca) != 0)
		return (-1);
#endif
	return (0);
}

/* A socket address of family for the given address (NULL: the wildcard;
 * an IPv4 one is a uint32_t in network order) and port. */
static inline ust_socklen_t
lb_addr(struct ust_sockaddr_storage *ss, int family, const void *addr, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == UST_AF_INET) {
		struct ust_sockaddr_in s = tl_sin(addr != NULL ? *(const uint32_t *)addr : 0, port);

		memcpy(ss, &s, sizeof(s));
		return ((ust_socklen_t)sizeof(s));
	}
#if UST_INET6
	{
		struct ust_sockaddr_in6 s;

		memset(&s, 0, sizeof(s));
		s.sin6_len = (uint8_t)sizeof(s);
		s.sin6_family = UST_AF_INET6;
		s.sin6_port = tl_hton16(port);
		if (addr != NULL)
			memcpy(&s.sin6_addr, addr, 16);
		memcpy(ss, &s, sizeof(s));
		return ((ust_socklen_t)sizeof(s));
	}
#else
	return (0);
#endif
}

/* A socket of family/type with SO_REUSEPORT_LB (when lb) bound to
 * addr:port; IPv6 sockets are v6only.  NULL if any step fails. */
static inline struct ust_socket *
lb_bound(struct ust_stack *st, int family, int type, const void *addr, uint16_t port, int lb)
{
	struct ust_sockaddr_storage ss;
	struct ust_socket *so = NULL;
	ust_socklen_t len = lb_addr(&ss, family, addr, port);

	if (ust_socket(st, family, type, 0, &so) != 0)
		return (NULL);
	if ((family == UST_AF_INET6 && tl_setint(so, UST_IPPROTO_IPV6, UST_IPV6_V6ONLY, 1) != 0) ||
	    (lb && tl_setint(so, UST_SOL_SOCKET, UST_SO_REUSEPORT_LB, 1) != 0) ||
	    ust_bind(so, (const struct ust_sockaddr *)&ss, len) != 0) {
		ust_close(so);
		return (NULL);
	}
	return (so);
}

/* The local port of so, host order. */
static inline uint16_t
lb_lport(struct ust_socket *so)
{
	struct ust_sockaddr_storage ss;
	ust_socklen_t len = sizeof(ss);
	uint16_t p;

	if (ust_getsockname(so, (struct ust_sockaddr *)&ss, &len) != 0)
		return (0);
	memcpy(&p, (const uint8_t *)&ss + 2, 2); /* sin_port and sin6_port */
	return (tl_hton16(p));
}

static inline void
lb_msg(uint8_t *b, unsigned id)
{
	unsigned i;

	for (i = 0; i < LB_MSGLEN; i++)
		b[i] = (uint8_t)(id * 31u + i * 7u + (i == 0 ? id >> 8 : 0));
	b[0] = (uint8_t)id;
	b[1] = (uint8_t)(id >> 8);
}

/* The outcome of a round of connections. */
struct lb_round {
	unsigned n;                  /* connections made */
	unsigned per[LB_MAXMEMB];    /* accepted by each member */
	unsigned seen[LB_MAXCONN];   /* times connection i was accepted */
	unsigned member[LB_MAXCONN]; /* by whom */
	unsigned intact;             /* accepted with the right bytes from the right port */
	unsigned refused;            /* clients that saw an error */
};

/*
 * n TCP connections from a to b's port (family's address of b), each
 * sending LB_MSGLEN bytes of its own; then every member l[0..nl) (NULL:
 * closed) accepts all it has and reads each connection's bytes.  Fills
 * *r.  Closes every socket it made.
 */
static inline void
lb_tcp_round(struct tl_pair *pr, int family, struct ust_socket *const *l, unsigned nl,
    uint16_t port, unsigned n, struct lb_round *r)
{
	struct ust_socket *c[LB_MAXCONN], *s;
	struct ust_sockaddr_storage ss;
	uint16_t cport[LB_MAXCONN];
	uint8_t b[LB_MSGLEN], want[LB_MSGLEN];
	ust_socklen_t len;
	unsigned i, k, id;
	uint32_t b4 = LB_B4;
	const void *dst = &b4;

#if UST_INET6
	if (family == UST_AF_INET6)
		dst = &lb_b6;
#endif
	memset(r, 0, sizeof(*r));
	r->n = n;
	for (i = 0; i < n; i++) {
		c[i] = NULL;
		if (ust_socket(pr->a, family, UST_SOCK_STREAM, 0, &c[i]) != 0)
			continue;
		len = lb_addr(&ss, family, dst, port);
		(void)ust_connect(c[i], (const struct ust_sockaddr *)&ss, len);
		cport[i] = lb_lport(c[i]);
	}
	tl_pair_run(pr, 50 * LB_MS);
	for (i = 0; i < n; i++) {
		lb_msg(b, i);
		if (c[i] == NULL || tl_getint(c[i], UST_SOL_SOCKET, UST_SO_ERROR, -1) != 0 ||
		    ust_send(c[i], b, LB_MSGLEN, 0) != LB_MSGLEN)
			r->refused++;
	}
	tl_pair_run(pr, 50 * LB_MS);
	for (k = 0; k < nl; k++) {
		if (l[k] == NULL)
			continue;
		for (;;) {
			len = sizeof(ss);
			s = NULL;
			if (ust_accept(l[k], &s, (struct ust_sockaddr *)&ss, &len) != 0)
				break;
			if (ust_recv(s, b, LB_MSGLEN, 0) == LB_MSGLEN) {
				id = (unsigned)b[0] | (unsigned)b[1] << 8;
				lb_msg(want, id);
				if (id < n && memcmp(b, want, LB_MSGLEN) == 0) {
					uint16_t p;

					memcpy(&p, (const uint8_t *)&ss + 2, 2);
					r->seen[id]++;
					r->member[id] = k;
					r->per[k]++;
					if (tl_hton16(p) == cport[id])
						r->intact++;
				}
			}
			ust_close(s);
		}
	}
	for (i = 0; i < n; i++)
		if (c[i] != NULL)
			ust_close(c[i]);
	tl_pair_run(pr, 300 * LB_SEC);
}

/* Every connection accepted exactly once, intact, none refused. */
static inline int
lb_round_ok(const struct lb_round *r)
{
	unsigned i;

	for (i = 0; i < r->n; i++)
		if (r->seen[i] != 1)
			return (0);
	return (r->intact == r->n && r->refused == 0);
}

static inline void
lb_round_print(const char *what, const struct lb_round *r, unsigned nl)
{
	unsigned k;

	fprintf(stderr, "%s: %u connections, %u intact, %u refused, per member:", what, r->n,
	    r->intact, r->refused);
	for (k = 0; k < nl; k++)
		fprintf(stderr, " %u", r->per[k]);
	fputc('\n', stderr);
}

#endif /* UST_LBRIG_H */
