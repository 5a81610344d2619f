/*
 * ustack_link.c - a user-space netem: bridges two Ethernet ports through
 * the seeded fault injector of drivers/fault (fault.h), one injector per
 * direction, each with its own PRNG.  `ustack link` (the Python command,
 * python_bindings/ustack/commands/link.py) parses netem-style units,
 * makes namespaces and addresses and runs this program; it can be run
 * alone too:
 *
 *   ustack-link [--loss-ppm N] [--dup-ppm N] [--reorder-ppm N] [--corrupt-ppm N]
 *               [--delay-ns N] [--jitter-ns N] [--reorder-ns N] [--rate-bps N]
 *               [--mtu N] [--limit N] [--seed N] [--drop-byte N] [--progress]
 *               PORT_A PORT_B
 *   ustack-link --predict N [fault options]    which of the first N frames
 *                                              each direction loses
 *
 * A PORT is tap:NAME[@NETNS] (a TAP device opened, created when missing,
 * in the namespace NETNS: a name under /run/netns or a path; set up and
 * with a 10000-frame queue) or dev:NAME[@NETNS] (an existing interface,
 * frames taken and given with an AF_PACKET socket; its own transmissions
 * are ignored).  Frames go A -> B through injector "a2b" (seed) and
 * B -> A through "b2a" (seed + 1).
 *
 * --drop-byte N drops, once per TCP connection and direction, the first
 * frame whose payload carries stream byte N (1 = the first byte after the
 * SYN; the connection is known from its SYN): with N the size of a
 * transfer, its last data segment, the tail-loss experiment.  It acts
 * after the injector has decided (the seeded draws are not shifted).
 *
 * Prints "ready" on stdout when both ports are open, then (--progress)
 * one JSON line of counters per second, and on SIGINT/SIGTERM a last
 * line "final {...}" before exiting 0.  Root (CAP_NET_ADMIN, and
 * CAP_SYS_ADMIN for namespaces).
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "fault.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define BURST 64
#define FLOWS 64
#define TAP_TXQLEN 10000
#define SOCKBUF (16 << 20)

enum { PORT_TAP, PORT_DEV };

struct port {
	int kind;
	char name[IFNAMSIZ];
	char ns[256]; /* "" = this namespace */
	int fd;
	unsigned mtu;
};

/* A TCP connection seen by --drop-byte, per direction. */
struct flow {
	uint8_t key[36]; /* addresses and ports */
	uint32_t isn;
	int used, dropped;
};

struct counters {
	uint64_t rx_frames, rx_bytes; /* read from the input port */
	uint64_t tx_frames, tx_bytes; /* written to the output port */
	uint64_t lost, dropped_queue, dropped_mtu, dropped_chosen;
	uint64_t duplicated, reordered, corrupted, delayed, tx_errors, oversize;
};

struct dir {
	const char *name;
	struct port *in, *out;
	struct fault f;
	struct fault_hent *heap;
	uint32_t n;
	uint64_t seq;
	uint8_t *slots;
	uint32_t *freel;
	uint32_t nfree;
	uint32_t slot_size;
	struct counters c;
	struct flow flows[FLOWS];
	uint32_t flow_next;
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ustack-link [--loss-ppm N] [--dup-ppm N] [--reorder-ppm N] "
	    "[--corrupt-ppm N]\n"
	    "  [--delay-ns N] [--jitter-ns N] [--reorder-ns N] [--rate-bps N] [--mtu N]\n"
	    "  [--limit N] [--seed N] [--drop-byte N] [--progress] "
	    "tap|dev:NAME[@NETNS] tap|dev:NAME[@NETNS]\n"
	    "  ustack-link --predict N [fault options]\n"
	    "(`ustack link --help` explains them; this program takes base units)\n");
}

static int
parse_port(const char *spec, struct port *p)
{
	const char *name, *at;
	size_t len;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	if (strncmp(spec, "tap:", 4) == 0)
		p->kind = PORT_TAP;
	else if (strncmp(spec, "dev:", 4) == 0)
		p->kind = PORT_DEV;
	else
		return (-1);
	name = spec + 4;
	at = strchr(name, '@');
	len = at != NULL ? (size_t)(at - name) : strlen(name);
	if (len == 0 || len >= IFNAMSIZ)
		return (-1);
	memcpy(p->name, name, len);
	if (at != NULL) {
		if (at[1] == '\0')
			return (-1);
		if (at[1] == '/')
			snprintf(p->ns, sizeof(p->ns), "%s", at + 1);
		else if (strchr(at + 1, '/') == NULL)
			snprintf(p->ns, sizeof(p->ns), "/run/netns/%s", at + 1);
		else
			return (-1);
	}
	return (0);
}

