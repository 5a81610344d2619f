/*
 * fw_ctl.c - the control channel's server (fw_ctl.h): frames requests off
 * the byte stream and answers each with one reply.
 *
 * fw_ctl_poll() -> fw_ctl_run() -> fw_ctl_sock() | fw_ctl_sockopt() |
 * fw_ctl_knob() | fw_ctl_net() -> ust_*() -> fw_ctl_reply().
 *
 * Every request is checked against the exact length its op takes before
 * any argument is read, and sockets are slots of a fixed table, so a
 * malformed or hostile request costs one -UST_EINVAL / -UST_EBADF reply
 * and nothing else.  No call blocks: ustack's socket calls never do.
 */
#include <stddef.h>
#include <string.h>

#include "fw_ctl.h"

#define SA_LEN 6 /* u32 address, u16 port */
#define OPT_WORDS 4
#define CONN_ROW 24
_Static_assert(FW_CTL_CONNS *CONN_ROW <= FW_CTL_PAYLOAD_MAX, "PCBLIST rows must fit a reply");
_Static_assert(FW_CTL_PAYLOAD_MAX >= 256 && FW_CTL_PAYLOAD_MAX <= 0xffff, "FW_CTL_PAYLOAD_MAX");
_Static_assert(FW_CTL_SOCKETS > 0 && FW_CTL_SOCKETS <= 255, "FW_CTL_SOCKETS is a u8 slot");

/* The TCP_INFO encoding walks the struct as u8[4], u32[..], u64[..]. */
#define TI_U32_OFF offsetof(struct ust_tcp_info, tcpi_rto)
#define TI_U64_OFF offsetof(struct ust_tcp_info, tcpi_snd_rexmitpack)
_Static_assert(TI_U32_OFF == 4, "struct ust_tcp_info: u8 fields first");
_Static_assert(TI_U64_OFF == 72 && sizeof(struct ust_tcp_info) == 136,
    "struct ust_tcp_info changed: update fw_ctl's encoding and protocol.py");

