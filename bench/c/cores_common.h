/*
 * cores_common.h - what the scale-cores programs share (cores_pairs.c:
 * independent ustack pairs; cores_linux.c: kernel sockets; cores_group.c:
 * two groups of stacks): the command line, K worker threads each pinned to
 * its own CPU, the measurement window and the one-line JSON result, so
 * every side is counted the same way (bench/b_scale_cores.py).  Header only.
 *
 * The window: every worker sets itself up (its own stacks or sockets, made
 * on its own CPU) and says it is ready; the main thread then starts them
 * all at once, lets them warm up, reads each worker's operation counter,
 * sleeps --seconds, reads the counters again and stops them.  The
 * aggregate is the sum of the workers' counts over that one window, so
 * only the time all K run at once counts.  Each counter has a cache line
 * pair of its own, written only by its worker (a relaxed atomic store per
 * operation: a plain store on x86) and read twice by the main thread.
 */
#ifndef USTACK_BENCH_CORES_COMMON_H
#define USTACK_BENCH_CORES_COMMON_H

#include "rr_common.h" /* first: _GNU_SOURCE */

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CORES_MAX 16
#define CORES_LINE 128     /* two cache lines: the adjacent-line prefetcher pairs them */
#define CORES_GRACE_S 10.0 /* after stop, before the workers are told to give up */

enum cores_work { CORES_BULK, CORES_RR, CORES_CRR };

struct cores_opts {
	int work;       /* enum cores_work */
	int threads;    /* K */
	double seconds; /* the measured window */
	double warm;    /* seconds run before it */
	size_t msg;     /* request and response bytes (RR and CRR) */
	size_t buf;     /* bulk: socket buffer bytes (0: the program's default) */
	unsigned ring;  /* pipe slots per direction (0: the program's default) */
	int pin;        /* 0: --pin none */
	int cpus[CORES_MAX];
	int family;          /* 4 or 6 */
	const char *mode;    /* cores_group: lock, exec, group */
	const char *connect; /* cores_linux: clients only, to this IPv4 ADDR:PORT */
};

/* One worker's counter, alone on its lines, and the CPU clocks of the
 * threads doing its work (set before ready; read by the main thread at
 * both ends of the window, so the figures can be put per CPU-second: the
 * two cores are shared with whatever else runs). */
#define CORES_CLOCKS 2
struct cores_slot {
	alignas(CORES_LINE) _Atomic uint64_t count; /* operations, or bytes for bulk */
	char pad[CORES_LINE - sizeof(uint64_t)];
	clockid_t clk[CORES_CLOCKS];
	int nclk;
};

/* What the main thread and the workers share.  Written once each: ready
 * (and finished) by each worker, go and stop by the main thread. */
struct cores_ctl {
	alignas(CORES_LINE) _Atomic int ready;
	_Atomic int failed;
	_Atomic int finished; /* workers past their last operation (cores_finish) */
	alignas(CORES_LINE) _Atomic int go;
	_Atomic int stop;
	_Atomic int abort; /* set when workers did not finish CORES_GRACE_S after stop */
	char pad[CORES_LINE - 3 * sizeof(int)];
};

static inline const char *
cores_work_name(int w)
{
	return (w == CORES_BULK ? "bulk" : w == CORES_RR ? "rr" : "crr");
}

static inline void
cores_usage(FILE *f, const char *prog, const char *what, const char *extra)
{
	fprintf(f,
	    "usage: %s --work bulk|rr|crr [--threads K] [--seconds S] [--warm S]\n"
	    "       [--msg N] [--buf N] [--cpus A,B,..|--pin none] [--family 4|6]%s\n"
	    "%s\n"
	    "K workers (default 1, at most %d), worker i pinned to the i-th CPU this\n"
	    "process may use (or --cpus).  bulk: one flow per worker, MB/s received\n"
	    "and checked; rr: --msg-byte (default 1) request/response round trips on\n"
	    "one connection per worker; crr: connect + request/response + close.\n"
	    "Defaults: --seconds 2 --warm 0.3.  Prints one JSON line: aggregate\n"
	    "(the sum over the workers in one window) and per_thread.\n",
	    prog, extra, what, CORES_MAX);
}

