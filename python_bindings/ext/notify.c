/*
 * notify.c - compiled into the cffi extension ustack._ffi (not into
 * libustack), declared for Python in cdef/93_python_notify.h: the file
 * descriptor behind Socket.fileno().
 *
 * A ustack socket is no kernel object, so select(), poll(), epoll and the
 * event loops built on them cannot watch it.  Each socket that asks for a
 * fileno gets an AF_UNIX SOCK_STREAM socketpair: the application polls one
 * end (ufd, the fileno), this file drives the other (ifd) so that ufd is
 *
 *   readable  exactly when the ustack socket has EV_IN, EV_ERR or EV_HUP:
 *             one byte written at ifd waits in ufd's receive queue, and is
 *             read back from ufd when none of those holds;
 *   writable  exactly when it has EV_OUT, EV_ERR or EV_HUP: otherwise
 *             ufd's send direction is filled (writes from ufd until
 *             EAGAIN), and all of it is read back at ifd when one holds.
 *
 * The Linux rules this relies on (unix_poll, checked by
 * tests/python/test_fileno.py::test_unix_poll_rules): a stream socket is
 * readable while its receive queue holds a byte (or its peer shut down,
 * which never happens here); it is writable while the bytes it has sent
 * and its peer has not read take at most a quarter of its SO_SNDBUF
 * (unix_writable), and a send fails with EAGAIN once they reach SO_SNDBUF;
 * so after a fill it is not writable, and after its peer read everything
 * it is again.  A partial read at ifd is not enough: always drain it all.
 * An eventfd cannot do this: it is always writable (until its counter is
 * near overflow) and cannot be made "neither readable nor writable".
 * SO_SNDBUF is set as small as the kernel allows (4,608 bytes on 6.x), so
 * a fill is one write of about 4 KiB and one EAGAIN.
 *
 * Who calls ust_py_fd_apply: the socket's upcall (ust_py_fd_upcall, under
 * the stack lock, on a threaded stack's own thread), and
 * ust_py_fd_refresh after a Python call that may have changed readiness
 * without an upcall (recv draining the buffer, send filling it), which
 * applies the events through ust_socket_events under the same lock.  So
 * applies never run concurrently, and run in the order the stack saw the
 * events; the state below needs no lock of its own.  A Python upcall the
 * application set (Socket.set_upcall) is chained: called after the apply.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

struct ust_py_fd {
	int ufd;             /* the application's end: Socket.fileno() */
	int ifd;             /* ours */
	int readable;        /* one byte waits in ufd's receive queue */
	size_t filled;       /* bytes ufd sent that ifd has not read (0: writable) */
	uint32_t events;     /* the UST_EV_* set last applied */
	uint64_t applies;    /* how many times a set was applied */
	ust_upcall_fn chain; /* the Python upcall, if any */
	void *chain_arg;
};

#define UST_PY_FD_READ (UST_EV_IN | UST_EV_ERR | UST_EV_HUP)
#define UST_PY_FD_WRITE (UST_EV_OUT | UST_EV_ERR | UST_EV_HUP)

static const char ust_py_fd_zeros[8192];

static struct ust_py_fd *
ust_py_fd_new(void)
{
	struct ust_py_fd *f;
	int sv[2], one = 1, e;

	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return (NULL);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) {
		e = errno;
		free(f);
		errno = e;
		return (NULL);
	}
	/* The smallest send buffer: a fill is then a few KiB (the kernel
	 * raises 1 to its minimum). */
	(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &one, sizeof(one));
	f->ufd = sv[0];
	f->ifd = sv[1];
	/* A fresh pair is writable and not readable: as if EV_OUT alone had
	 * been applied.  The caller applies the socket's real set next. */
	f->events = UST_EV_OUT;
	return (f);
}

static int
ust_py_fd_fileno(const struct ust_py_fd *f)
{
	return (f->ufd);
}

static uint32_t
ust_py_fd_events(const struct ust_py_fd *f)
{
	return (f->events);
}

static uint64_t
ust_py_fd_applies(const struct ust_py_fd *f)
{
	return (f->applies);
}

/* Makes ufd readable and writable as events says (the module comment). */
static void
ust_py_fd_apply(struct ust_py_fd *f, uint32_t events)
{
	char buf[sizeof(ust_py_fd_zeros)];
	ssize_t n;

	f->applies++;
	f->events = events;
	if ((events & UST_PY_FD_READ) != 0) {
		if (!f->readable && send(f->ifd, "r", 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1)
			f->readable = 1;
	} else if (f->readable) {
		do
			n = recv(f->ufd, buf, sizeof(buf), MSG_DONTWAIT);
		while (n < 0 && errno == EINTR);
		if (n > 0)
			f->readable = 0;
	}
	if ((events & UST_PY_FD_WRITE) != 0) {
		while (f->filled > 0) {
			n = recv(f->ifd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n > 0)
				f->filled -= (size_t)n < f->filled ? (size_t)n : f->filled;
			else if (n == 0 || errno != EINTR)
				break;
		}
	} else if (f->filled == 0) {
		for (;;) {
			n = send(f->ufd, ust_py_fd_zeros, sizeof(ust_py_fd_zeros),
			    MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0)
				f->filled += (size_t)n;
			else if (n == 0 || errno != EINTR)
				break;
		}
	}
}

/* ust_upcall_fn: arg is the struct ust_py_fd. */
static void
ust_py_fd_upcall(void *arg, struct ust_socket *so, uint32_t events)
{
	struct ust_py_fd *f = arg;

	ust_py_fd_apply(f, events);
	if (f->chain != NULL)
		f->chain(f->chain_arg, so, events);
}

/* ust_socket_events' callback: the apply alone (no Python upcall: the
 * stack did not report anything, the application's own call changed it). */
static void
ust_py_fd_apply_cb(void *arg, struct ust_socket *so, uint32_t events)
{
	(void)so;
	ust_py_fd_apply(arg, events);
}

/* Installs f as so's upcall, chaining fn(arg) (NULL: none), and applies
 * the current events; under the stack lock as every socket call. */
static void
ust_py_fd_attach(struct ust_socket *so, struct ust_py_fd *f, ust_upcall_fn fn, void *arg)
{
	f->chain = fn;
	f->chain_arg = fn != NULL ? arg : NULL;
	ust_socket_set_upcall(so, ust_py_fd_upcall, f);
	(void)ust_socket_events(so, ust_py_fd_apply_cb, f);
}

/* The Python upcall to chain after the apply (Socket.set_upcall). */
static void
ust_py_fd_set_chain(struct ust_py_fd *f, ust_upcall_fn fn, void *arg)
{
	f->chain = fn;
	f->chain_arg = fn != NULL ? arg : NULL;
}

/* After a call that may have changed so's readiness without an upcall. */
static uint32_t
ust_py_fd_refresh(struct ust_socket *so, struct ust_py_fd *f)
{
	return (ust_socket_events(so, ust_py_fd_apply_cb, f));
}

/* Closes both ends and frees f.  The socket must no longer call it: its
 * upcall removed (ust_close does) or its stack destroyed. */
static void
ust_py_fd_free(struct ust_py_fd *f)
{
	if (f == NULL)
		return;
	(void)close(f->ufd);
	(void)close(f->ifd);
	free(f);
}
