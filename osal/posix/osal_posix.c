/*
 * osal_posix.c - the OSAL port for POSIX hosts (Linux, FreeBSD): malloc,
 * pthread mutexes and condition variables on CLOCK_MONOTONIC, getrandom()
 * or /dev/urandom for entropy, stderr for the log; threads (pthreads,
 * pinned with pthread_attr_setaffinity_np) and the waiter of a polling
 * thread (an eventfd, a pipe where there is none, and ppoll(2) over it and
 * the drivers' descriptors).
 */
#if defined(__linux__)
#define _GNU_SOURCE         /* ppoll, pthread_attr_setaffinity_np, pthread_setname_np */
#elif !defined(__FreeBSD__) /* FreeBSD: its default namespace has them all */
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#endif
#if defined(__FreeBSD__)
#include <pthread_np.h>
#include <sys/cpuset.h>
#endif

#include <ustack/ustack.h>
#include <ustack/ustack_osal.h>

struct ust_osal_mutex {
	pthread_mutex_t m;
};

struct ust_osal_cond {
	pthread_cond_t c;
};

void *
ust_osal_mem_alloc(size_t size)
{
	return (malloc(size));
}

void
ust_osal_mem_free(void *p, size_t size)
{
	(void)size;
	free(p);
}

struct ust_osal_mutex *
ust_osal_mutex_create(void)
{
	struct ust_osal_mutex *mtx = malloc(sizeof(*mtx));

	if (mtx != NULL && pthread_mutex_init(&mtx->m, NULL) != 0) {
		free(mtx);
		mtx = NULL;
	}
	return (mtx);
}

void
ust_osal_mutex_destroy(struct ust_osal_mutex *mtx)
{
	if (mtx == NULL)
		return;
	pthread_mutex_destroy(&mtx->m);
	free(mtx);
}

void
ust_osal_mutex_lock(struct ust_osal_mutex *mtx)
{
	pthread_mutex_lock(&mtx->m);
}

void
ust_osal_mutex_unlock(struct ust_osal_mutex *mtx)
{
	pthread_mutex_unlock(&mtx->m);
}

struct ust_osal_cond *
ust_osal_cond_create(void)
{
	struct ust_osal_cond *cv = malloc(sizeof(*cv));
	pthread_condattr_t attr;

	if (cv == NULL)
		return (NULL);
	/* Deadlines are on the monotonic clock, like everything else. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (pthread_cond_init(&cv->c, &attr) != 0) {
		free(cv);
		cv = NULL;
	}
	pthread_condattr_destroy(&attr);
	return (cv);
}

void
ust_osal_cond_destroy(struct ust_osal_cond *cv)
{
	if (cv == NULL)
		return;
	pthread_cond_destroy(&cv->c);
	free(cv);
}

void
ust_osal_cond_wait(struct ust_osal_cond *cv, struct ust_osal_mutex *mtx)
{
	pthread_cond_wait(&cv->c, &mtx->m);
}

int
ust_osal_cond_timedwait(struct ust_osal_cond *cv, struct ust_osal_mutex *mtx, uint64_t deadline_ns)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(deadline_ns / 1000000000u);
	ts.tv_nsec = (long)(deadline_ns % 1000000000u);
	return (pthread_cond_timedwait(&cv->c, &mtx->m, &ts) == ETIMEDOUT ? UST_ETIMEDOUT : 0);
}

void
ust_osal_cond_signal(struct ust_osal_cond *cv)
{
	pthread_cond_signal(&cv->c);
}

void
ust_osal_cond_broadcast(struct ust_osal_cond *cv)
{
	pthread_cond_broadcast(&cv->c);
}

uint64_t
ust_osal_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

int
ust_osal_entropy(void *buf, size_t len)
{
	unsigned char *p = buf;
	int fd;

#if defined(__linux__)
	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (len == 0)
		return (0);
#endif
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return (UST_EIO);
	while (len > 0) {
		ssize_t n = read(fd, p, len);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			close(fd);
			return (UST_EIO);
		}
		p += n;
		len -= (size_t)n;
	}
	close(fd);
	return (0);
}

void
ust_osal_log_write(int level, const char *line)
{
	static const char *const names[] = { "emerg", "alert", "crit", "err", "warning", "notice",
		"info", "debug" };

	fprintf(stderr, "ustack %s: %s\n", (level >= 0 && level <= 7) ? names[level] : "log", line);
}

void
ust_osal_panic(const char *msg)
{
	fprintf(stderr, "ustack panic: %s\n", msg);
	abort();
}

/* ---------------------------------------------------------------------
 * Threads.
 * ------------------------------------------------------------------- */

struct ust_osal_thread {
	pthread_t t;
	void (*fn)(void *arg);
	void *arg;
};

static void *
osal_thread_main(void *p)
{
	struct ust_osal_thread *t = p;

	t->fn(t->arg);
	return (NULL);
}

/* The address of a thread-local object: distinct for every live thread. */
static _Thread_local char osal_thread_anchor;

uintptr_t
ust_osal_thread_self(void)
{
	return ((uintptr_t)&osal_thread_anchor);
}

unsigned
ust_osal_ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return (n > 0 ? (unsigned)n : 1u);
}