/* Sets the interface up with a long queue; reads its MTU. */
static int
if_setup(struct port *p, int up)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	if (s < 0)
		return (-1);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", p->name);
	if (ioctl(s, SIOCGIFMTU, &ifr) == 0)
		p->mtu = (unsigned)ifr.ifr_mtu;
	if (up) {
		ifr.ifr_qlen = TAP_TXQLEN;
		(void)ioctl(s, SIOCSIFTXQLEN, &ifr);
		if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
			ifr.ifr_flags |= IFF_UP;
			(void)ioctl(s, SIOCSIFFLAGS, &ifr);
		}
	}
	close(s);
	return (0);
}

static int
open_tap(struct port *p)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return (-1);
	memset(&ifr, 0, sizeof(ifr));
	/* No vnet header: the kernel hands over whole frames of at most the
	 * MTU with their checksums done, as a wire would carry them. */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", p->name);
	if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
		close(fd);
		return (-1);
	}
	p->fd = fd;
	return (if_setup(p, 1));
}

static int
open_dev(struct port *p)
{
	struct sockaddr_ll sll;
	int fd, one = 1, buf = SOCKBUF;
	unsigned idx = if_nametoindex(p->name);

	if (idx == 0)
		return (-1);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0)
		return (-1);
	/* Our own sends would come back as PACKET_OUTGOING: not wanted. */
	(void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)idx;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
		close(fd);
		return (-1);
	}
	p->fd = fd;
	return (if_setup(p, 0));
}

/* Opens the port inside its namespace (the descriptor keeps it). */
static int
open_port(struct port *p)
{
	int self = -1, target = -1, rc;

	if (p->ns[0] != '\0') {
		self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		target = open(p->ns, O_RDONLY | O_CLOEXEC);
		if (self < 0 || target < 0 || setns(target, CLONE_NEWNET) != 0) {
			fprintf(stderr, "ustack-link: cannot enter the namespace %s: %s\n", p->ns,
			    strerror(errno));
			if (self >= 0)
				close(self);
			if (target >= 0)
				close(target);
			return (-1);
		}
	}
	rc = p->kind == PORT_TAP ? open_tap(p) : open_dev(p);
	if (rc != 0)
		fprintf(stderr, "ustack-link: cannot open %s %s: %s\n",
		    p->kind == PORT_TAP ? "TAP" : "device", p->name, strerror(errno));
	if (self >= 0) {
		if (setns(self, CLONE_NEWNET) != 0)
			rc = -1;
		close(self);
		close(target);
	}
	return (rc);
}

static int
parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (s[0] == '-' || s[0] == '\0')
		return (-1);
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0')
		return (-1);
	*out = v;
	return (0);
}

/* --drop-byte: the TCP header of an Ethernet frame, and its connection. */
static int
chosen_frame(struct dir *d, uint8_t *fr, uint32_t len, uint64_t byte)
{
	uint32_t l2 = 14, et, off, hl, tl, seq, plen, i;
	uint8_t key[36], proto;
	struct flow *fl = NULL;

	if (len < 14)
		return (0);
	et = (uint32_t)fr[12] << 8 | fr[13];
	if (et == 0x8100 && len >= 18) {
		l2 = 18;
		et = (uint32_t)fr[16] << 8 | fr[17];
	}
	memset(key, 0, sizeof(key));
	if (et == 0x0800 && len >= l2 + 20 && (fr[l2] >> 4) == 4) {
		hl = (uint32_t)(fr[l2] & 0x0f) * 4;
		tl = (uint32_t)fr[l2 + 2] << 8 | fr[l2 + 3];
		proto = fr[l2 + 9];
		/* Fragments are not looked into. */
		if ((((uint32_t)fr[l2 + 6] << 8 | fr[l2 + 7]) & 0x3fff) != 0)
			return (0);
		memcpy(key, fr + l2 + 12, 8);
		off = l2 + hl;
		if (hl < 20 || tl < hl || l2 + tl > len)
			return (0);
		plen = tl - hl;
	} else if (et == 0x86dd && len >= l2 + 40 && (fr[l2] >> 4) == 6) {
		proto = fr[l2 + 6];
		memcpy(key, fr + l2 + 8, 32);
		off = l2 + 40;
		plen = (uint32_t)fr[l2 + 4] << 8 | fr[l2 + 5];
		if (l2 + 40 + plen > len)
			return (0);
	} else
		return (0);
	if (proto != 6 || plen < 20 || off + 20 > len)
		return (0);
	hl = (uint32_t)(fr[off + 12] >> 4) * 4;
	if (hl < 20 || hl > plen)
		return (0);
	memcpy(key + 32, fr + off, 4);
	seq = (uint32_t)fr[off + 4] << 24 | (uint32_t)fr[off + 5] << 16 |
	    (uint32_t)fr[off + 6] << 8 | fr[off + 7];
	for (i = 0; i < FLOWS; i++)
		if (d->flows[i].used && memcmp(d->flows[i].key, key, sizeof(key)) == 0) {
			fl = &d->flows[i];
			break;
		}
	if (fr[off + 13] & 0x02) { /* SYN: a new connection (or its retransmission) */
		if (fl == NULL) {
			fl = &d->flows[d->flow_next++ % FLOWS];
			memcpy(fl->key, key, sizeof(key));
			fl->used = 1;
		}
		fl->isn = seq;
		fl->dropped = 0;
		return (0);
	}
	plen -= hl;
	if (fl == NULL || fl->dropped || plen == 0)
		return (0);
	/* Stream byte k (1-based) has sequence number isn + k. */
	if ((uint32_t)(fl->isn + (uint32_t)byte - seq) >= plen)
		return (0);
	fl->dropped = 1;
	return (1);
}

