/*
 * sock_io.h - whole-message reads and writes on kernel sockets for the
 * Linux sides of the benchmarks (rr_linux, cores_linux): a blocking
 * socket, or a non-blocking one spun on (EAGAIN is retried).
 */
#ifndef BENCH_SOCK_IO_H
#define BENCH_SOCK_IO_H

#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Reads exactly n bytes; 0 at EOF before the first byte, -1 on error or
 * EOF inside the message, n otherwise. */
static inline ssize_t
read_n(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = recv(fd, (char *)buf + got, n - got, 0);

		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0)
			return (r == 0 && got == 0 ? 0 : -1);
		got += (size_t)r;
	}
	return ((ssize_t)n);
}

/* Writes all n bytes; 0, or -1 on error. */
static inline int
write_n(int fd, const void *buf, size_t n)
{
	size_t put = 0;

	while (put < n) {
		ssize_t r = send(fd, (const char *)buf + put, n - put, MSG_NOSIGNAL);

		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0)
			return (-1);
		put += (size_t)r;
	}
	return (0);
}

#endif /* BENCH_SOCK_IO_H */
