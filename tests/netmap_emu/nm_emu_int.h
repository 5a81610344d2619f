/*
 * nm_emu internals shared by the core (nm_emu.c) and the LD_PRELOAD form
 * (nm_emu_preload.c): the host calls the emulator makes itself, which the
 * preload form must take from the next library (dlsym(RTLD_NEXT)) so that
 * they do not come back into its own interposers.
 */
#ifndef NM_EMU_INT_H
#define NM_EMU_INT_H

#include <poll.h>
#include <sys/types.h>

#include "../../drivers/netmap/netmap_abi.h"
#include "nm_emu.h"

struct nm_emu_host {
	int (*open)(const char *path, int flags, ...);
	int (*close)(int fd);
	int (*ioctl)(int fd, unsigned long req, ...);
	void *(*mmap)(void *addr, size_t len, int prot, int flags, int fd, off_t off);
	int (*munmap)(void *addr, size_t len);
	int (*poll)(struct pollfd *fds, nfds_t nfds, int timeout);
};

/* nm_emu_create with the host calls given (NULL: libc's). */
struct nm_emu *nm_emu_create_host(const struct nm_emu_config *cfg, const struct nm_emu_host *host);
/* Whether [addr, addr+len) lies in a mapping of the emulator's region. */
int nm_emu_owns_map(const struct nm_emu *emu, const void *addr, size_t len);
/* Whether any of fds is a descriptor of the emulator. */
int nm_emu_any_fd(const struct nm_emu *emu, const struct pollfd *fds, unsigned long nfds);

#endif /* NM_EMU_INT_H */
