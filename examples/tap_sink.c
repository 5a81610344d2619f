/*
 * tap_sink.c - a TCP sink on a TAP device: the kernel sends, ustack reads.
 *
 * Opens a TAP device (root; run it inside a network namespace of its own),
 * gives ustack an address on it, listens, and reads and drops whatever the
 * connections send.  When a connection ends it prints one line:
 *
 *   bytes N seconds S mbit_per_s R
 *
 * measured from the first to the last byte.  The kernel's side of the
 * device is set up by whoever runs it (ip link set IFNAME up; ip addr add
 * ...), which `invoke bench --tap` does before it starts the kernel sender.
 * Prints "ready IFNAME" once listening.  Busy-polls by default, as a
 * kernel-bypass application would; --sleep waits in poll(2) instead.
 *
 *   tap_sink [--ifname ust0] [--address 198.18.0.1] [--port 5001] [--once] [--sleep]
 *            [--io vec|copy] [--no-offload]
 *
 * The line also gives the frames the device delivered and the process's
 * CPU time (user + system) since the first byte: rx_frames F cpu_s C.
 */
#define _POSIX_C_SOURCE 200809L

#include <poll.h>
#include <sys/resource.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ustack/ustack.h>
#include <ustack/ustack_tap.h>

#include "example_util.h"

#define MAX_CONNS 64
#define READ_BUF 65536

struct sink {
	struct ust_socket *so;
	uint64_t bytes;
	double first, last;
	double cpu0;      /* cpu_s() at the first byte */
	uint64_t frames0; /* the device's rx_frames at the first byte */
};

static int
parse_addr(const char *s, uint32_t *out)
{
	unsigned a, b, c, d;

	if (sscanf(s, "%u.%u.%u.%u", &a, &b, &c, &d) != 4 || a > 255 || b > 255 || c > 255 ||
	    d > 255)
		return (-1);
	*out = ip4(a, b, c, d);
	return (0);
}

static void
usage(void)
{
	printf("usage: tap_sink [--ifname NAME] [--address A.B.C.D] [--port P] [--once] [--sleep]\n"
	       "                [--io vec|copy] [--no-offload]\n"
	       "  --ifname   TAP device to create (default ust0)\n"
	       "  --address  ustack's IPv4 address, /24 (default 198.18.0.1)\n"
	       "  --port     TCP port to listen on (default 5001)\n"
	       "  --once     exit after the first connection ends\n"
	       "  --sleep    wait in poll(2) when idle instead of busy-polling\n"
	       "  --io       how the TAP driver moves frames: vec (readv/writev, default)\n"
	       "             or copy (read/write through its buffer)\n"
	       "  --no-offload  plain frames (no vnet header, checksums, TSO/GRO)\n");
}

