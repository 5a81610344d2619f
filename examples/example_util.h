/*
 * example_util.h - the few helpers every example needs, without the host's
 * socket headers: IPv4 addresses and ports in network byte order, and the
 * wall clock in seconds.  Header only.
 */
#ifndef USTACK_EXAMPLE_UTIL_H
#define USTACK_EXAMPLE_UTIL_H

#include <stdint.h>
#include <string.h>
#include <time.h>

#include <ustack/ustack.h>

/* Network byte order without <arpa/inet.h>. */
static inline uint32_t
ip4(unsigned a, unsigned b, unsigned c, unsigned d)
{
	uint8_t x[4] = { (uint8_t)a, (uint8_t)b, (uint8_t)c, (uint8_t)d };
	uint32_t v;

	memcpy(&v, x, 4);
	return (v);
}

static inline struct ust_sockaddr_in
sin4(uint32_t addr, uint16_t port)
{
	struct ust_sockaddr_in s;
	uint8_t p[2] = { (uint8_t)(port >> 8), (uint8_t)port };

	memset(&s, 0, sizeof(s));
	s.sin_len = (uint8_t)sizeof(s);
	s.sin_family = UST_AF_INET;
	memcpy(&s.sin_port, p, 2);
	s.sin_addr = addr;
	return (s);
}

static inline double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

#endif /* USTACK_EXAMPLE_UTIL_H */
