/*
 * nm_emu_preload.c - the netmap emulator as an LD_PRELOAD library:
 *
 *   LD_PRELOAD=libnetmap_emu_preload.so NETMAP_EMU_SLOTS=250 ... program
 *
 * open("/dev/netmap") (or NETMAP_EMU_DEVICE) gives a descriptor of one
 * process-wide emulator, made on first use from the NETMAP_EMU_*
 * variables (nm_emu.h); ioctl, mmap, munmap, poll and close on its
 * descriptors and mappings are the emulator's, everything else goes to
 * the next library (dlsym(RTLD_NEXT)).  The descriptors are real ones
 * (epoll instances, readable when frames arrived), so select/epoll loops
 * see them too; poll() with a mix of emulator and other descriptors is
 * served by the emulator, which polls the others itself.  TAP frames move
 * at the sync calls and in poll (no background thread).  The emulator
 * belongs to the process that opened the device first: after fork() the
 * child's calls all go to libc (its inherited descriptors are plain epoll
 * descriptors there).
 */
#define _GNU_SOURCE 1

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#include "nm_emu_int.h"

#define EXPORT __attribute__((visibility("default")))

static struct nm_emu_host real;
static pthread_once_t real_once = PTHREAD_ONCE_INIT;
static pthread_once_t emu_once = PTHREAD_ONCE_INIT;
static _Atomic(struct nm_emu *) the_emu;
static pid_t owner; /* the process that made the emulator */
static const char *device = "/dev/netmap";

static void
real_resolve(void)
{
	const char *d = getenv("NETMAP_EMU_DEVICE");

	real.open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
	real.close = (int (*)(int))dlsym(RTLD_NEXT, "close");
	real.ioctl = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
	real.mmap = (void *(*)(void *, size_t, int, int, int, off_t))dlsym(RTLD_NEXT, "mmap");
	real.munmap = (int (*)(void *, size_t))dlsym(RTLD_NEXT, "munmap");
	real.poll = (int (*)(struct pollfd *, nfds_t, int))dlsym(RTLD_NEXT, "poll");
	if (d != NULL && *d != '\0')
		device = d;
}

static void
emu_make(void)
{
	struct nm_emu_config cfg;
	char err[160];
	struct nm_emu *emu;

	nm_emu_config_init(&cfg);
	if (nm_emu_config_env(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "netmap_emu_preload: %s\n", err);
		return;
	}
	emu = nm_emu_create_host(&cfg, &real);
	if (emu == NULL)
		perror("netmap_emu_preload: nm_emu_create");
	owner = getpid();
	atomic_store(&the_emu, emu);
}

/* The emulator, in the process that made it only: a child after fork()
 * or vfork() (which may run while another thread holds the emulator's
 * lock, and with vfork shares the parent's memory) goes to libc. */
static struct nm_emu *
emu_get(void)
{
	struct nm_emu *emu;

	pthread_once(&real_once, real_resolve);
	emu = atomic_load(&the_emu);
	if (emu != NULL && getpid() != owner)
		return NULL;
	return emu;
}

static int
open_common(const char *path, int flags, mode_t mode)
{
	struct nm_emu *emu = emu_get();

	if (path != NULL && strcmp(path, device) == 0) {
		pthread_once(&emu_once, emu_make);
		emu = emu_get();
		if (emu == NULL) {
			errno = ENODEV;
			return -1;
		}
		return nm_emu_sys(emu)->open(nm_emu_sys(emu)->ctx, path, flags);
	}
	return real.open(path, flags, mode);
}

static mode_t
open_mode(int flags, va_list ap)
{
	if (flags & (O_CREAT | O_TMPFILE))
		return (mode_t)va_arg(ap, int);
	return 0;
}

EXPORT int
open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return open_common(path, flags, mode);
}

EXPORT int open64(const char *path, int flags, ...) __attribute__((alias("open")));

/* _FORTIFY_SOURCE's forms of open(path, flags) */
EXPORT int __open_2(const char *path, int flags);

EXPORT int
__open_2(const char *path, int flags)
{
	return open_common(path, flags, 0);
}

EXPORT int __open64_2(const char *path, int flags) __attribute__((alias("__open_2")));

EXPORT int
close(int fd)
{
	struct nm_emu *emu = emu_get();

	if (emu != NULL && nm_emu_owns_fd(emu, fd))
		return nm_emu_sys(emu)->close(nm_emu_sys(emu)->ctx, fd);
	return real.close(fd);
}

EXPORT int
ioctl(int fd, unsigned long req, ...)
{
	struct nm_emu *emu = emu_get();
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (emu != NULL && nm_emu_owns_fd(emu, fd))
		return nm_emu_sys(emu)->ioctl(nm_emu_sys(emu)->ctx, fd, req, arg);
	return real.ioctl(fd, req, arg);
}

EXPORT void *
mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	struct nm_emu *emu = emu_get();

	if (emu != NULL && fd >= 0 && nm_emu_owns_fd(emu, fd))
		return nm_emu_sys(emu)->mmap(nm_emu_sys(emu)->ctx, addr, len, prot, flags, fd, off);
	return real.mmap(addr, len, prot, flags, fd, off);
}

#if defined(__LP64__)
EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
    __attribute__((alias("mmap")));
#else
/* With a 32-bit off_t, mmap64 is a function of its own (off64_t). */
EXPORT void *
mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	static void *(*next)(void *, size_t, int, int, int, off64_t);
	struct nm_emu *emu = emu_get();

	if (emu != NULL && fd >= 0 && nm_emu_owns_fd(emu, fd))
		return nm_emu_sys(emu)->mmap(nm_emu_sys(emu)->ctx, addr, len, prot, flags, fd,
		    (int64_t)off);
	if (next == NULL)
		next =
		    (void *(*)(void *, size_t, int, int, int, off64_t))dlsym(RTLD_NEXT, "mmap64");
	return next(addr, len, prot, flags, fd, off);
}
#endif

EXPORT int
munmap(void *addr, size_t len)
{
	struct nm_emu *emu = emu_get();

	if (emu != NULL && nm_emu_owns_map(emu, addr, len))
		return nm_emu_sys(emu)->munmap(nm_emu_sys(emu)->ctx, addr, len);
	return real.munmap(addr, len);
}

EXPORT int
poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	struct nm_emu *emu = emu_get();

	if (emu != NULL && nm_emu_any_fd(emu, fds, nfds))
		return nm_emu_sys(emu)->poll(nm_emu_sys(emu)->ctx, fds, nfds, timeout);
	return real.poll(fds, nfds, timeout);
}

EXPORT int __poll_chk(struct pollfd *fds, nfds_t nfds, int timeout, size_t fdslen);

EXPORT int
__poll_chk(struct pollfd *fds, nfds_t nfds, int timeout, size_t fdslen)
{
	(void)fdslen;
	return poll(fds, nfds, timeout);
}
