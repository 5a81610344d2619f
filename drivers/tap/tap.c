/*
 * tap.c - the TAP driver: Ethernet frames to and from the host kernel.
 *
 * Linux's tun/tap (Documentation/networking/tuntap.rst): opening
 * /dev/net/tun and TUNSETIFF with IFF_TAP | IFF_NO_PI makes an Ethernet
 * interface in the kernel whose transmitted frames we read(2) and to which
 * our write(2)s arrive as received frames, one frame per call.  The
 * descriptor is non-blocking so that rx_burst and tx_burst never stall the
 * poll loop; bursts are loops of read/write up to the stack's batch.
 *
 * Offloads (config.offload, default on; Linux only): IFF_VNET_HDR with the
 * 10-byte struct virtio_net_hdr (TUNSETVNETHDRSZ 10; its 16-bit fields in
 * the host's byte order, the legacy virtio layout tun uses unless told
 * TUNSETVNETLE/BE) in front of every frame both ways, and
 * TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6), so that the
 * interface offers RXCSUM | TXCSUM | TSO4 | LRO and, for IPv6,
 * TXCSUM_IPV6 | TSO6 to the stack (the contract in
 * ustack_driver.h):
 *  - tx: a UST_CSUM_TSO packet goes whole with gso_type TCPV4 (| ECN when
 *    it carries CWR), gso_size = tso_segsz, hdr_len = all headers and
 *    NEEDS_CSUM at the TCP checksum; the kernel cuts it (or takes it
 *    whole for a local socket).  Linux wants the pseudo-header sum WITH
 *    the whole TCP length in the field (it adjusts it per segment), so
 *    the length is added to the stack's sum here.  A packet with only
 *    UST_CSUM_TCP/UDP gets NEEDS_CSUM with csum_start/csum_offset; the
 *    IPv4 header checksum (UST_CSUM_IP) is always computed here, since
 *    virtio has no offload for it and the kernel checks it on input.
 *    IPv6 (UST_CSUM_IP6_TCP/UDP/TSO): the same with csum_start 54 and
 *    gso_type TCPV6; nothing is written into the IPv6 header.
 *    Anything else gets an all-zero header.
 *  - rx: up to 64 KB + headers per read; NEEDS_CSUM (the kernel's own
 *    traffic, whose checksum is not computed yet) or DATA_VALID marks the
 *    frame UST_CSUM_L3_VALID | UST_CSUM_L4_VALID; a frame with a gso_type
 *    is a kernel GSO/GRO frame larger than the MTU, taken whole (LRO),
 *    TCP/IPv4 or TCP/IPv6 alike.
 * Without offload frames are plain and checksums are the stack's.
 *
 * FreeBSD (#ifdef __FreeBSD__; compiled there, not built or run in this
 * tree's CI): the /dev/tap cloning device, FIONBIO, TAPGIFNAME for the
 * kernel's name (config.name is ignored), no vnet header and no offload.
 *
 *   ust_stack_poll -> tap_rx_burst -> read(2) -> [vnet header] ->
 *       ust_mbuf_from_buf
 *   ust_stack_poll -> tap_tx_burst -> [vnet header] + copy chain ->
 *       write(2) -> ust_mbuf_free
 */
/* struct ifreq, IFNAMSIZ and O_CLOEXEC are outside strict C11. */
#define _DEFAULT_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ustack/ustack_errno.h>
#include <ustack/ustack_tap.h>

#if defined(__linux__)
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#elif defined(__FreeBSD__)
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/sockio.h>
#include <net/if.h>
#include <net/if_tap.h>
#endif

#define TAP_ETHER_HDR 14
#define TAP_VLAN_ENCAP 4
#define TAP_VNET_HDR 10     /* struct virtio_net_hdr without num_buffers */
#define TAP_GSO_MAX 65535u  /* largest IP datagram either way with offload */
#define TAP_TCP_CSUM_OFF 16 /* th_sum within the TCP header */
#define TAP_UDP_CSUM_OFF 6
#define TAP_CSUM4 (UST_CSUM_IP | UST_CSUM_TCP | UST_CSUM_UDP | UST_CSUM_TSO)
#define TAP_CSUM6 (UST_CSUM_IP6_TCP | UST_CSUM_IP6_UDP | UST_CSUM_IP6_TSO)

