/*
 * in.h - IPv4 addresses and protocol numbers (FreeBSD netinet/in.h).
 * struct in_addr holds the address in network byte order, as on the wire
 * and in the public API; the IN_* class tests take host order.
 */
#ifndef _USTACK_NETINET_IN_H_
#define _USTACK_NETINET_IN_H_

#include <stdint.h>

#include <ustack/ustack.h>

#include "kern/endian.h"

struct in_addr {
	uint32_t s_addr; /* network byte order */
};

#define sockaddr ust_sockaddr /* as kern/socketvar.h */
#define sockaddr_in ust_sockaddr_in

#define IPPROTO_IP 0
#define IPPROTO_ICMP 1
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

#define INADDR_ANY 0x00000000u
#define INADDR_BROADCAST 0xffffffffu
#define INADDR_LOOPBACK 0x7f000001u

/* Host-order class tests. */
#define IN_MULTICAST(i) (((uint32_t)(i)&0xf0000000u) == 0xe0000000u)
#define IN_EXPERIMENTAL(i) (((uint32_t)(i)&0xf0000000u) == 0xf0000000u)
#define IN_BADCLASS(i) IN_EXPERIMENTAL(i)
#define IN_LOOPBACK(i) (((uint32_t)(i)&0xff000000u) == 0x7f000000u)
#define IN_ZERONET(i) (((uint32_t)(i)&0xff000000u) == 0)

/* Mask of a prefix length, host order (plen 0..32). */
static inline uint32_t
in_plen_mask(unsigned plen)
{
	return (plen == 0 ? 0 : (plen >= 32 ? 0xffffffffu : ~((1u << (32 - plen)) - 1)));
}

/*
 * The struct sockaddr_in behind a generic address from the socket layer
 * (the user-request functions' edge): EAFNOSUPPORT unless AF_INET, EINVAL
 * unless sa_len is sizeof(struct sockaddr_in) (FreeBSD in_pcbbind and
 * udp/tcp_usr_*); 0 with *sinp set.  The socket layer keeps addresses in
 * aligned storage.
 */
static inline int
in_satosin(const struct sockaddr *sa, const struct sockaddr_in **sinp)
{
	if (sa->sa_family != UST_AF_INET)
		return (UST_EAFNOSUPPORT);
	if (sa->sa_len != sizeof(struct sockaddr_in))
		return (UST_EINVAL);
	*sinp = (const struct sockaddr_in *)(const void *)sa;
	return (0);
}

/* The IPv6 names, as FreeBSD's netinet/in.h includes netinet6/in6.h. */
#include "netinet6/in6.h"

#endif /* _USTACK_NETINET_IN_H_ */