static int
dir_init(struct dir *d, const char *name, const struct ust_fault_config *cfg, uint32_t limit,
    uint32_t slot_size)
{
	uint32_t i, nslots = limit + 1;

	memset(d, 0, sizeof(*d));
	d->name = name;
	d->slot_size = slot_size;
	d->heap = calloc(limit, sizeof(*d->heap));
	d->slots = malloc((size_t)nslots * slot_size);
	d->freel = calloc(nslots, sizeof(*d->freel));
	if (d->heap == NULL || d->slots == NULL || d->freel == NULL)
		return (-1);
	for (i = 0; i < nslots; i++)
		d->freel[i] = i;
	d->nfree = nslots;
	fault_init(&d->f, cfg, cfg->mtu != 0 ? cfg->mtu : 1500, limit);
	return (0);
}

static uint8_t *
slot(struct dir *d, uint32_t i)
{
	return (d->slots + (size_t)i * d->slot_size);
}

static ssize_t
port_read(struct port *p, uint8_t *buf, size_t len, int *trunc)
{
	ssize_t n;

	*trunc = 0;
	if (p->kind == PORT_TAP) {
		n = read(p->fd, buf, len);
		return (n);
	}
	n = recv(p->fd, buf, len, MSG_TRUNC);
	if (n > (ssize_t)len)
		*trunc = 1;
	return (n);
}

static int
port_write(struct port *p, const uint8_t *buf, size_t len)
{
	ssize_t n;

	if (p->kind == PORT_TAP)
		n = write(p->fd, buf, len);
	else
		n = send(p->fd, buf, len, 0);
	return (n == (ssize_t)len ? 0 : -1);
}

/* Sends the frames that are due; returns how many. */
static int
release(struct dir *d, uint64_t now)
{
	struct fault_hent e;
	int k = 0;

	while (d->n > 0 && d->heap[0].he_deliver_at <= now) {
		fault_heap_pop(d->heap, &d->n, &e);
		if (port_write(d->out, slot(d, e.he_tag), e.he_len) == 0) {
			d->c.tx_frames++;
			d->c.tx_bytes += e.he_len;
		} else
			d->c.tx_errors++;
		d->freel[d->nfree++] = e.he_tag;
		k++;
	}
	return (k);
}