struct ust_tap {
	int t_fd;
	char t_name[IFNAMSIZ];
	uint8_t t_mac[6];
	uint32_t t_mtu;
	int t_vnet;     /* offload: a virtio_net_hdr leads every frame */
	uint8_t *t_buf; /* one frame, for reads and for gathering chains */
	size_t t_buflen;
	struct ust_tap_stats t_stats;
};

void
ust_tap_config_init(struct ust_tap_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mtu = 1500;
	cfg->offload = 1;
}

/* A random locally administered unicast MAC (IEEE 802: bit 1 of the first
 * octet set, bit 0 clear), so that two taps never collide. */
static void
tap_random_mac(uint8_t mac[6])
{
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, mac, 6) : -1;

	if (fd >= 0)
		close(fd);
	if (n != 6) {
		uintptr_t x = (uintptr_t)mac ^ (uintptr_t)getpid();
		for (int i = 0; i < 6; i++)
			mac[i] = (uint8_t)(x >> (i * 5));
	}
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
}

#if defined(__linux__)
/* The kernel's side gets the same MTU, so that neither end sends frames
 * the other drops. */
static int
tap_set_kernel_mtu(const char *name, uint32_t mtu)
{
	struct ifreq ifr;
	int s, rc;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return (-1);
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strnlen(name, IFNAMSIZ - 1));
	ifr.ifr_mtu = (int)mtu;
	rc = ioctl(s, SIOCSIFMTU, &ifr);
	close(s);
	return (rc);
}

/* The vnet header's size and what the kernel may hand us. */
static int
tap_set_offload(int fd)
{
	int hdrsz = TAP_VNET_HDR;

	if (ioctl(fd, TUNSETVNETHDRSZ, &hdrsz) != 0)
		return (-1);
	return (ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)));
}
#endif

#if defined(__FreeBSD__)
/* FreeBSD's tap(4): opening the cloning device makes tapN; plain frames. */
static int
tap_open_freebsd(const struct ust_tap_config *cfg, struct ust_tap *t)
{
	struct ifreq ifr;
	int on = 1, s;

	t->t_fd = open("/dev/tap", O_RDWR | O_CLOEXEC);
	if (t->t_fd < 0)
		return (ust_errno_neg(errno));
	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(t->t_fd, FIONBIO, &on) != 0 || ioctl(t->t_fd, TAPGIFNAME, &ifr) != 0)
		goto fail;
	memcpy(t->t_name, ifr.ifr_name, IFNAMSIZ);
	t->t_name[IFNAMSIZ - 1] = '\0';
	if (cfg->mtu != 1500) {
		if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
			goto fail;
		ifr.ifr_mtu = (int)cfg->mtu;
		if (ioctl(s, SIOCSIFMTU, &ifr) != 0) {
			close(s);
			goto fail;
		}
		close(s);
	}
	return (0);
fail:
	close(t->t_fd);
	return (ust_errno_neg(errno));
}
#endif

