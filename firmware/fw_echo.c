/*
 * fw_echo.c - the echo service (RFC 862) on port 7: every UDP datagram
 * goes back to its sender; every TCP connection gets back what it sends,
 * FW_TCP_ECHO_CONNS of them at once.
 *
 * TCP: a connection is a slot with one buffer.  When the buffer is empty
 * the slot reads into it; while it holds bytes the slot sends them and
 * reads nothing more, so a peer that does not read its echo fills our
 * receive window and stops (flow control does the rest).  At EOF with the
 * buffer empty the connection is closed (what the peer sent has been
 * echoed).  A connection that neither receives nor sends for
 * FW_ECHO_IDLE_S (fw.h) is reset: a peer that never reads its echo, or
 * went away, would otherwise pin the slot and the data TCP holds for it
 * forever.  Accepting beyond the slots resets the new connection.
 */
#include <string.h>

#include "fw.h"

struct fw_echo_conn {
	struct ust_socket *so; /* NULL: free slot */
	uint32_t off, len;     /* bytes buf[off..len) still to send */
	uint64_t last_ns;      /* last byte received or sent */
	uint8_t buf[FW_IO_BUF];
};

struct fw_echo {
	struct ust_stack *st;
	struct ust_socket *udp;
	struct ust_socket *lso;
	struct fw_echo_conn conn[FW_TCP_ECHO_CONNS];
	uint8_t dgram[FW_UDP_MAX];
};

/* One instance (the firmware has one stack); static, not on the heap, so
 * that the heap is the stack's alone. */
static struct fw_echo fw_echo_state;

struct ust_socket *
fw_listen(struct ust_stack *st, int type, uint16_t port, int backlog, int *error)
{
	struct ust_sockaddr_in sin;
	struct ust_socket *so;
	int on = 1;

	*error = ust_socket(st, UST_AF_INET, type, 0, &so);
	if (*error != 0)
		return (NULL);
	memset(&sin, 0, sizeof(sin));
	sin.sin_len = sizeof(sin);
	sin.sin_family = UST_AF_INET;
	sin.sin_port = (uint16_t)(port << 8 | port >> 8);
	(void)ust_setsockopt(so, UST_SOL_SOCKET, UST_SO_REUSEADDR, &on, sizeof(on));
	*error = ust_bind(so, (const struct ust_sockaddr *)&sin, sizeof(sin));
	if (*error == 0 && type == UST_SOCK_STREAM)
		*error = ust_listen(so, backlog);
	if (*error != 0) {
		(void)ust_close(so);
		return (NULL);
	}
	return (so);
}

void
fw_abort(struct ust_socket *so)
{
	static const struct ust_linger l = { 1, 0 };

	(void)ust_setsockopt(so, UST_SOL_SOCKET, UST_SO_LINGER, &l, sizeof(l));
	(void)ust_close(so);
}

int
fw_echo_start(struct ust_stack *st, struct fw_echo **out)
{
	struct fw_echo *e = &fw_echo_state;
	int error;

	memset(e, 0, sizeof(*e));
	e->st = st;
	e->udp = fw_listen(st, UST_SOCK_DGRAM, FW_ECHO_PORT, 0, &error);
	if (e->udp == NULL)
		return (error);
	e->lso = fw_listen(st, UST_SOCK_STREAM, FW_ECHO_PORT, FW_TCP_ECHO_CONNS, &error);
	if (e->lso == NULL) {
		(void)ust_close(e->udp);
		return (error);
	}
	*out = e;
	return (0);
}

static int
fw_echo_udp(struct fw_echo *e)
{
	struct ust_sockaddr_in from;
	ptrdiff_t n;
	int did = 0;

	while ((n = ust_recvfrom(e->udp, e->dgram, sizeof(e->dgram), 0,
	            (struct ust_sockaddr *)&from, &(ust_socklen_t){ sizeof(from) })) >= 0) {
		/* A datagram the send buffer cannot take now is lost, as UDP
		 * may lose it anywhere else. */
		(void)ust_sendto(e->udp, e->dgram, (size_t)n, 0, (const struct ust_sockaddr *)&from,
		    sizeof(from));
		did = 1;
	}
	return (did);
}

static void
fw_echo_close(struct fw_echo_conn *c)
{
	(void)ust_close(c->so);
	c->so = NULL;
}

/* Moves one connection along; 1 if it did anything. */
static int
fw_echo_conn_poll(struct fw_echo_conn *c, uint64_t now)
{
	ptrdiff_t n;
	int did = 0;

	for (;;) {
		if (c->off < c->len) {
			n = ust_send(c->so, c->buf + c->off, c->len - c->off, 0);
			/* ENOBUFS: no mbuf just now (a small board runs at its
			 * memory limit); what TCP holds will free some. */
			if (n == -UST_EAGAIN || n == -UST_ENOBUFS || n == 0)
				break;
			if (n < 0) {
				fw_echo_close(c);
				return (1);
			}
			c->off += (uint32_t)n;
			did = 1;
			continue;
		}
		n = ust_recv(c->so, c->buf, sizeof(c->buf), 0);
		if (n == -UST_EAGAIN)
			break;
		if (n <= 0) {
			/* EOF with everything echoed, or an error. */
			fw_echo_close(c);
			return (1);
		}
		c->off = 0;
		c->len = (uint32_t)n;
		did = 1;
	}
	if (did)
		c->last_ns = now;
	else if (now - c->last_ns >= FW_ECHO_IDLE_S * FW_NS_PER_S) {
		fw_abort(c->so);
		c->so = NULL;
		return (1);
	}
	return (did);
}

int
fw_echo_poll(struct fw_echo *e)
{
	struct ust_socket *so;
	uint64_t now = ust_stack_now(e->st);
	int did, i, j;

	did = fw_echo_udp(e);
	while (ust_accept(e->lso, &so, NULL, NULL) == 0) {
		did = 1;
		for (j = 0; j < FW_TCP_ECHO_CONNS && e->conn[j].so != NULL; j++)
			;
		if (j == FW_TCP_ECHO_CONNS) {
			fw_abort(so);
			continue;
		}
		e->conn[j].so = so;
		e->conn[j].off = e->conn[j].len = 0;
		e->conn[j].last_ns = now;
	}
	for (i = 0; i < FW_TCP_ECHO_CONNS; i++)
		if (e->conn[i].so != NULL)
			did |= fw_echo_conn_poll(&e->conn[i], now);
	return (did);
}

int
fw_echo_conns(const struct fw_echo *e)
{
	int i, n = 0;

	for (i = 0; i < FW_TCP_ECHO_CONNS; i++)
		n += e->conn[i].so != NULL;
	return (n);
}