/* Reads up to BURST frames from the input and decides their fates. */
static int
ingest(struct dir *d, uint64_t now, uint64_t drop_byte)
{
	struct fault_verdict v;
	struct fault_hent e;
	uint32_t s, s2;
	uint8_t *buf;
	ssize_t n;
	int k, trunc;

	for (k = 0; k < BURST; k++) {
		s = d->freel[d->nfree - 1]; /* there is always one (limit + 1 slots) */
		buf = slot(d, s);
		n = port_read(d->in, buf, d->slot_size, &trunc);
		if (n < 0)
			break;
		d->c.rx_frames++;
		d->c.rx_bytes += (uint64_t)n;
		if (trunc || n < 14) {
			d->c.oversize++;
			continue;
		}
		fault_decide(&d->f, now, (size_t)n, (size_t)n - 14, d->n, &v);
		if (v.fv_action == FAULT_DROP_MTU) {
			d->c.dropped_mtu++;
			continue;
		}
		if (v.fv_action == FAULT_LOST) {
			d->c.lost++;
			continue;
		}
		if (v.fv_action == FAULT_DROP_QUEUE) {
			d->c.dropped_queue++;
			continue;
		}
		if (drop_byte != 0 && chosen_frame(d, buf, (uint32_t)n, drop_byte)) {
			d->c.dropped_chosen++;
			continue;
		}
		(void)fault_ce_mark(&v, buf, (size_t)n);
		if (v.fv_corrupt) {
			fault_corrupt(&v, buf, (size_t)n);
			d->c.corrupted++;
		}
		if (v.fv_reordered)
			d->c.reordered++;
		if (v.fv_deliver_at > now)
			d->c.delayed++;
		d->nfree--;
		e.he_deliver_at = v.fv_deliver_at;
		e.he_seq = d->seq++;
		e.he_m = NULL;
		e.he_len = (uint32_t)n;
		e.he_tag = s;
		fault_heap_push(d->heap, &d->n, &e);
		if (v.fv_copies == 2 && d->nfree > 1) {
			s2 = d->freel[--d->nfree];
			memcpy(slot(d, s2), buf, (size_t)n);
			e.he_seq = d->seq++;
			e.he_tag = s2;
			fault_heap_push(d->heap, &d->n, &e);
			d->c.duplicated++;
		}
	}
	return (k);
}

static void
print_counters(FILE *f, const char *prefix, double t, const struct dir *dirs)
{
	int i;

	fprintf(f, "%s{\"t\": %.3f", prefix, t);
	for (i = 0; i < 2; i++) {
		const struct counters *c = &dirs[i].c;

		fprintf(f,
		    ", \"%s\": {\"rx_frames\": %" PRIu64 ", \"rx_bytes\": %" PRIu64
		    ", \"forwarded\": %" PRIu64 ", \"tx_bytes\": %" PRIu64 ", \"lost\": %" PRIu64
		    ", \"dropped_queue\": %" PRIu64 ", \"dropped_mtu\": %" PRIu64
		    ", \"dropped_chosen\": %" PRIu64 ", \"duplicated\": %" PRIu64
		    ", \"reordered\": %" PRIu64 ", \"corrupted\": %" PRIu64
		    ", \"delayed\": %" PRIu64 ", \"in_flight\": %" PRIu32
		    ", \"tx_errors\": %" PRIu64 ", \"oversize\": %" PRIu64 "}",
		    dirs[i].name, c->rx_frames, c->rx_bytes, c->tx_frames, c->tx_bytes, c->lost,
		    c->dropped_queue, c->dropped_mtu, c->dropped_chosen, c->duplicated,
		    c->reordered, c->corrupted, c->delayed, dirs[i].n, c->tx_errors, c->oversize);
	}
	fprintf(f, "}\n");
	fflush(f);
}

/* --predict: the frames among the first n that each direction loses. */
static int
predict(const struct ust_fault_config cfg[2], uint64_t n)
{
	struct fault f;
	struct fault_verdict v;
	uint64_t i;
	int d, first;

	printf("{");
	for (d = 0; d < 2; d++) {
		fault_init(&f, &cfg[d], 1500, 1u << 30);
		printf("%s\"%s\": [", d ? ", " : "", d ? "b2a" : "a2b");
		first = 1;
		for (i = 0; i < n; i++) {
			fault_decide(&f, i * 1000, 1514, 1500, 0, &v);
			if (v.fv_action == FAULT_LOST) {
				printf("%s%" PRIu64, first ? "" : ", ", i);
				first = 0;
			}
		}
		printf("]");
	}
	printf("}\n");
	return (0);
}

