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

#if !UST_NETMAP_ABI_SYSTEM
/* netmap(4)'s NETMAP_REQ_PORT_INFO_GET body (not in the driver's ABI
 * header, which does not use it). */
struct nmreq_port_info_get {
	uint64_t nr_memsize;
	uint32_t nr_tx_slots;
	uint32_t nr_rx_slots;
	uint16_t nr_tx_rings;
	uint16_t nr_rx_rings;
	uint16_t nr_host_tx_rings;
	uint16_t nr_host_rx_rings;
	uint16_t nr_mem_id;
	uint16_t pad[3];
};
#endif

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