/* The process's CPU time (user + system), seconds. */
static double
cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return (0.0);
	return ((double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
}

/* Reads everything waiting on s; 1 when the connection is over. */
static uint64_t frames_now; /* the device's rx_frames, updated each poll */

static int
drain(struct sink *s, uint8_t *buf)
{
	ptrdiff_t n;

	for (;;) {
		n = ust_recv(s->so, buf, READ_BUF, 0);
		if (n > 0) {
			if (s->bytes == 0) {
				s->first = now_s();
				s->cpu0 = cpu_s();
				s->frames0 = frames_now;
			}
			s->bytes += (uint64_t)n;
			s->last = now_s();
			continue;
		}
		return (n == -UST_EAGAIN ? 0 : 1);
	}
}

int
main(int argc, char **argv)
{
	struct ust_tap_config tc;
	struct ust_stack_config sc;
	struct ust_stack *st = NULL;
	struct ust_tap *tap = NULL;
	struct ust_if *ifp = NULL;
	struct ust_socket *lso = NULL, *so;
	struct ust_sockaddr_in me, peer;
	struct sink conns[MAX_CONNS];
	static uint8_t buf[READ_BUF];
	const char *ifname = "ust0";
	uint32_t addr = ip4(198, 18, 0, 1);
	int port = 5001, once = 0, sleepy = 0, nconn = 0, one = 1, rc = 1, i, err;
	int io = UST_TAP_IO_VEC, offload = 1;
	struct ust_tap_stats ts;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--ifname") == 0 && i + 1 < argc)
			ifname = argv[++i];
		else if (strcmp(argv[i], "--address") == 0 && i + 1 < argc) {
			if (parse_addr(argv[++i], &addr) != 0) {
				fprintf(stderr, "tap_sink: bad address %s\n", argv[i]);
				return (2);
			}
		} else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
			port = atoi(argv[++i]);
		else if (strcmp(argv[i], "--once") == 0)
			once = 1;
		else if (strcmp(argv[i], "--sleep") == 0)
			sleepy = 1;
		else if (strcmp(argv[i], "--io") == 0 && i + 1 < argc &&
		    (strcmp(argv[i + 1], "vec") == 0 || strcmp(argv[i + 1], "copy") == 0))
			io = strcmp(argv[++i], "vec") == 0 ? UST_TAP_IO_VEC : UST_TAP_IO_COPY;
		else if (strcmp(argv[i], "--no-offload") == 0)
			offload = 0;
		else {
			usage();
			return (strcmp(argv[i], "--help") == 0 ? 0 : 2);
		}
	}
	ust_tap_config_init(&tc);
	snprintf(tc.name, sizeof(tc.name), "%s", ifname);
	tc.io = (uint8_t)io;
	tc.offload = (uint8_t)offload;
	ust_stack_config_init(&sc);
	if ((err = ust_tap_open(&tc, &tap)) != 0) {
		fprintf(stderr, "tap_sink: cannot open the TAP device: %s\n", ust_strerror(-err));
		return (1);
	}
	if (ust_stack_create(&sc, &st) != 0 ||
	    ust_if_attach(st, "tap0", ust_tap_ops(), ust_tap_softc(tap), &ifp) != 0 ||
	    ust_if_addr_add(ifp, addr, 24) != 0 ||
	    ust_socket(st, UST_AF_INET, UST_SOCK_STREAM, 0, &lso) != 0 ||
	    ust_setsockopt(lso, UST_SOL_SOCKET, UST_SO_REUSEADDR, &one, sizeof(one)) != 0) {
		fprintf(stderr, "tap_sink: stack setup failed\n");
		goto out;
	}
	me = sin4(0, (uint16_t)port);
	if (ust_bind(lso, (const struct ust_sockaddr *)&me, sizeof(me)) != 0 ||
	    ust_listen(lso, 16) != 0) {
		fprintf(stderr, "tap_sink: cannot listen on port %d\n", port);
		goto out;
	}
	printf("ready %s\n", ust_tap_name(tap));
	fflush(stdout);
	for (;;) {
		int work = ust_stack_poll(st);

		ust_tap_get_stats(tap, &ts);
		frames_now = ts.rx_frames;

		while (nconn < MAX_CONNS &&
		    ust_accept(lso, &so, (struct ust_sockaddr *)&peer,
		        &(ust_socklen_t){ sizeof(peer) }) == 0) {
			memset(&conns[nconn], 0, sizeof(conns[nconn]));
			conns[nconn++].so = so;
		}
		for (i = 0; i < nconn; i++) {
			struct sink *s = &conns[i];
			double dt;

			if (!drain(s, buf))
				continue;
			dt = s->last - s->first;
			printf("bytes %llu seconds %.6f mbit_per_s %.1f rx_frames %llu cpu_s "
			       "%.3f\n",
			    (unsigned long long)s->bytes, dt,
			    dt > 0 ? (double)s->bytes * 8 / dt / 1e6 : 0.0,
			    (unsigned long long)(frames_now - s->frames0), cpu_s() - s->cpu0);
			fflush(stdout);
			ust_close(s->so);
			conns[i--] = conns[--nconn];
			if (once) {
				/* Let the FIN go out before the stack is destroyed. */
				for (int k = 0; k < 1000; k++)
					ust_stack_poll(st);
				rc = 0;
				goto out;
			}
		}
		if (work == 0 && sleepy) {
			struct pollfd pfd = { .fd = ust_tap_fd(tap), .events = POLLIN };

			(void)poll(&pfd, 1, 1);
		}
	}
out:
	for (i = 0; i < nconn; i++)
		ust_close(conns[i].so);
	if (lso != NULL)
		ust_close(lso);
	if (st != NULL)
		ust_stack_destroy(st);
	ust_tap_close(tap);
	return (rc);
}
