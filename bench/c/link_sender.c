/*
 * link_sender.c - the ustack sender of the loss benchmark (bench/b_loss.py):
 * ustack on a TAP device (no offload: ustack cuts its own segments, so
 * that every frame the link sees is at most the MTU), sending to a Linux
 * receiver through `ustack-link` (tools/link/ustack_link.c).
 *
 *   link_sender [--ifname ust0] [--address 198.18.0.1] [--mac 02:00:00:00:00:01]
 *               [--peer 198.18.0.2] [--peer-mac MAC] [--port 5001]
 *               [--cc newreno|cubic|...] [--stack freebsd|rack|...]
 *               (--bytes N | --seconds S) [--sndbuf BYTES] [--sysctl NAME=INT]...
 *
 * Opens the TAP, makes the stack, sets the congestion control
 * (net.inet.tcp.cc.algorithm) and the TCP stack
 * (net.inet.tcp.functions_default), prints "ready", then waits for a line
 * on stdin before it connects (the caller sets the link up meanwhile).
 * A stack that is not built: "unsupported stack NAME", exit 3.
 *
 * --bytes N sends N bytes and waits, without a FIN (so that nothing after
 * the last segment can reveal its loss), for the receiver's one-line
 * reply; --seconds S sends for S seconds, then shuts down writing and
 * waits for the reply.  Prints one line:
 *
 *   sent N reply_s T rexmit_bytes R rexmit_pkts P reply WORDS...
 *
 * reply_s is the time from the first write to the reply, rexmit_* the
 * stack's tcps_sndrexmitbyte and tcps_sndrexmitpack.
 *
 * The send buffer grows by itself (FreeBSD's autosizing, up to 8 MB), as
 * Linux's does (tcp_wmem): a fixed 8 MB buffer (--sndbuf) holds seconds of
 * data at 3% loss, so a 5-second writer's transfer lasted 19 s while
 * Linux's lasted 5.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ustack/ustack.h>
#include <ustack/ustack_stats.h>
#include <ustack/ustack_tap.h>

#include "example_util.h"

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

static int
parse_mac(const char *s, uint8_t mac[6])
{
	unsigned m[6];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
		return (-1);
	for (i = 0; i < 6; i++) {
		if (m[i] > 255)
			return (-1);
		mac[i] = (uint8_t)m[i];
	}
	return (0);
}

/* LINK_SENDER_TRACE=1: every nonzero TCP counter, and every 10 ms the
 * connection's cwnd, ssthresh and flight, on stderr at the end (for
 * looking into a run; the bench does not set it). */
static void
dump_counters(const struct ust_tcpstat *ts)
{
	struct ust_stat_desc d;
	unsigned i;

	for (i = 0; ust_stats_describe(i, &d) == 0; i++) {
		uint64_t v;

		if (strcmp(d.group, "tcp") != 0 || d.count != 1)
			continue;
		memcpy(&v, (const char *)ts + d.offset, sizeof(v));
		if (v != 0)
			fprintf(stderr, "  %s %llu\n", d.name, (unsigned long long)v);
	}
}

#define MAX_SYSCTL 8
#define TRACE_MAX 20000
struct trace_pt {
	float t;
	uint32_t cwnd, ssthresh, unacked, sacked, rexmit;
};
static struct trace_pt trace[TRACE_MAX];

static void
usage(void)
{
	fprintf(stderr,
	    "usage: link_sender [--ifname ust0] [--address A] [--mac M] [--peer A] "
	    "[--peer-mac M]\n"
	    "  [--port P] [--cc NAME] [--stack NAME] (--bytes N | --seconds S) "
	    "[--sndbuf B] [--sysctl NAME=INT]...\n");
}