static uint32_t
get16(const uint8_t *p)
{
	return ((uint32_t)p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

static void
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

/* Addresses travel in network order, as struct ust_sockaddr_in holds them. */
static void
sa_get(const uint8_t *p, struct ust_sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_len = sizeof(*sa);
	sa->sin_family = UST_AF_INET;
	memcpy(&sa->sin_addr, p, 4);
	memcpy(&sa->sin_port, p + 4, 2);
}

static size_t
sa_put(uint8_t *p, const struct ust_sockaddr_in *sa)
{
	memcpy(p, &sa->sin_addr, 4);
	memcpy(p + 4, &sa->sin_port, 2);
	return (SA_LEN);
}

static uint32_t
addr_get(const uint8_t *p)
{
	uint32_t a;

	memcpy(&a, p, 4);
	return (a);
}

/* n u64 counters (any struct of uint64_t) as big-endian words. */
static size_t
u64s_put(uint8_t *d, const void *src, size_t bytes)
{
	const uint8_t *p = src;
	uint64_t q;
	size_t i;

	for (i = 0; i + 8 <= bytes; i += 8) {
		memcpy(&q, p + i, 8);
		put64(d + i, q);
	}
	return (i);
}

/* Sends the reply to request (op, tag): result, then dlen bytes already
 * placed at c->out + FW_CTL_HDR + 4. */
static void
fw_ctl_reply(struct fw_ctl *c, uint8_t op, uint8_t tag, int32_t result, size_t dlen)
{
	put16(c->out, (uint32_t)(4 + dlen));
	c->out[2] = (uint8_t)(op | FW_CTL_REPLY);
	c->out[3] = tag;
	put32(c->out + FW_CTL_HDR, (uint32_t)result);
	c->write(c->out, FW_CTL_HDR + 4 + dlen);
}

/* A new socket in a free slot, watched by the poll queue. */
static int32_t
fw_ctl_adopt(struct fw_ctl *c, struct ust_socket *so)
{
	int i;

	for (i = 0; i < FW_CTL_SOCKETS; i++)
		if (c->so[i] == NULL)
			break;
	if (i == FW_CTL_SOCKETS) {
		ust_close(so);
		return (-UST_EMFILE);
	}
#if UST_EVQ
	if (c->evq != NULL) {
		int rc = ust_evq_ctl(c->evq, UST_EVQ_ADD, so, UST_EV_IN | UST_EV_OUT | UST_EV_RDHUP,
		    &c->so[i]);

		if (rc < 0) {
			ust_close(so);
			return (rc);
		}
	}
#endif
	c->so[i] = so;
	return (i);
}

/* TCP_INFO: u8[4], u32[17], u64[8], big-endian, in field order. */
static int32_t
fw_ctl_tcp_info(struct fw_ctl *c, struct ust_socket *so, uint8_t *d, size_t *dn)
{
	struct ust_tcp_info *ti = &c->in.s.ti;
	const uint8_t *p = (const uint8_t *)ti;
	size_t len = sizeof(*ti), i;
	uint32_t w;
	int rc;

	rc = ust_getsockopt(so, UST_IPPROTO_TCP, UST_TCP_INFO, ti, &len);
	if (rc < 0)
		return (rc);
	memcpy(d, p, TI_U32_OFF);
	for (i = TI_U32_OFF; i < TI_U64_OFF; i += 4) {
		memcpy(&w, p + i, 4);
		put32(d + i, w);
	}
	*dn = TI_U64_OFF + u64s_put(d + TI_U64_OFF, p + TI_U64_OFF, sizeof(*ti) - TI_U64_OFF);
	return ((int32_t)*dn);
}

static int32_t
fw_ctl_sockopt(struct fw_ctl *c, struct ust_socket *so, uint8_t op, const uint8_t *a, size_t n,
    uint8_t *d, size_t *dn)
{
	int level, name, v[OPT_WORDS], rc;
	size_t len, i;

	if (n < 8)
		return (-UST_EINVAL);
	level = (int)(int32_t)get32(a);
	name = (int)(int32_t)get32(a + 4);
	a += 8;
	n -= 8;
	if (level == UST_IPPROTO_TCP && name == UST_TCP_CONGESTION) {
		if (op == FW_CTL_SETSOCKOPT)
			return (ust_setsockopt(so, level, name, a, n));
		len = 16;
		rc = ust_getsockopt(so, level, name, d, &len);
		*dn = rc < 0 ? 0 : len;
		return (rc < 0 ? rc : (int32_t)len);
	}
	if (op == FW_CTL_SETSOCKOPT) {
		if (n % 4 != 0 || n > sizeof(v))
			return (-UST_EINVAL);
		for (i = 0; i < n / 4; i++)
			v[i] = (int)(int32_t)get32(a + 4 * i);
		return (ust_setsockopt(so, level, name, v, n));
	}
	if (n != 2)
		return (-UST_EINVAL);
	if (level == UST_IPPROTO_TCP && name == UST_TCP_INFO)
		return (fw_ctl_tcp_info(c, so, d, dn));
	len = get16(a);
	if (len > sizeof(v))
		len = sizeof(v);
	rc = ust_getsockopt(so, level, name, v, &len);
	if (rc < 0)
		return (rc);
	for (i = 0; i + 4 <= len; i += 4)
		put32(d + i, (uint32_t)v[i / 4]);
	*dn = i;
	return ((int32_t)i);
}

static int32_t
fw_ctl_accept(struct fw_ctl *c, struct ust_socket *so, uint8_t *d, size_t *dn)
{
	struct ust_sockaddr_in sa;
	struct ust_socket *nso;
	int32_t rc;

	rc = ust_accept(so, &nso, (struct ust_sockaddr *)&sa, &(ust_socklen_t){ sizeof(sa) });
	if (rc < 0)
		return (rc);
	rc = fw_ctl_adopt(c, nso);
	if (rc >= 0)
		*dn = sa_put(d, &sa);
	return (rc);
}

static int32_t
fw_ctl_recv(struct ust_socket *so, uint8_t op, const uint8_t *a, uint8_t *d, size_t *dn)
{
	struct ust_sockaddr_in sa;
	size_t max = get16(a + 1), off = op == FW_CTL_RECVFROM ? SA_LEN : 0;
	ptrdiff_t r;

	if (max > FW_CTL_PAYLOAD_MAX - off)
		max = FW_CTL_PAYLOAD_MAX - off;
	if (off == 0)
		r = ust_recv(so, d, max, a[0]);
	else
		r = ust_recvfrom(so, d + off, max, a[0], (struct ust_sockaddr *)&sa,
		    &(ust_socklen_t){ sizeof(sa) });
	if (r < 0)
		return ((int32_t)r);
	if (off != 0)
		sa_put(d, &sa);
	*dn = off + (size_t)r;
	return ((int32_t)r);
}

/* The ops on one socket of the table: a[0] is its slot. */
static int32_t
fw_ctl_sock(struct fw_ctl *c, uint8_t op, const uint8_t *a, size_t n, uint8_t *d, size_t *dn)
{
	struct ust_sockaddr_in sa;
	struct ust_socket *so;
	int32_t rc;

	if (n < 1 || a[0] >= FW_CTL_SOCKETS || (so = c->so[a[0]]) == NULL)
		return (-UST_EBADF);
	switch (op) {
	case FW_CTL_BIND:
	case FW_CTL_CONNECT:
		if (n != 1 + SA_LEN)
			return (-UST_EINVAL);
		sa_get(a + 1, &sa);
		return (op == FW_CTL_BIND ?
		        ust_bind(so, (const struct ust_sockaddr *)&sa, sizeof(sa)) :
		        ust_connect(so, (const struct ust_sockaddr *)&sa, sizeof(sa)));
	case FW_CTL_LISTEN:
		return (n == 3 ? ust_listen(so, (int)get16(a + 1)) : -UST_EINVAL);
	case FW_CTL_ACCEPT:
		return (n == 1 ? fw_ctl_accept(c, so, d, dn) : -UST_EINVAL);
	case FW_CTL_SEND:
		if (n < 2)
			return (-UST_EINVAL);
		return ((int32_t)ust_send(so, a + 2, n - 2, a[1]));
	case FW_CTL_SENDTO:
		if (n < 2 + SA_LEN)
			return (-UST_EINVAL);
		sa_get(a + 2, &sa);
		return ((int32_t)ust_sendto(so, a + 2 + SA_LEN, n - 2 - SA_LEN, a[1],
		    (const struct ust_sockaddr *)&sa, sizeof(sa)));
	case FW_CTL_RECV:
	case FW_CTL_RECVFROM:
		return (n == 4 ? fw_ctl_recv(so, op, a + 1, d, dn) : -UST_EINVAL);
	case FW_CTL_SHUTDOWN:
		return (n == 2 ? ust_shutdown(so, a[1]) : -UST_EINVAL);
	case FW_CTL_CLOSE:
		if (n != 1)
			return (-UST_EINVAL);
		c->so[a[0]] = NULL;
		return (ust_close(so));
	case FW_CTL_SETSOCKOPT:
	case FW_CTL_GETSOCKOPT:
		return (fw_ctl_sockopt(c, so, op, a + 1, n - 1, d, dn));
	case FW_CTL_GETSOCKNAME:
	case FW_CTL_GETPEERNAME:
		if (n != 1)
			return (-UST_EINVAL);
		rc = op == FW_CTL_GETSOCKNAME ?
		    ust_getsockname(so, (struct ust_sockaddr *)&sa,
		        &(ust_socklen_t){ sizeof(sa) }) :
		    ust_getpeername(so, (struct ust_sockaddr *)&sa, &(ust_socklen_t){ sizeof(sa) });
		if (rc == 0)
			*dn = sa_put(d, &sa);
		return (rc);
	default:
		return (-UST_EOPNOTSUPP);
	}
}

/* FW_CTL_POLL: the current readiness of each socket asked about.  Without
 * event queues (UST_EVQ 0, or no memory for one) -UST_EOPNOTSUPP: the host
 * then retries its calls instead. */
static int32_t
fw_ctl_readiness(struct fw_ctl *c, const uint8_t *a, size_t n, uint8_t *d, size_t *dn)
{
#if UST_EVQ
	struct ust_event ev[FW_CTL_SOCKETS];
	uint32_t mask[FW_CTL_SOCKETS];
	int i, k, ready = 0;
	size_t j;

	if (n > FW_CTL_SOCKETS)
		return (-UST_EINVAL);
	if (c->evq == NULL)
		return (-UST_EOPNOTSUPP);
	memset(mask, 0, sizeof(mask));
	k = ust_evq_poll(c->evq, ev, FW_CTL_SOCKETS);
	for (i = 0; i < k; i++)
		mask[(struct ust_socket **)ev[i].udata - c->so] = ev[i].events;
	for (j = 0; j < n; j++) {
		if (a[j] >= FW_CTL_SOCKETS || c->so[a[j]] == NULL)
			return (-UST_EBADF);
		put16(d + 2 * j, mask[a[j]]);
		ready += mask[a[j]] != 0;
	}
	*dn = 2 * n;
	return (ready);
#else
	(void)c, (void)a, (void)n, (void)d, (void)dn;
	return (-UST_EOPNOTSUPP);
#endif
}

/* FW_CTL_SYSCTL_GET / _SET.  Names are not NUL-terminated on the wire. */
static int32_t
fw_ctl_knob(struct fw_ctl *c, uint8_t op, const uint8_t *a, size_t n, uint8_t *d, size_t *dn)
{
	char name[64], val[64];
	size_t nlen = op == FW_CTL_SYSCTL_GET ? n : (n >= 2 ? a[1] : sizeof(name));
	const uint8_t *p = op == FW_CTL_SYSCTL_GET ? a : a + 2;
	size_t rest = n - (size_t)(p - a);
	int64_t v;
	int rc;

	if (nlen == 0 || nlen >= sizeof(name) || nlen > rest)
		return (-UST_EINVAL);
	memcpy(name, p, nlen);
	name[nlen] = '\0';
	p += nlen;
	rest -= nlen;
	if (op == FW_CTL_SYSCTL_GET) {
		rc = ust_sysctl_get(c->st, name, &v);
		if (rc == -UST_EINVAL) {
			rc = ust_sysctl_get_str(c->st, name, (char *)d, FW_CTL_PAYLOAD_MAX);
			if (rc < 0)
				return (rc);
			*dn = strlen((char *)d);
			return (1);
		}
		if (rc == 0) {
			put64(d, (uint64_t)v);
			*dn = 8;
		}
		return (rc);
	}
	if (a[0] == 0) {
		if (rest != 8)
			return (-UST_EINVAL);
		return (ust_sysctl_set(c->st, name,
		    (int64_t)((uint64_t)get32(p) << 32 | get32(p + 4))));
	}
	if (rest >= sizeof(val))
		return (-UST_EINVAL);
	memcpy(val, p, rest);
	val[rest] = '\0';
	return (ust_sysctl_set_str(c->st, name, val));
}

static int32_t
fw_ctl_stats(struct fw_ctl *c, const uint8_t *a, size_t n, uint8_t *d, size_t *dn)
{
	union fw_ctl_scratch *s = &c->in.s;
	size_t len;

	if (n != 1)
		return (-UST_EINVAL);
	switch (a[0]) {
	case 0:
		ust_stack_get_stats(c->st, &s->stack);
		len = sizeof(s->stack);
		break;
	case 1:
		ust_stats_ether(c->st, &s->ether);
		len = sizeof(s->ether);
		break;
	case 2:
		ust_stats_arp(c->st, &s->arp);
		len = sizeof(s->arp);
		break;
	case 3:
		ust_stats_ip(c->st, &s->ip);
		len = sizeof(s->ip);
		break;
	case 4:
		ust_stats_icmp(c->st, &s->icmp);
		len = sizeof(s->icmp);
		break;
	case 5:
		ust_stats_udp(c->st, &s->udp);
		len = sizeof(s->udp);
		break;
	case 6:
		ust_stats_tcp(c->st, &s->tcp);
		len = sizeof(s->tcp);
		break;
	default:
		return (-UST_EINVAL);
	}
	*dn = u64s_put(d, s, len);
	return ((int32_t)len);
}

/* FW_CTL_PCBLIST rows: laddr, faddr, lport, fport as on the wire, state,
 * has_socket, timers, rxtshift, u32 recv_q, u32 send_q. */
static int32_t
fw_ctl_pcblist(struct fw_ctl *c, uint8_t *d, size_t *dn)
{
	struct ust_tcp_conn *tc = c->in.s.conn;
	size_t total, k, rows;

	total = ust_tcp_pcblist(c->st, tc, FW_CTL_CONNS);
	rows = total < FW_CTL_CONNS ? total : FW_CTL_CONNS;
	for (k = 0; k < rows; k++) {
		uint8_t *r = d + k * CONN_ROW;

		memcpy(r, &tc[k].laddr, 4);
		memcpy(r + 4, &tc[k].faddr, 4);
		memcpy(r + 8, &tc[k].lport, 2);
		memcpy(r + 10, &tc[k].fport, 2);
		r[12] = tc[k].state;
		r[13] = tc[k].has_socket;
		r[14] = tc[k].timers;
		r[15] = tc[k].rxtshift;
		put32(r + 16, tc[k].recv_q);
		put32(r + 20, tc[k].send_q);
	}
	*dn = rows * CONN_ROW;
	return ((int32_t)total);
}

/* FW_CTL_RESET: what one test leaves behind must not meet the next. */
static int32_t
fw_ctl_reset(struct fw_ctl *c)
{
	struct ust_tcp_conn *tc = c->in.s.conn;
	size_t total, k;
	int32_t closed = 0;
	int i, round;

	for (i = 0; i < FW_CTL_SOCKETS; i++) {
		if (c->so[i] != NULL) {
			ust_close(c->so[i]);
			c->so[i] = NULL;
			closed++;
		}
	}
	for (round = 0; round < 16; round++) {
		total = ust_tcp_pcblist(c->st, tc, FW_CTL_CONNS);
		if (total == 0)
			break;
		for (k = 0; k < total && k < FW_CTL_CONNS; k++) {
			struct ust_sockaddr_in l, f;

			/* The firmware speaks IPv4 (fw_ctl's 4-byte addresses). */
			if (tc[k].family != UST_AF_INET)
				continue;
			memset(&l, 0, sizeof(l));
			l.sin_len = (uint8_t)sizeof(l);
			l.sin_family = UST_AF_INET;
			f = l;
			l.sin_addr = tc[k].laddr;
			l.sin_port = tc[k].lport;
			f.sin_addr = tc[k].faddr;
			f.sin_port = tc[k].fport;
			ust_tcp_drop(c->st, (const struct ust_sockaddr *)&l, sizeof(l),
			    (const struct ust_sockaddr *)&f, sizeof(f));
		}
	}
	return (closed);
}

/* Interface, address, route and ARP ops on c->ifp. */
static int32_t
fw_ctl_net(struct fw_ctl *c, uint8_t op, const uint8_t *a, size_t n, uint8_t *d, size_t *dn)
{
	static const uint8_t need[] = { 0, 5, 4, 9, 5, 10, 4 };
	uint32_t addr;
	unsigned plen, k;
	size_t o;

	if (c->ifp == NULL)
		return (-UST_ENODEV);
	if (n != need[op - FW_CTL_IFINFO])
		return (-UST_EINVAL);
	switch (op) {
	case FW_CTL_IFINFO:
		ust_if_get_mac(c->ifp, d);
		put32(d + 6, ust_if_mtu(c->ifp));
		for (k = 0, o = 11; k < 8 && ust_if_addr_get(c->ifp, k, &addr, &plen) == 0; k++) {
			memcpy(d + o, &addr, 4);
			d[o + 4] = (uint8_t)plen;
			o += 5;
		}
		d[10] = (uint8_t)k;
		memcpy(d + o, ust_if_name(c->ifp), strlen(ust_if_name(c->ifp)));
		*dn = o + strlen(ust_if_name(c->ifp));
		return (0);
	case FW_CTL_ADDR_ADD:
		return (ust_if_addr_add(c->ifp, addr_get(a), a[4]));
	case FW_CTL_ADDR_DEL:
		return (ust_if_addr_del(c->ifp, addr_get(a)));
	case FW_CTL_ROUTE_ADD:
		return (ust_route_add(c->st, addr_get(a), a[4], addr_get(a + 5), c->ifp));
	case FW_CTL_ROUTE_DEL:
		return (ust_route_del(c->st, addr_get(a), a[4]));
	case FW_CTL_ARP_ADD:
		return (ust_arp_add_static(c->ifp, addr_get(a), a + 4));
	default:
		return (ust_arp_del(c->ifp, addr_get(a)));
	}
}

static int32_t
fw_ctl_hello(struct fw_ctl *c, uint8_t *data, size_t *dn)
{
	const char *ver = ust_version();
	size_t n, vn;

	n = strlen(c->board);
	if (n > FW_CTL_PAYLOAD_MAX - 32)
		n = FW_CTL_PAYLOAD_MAX - 32;
	memcpy(data, c->board, n);
	memcpy(data + n, " ustack ", 8);
	n += 8;
	vn = strlen(ver);
	if (vn > 16)
		vn = 16;
	memcpy(data + n, ver, vn);
	*dn = n + vn;
	return (0);
}

static int32_t
fw_ctl_clock(struct fw_ctl *c, uint8_t *d, size_t *dn)
{
	put64(d, ust_stack_now(c->st));
	put64(d + 8, ust_stack_next_deadline(c->st));
	*dn = 16;
	return (0);
}

static int32_t
fw_ctl_tcpdrop(struct fw_ctl *c, const uint8_t *a, size_t n)
{
	struct ust_sockaddr_in l, f;

	if (n != 2 * SA_LEN)
		return (-UST_EINVAL);
	sa_get(a, &l);
	sa_get(a + SA_LEN, &f);
	return (ust_tcp_drop(c->st, (const struct ust_sockaddr *)&l, sizeof(l),
	    (const struct ust_sockaddr *)&f, sizeof(f)));
}

static int32_t
fw_ctl_socket(struct fw_ctl *c, const uint8_t *a, size_t n)
{
	struct ust_socket *so;
	int rc;

	if (n != 2)
		return (-UST_EINVAL);
	rc = ust_socket(c->st, UST_AF_INET, a[0], a[1], &so);
	return (rc < 0 ? rc : fw_ctl_adopt(c, so));
}

static void
fw_ctl_run(struct fw_ctl *c, uint8_t op, uint8_t tag, const uint8_t *a, size_t n)
{
	uint8_t *d = c->out + FW_CTL_HDR + 4;
	size_t dn = 0;
	int32_t rc;

	if (op == FW_CTL_EXIT) {
		if (n != 4) {
			fw_ctl_reply(c, op, tag, -UST_EINVAL, 0);
			return;
		}
		fw_ctl_reply(c, op, tag, 0, 0);
		c->exit((int)(int32_t)get32(a));
		return;
	}
	if (op == FW_CTL_HELLO)
		rc = n == 0 ? fw_ctl_hello(c, d, &dn) : -UST_EINVAL;
	else if (op == FW_CTL_SOCKET)
		rc = fw_ctl_socket(c, a, n);
	else if (op <= FW_CTL_GETPEERNAME)
		rc = fw_ctl_sock(c, op, a, n, d, &dn);
	else if (op == FW_CTL_POLL)
		rc = fw_ctl_readiness(c, a, n, d, &dn);
	else if (op == FW_CTL_SYSCTL_GET || op == FW_CTL_SYSCTL_SET)
		rc = fw_ctl_knob(c, op, a, n, d, &dn);
	else if (op == FW_CTL_STATS)
		rc = fw_ctl_stats(c, a, n, d, &dn);
	else if (op == FW_CTL_CLOCK)
		rc = n == 0 ? fw_ctl_clock(c, d, &dn) : -UST_EINVAL;
	else if (op == FW_CTL_PCBLIST)
		rc = n == 0 ? fw_ctl_pcblist(c, d, &dn) : -UST_EINVAL;
	else if (op == FW_CTL_TCPDROP)
		rc = fw_ctl_tcpdrop(c, a, n);
	else if (op >= FW_CTL_IFINFO && op <= FW_CTL_ARP_DEL)
		rc = fw_ctl_net(c, op, a, n, d, &dn);
	else if (op == FW_CTL_RESET)
		rc = n == 0 ? fw_ctl_reset(c) : -UST_EINVAL;
	else if (op == FW_CTL_LIMITS && n == 0) {
		put16(d, FW_CTL_PAYLOAD_MAX);
		d[2] = FW_CTL_SOCKETS;
		d[3] = (uint8_t)FW_CTL_CONNS;
		dn = 4;
		rc = 0;
	} else
		rc = -UST_EOPNOTSUPP;
	fw_ctl_reply(c, op, tag, rc, rc < 0 ? 0 : dn);
}

void
fw_ctl_init(struct fw_ctl *c, struct ust_stack *st, const char *board, fw_ctl_read_fn rd,
    fw_ctl_write_fn wr, fw_ctl_exit_fn ex)
{
	memset(c, 0, sizeof(*c));
	c->st = st;
	c->board = board;
	c->read = rd;
	c->write = wr;
	c->exit = ex;
#if UST_EVQ
	if (ust_evq_create(st, &c->evq) < 0)
		c->evq = NULL;
#endif
}

void
fw_ctl_fini(struct fw_ctl *c)
{
	fw_ctl_reset(c);
#if UST_EVQ
	if (c->evq != NULL)
		ust_evq_destroy(c->evq);
#endif
	c->evq = NULL;
}

void
fw_ctl_set_if(struct fw_ctl *c, struct ust_if *ifp)
{
	c->ifp = ifp;
}

int
fw_ctl_poll(struct fw_ctl *c)
{
	uint8_t junk[64];
	size_t len, want, n;
	int did = 0;

	for (;;) {
		if (c->skip > 0) {
			n = c->read(junk, c->skip < sizeof(junk) ? c->skip : sizeof(junk));
			if (n == 0)
				return (did);
			c->skip -= n;
			if (c->skip == 0) {
				fw_ctl_reply(c, c->in.buf[2], c->in.buf[3], -UST_EMSGSIZE, 0);
				did = 1;
			}
			continue;
		}
		want = FW_CTL_HDR;
		if (c->have >= FW_CTL_HDR) {
			len = get16(c->in.buf);
			if (len > FW_CTL_PAYLOAD_MAX) {
				c->skip = len;
				c->have = 0;
				continue;
			}
			want += len;
		}
		if (c->have < want) {
			n = c->read(c->in.buf + c->have, want - c->have);
			if (n == 0)
				return (did);
			c->have += n;
			continue;
		}
		c->have = 0;
		fw_ctl_run(c, c->in.buf[2], c->in.buf[3], c->in.buf + FW_CTL_HDR,
		    want - FW_CTL_HDR);
		did = 1;
	}
}
