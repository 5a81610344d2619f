/*
 * osal_posix.c - the OSAL port for POSIX hosts (Linux, FreeBSD): malloc,
 * pthread mutexes and condition variables on CLOCK_MONOTONIC, getrandom()
 * or /dev/urandom for entropy, stderr for the log.
 */
#define _POSIX_C_SOURCE 200809L
#if defined(__linux__)
#define _DEFAULT_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/random.h>
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