int
ust_osal_thread_create(struct ust_osal_thread **out, void (*fn)(void *arg), void *arg, int cpu,
    const char *name)
{
	struct ust_osal_thread *t;
	pthread_attr_t attr;
	int error;

	*out = NULL;
	if (fn == NULL)
		return (-UST_EINVAL);
	if (cpu >= 0 && (unsigned)cpu >= ust_osal_ncpus())
		return (-UST_EINVAL);
	t = malloc(sizeof(*t));
	if (t == NULL)
		return (-UST_ENOMEM);
	t->fn = fn;
	t->arg = arg;
	if (pthread_attr_init(&attr) != 0) {
		free(t);
		return (-UST_ENOMEM);
	}
	error = 0;
#if defined(__linux__) || defined(__FreeBSD__)
	if (cpu >= 0) {
		/* Pinned before it starts: it never runs anywhere else. */
#if defined(__linux__)
		cpu_set_t set;
#else
		cpuset_t set;
#endif
		if (cpu >= CPU_SETSIZE) {
			error = EINVAL;
		} else {
			CPU_ZERO(&set);
			CPU_SET(cpu, &set);
			error = pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		}
	}
#endif
	if (error == 0)
		error = pthread_create(&t->t, &attr, osal_thread_main, t);
	pthread_attr_destroy(&attr);
	if (error != 0) {
		free(t);
		return (error == EINVAL ? -UST_EINVAL : error == EPERM ? -UST_EPERM : -UST_EAGAIN);
	}
	if (name != NULL) {
#if defined(__linux__)
		char buf[16]; /* the kernel's limit, NUL included */
		size_t i;

		for (i = 0; i + 1 < sizeof(buf) && name[i] != '\0'; i++)
			buf[i] = name[i];
		buf[i] = '\0';
		(void)pthread_setname_np(t->t, buf);
#elif defined(__FreeBSD__)
		pthread_set_name_np(t->t, name);
#endif
	}
	*out = t;
	return (0);
}

void
ust_osal_thread_join(struct ust_osal_thread *t)
{
	if (t == NULL)
		return;
	pthread_join(t->t, NULL);
	free(t);
}

/* ---------------------------------------------------------------------
 * The waiter: an eventfd (Linux) or a non-blocking pipe (elsewhere) that
 * ust_osal_waiter_wake() makes readable, polled together with the
 * caller's descriptors.  A wake before the wait stays in the descriptor,
 * so it is never lost; the wait drains it.
 * ------------------------------------------------------------------- */

#define WAITER_FDS_INLINE 32

struct ust_osal_waiter {
	int rfd; /* readable when woken */
	int wfd; /* written by wake (== rfd for an eventfd) */
};