/* Parses argv; 0, 1 for --help, 2 for a bad line. */
static inline int
cores_parse(int argc, char **argv, struct cores_opts *o)
{
	cpu_set_t set;
	int i, n = 0, ncpus = 0, allowed[CORES_MAX], have_cpus = 0;

	memset(o, 0, sizeof(*o));
	o->work = -1;
	o->threads = 1;
	o->seconds = 2.0;
	o->warm = 0.3;
	o->msg = 1;
	o->pin = 1;
	o->family = 4;
	o->mode = "";
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			return (1);
		if (strcmp(a, "--pin") == 0 && v != NULL && strcmp(v, "none") == 0) {
			o->pin = 0;
			i++;
			continue;
		}
		if (v == NULL)
			return (2);
		i++;
		if (strcmp(a, "--work") == 0)
			o->work = strcmp(v, "bulk") == 0 ? CORES_BULK :
			    strcmp(v, "rr") == 0         ? CORES_RR :
			    strcmp(v, "crr") == 0        ? CORES_CRR :
			                                   -1;
		else if (strcmp(a, "--threads") == 0)
			o->threads = atoi(v);
		else if (strcmp(a, "--seconds") == 0)
			o->seconds = atof(v);
		else if (strcmp(a, "--warm") == 0)
			o->warm = atof(v);
		else if (strcmp(a, "--msg") == 0)
			o->msg = (size_t)atol(v);
		else if (strcmp(a, "--buf") == 0)
			o->buf = (size_t)atol(v);
		else if (strcmp(a, "--ring") == 0)
			o->ring = (unsigned)atol(v);
		else if (strcmp(a, "--family") == 0)
			o->family = atoi(v);
		else if (strcmp(a, "--mode") == 0)
			o->mode = v;
		else if (strcmp(a, "--connect") == 0)
			o->connect = v;
		else if (strcmp(a, "--cpus") == 0) {
			const char *p = v;

			have_cpus = 1;
			while (*p != '\0' && n < CORES_MAX) {
				char *end;

				o->cpus[n++] = (int)strtol(p, &end, 10);
				if (end == p)
					return (2);
				p = *end == ',' ? end + 1 : end;
			}
		} else
			return (2);
	}
	if (o->work < 0 || o->threads < 1 || o->threads > CORES_MAX || o->seconds <= 0 ||
	    o->warm < 0 || o->msg < 1 || o->msg > RR_MSG || (o->family != 4 && o->family != 6) ||
	    (have_cpus && n < o->threads))
		return (2);
	if (!have_cpus) {
		/* The i-th allowed CPU, round robin when there are fewer. */
		if (sched_getaffinity(0, sizeof(set), &set) == 0)
			for (i = 0; i < CPU_SETSIZE && ncpus < CORES_MAX; i++)
				if (CPU_ISSET(i, &set))
					allowed[ncpus++] = i;
		if (ncpus == 0)
			allowed[ncpus++] = 0;
		for (i = 0; i < o->threads; i++)
			o->cpus[i] = allowed[i % ncpus];
	}
	return (0);
}

/* The calling worker: pinned (unless --pin none). */
static inline void
cores_pin(const struct cores_opts *o, int i)
{
	if (o->pin && rr_pin(o->cpus[i]) != 0)
		fprintf(stderr, "cannot pin worker %d to cpu %d (running unpinned)\n", i,
		    o->cpus[i]);
}

/* A worker is set up: waits for the start (or returns 0 at once when
 * another worker failed or it did, ok 0).  1: go. */
static inline int
cores_ready(struct cores_ctl *c, int ok)
{
	if (!ok)
		atomic_store(&c->failed, 1);
	atomic_fetch_add(&c->ready, 1);
	while (!atomic_load_explicit(&c->go, memory_order_acquire))
		sched_yield();
	return (ok && !atomic_load(&c->failed));
}

/* Adds the calling thread's CPU clock to the slot (before cores_ready). */
static inline void
cores_add_clock(struct cores_slot *s)
{
	if (s->nclk < CORES_CLOCKS && pthread_getcpuclockid(pthread_self(), &s->clk[s->nclk]) == 0)
		s->nclk++;
}

static inline uint64_t
cores_cpu_ns(const struct cores_slot *s)
{
	struct timespec ts;
	uint64_t sum = 0;
	int i;

	for (i = 0; i < s->nclk; i++)
		if (clock_gettime(s->clk[i], &ts) == 0)
			sum += (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	return (sum);
}

static inline int
cores_stopped(struct cores_ctl *c)
{
	return (atomic_load_explicit(&c->stop, memory_order_relaxed));
}

/* A worker is past its last operation. */
static inline void
cores_finish(struct cores_ctl *c)
{
	atomic_fetch_add(&c->finished, 1);
}

static inline void
cores_count(struct cores_slot *s, uint64_t n)
{
	atomic_store_explicit(&s->count, n, memory_order_relaxed);
}

static inline void
cores_sleep(double s)
{
	struct timespec ts;

	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0)
		continue;
}