int
main(int argc, char **argv)
{
	struct ust_fault_config cfg;
	struct ust_fault_config dcfg[2];
	struct port ports[2];
	struct dir dirs[2];
	struct pollfd pfd[2];
	struct sigaction sa;
	uint64_t v, limit = 1000, drop_byte = 0, predict_n = 0, start, next_progress, now, due;
	int i, nports = 0, progress = 0, work;
	unsigned slot_size, mtu;

	memset(&cfg, 0, sizeof(cfg));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return (0);
		}
		if (strcmp(a, "--progress") == 0) {
			progress = 1;
			continue;
		}
		if (strncmp(a, "--", 2) == 0) {
			if (i + 1 >= argc || parse_u64(argv[i + 1], &v) != 0) {
				fprintf(stderr, "ustack-link: %s needs a number\n", a);
				return (2);
			}
			i++;
			if (strcmp(a, "--loss-ppm") == 0 && v <= 1000000)
				cfg.loss_ppm = (uint32_t)v;
			else if (strcmp(a, "--dup-ppm") == 0 && v <= 1000000)
				cfg.dup_ppm = (uint32_t)v;
			else if (strcmp(a, "--reorder-ppm") == 0 && v <= 1000000)
				cfg.reorder_ppm = (uint32_t)v;
			else if (strcmp(a, "--corrupt-ppm") == 0 && v <= 1000000)
				cfg.corrupt_ppm = (uint32_t)v;
			else if (strcmp(a, "--delay-ns") == 0)
				cfg.delay_ns = v;
			else if (strcmp(a, "--jitter-ns") == 0)
				cfg.jitter_ns = v;
			else if (strcmp(a, "--reorder-ns") == 0)
				cfg.reorder_ns = v;
			else if (strcmp(a, "--rate-bps") == 0)
				cfg.rate_bps = v;
			else if (strcmp(a, "--mtu") == 0 && v <= 65535)
				cfg.mtu = (uint32_t)v;
			else if (strcmp(a, "--limit") == 0 && v >= 1 && v <= 1000000)
				limit = v;
			else if (strcmp(a, "--seed") == 0)
				cfg.seed = v;
			else if (strcmp(a, "--drop-byte") == 0 && v <= UINT32_MAX)
				drop_byte = v;
			else if (strcmp(a, "--predict") == 0 && v <= 100000000)
				predict_n = v;
			else {
				fprintf(stderr, "ustack-link: bad option or value: %s %s\n", a,
				    argv[i]);
				usage(stderr);
				return (2);
			}
			continue;
		}
		if (nports == 2 || parse_port(a, &ports[nports]) != 0) {
			fprintf(stderr,
			    "ustack-link: bad port %s (tap:NAME[@NETNS] or dev:NAME[@NETNS])\n", a);
			return (2);
		}
		nports++;
	}
	dcfg[0] = cfg;
	dcfg[1] = cfg;
	dcfg[1].seed = cfg.seed + 1;
	if (predict_n != 0)
		return (predict(dcfg, predict_n));
	if (nports != 2) {
		usage(stderr);
		return (2);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < 2; i++)
		if (open_port(&ports[i]) != 0)
			return (1);
	mtu = ports[0].mtu > ports[1].mtu ? ports[0].mtu : ports[1].mtu;
	if (mtu == 0)
		mtu = 1500;
	slot_size = (mtu + 18 + 63) & ~63u;
	if (slot_size < 2048)
		slot_size = 2048;
	if (cfg.mtu == 0)
		cfg.mtu = mtu;
	dcfg[0].mtu = dcfg[1].mtu = cfg.mtu;
	if (dir_init(&dirs[0], "a2b", &dcfg[0], (uint32_t)limit, slot_size) != 0 ||
	    dir_init(&dirs[1], "b2a", &dcfg[1], (uint32_t)limit, slot_size) != 0) {
		fprintf(stderr, "ustack-link: out of memory\n");
		return (1);
	}
	dirs[0].in = dirs[1].out = &ports[0];
	dirs[0].out = dirs[1].in = &ports[1];
	printf("ready\n");
	fflush(stdout);
	start = now_ns();
	next_progress = start + 1000000000ull;
	while (!stop) {
		now = now_ns();
		work = release(&dirs[0], now) + release(&dirs[1], now);
		work += ingest(&dirs[0], now, drop_byte) + ingest(&dirs[1], now, drop_byte);
		if (progress && now >= next_progress) {
			print_counters(stdout, "", (double)(now - start) / 1e9, dirs);
			next_progress += 1000000000ull;
		}
		if (work != 0)
			continue;
		/* Idle: sleep until a port has a frame or a held one is due. */
		due = progress ? next_progress : now + 1000000000ull;
		for (i = 0; i < 2; i++)
			if (dirs[i].n > 0 && dirs[i].heap[0].he_deliver_at < due)
				due = dirs[i].heap[0].he_deliver_at;
		now = now_ns();
		if (due <= now)
			continue;
		{
			struct timespec ts = { (time_t)((due - now) / 1000000000ull),
				(long)((due - now) % 1000000000ull) };

			pfd[0].fd = ports[0].fd;
			pfd[1].fd = ports[1].fd;
			pfd[0].events = pfd[1].events = POLLIN;
			(void)ppoll(pfd, 2, &ts, NULL);
		}
	}
	print_counters(stdout, "final ", (double)(now_ns() - start) / 1e9, dirs);
	for (i = 0; i < 2; i++) {
		close(ports[i].fd);
		free(dirs[i].heap);
		free(dirs[i].slots);
		free(dirs[i].freel);
	}
	return (0);
}