struct ust_osal_waiter *
ust_osal_waiter_create(void)
{
	struct ust_osal_waiter *w = malloc(sizeof(*w));

	if (w == NULL)
		return (NULL);
#if defined(__linux__)
	w->rfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	w->wfd = w->rfd;
	if (w->rfd < 0) {
		free(w);
		return (NULL);
	}
#else
	{
		int p[2];

		if (pipe(p) != 0) {
			free(w);
			return (NULL);
		}
		(void)fcntl(p[0], F_SETFL, O_NONBLOCK);
		(void)fcntl(p[1], F_SETFL, O_NONBLOCK);
		(void)fcntl(p[0], F_SETFD, FD_CLOEXEC);
		(void)fcntl(p[1], F_SETFD, FD_CLOEXEC);
		w->rfd = p[0];
		w->wfd = p[1];
	}
#endif
	return (w);
}

void
ust_osal_waiter_destroy(struct ust_osal_waiter *w)
{
	if (w == NULL)
		return;
	if (w->wfd != w->rfd)
		close(w->wfd);
	close(w->rfd);
	free(w);
}

void
ust_osal_waiter_wake(struct ust_osal_waiter *w)
{
	ssize_t n;
#if defined(__linux__)
	uint64_t one = 1;

	/* EAGAIN: the counter is at its maximum, which wakes just as well. */
	do
		n = write(w->wfd, &one, sizeof(one));
	while (n < 0 && errno == EINTR);
#else
	char one = 1;

	/* EAGAIN: the pipe is full of wakes already. */
	do
		n = write(w->wfd, &one, 1);
	while (n < 0 && errno == EINTR);
#endif
	(void)n;
}

static void
waiter_drain(struct ust_osal_waiter *w)
{
	uint64_t buf[8];
	ssize_t n;

	do
		n = read(w->rfd, buf, sizeof(buf));
	while (n > 0 || (n < 0 && errno == EINTR));
}

int
ust_osal_waiter_wait(struct ust_osal_waiter *w, const int *fds, unsigned nfds, uint64_t deadline_ns)
{
	struct pollfd inline_pfd[WAITER_FDS_INLINE];
	struct pollfd *pfd = inline_pfd;
	struct timespec ts, *tsp = NULL;
	unsigned i, n = 0;
	uint64_t now, left = 0;
	int rc;

	if (nfds + 1 > WAITER_FDS_INLINE) {
		pfd = malloc((nfds + 1) * sizeof(*pfd));
		if (pfd == NULL) {
			pfd = inline_pfd;
			nfds = WAITER_FDS_INLINE - 1;
		}
	}
	pfd[n].fd = w->rfd;
	pfd[n].events = POLLIN;
	pfd[n++].revents = 0;
	for (i = 0; i < nfds; i++) {
		if (fds[i] < 0)
			continue;
		pfd[n].fd = fds[i];
		pfd[n].events = POLLIN;
		pfd[n++].revents = 0;
	}
	if (deadline_ns != UINT64_MAX) {
		now = ust_osal_clock_ns();
		left = deadline_ns > now ? deadline_ns - now : 0;
		ts.tv_sec = (time_t)(left / 1000000000u);
		ts.tv_nsec = (long)(left % 1000000000u);
		tsp = &ts;
	}
#if defined(__linux__) || defined(__FreeBSD__)
	rc = ppoll(pfd, n, tsp, NULL);
#else
	/* poll(2) counts milliseconds: round up, never wake early. */
	rc = poll(pfd, n,
	    tsp == NULL ? -1 :
	        left / 1000000u >= (uint64_t)INT32_MAX ? INT32_MAX :
	                                                 (int)((left + 999999u) / 1000000u));
#endif
	if (rc > 0 && (pfd[0].revents & POLLIN))
		waiter_drain(w);
	if (pfd != inline_pfd)
		free(pfd);
	if (rc < 0)
		return (1); /* EINTR: as a spurious wakeup; the caller rechecks */
	return (rc > 0 ? 1 : 0);
}
