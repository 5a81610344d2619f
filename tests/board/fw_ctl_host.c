/*
 * fw_ctl_host.c - the board, emulated on the host: ustack on a TAP device
 * serving the firmware's control protocol (firmware/fw_ctl.c) on a unix
 * socket, so that ustack.board.Board, its tests and the packetdrill board
 * back end run without QEMU.
 *
 *   fw_ctl_host --ctl PATH --tap NAME [--ip A.B.C.D/P] [--gw A.B.C.D]
 *               [--mtu N] [--seed N]
 *
 * It does what the firmware's main loop does: poll the stack, serve the
 * control channel (one client at a time, the next one after a close, as
 * a QEMU chardev socket with server=on), sleep until the stack's next
 * deadline or a frame or a request.  It logs "ustack-fw: ready host <ip>"
 * on stdout once serving, and exits with the status of the EXIT op.  The
 * TAP device (no offloads, like a board's MAC) lives as long as the
 * process, in the caller's network namespace.
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <ustack/ustack.h>
#include <ustack/ustack_tap.h>

#include "fw_ctl.h"

static int client_fd = -1;
static int exit_status = -1;

static size_t
ctl_read(void *buf, size_t len)
{
	ssize_t n;

	if (client_fd < 0)
		return (0);
	n = recv(client_fd, buf, len, MSG_DONTWAIT);
	if (n > 0)
		return ((size_t)n);
	if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		close(client_fd);
		client_fd = -1;
	}
	return (0);
}

static void
ctl_write(const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0 && client_fd >= 0) {
		n = send(client_fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(client_fd);
			client_fd = -1;
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}

static void
ctl_exit(int status)
{
	exit_status = status;
}

static int
parse_ip(const char *s, uint32_t *addr, unsigned *plen)
{
	char buf[32];
	char *slash;

	if (strlen(s) >= sizeof(buf))
		return (-1);
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash != NULL) {
		*slash = '\0';
		*plen = (unsigned)atoi(slash + 1);
	}
	return (inet_pton(AF_INET, buf, addr) == 1 ? 0 : -1);
}

static int
listen_unix(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return (-1);
	strcpy(sun.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return (-1);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 1) < 0) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/* Sleeps until a frame, a request or client, or the stack's next deadline
 * (at most 10 ms). */
static void
wait_work(struct ust_stack *st, int tapfd, int lfd)
{
	struct pollfd pfd[2];
	uint64_t now = ust_stack_now(st), dl = ust_stack_next_deadline(st);
	int ms = 10;

	if (dl <= now)
		ms = 0;
	else if (dl - now < 10000000u)
		ms = (int)((dl - now + 999999u) / 1000000u);
	pfd[0].fd = tapfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = client_fd >= 0 ? client_fd : lfd;
	pfd[1].events = POLLIN;
	(void)poll(pfd, 2, ms);
}

static int
usage(void)
{
	fprintf(stderr,
	    "usage: fw_ctl_host --ctl PATH --tap NAME [--ip A.B.C.D/P] "
	    "[--gw A.B.C.D] [--mtu N] [--seed N]\n");
	return (2);
}

int
main(int argc, char **argv)
{
	const char *ctl = NULL, *ip = "198.18.0.2/24", *gw = NULL;
	struct ust_stack_config cfg;
	struct ust_tap_config tc;
	struct ust_stack *st;
	struct ust_tap *tap;
	struct ust_if *ifp;
	struct fw_ctl c;
	uint32_t addr, gwaddr;
	unsigned plen = 24;
	int i, rc, lfd, n;

	ust_stack_config_init(&cfg);
	ust_tap_config_init(&tc);
	tc.offload = 0;
	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--ctl") == 0)
			ctl = argv[i + 1];
		else if (strcmp(argv[i], "--tap") == 0)
			snprintf(tc.name, sizeof(tc.name), "%s", argv[i + 1]);
		else if (strcmp(argv[i], "--ip") == 0)
			ip = argv[i + 1];
		else if (strcmp(argv[i], "--gw") == 0)
			gw = argv[i + 1];
		else if (strcmp(argv[i], "--mtu") == 0)
			tc.mtu = (uint32_t)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--seed") == 0) {
			cfg.seed = strtoull(argv[i + 1], NULL, 0);
			cfg.seed_set = 1;
		} else
			return (usage());
	}
	if (i != argc || ctl == NULL || tc.name[0] == '\0' || parse_ip(ip, &addr, &plen) < 0 ||
	    (gw != NULL && parse_ip(gw, &gwaddr, &plen) < 0))
		return (usage());
	signal(SIGPIPE, SIG_IGN);
	if ((rc = ust_stack_create(&cfg, &st)) < 0 || (rc = ust_tap_open(&tc, &tap)) < 0) {
		fprintf(stderr, "fw_ctl_host: %s\n", ust_strerror(rc));
		return (1);
	}
	rc = ust_if_attach(st, "en0", ust_tap_ops(), ust_tap_softc(tap), &ifp);
	if (rc == 0)
		rc = ust_if_addr_add(ifp, addr, plen);
	if (rc == 0 && gw != NULL)
		rc = ust_route_add(st, 0, 0, gwaddr, NULL);
	lfd = listen_unix(ctl);
	if (rc < 0 || lfd < 0) {
		fprintf(stderr, "fw_ctl_host: %s\n", rc < 0 ? ust_strerror(rc) : strerror(errno));
		return (1);
	}
	fw_ctl_init(&c, st, "host", ctl_read, ctl_write, ctl_exit);
	fw_ctl_set_if(&c, ifp);
	printf("ustack-fw: ready host %s\n", ip);
	fflush(stdout);
	while (exit_status < 0) {
		for (n = 0; n < 64 && ust_stack_poll(st) > 0; n++)
			;
		if (client_fd < 0)
			client_fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fw_ctl_poll(&c) == 0)
			wait_work(st, ust_tap_fd(tap), lfd);
	}
	fw_ctl_fini(&c);
	if (client_fd >= 0)
		close(client_fd);
	close(lfd);
	unlink(ctl);
	ust_stack_destroy(st);
	ust_tap_close(tap);
	return (exit_status);
}