int
main(int argc, char **argv)
{
	struct ust_tap_config tc;
	struct ust_stack_config sc;
	struct ust_tcpstat ts;
	struct ust_stack *st = NULL;
	struct ust_tap *tap = NULL;
	struct ust_if *ifp = NULL;
	struct ust_socket *so = NULL;
	struct ust_sockaddr_in to;
	static uint8_t buf[65536];
	char reply[256], line[64];
	const char *ifname = "ust0", *cc = NULL, *stack = NULL;
	uint32_t addr = ip4(198, 18, 0, 1), peer = ip4(198, 18, 0, 2);
	uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x01 }, peer_mac[6];
	uint64_t nbytes = 0, sent = 0;
	double seconds = 0, t0 = 0, deadline = 0, give_up;
	size_t rlen = 0;
	int port = 5001, have_peer_mac = 0, sndbuf = 0, sbmax = 8 << 20, rc = 1, i, err, shut = 0;
	int tracing = 0, nsysctl = 0;
	const char *sysctls[MAX_SYSCTL];
	unsigned ntrace = 0;
	double next_trace = 0;
	ptrdiff_t r;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (v == NULL) {
			usage();
			return (2);
		}
		i++;
		if (strcmp(a, "--ifname") == 0)
			ifname = v;
		else if (strcmp(a, "--address") == 0 && parse_addr(v, &addr) == 0)
			;
		else if (strcmp(a, "--peer") == 0 && parse_addr(v, &peer) == 0)
			;
		else if (strcmp(a, "--mac") == 0 && parse_mac(v, mac) == 0)
			;
		else if (strcmp(a, "--peer-mac") == 0 && parse_mac(v, peer_mac) == 0)
			have_peer_mac = 1;
		else if (strcmp(a, "--port") == 0)
			port = atoi(v);
		else if (strcmp(a, "--cc") == 0)
			cc = v;
		else if (strcmp(a, "--stack") == 0)
			stack = v;
		else if (strcmp(a, "--bytes") == 0)
			nbytes = strtoull(v, NULL, 0);
		else if (strcmp(a, "--seconds") == 0)
			seconds = atof(v);
		else if (strcmp(a, "--sndbuf") == 0)
			sndbuf = atoi(v);
		else if (strcmp(a, "--sysctl") == 0 && strchr(v, '=') != NULL &&
		    nsysctl < MAX_SYSCTL)
			sysctls[nsysctl++] = v;
		else {
			usage();
			return (2);
		}
	}
	if ((nbytes == 0) == (seconds <= 0)) {
		usage();
		return (2);
	}
	ust_tap_config_init(&tc);
	snprintf(tc.name, sizeof(tc.name), "%s", ifname);
	tc.offload = 0;
	tc.io = UST_TAP_IO_COPY;
	memcpy(tc.mac, mac, 6);
	tc.mac_set = 1;
	ust_stack_config_init(&sc);
	if ((err = ust_tap_open(&tc, &tap)) != 0) {
		fprintf(stderr, "link_sender: cannot open the TAP device: %s\n",
		    ust_strerror(-err));
		return (1);
	}
	if (ust_stack_create(&sc, &st) != 0 ||
	    ust_if_attach(st, "tap0", ust_tap_ops(), ust_tap_softc(tap), &ifp) != 0 ||
	    ust_if_addr_add(ifp, addr, 24) != 0) {
		fprintf(stderr, "link_sender: stack setup failed\n");
		goto out;
	}
	if (have_peer_mac && ust_arp_add_static(ifp, peer, peer_mac) != 0) {
		fprintf(stderr, "link_sender: static ARP entry refused\n");
		goto out;
	}
	if (stack != NULL && strcmp(stack, "freebsd") != 0 &&
	    ust_sysctl_set_str(st, "net.inet.tcp.functions_default", stack) != 0) {
		printf("unsupported stack %s\n", stack);
		rc = 3;
		goto out;
	}
	if (cc != NULL && ust_sysctl_set_str(st, "net.inet.tcp.cc.algorithm", cc) != 0) {
		fprintf(stderr, "link_sender: no congestion control %s\n", cc);
		goto out;
	}
	/* Room for the bandwidth-delay product and the recovery episodes
	 * on top of it (the default maximum, 2 MB, is a 20 ms path at
	 * 800 Mbit/s). */
	for (i = 0; i < nsysctl; i++) {
		char name[128];
		const char *eq = strchr(sysctls[i], '=');
		size_t n = (size_t)(eq - sysctls[i]);

		if (n >= sizeof(name) ||
		    (memcpy(name, sysctls[i], n), name[n] = '\0',
		        ust_sysctl_set(st, name, strtoll(eq + 1, NULL, 0))) != 0) {
			fprintf(stderr, "link_sender: sysctl %s refused\n", sysctls[i]);
			goto out;
		}
	}
	if (sndbuf > sbmax)
		sbmax = sndbuf;
	(void)ust_sysctl_set(st, "kern.ipc.maxsockbuf", 2 * (int64_t)sbmax);
	(void)ust_sysctl_set(st, "net.inet.tcp.sendbuf_max", (int64_t)sbmax);
	if (ust_socket(st, UST_AF_INET, UST_SOCK_STREAM, 0, &so) != 0 ||
	    (sndbuf > 0 &&
	        ust_setsockopt(so, UST_SOL_SOCKET, UST_SO_SNDBUF, &sndbuf, sizeof(sndbuf)) != 0)) {
		fprintf(stderr, "link_sender: socket setup failed\n");
		goto out;
	}
	printf("ready %s\n", ust_tap_name(tap));
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL)
		goto out;
	to = sin4(peer, (uint16_t)port);
	err = ust_connect(so, (const struct ust_sockaddr *)&to, sizeof(to));
	if (err != 0 && err != -UST_EINPROGRESS) {
		fprintf(stderr, "link_sender: connect: %s\n", ust_strerror(-err));
		goto out;
	}
	give_up = now_s() + 120;
	tracing = getenv("LINK_SENDER_TRACE") != NULL;
	for (;;) {
		double now;

		ust_stack_poll(st);
		now = now_s();
		if (tracing && sent > 0 && now >= next_trace && ntrace < TRACE_MAX) {
			struct ust_tcp_info ti;
			size_t tl = sizeof(ti);

			if (ust_getsockopt(so, UST_IPPROTO_TCP, UST_TCP_INFO, &ti, &tl) == 0) {
				trace[ntrace].t = (float)(now - t0);
				trace[ntrace].cwnd = ti.tcpi_snd_cwnd;
				trace[ntrace].ssthresh = ti.tcpi_snd_ssthresh;
				trace[ntrace].unacked = ti.tcpi_unacked;
				trace[ntrace].sacked = ti.tcpi_sacked;
				trace[ntrace].rexmit = (uint32_t)ti.tcpi_snd_rexmitbyte;
				ntrace++;
			}
			next_trace = now + 0.01;
		}
		if (now > give_up) {
			fprintf(stderr, "link_sender: gave up after 120 s (sent %llu)\n",
			    (unsigned long long)sent);
			goto out;
		}
		while (!shut) {
			size_t n = sizeof(buf);

			if (nbytes != 0 && nbytes - sent < n)
				n = (size_t)(nbytes - sent);
			r = ust_send(so, buf, n, 0);
			if (r == -UST_EAGAIN || r == -UST_ENOTCONN)
				break;
			if (r < 0) {
				fprintf(stderr, "link_sender: send: %s\n", ust_strerror((int)-r));
				goto out;
			}
			if (sent == 0) {
				t0 = now_s();
				deadline = t0 + seconds;
			}
			sent += (uint64_t)r;
			if (nbytes != 0 && sent == nbytes)
				shut = 1; /* no FIN: see the top */
		}
		if (!shut && seconds > 0 && sent > 0 && now >= deadline) {
			ust_shutdown(so, UST_SHUT_WR);
			shut = 1;
		}
		r = ust_recv(so, reply + rlen, sizeof(reply) - 1 - rlen, 0);
		if (r > 0) {
			rlen += (size_t)r;
			reply[rlen] = '\0';
			if (strchr(reply, '\n') != NULL || rlen == sizeof(reply) - 1)
				break;
		} else if (r == 0) {
			fprintf(stderr, "link_sender: the receiver closed without a reply\n");
			goto out;
		} else if (r != -UST_EAGAIN && r != -UST_ENOTCONN) {
			fprintf(stderr, "link_sender: recv: %s\n", ust_strerror((int)-r));
			goto out;
		}
	}
	{
		double reply_s = now_s() - t0;
		char *nl = strchr(reply, '\n');

		if (nl != NULL)
			*nl = '\0';
		ust_stats_tcp(st, &ts);
		printf("sent %llu reply_s %.6f rexmit_bytes %llu rexmit_pkts %llu reply %s\n",
		    (unsigned long long)sent, reply_s, (unsigned long long)ts.tcps_sndrexmitbyte,
		    (unsigned long long)ts.tcps_sndrexmitpack, reply);
		fflush(stdout);
		if (tracing) {
			unsigned k;

			dump_counters(&ts);
			for (k = 0; k < ntrace; k++)
				fprintf(stderr,
				    "T %.3f cwnd %u ssthresh %u unacked %u sacked %u rexmit %u\n",
				    (double)trace[k].t, trace[k].cwnd, trace[k].ssthresh,
				    trace[k].unacked, trace[k].sacked, trace[k].rexmit);
		}
	}
	rc = 0;
	ust_close(so);
	so = NULL;
	/* Let the FIN go out before the stack goes. */
	for (i = 0; i < 2000; i++)
		ust_stack_poll(st);
out:
	if (so != NULL)
		ust_close(so);
	if (st != NULL)
		ust_stack_destroy(st);
	ust_tap_close(tap);
	return (rc);
}