int
ust_tap_open(const struct ust_tap_config *cfg, struct ust_tap **out)
{
#if defined(__FreeBSD__)
	struct ust_tap *t;
	int err;

	if (cfg == NULL || out == NULL || cfg->mtu < 68 || cfg->mtu > 65535)
		return (-UST_EINVAL);
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return (-UST_ENOMEM);
	t->t_mtu = cfg->mtu;
	t->t_buflen = cfg->mtu + TAP_ETHER_HDR + TAP_VLAN_ENCAP;
	if ((t->t_buf = malloc(t->t_buflen)) == NULL) {
		free(t);
		return (-UST_ENOMEM);
	}
	if ((err = tap_open_freebsd(cfg, t)) != 0) {
		free(t->t_buf);
		free(t);
		return (err);
	}
	if (cfg->mac_set)
		memcpy(t->t_mac, cfg->mac, 6);
	else
		tap_random_mac(t->t_mac);
	*out = t;
	return (0);
#elif defined(__linux__)
	struct ust_tap *t;
	struct ifreq ifr;
	int fd, err;

	if (cfg == NULL || out == NULL || cfg->mtu < 68 || cfg->mtu > 65535 ||
	    memchr(cfg->name, 0, sizeof(cfg->name)) == NULL)
		return (-UST_EINVAL);
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return (-UST_ENOMEM);
	t->t_mtu = cfg->mtu;
	t->t_vnet = cfg->offload != 0;
	t->t_buflen =
	    (t->t_vnet ? TAP_VNET_HDR + TAP_GSO_MAX : cfg->mtu) + TAP_ETHER_HDR + TAP_VLAN_ENCAP;
	t->t_buf = malloc(t->t_buflen);
	if (t->t_buf == NULL) {
		free(t);
		return (-UST_ENOMEM);
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		err = ust_errno_neg(errno);
		goto fail;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (t->t_vnet ? IFF_VNET_HDR : 0);
	memcpy(ifr.ifr_name, cfg->name, strlen(cfg->name));
	if (ioctl(fd, TUNSETIFF, &ifr) != 0 || (t->t_vnet && tap_set_offload(fd) != 0)) {
		err = ust_errno_neg(errno);
		close(fd);
		goto fail;
	}
	t->t_fd = fd;
	memcpy(t->t_name, ifr.ifr_name, IFNAMSIZ);
	t->t_name[IFNAMSIZ - 1] = '\0';
	if (cfg->mac_set)
		memcpy(t->t_mac, cfg->mac, 6);
	else
		tap_random_mac(t->t_mac);
	if (cfg->mtu != 1500 && tap_set_kernel_mtu(t->t_name, cfg->mtu) != 0) {
		err = ust_errno_neg(errno);
		close(fd);
		goto fail;
	}
	*out = t;
	return (0);
fail:
	free(t->t_buf);
	free(t);
	return (err);
#else
	(void)cfg;
	(void)out;
	(void)tap_random_mac;
	return (-UST_EOPNOTSUPP);
#endif
}

void
ust_tap_close(struct ust_tap *t)
{
	if (t == NULL)
		return;
	if (t->t_fd >= 0)
		close(t->t_fd);
	free(t->t_buf);
	free(t);
}

#if defined(__linux__)
/* Host-order 16-bit fields of the vnet header (legacy virtio layout). */
static void
tap_set_h16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static uint32_t
tap_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (sum);
}

