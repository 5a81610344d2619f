/*
 * tap.c - the TAP driver: Ethernet frames to and from the host kernel.
 *
 * Linux's tun/tap (Documentation/networking/tuntap.rst): opening
 * /dev/net/tun and TUNSETIFF with IFF_TAP | IFF_NO_PI makes an Ethernet
 * interface in the kernel whose transmitted frames we read(2) and to which
 * our write(2)s arrive as received frames, one frame per call.  The
 * descriptor is non-blocking so that rx_burst and tx_burst never stall the
 * poll loop; bursts are loops of read/write up to the stack's batch.
 * Offloads (IFF_VNET_HDR, TUNSETOFFLOAD) are not used: frames are plain,
 * checksums are the stack's.
 *
 *   ust_stack_poll -> tap_rx_burst -> read(2) -> ust_mbuf_from_buf
 *   ust_stack_poll -> tap_tx_burst -> copy chain -> write(2) -> ust_mbuf_free
 */
/* struct ifreq, IFNAMSIZ and O_CLOEXEC are outside strict C11. */
#define _DEFAULT_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ustack/ustack_tap.h>

#if defined(__linux__)
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#endif

#define TAP_ETHER_HDR 14
#define TAP_VLAN_ENCAP 4

struct ust_tap {
	int t_fd;
	char t_name[IFNAMSIZ];
	uint8_t t_mac[6];
	uint32_t t_mtu;
	uint8_t *t_buf; /* one frame, for reads and for gathering chains */
	size_t t_buflen;
	struct ust_tap_stats t_stats;
};

void
ust_tap_config_init(struct ust_tap_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mtu = 1500;
}

static int
neg_errno(int e)
{
	switch (e) {
	case EPERM:
	case EACCES:
		return (-UST_EPERM);
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return (-UST_ENOENT);
	case EBUSY:
		return (-UST_EBUSY);
	case ENOMEM:
	case ENOBUFS:
		return (-UST_ENOMEM);
	default:
		return (-UST_EINVAL);
	}
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
#endif

int
ust_tap_open(const struct ust_tap_config *cfg, struct ust_tap **out)
{
#if defined(__linux__)
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
	t->t_buflen = cfg->mtu + TAP_ETHER_HDR + TAP_VLAN_ENCAP;
	t->t_buf = malloc(t->t_buflen);
	if (t->t_buf == NULL) {
		free(t);
		return (-UST_ENOMEM);
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		err = neg_errno(errno);
		goto fail;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	memcpy(ifr.ifr_name, cfg->name, strlen(cfg->name));
	if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
		err = neg_errno(errno);
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
		err = neg_errno(errno);
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
	(void)neg_errno;
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

static int
tap_rx_burst(void *softc, struct ust_if *ifp, struct ust_mbuf **pkts, int max)
{
	struct ust_tap *t = softc;
	struct ust_mbuf *m;
	ssize_t n;
	int got = 0;

	while (got < max) {
		n = read(t->t_fd, t->t_buf, t->t_buflen);
		if (n <= 0)
			break; /* EAGAIN: nothing more now */
		m = ust_mbuf_from_buf(ifp, t->t_buf, (size_t)n);
		if (m == NULL) {
			t->t_stats.rx_nombuf++;
			continue;
		}
		t->t_stats.rx_frames++;
		t->t_stats.rx_bytes += (uint64_t)n;
		pkts[got++] = m;
	}
	return (got);
}

/* Copies the chain into t_buf; 0 when it does not fit one frame. */
static size_t
tap_gather(struct ust_tap *t, struct ust_mbuf *m)
{
	size_t off = 0, len;

	for (; m != NULL; m = ust_mbuf_next(m)) {
		len = ust_mbuf_len(m);
		if (len > t->t_buflen - off)
			return (0);
		memcpy(t->t_buf + off, ust_mbuf_data(m), len);
		off += len;
	}
	return (off);
}

static int
tap_tx_burst(void *softc, struct ust_mbuf **pkts, int n)
{
	struct ust_tap *t = softc;
	size_t len;
	ssize_t w;
	int i;

	for (i = 0; i < n; i++) {
		len = tap_gather(t, pkts[i]);
		if (len == 0) {
			t->t_stats.tx_errors++;
			ust_mbuf_free(pkts[i]);
			continue;
		}
		w = write(t->t_fd, t->t_buf, len);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
			/* The kernel's queue is full: the rest waits. */
			t->t_stats.tx_full++;
			break;
		}
		if (w != (ssize_t)len)
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

static const struct ust_driver_ops tap_ops = {
	.name = "tap",
	.rx_burst = tap_rx_burst,
	.tx_burst = tap_tx_burst,
	.get_mac = tap_get_mac,
	.get_mtu = tap_get_mtu,
	.get_fd = tap_get_fd,
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
