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

#endif /* _USTACK_NETINET_IN_H_ */