/* RFC 1071 over the IPv4 header at ip (hlen bytes), stored in place. */
static void
tap_ip_sum(uint8_t *ip, uint32_t hlen)
{
	uint32_t sum = 0, i;

	ip[10] = ip[11] = 0;
	for (i = 0; i < hlen; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	sum = ~tap_fold(sum) & 0xffff;
	ip[10] = (uint8_t)(sum >> 8);
	ip[11] = (uint8_t)sum;
}
#endif

static int
tap_rx_burst(void *softc, struct ust_if *ifp, struct ust_mbuf **pkts, int max)
{
	struct ust_tap *t = softc;
	struct ust_mbuf *m;
	size_t hdr = t->t_vnet ? TAP_VNET_HDR : 0;
	ssize_t n;
	int got = 0;

	while (got < max) {
		n = read(t->t_fd, t->t_buf, t->t_buflen);
		if (n <= (ssize_t)hdr)
			break; /* EAGAIN: nothing more now */
		m = ust_mbuf_from_buf(ifp, t->t_buf + hdr, (size_t)n - hdr);
		if (m == NULL) {
			t->t_stats.rx_nombuf++;
			continue;
		}
#if defined(__linux__)
		/* The kernel vouches for its checksums, or has not computed
		 * the transport one (NEEDS_CSUM: local traffic); its IPv4
		 * headers always carry a valid checksum. */
		if (hdr != 0 &&
		    (t->t_buf[0] & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))) {
			ust_mbuf_set_csum_flags(m, UST_CSUM_L3_VALID | UST_CSUM_L4_VALID);
			t->t_stats.rx_csum++;
		}
		if (hdr != 0 && (t->t_buf[1] & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_NONE)
			t->t_stats.rx_gso++;
#endif
		t->t_stats.rx_frames++;
		t->t_stats.rx_bytes += (uint64_t)n - hdr;
		pkts[got++] = m;
	}
	return (got);
}

/* Copies the chain into t_buf from off; 0 when it does not fit. */
static size_t
tap_gather(struct ust_tap *t, struct ust_mbuf *m, size_t off)
{
	size_t start = off, len;

	for (; m != NULL; m = ust_mbuf_next(m)) {
		len = ust_mbuf_len(m);
		if (len > t->t_buflen - off)
			return (0);
		memcpy(t->t_buf + off, ust_mbuf_data(m), len);
		off += len;
	}
	return (off - start);
}

#if defined(__linux__)
/*
 * The virtio_net_hdr for the frame f of len bytes with offload flags fl
 * (the contract in ustack_driver.h), and the IPv4 header checksum the
 * stack left.  Returns 0, or -1 for a frame that does not parse.
 */
static int
tap_vnet_tx(struct ust_tap *t, uint8_t *vh, uint8_t *f, size_t len, uint32_t fl, uint32_t segsz)
{
	uint8_t *ip = f + TAP_ETHER_HDR, *l4;
	uint32_t hlen, iplen, l4len, thlen, sum;
	int v6 = (fl & TAP_CSUM6) != 0, tcp, tso;

	memset(vh, 0, TAP_VNET_HDR);
	if (!(fl & (TAP_CSUM4 | TAP_CSUM6)))
		return (0);
	if (len < TAP_ETHER_HDR + 40 && (v6 || len < TAP_ETHER_HDR + 20))
		return (-1);
	if (v6) {
		/* IPv6 (UST_CSUM_IP6_*): 40 bytes of header, the transport
		 * right after it (the contract), no header checksum; never
		 * an IPv4 flag on the same frame. */
		if ((fl & TAP_CSUM4) || f[12] != 0x86 || f[13] != 0xdd || (ip[0] >> 4) != 6)
			return (-1);
		hlen = 40;
		iplen = hlen + (uint32_t)(ip[4] << 8 | ip[5]);
		if (TAP_ETHER_HDR + iplen > len)
			return (-1);
		tcp = (fl & (UST_CSUM_IP6_TCP | UST_CSUM_IP6_TSO)) != 0;
		tso = (fl & UST_CSUM_IP6_TSO) != 0;
		if (ip[6] != (tcp ? 6 : 17))
			return (-1);
	} else {
		if ((ip[0] >> 4) != 4)
			return (-1);
		hlen = (uint32_t)(ip[0] & 0x0f) * 4;
		iplen = (uint32_t)(ip[2] << 8 | ip[3]);
		if (hlen < 20 || iplen < hlen || TAP_ETHER_HDR + iplen > len)
			return (-1);
		if (fl & UST_CSUM_IP)
			tap_ip_sum(ip, hlen);
		if (!(fl & (UST_CSUM_TCP | UST_CSUM_UDP)))
			return (0);
		tcp = (fl & UST_CSUM_TCP) != 0;
		tso = (fl & UST_CSUM_TSO) != 0;
	}
	l4 = ip + hlen;
	l4len = iplen - hlen;
	vh[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	tap_set_h16(vh + 6, (uint16_t)(TAP_ETHER_HDR + hlen));
	tap_set_h16(vh + 8, tcp ? TAP_TCP_CSUM_OFF : TAP_UDP_CSUM_OFF);
	if (!tso)
		return (0);
	if (l4len < 20 || segsz == 0)
		return (-1);
	thlen = (uint32_t)(l4[12] >> 4) * 4;
	/* Linux adjusts the field by each segment's length from the whole
	 * one: the stack's sum leaves the length out, add it. */
	sum = tap_fold((uint32_t)(l4[16] << 8 | l4[17]) + l4len);
	l4[16] = (uint8_t)(sum >> 8);
	l4[17] = (uint8_t)sum;
	vh[1] = (v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4) |
	    ((l4[13] & 0x80) ? VIRTIO_NET_HDR_GSO_ECN : 0);
	tap_set_h16(vh + 2, (uint16_t)(TAP_ETHER_HDR + hlen + thlen));
	tap_set_h16(vh + 4, (uint16_t)segsz);
	t->t_stats.tx_tso++;
	return (0);
}
#endif

static int
tap_tx_burst(void *softc, struct ust_mbuf **pkts, int n)
{
	struct ust_tap *t = softc;
	size_t hdr = t->t_vnet ? TAP_VNET_HDR : 0, len;
	ssize_t w;
	int i, bad;

	for (i = 0; i < n; i++) {
		len = tap_gather(t, pkts[i], hdr);
		bad = len == 0;
#if defined(__linux__)
		if (!bad && hdr != 0) {
			uint32_t fl = ust_mbuf_csum_flags(pkts[i]);

			bad = tap_vnet_tx(t, t->t_buf, t->t_buf + hdr, len, fl,
			          ust_mbuf_tso_segsz(pkts[i])) != 0;
			if (!bad && t->t_buf[0] != 0)
				t->t_stats.tx_csum++;
		}
#endif
		if (bad) {
			t->t_stats.tx_errors++;
			ust_mbuf_free(pkts[i]);
			continue;
		}
		w = write(t->t_fd, t->t_buf, hdr + len);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
			/* The kernel's queue is full: the rest waits. */
			t->t_stats.tx_full++;
			break;
		}
		if (w != (ssize_t)(hdr + len))
			t->t_stats.tx_errors++;
		else {
			t->t_stats.tx_frames++;
			t->t_stats.tx_bytes += len;
		}
		ust_mbuf_free(pkts[i]);
	}
	return (i);
}

static void
tap_get_mac(void *softc, uint8_t mac[6])
{
	memcpy(mac, ((struct ust_tap *)softc)->t_mac, 6);
}

static uint32_t
tap_get_mtu(void *softc)
{
	return (((struct ust_tap *)softc)->t_mtu);
}

static int
tap_get_fd(void *softc)
{
	return (((struct ust_tap *)softc)->t_fd);
}

static uint32_t
tap_get_caps(void *softc)
{
	return (((struct ust_tap *)softc)->t_vnet ? UST_IFCAP_RXCSUM | UST_IFCAP_TXCSUM |
	            UST_IFCAP_TSO4 | UST_IFCAP_LRO | UST_IFCAP_TXCSUM_IPV6 | UST_IFCAP_TSO6 :
	                                            0);
}

static const struct ust_driver_ops tap_ops = {
	.name = "tap",
	.rx_burst = tap_rx_burst,
	.tx_burst = tap_tx_burst,
	.get_mac = tap_get_mac,
	.get_mtu = tap_get_mtu,
	.get_fd = tap_get_fd,
	.get_caps = tap_get_caps,
};

const struct ust_driver_ops *
ust_tap_ops(void)
{
	return (&tap_ops);
}

void *
ust_tap_softc(struct ust_tap *t)
{
	return (t);
}

const char *
ust_tap_name(const struct ust_tap *t)
{
	return (t->t_name);
}

int
ust_tap_fd(const struct ust_tap *t)
{
	return (t->t_fd);
}

void
ust_tap_get_stats(const struct ust_tap *t, struct ust_tap_stats *out)
{
	*out = t->t_stats;
}
