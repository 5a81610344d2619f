/*
 * footprint_ref.c - the reference program `invoke footprint` links to
 * measure what a real user of the stack pulls in (tasks.py footprint,
 * docs/footprint.md).
 *
 * It references what a small networked device uses, so that
 * --gc-sections keeps that and nothing else: ust_stack_config_init,
 * ust_stack_create, an Ethernet interface (ust_if_attach with a driver
 * built on ustack_driver.h: ust_mbuf_from_buf on receive, ust_mbuf_sglist
 * and ust_mbuf_free on transmit), ust_if_addr_add, ust_route_add, a UDP
 * socket (socket, bind, sendto, recvfrom, close), a TCP listener and a
 * TCP client (socket, bind, listen, accept, connect, send, recv, close),
 * ust_stack_poll / ust_stack_next_deadline in a loop, ust_stack_destroy.
 * Everything reached from those (ARP, IPv4 input/output, ICMP echo,
 * fragment reassembly when compiled in, TCP input/output/timers, the
 * options of the configuration) counts; API the program does not call
 * (sysctl by name, statistics, event queues, pcap) does not.
 *
 * The NIC is a stub: the point is the link, not a run.  The board hooks
 * (clock, entropy, putc) keep the bare-metal OSAL's weak defaults.
 * Call order: main() -> ust_stack_create() -> ust_if_attach() ->
 * sockets -> ust_stack_poll() x N -> ust_stack_destroy().
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <ustack/ustack.h>
#include <ustack/ustack_driver.h>

#define REF_ADDR 0xc6120002u /* 198.18.0.2 */
#define REF_PEER 0xc6120001u /* 198.18.0.1 */
#define REF_PORT 7

/* A NIC whose receive register is a volatile word, so the compiler keeps
 * the receive path. */
static volatile uint32_t ref_rx_len;
static uint8_t ref_frame[1514];

static int
ref_rx_burst(void *softc, struct ust_if *ifp, struct ust_mbuf **pkts, int max)
{
	struct ust_mbuf *m;

	(void)softc;
	if (max < 1 || ref_rx_len == 0 || ref_rx_len > sizeof(ref_frame))
		return (0);
	m = ust_mbuf_from_buf(ifp, ref_frame, ref_rx_len);
	if (m == NULL)
		return (0);
	pkts[0] = m;
	return (1);
}

static int
ref_tx_burst(void *softc, struct ust_mbuf **pkts, int n)
{
	struct ust_iovec v[8];
	int i;

	(void)softc;
	for (i = 0; i < n; i++) {
		if (ust_mbuf_sglist(pkts[i], v, 8) > 0)
			ref_rx_len = (uint32_t)v[0].iov_len;
		ust_mbuf_free(pkts[i]);
	}
	return (n);
}

static void
ref_get_mac(void *softc, uint8_t mac[6])
{
	static const uint8_t ref_mac[6] = { 0x02, 0, 0, 0, 0, 2 };
	unsigned i;

	(void)softc;
	for (i = 0; i < 6; i++)
		mac[i] = ref_mac[i];
}

static uint32_t
ref_get_mtu(void *softc)
{
	(void)softc;
	return (1500);
}

static const struct ust_driver_ops ref_ops = {
	.name = "ref",
	.rx_burst = ref_rx_burst,
	.tx_burst = ref_tx_burst,
	.get_mac = ref_get_mac,
	.get_mtu = ref_get_mtu,
};

/* Network byte order whatever the CPU's. */
static uint32_t
ref_be(uint32_t v, size_t len)
{
	uint8_t b[4] = { 0 };
	uint32_t r = 0;
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(v >> (8 * (len - 1 - i)));
	memcpy(&r, b, len);
	return (r);
}

static void
ref_sin(struct ust_sockaddr_in *sin, uint32_t addr, uint16_t port)
{
	*sin = (struct ust_sockaddr_in){ 0 };
	sin->sin_len = sizeof(*sin);
	sin->sin_family = UST_AF_INET;
	sin->sin_port = (uint16_t)ref_be(port, 2);
	sin->sin_addr = ref_be(addr, 4);
}

int main(void);

int
main(void)
{
	struct ust_stack_config cfg;
	struct ust_stack *st;
	struct ust_if *ifp;
	struct ust_socket *us, *ls, *cs, *as;
	struct ust_sockaddr_in sin, from;
	char buf[64];
	ptrdiff_t n;
	int i;

	ust_stack_config_init(&cfg);
	cfg.seed_set = 1;
	cfg.seed = 1;
	if (ust_stack_create(&cfg, &st) != 0)
		return (1);
	if (ust_if_attach(st, "ref0", &ref_ops, NULL, &ifp) != 0 ||
	    ust_if_addr_add(ifp, ref_be(REF_ADDR, 4), 24) != 0 ||
	    ust_route_add(st, 0, 0, ref_be(REF_PEER, 4), ifp) != 0)
		return (1);

	ref_sin(&sin, 0, REF_PORT);
	if (ust_socket(st, UST_AF_INET, UST_SOCK_DGRAM, 0, &us) != 0 ||
	    ust_bind(us, (const struct ust_sockaddr *)&sin, sizeof(sin)) != 0)
		return (1);
	if (ust_socket(st, UST_AF_INET, UST_SOCK_STREAM, 0, &ls) != 0 ||
	    ust_bind(ls, (const struct ust_sockaddr *)&sin, sizeof(sin)) != 0 ||
	    ust_listen(ls, 4) != 0)
		return (1);
	if (ust_socket(st, UST_AF_INET, UST_SOCK_STREAM, 0, &cs) != 0)
		return (1);
	ref_sin(&sin, REF_PEER, REF_PORT);
	(void)ust_connect(cs, (const struct ust_sockaddr *)&sin, sizeof(sin));

	for (i = 0; i < 100; i++) {
		(void)ust_stack_poll(st);
		n = ust_recvfrom(us, buf, sizeof(buf), 0, (struct ust_sockaddr *)&from,
		    &(ust_socklen_t){ sizeof(from) });
		if (n > 0)
			(void)ust_sendto(us, buf, (size_t)n, 0, (const struct ust_sockaddr *)&from,
			    sizeof(from));
		if (ust_accept(ls, &as, NULL, NULL) == 0) {
			n = ust_recv(as, buf, sizeof(buf), 0);
			if (n > 0)
				(void)ust_send(as, buf, (size_t)n, 0);
			(void)ust_close(as);
		}
		(void)ust_send(cs, "x", 1, 0);
		(void)ust_stack_next_deadline(st);
	}
	(void)ust_close(cs);
	(void)ust_close(ls);
	(void)ust_close(us);
	ust_stack_destroy(st);
	return (0);
}