/* The main thread's part: waits for k workers, starts them, measures one
 * window; rate[i] = worker i's count per second in it, cpu[i] the CPU
 * time its threads had in it per second of the window (1.0: a whole CPU).
 * The workers are stopped at the end and must call cores_finish() after
 * their last operation (within CORES_GRACE_S, or abort is set).  Returns
 * the window in seconds, or -1 when a worker failed to set up (they are
 * stopped then too). */
static inline double
cores_window(struct cores_ctl *c, struct cores_slot *const *slots, int k,
    const struct cores_opts *o, double *rate, double *cpu)
{
	uint64_t c0[CORES_MAX], u0[CORES_MAX], t0, t1;
	int i;

	while (atomic_load(&c->ready) < k)
		cores_sleep(0.001);
	if (atomic_load(&c->failed)) {
		atomic_store(&c->stop, 1);
		atomic_store_explicit(&c->go, 1, memory_order_release);
		return (-1);
	}
	atomic_store_explicit(&c->go, 1, memory_order_release);
	cores_sleep(o->warm);
	t0 = rr_now_ns();
	for (i = 0; i < k; i++) {
		c0[i] = atomic_load_explicit(&slots[i]->count, memory_order_relaxed);
		u0[i] = cores_cpu_ns(slots[i]);
	}
	cores_sleep(o->seconds);
	t1 = rr_now_ns();
	for (i = 0; i < k; i++) {
		rate[i] =
		    (double)(atomic_load_explicit(&slots[i]->count, memory_order_relaxed) - c0[i]) *
		    1e9 / (double)(t1 - t0);
		cpu[i] = (double)(cores_cpu_ns(slots[i]) - u0[i]) / (double)(t1 - t0);
	}
	atomic_store(&c->stop, 1);
	/* A worker stuck waiting for a peer that will not answer (a bug the
	 * bench found) is told to give up rather than hang the run. */
	for (i = 0; i < (int)(CORES_GRACE_S * 1000) && atomic_load(&c->finished) < k; i++)
		cores_sleep(0.001);
	if (atomic_load(&c->finished) < k) {
		fprintf(stderr,
		    "%d of %d workers still busy %.0f s after the stop: aborting them\n",
		    k - atomic_load(&c->finished), k, CORES_GRACE_S);
		atomic_store(&c->abort, 1);
	}
	return ((double)(t1 - t0) / 1e9);
}

/* The JSON line's start: {"stack": .., "work": .., ..., "aggregate": ..,
 * "per_thread": [..], "cpus": [..]; the caller adds its own fields and
 * ends it with cores_report_end(). */
static inline void
cores_report(const struct cores_opts *o, const char *stack, double window, const double *rate,
    const double *cpu)
{
	double sum = 0, scale = o->work == CORES_BULK ? 1e-6 : 1.0;
	int i;

	for (i = 0; i < o->threads; i++)
		sum += rate[i] * scale;
	printf("{\"stack\": \"%s\", \"work\": \"%s\", \"threads\": %d, \"msg\": %zu, "
	       "\"family\": %d, \"seconds\": %.4f, \"unit\": \"%s\", \"aggregate\": %.1f, "
	       "\"per_thread\": [",
	    stack, cores_work_name(o->work), o->threads, o->msg, o->family, window,
	    o->work == CORES_BULK ? "MB/s" : "1/s", sum);
	for (i = 0; i < o->threads; i++)
		printf("%s%.1f", i ? ", " : "", rate[i] * scale);
	printf("], \"cpu_share\": [");
	for (i = 0; i < o->threads; i++)
		printf("%s%.3f", i ? ", " : "", cpu[i]);
	printf("], \"cpus\": [");
	for (i = 0; i < o->threads; i++)
		printf("%s%d", i ? ", " : "", o->pin ? o->cpus[i] : -1);
	printf("]");
}

static inline void
cores_report_end(void)
{
	printf("}\n");
	fflush(stdout);
}

#endif /* USTACK_BENCH_CORES_COMMON_H */
