/*
 * rr_linux.c - the Linux side of bench/b_rr.py: the same request/response
 * workloads as rr_ustack.c with kernel TCP sockets over loopback (b_rr.py
 * runs it inside a network namespace of its own), client and server as
 * two threads of this process.
 *
 *   --same-core:  both threads pinned to one CPU, blocking sockets: each
 *                 side sleeps in recv() and the other runs (the fair
 *                 like-for-like of rr_ustack --same-core);
 *   --cross-core: the threads pinned to two CPUs; blocking sockets, or with
 *                 --busy non-blocking sockets spun on (as ustack's threads
 *                 busy-poll), so no wake-up of a halted core is counted.
 *
 * --family 6 uses IPv6 (::1).  --server ADDR binds the listening socket to
 * ADDR and connects to it; --server-netns NAME makes that socket in the
 * network namespace /var/run/netns/NAME (setns(2) around its creation; a
 * socket stays in the namespace it was made in), so that with the process
 * itself in another namespace joined to NAME by a veth pair, every
 * segment crosses the veth (b_ipv6.py).
 *
 * Same options and output as rr_ustack (rr_common.h).
 */
#include "rr_common.h"
#include "sock_io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

struct ctx {
	struct rr_opts o;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int lfd;
	long conns; /* connections the server serves (--crr) */
	int error;
};

static void
tune(int fd, int busy)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (busy)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static int
accept_one(struct ctx *c)
{
	for (;;) {
		int fd = accept(c->lfd, NULL, NULL);

		if (fd >= 0) {
			tune(fd, c->o.busy);
			return (fd);
		}
		if (errno != EAGAIN && errno != EINTR)
			return (-1);
	}
}

/* Echoes requests until EOF, connection after connection. */
static void *
server(void *arg)
{
	struct ctx *c = arg;
	char buf[RR_MSG];
	long i;

	rr_pin(c->o.cpu[1]);
	for (i = 0; i < c->conns; i++) {
		int fd = accept_one(c);
		ssize_t r;

		if (fd < 0) {
			c->error = 1;
			return (NULL);
		}
		while ((r = read_n(fd, buf, RR_MSG)) == RR_MSG)
			if (write_n(fd, buf, RR_MSG) != 0)
				break;
		if (r < 0)
			c->error = 1;
		close(fd);
	}
	return (NULL);
}

static int
connect_fd(struct ctx *c)
{
	int fd = socket(c->addr.ss_family, SOCK_STREAM, 0);

	if (fd < 0)
		return (-1);
	/* Connect blocking: a spin on EINPROGRESS measures nothing more. */
	tune(fd, 0);
	if (connect(fd, (struct sockaddr *)&c->addr, c->addrlen) != 0) {
		close(fd);
		return (-1);
	}
	if (c->o.busy)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return (fd);
}

static int
roundtrip(int fd, const char *req)
{
	char resp[RR_MSG];

	if (write_n(fd, req, RR_MSG) != 0 || read_n(fd, resp, RR_MSG) != RR_MSG ||
	    memcmp(req, resp, RR_MSG) != 0)
		return (-1);
	return (0);
}

static int
client(struct ctx *c, long warm, uint64_t *lat, uint64_t *total)
{
	char req[RR_MSG];
	uint64_t t0 = 0;
	long i;
	int fd = -1, err = 0;

	memset(req, 'q', sizeof(req));
	if (c->o.work == RR_PINGPONG && (fd = connect_fd(c)) < 0)
		return (-1);
	for (i = -warm; i < c->o.count && err == 0; i++) {
		uint64_t t = rr_now_ns();

		if (i == 0)
			t0 = t;
		if (c->o.work == RR_CRR) {
			if ((fd = connect_fd(c)) < 0)
				return (-1);
			err = roundtrip(fd, req);
			close(fd);
		} else
			err = roundtrip(fd, req);
		if (i >= 0)
			lat[i] = rr_now_ns() - t;
	}
	*total = rr_now_ns() - t0;
	if (c->o.work == RR_PINGPONG)
		close(fd);
	return (err);
}

/* The server's address: --server or the loopback address of the family. */
static int
server_addr(struct ctx *c)
{
	const char *host = c->o.server;

	memset(&c->addr, 0, sizeof(c->addr));
	if (c->o.family == 6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&c->addr;

		s6->sin6_family = AF_INET6;
		c->addrlen = sizeof(*s6);
		return (
		    inet_pton(AF_INET6, host != NULL ? host : "::1", &s6->sin6_addr) == 1 ? 0 : -1);
	}
	{
		struct sockaddr_in *s4 = (struct sockaddr_in *)&c->addr;

		s4->sin_family = AF_INET;
		c->addrlen = sizeof(*s4);
		return (inet_pton(AF_INET, host != NULL ? host : "127.0.0.1", &s4->sin_addr) == 1 ?
		        0 :
		        -1);
	}
}

/* The listening socket, in --server-netns when given (the calling thread
 * enters it for the socket() call only). */
static int
listen_socket(struct ctx *c)
{
	char path[256];
	int home = -1, ns, fd, one = 1;

	if (c->o.server_netns != NULL) {
		snprintf(path, sizeof(path), "/var/run/netns/%s", c->o.server_netns);
		if ((home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) < 0 ||
		    (ns = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			perror(path);
			return (-1);
		}
		if (setns(ns, CLONE_NEWNET) != 0) {
			perror("rr_linux: setns");
			return (-1);
		}
		close(ns);
	}
	fd = socket(c->addr.ss_family, SOCK_STREAM, 0);
	if (home >= 0) {
		if (setns(home, CLONE_NEWNET) != 0) {
			perror("rr_linux: setns back");
			return (-1);
		}
		close(home);
	}
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
		return (-1);
	return (fd);
}

int
main(int argc, char **argv)
{
	struct ctx c;
	socklen_t alen = sizeof(c.addr);
	pthread_t tid;
	uint64_t *lat, total = 0;
	long warm;
	int err, rc;

	memset(&c, 0, sizeof(c));
	rc = rr_parse(argc, argv, &c.o);
	if (rc != 0) {
		rr_usage(rc == 1 ? stdout : stderr, argv[0],
		    "Kernel TCP over loopback (127.0.0.1, ::1), client and server threads.");
		return (rc == 1 ? 0 : 2);
	}
	if ((lat = calloc((size_t)c.o.count, sizeof(*lat))) == NULL)
		return (1);
	if (server_addr(&c) != 0) {
		fprintf(stderr, "rr_linux: bad --server address %s\n", c.o.server);
		return (2);
	}
	c.lfd = listen_socket(&c);
	if (c.lfd < 0 || bind(c.lfd, (struct sockaddr *)&c.addr, c.addrlen) != 0 ||
	    listen(c.lfd, 128) != 0 || getsockname(c.lfd, (struct sockaddr *)&c.addr, &alen) != 0) {
		perror("rr_linux: listen");
		return (1);
	}
	if (c.o.busy)
		fcntl(c.lfd, F_SETFL, fcntl(c.lfd, F_GETFL) | O_NONBLOCK);
	warm = c.o.count / 10 < 1000 ? c.o.count / 10 : 1000;
	c.conns = c.o.work == RR_CRR ? warm + c.o.count : 1;
	rr_pin(c.o.cpu[0]);
	if (pthread_create(&tid, NULL, server, &c) != 0)
		return (1);
	err = client(&c, warm, lat, &total);
	if (err != 0)
		shutdown(c.lfd, SHUT_RDWR); /* a server in accept() gives up */
	pthread_join(tid, NULL);
	if (err != 0 || c.error != 0) {
		fprintf(stderr, "rr_linux: %s failed\n", err ? "the client" : "the server");
		return (1);
	}
	rr_report(&c.o, "linux", lat, c.o.count, total);
	close(c.lfd);
	free(lat);
	return (0);
}
