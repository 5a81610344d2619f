/*
 * nm_emu: a user-space test double of netmap's kernel side (netmap(4),
 * API 14), for tests only (never in the library).  It implements the
 * open/close/ioctl/mmap/munmap/poll table of struct ust_netmap_sys
 * (drivers/netmap/include/ustack/ustack_netmap.h) the way the kernel
 * answers them, over the ABI of drivers/netmap/netmap_abi.h:
 *
 *   one shared region per emulator (one memory allocator, nr_mem_id 1),
 *   laid out as if-pool, ring-pool, buffer-pool; buffers 0 and 1 reserved;
 *   NIOCCTRL: NETMAP_REQ_REGISTER (nr_mode ALL_NIC, ONE_NIC, SW, NIC_SW,
 *   nr_ringid, nr_extra_bufs on ni_bufs_head, nr_offset/nr_memsize out)
 *   and NETMAP_REQ_PORT_INFO_GET; legacy NIOCREGIF is refused (EINVAL);
 *   NIOCTXSYNC/NIOCRXSYNC with the kernel's prologue checks on head/cur,
 *   tail restored when the user wrote it, NS_BUF_CHANGED honoured;
 *   poll(): txsync on every bound tx ring (unless NR_NO_TX_POLL), rxsync
 *   on POLLIN.
 *
 * Port names (nr_name as the kernel sees it: libnetmap has already
 * dropped "netmap:" and turned -N ^ * into nr_mode/nr_ringid):
 *   X{N, X}N   the two ends of in-memory pipe N of X (X is any name here;
 *              the real kernel wants a netmap port X);
 *   valeK:P    port P of an in-memory learning bridge valeK;
 *   IF         a Linux TAP device IF (created if it does not exist, in
 *              the caller's network namespace): NIC ring i is TAP queue i,
 *              the host rings (SW) read and write the same TAP.
 *
 * Every descriptor open() returns is a real file descriptor (an epoll
 * instance holding an eventfd the emulator signals when a bound rx ring
 * has frames to publish, and the TAP queues it reads): it is readable
 * exactly when an rxsync would bring frames, so it works in any poll loop.
 *
 * The LD_PRELOAD form (libnetmap_emu_preload.so) serves open("/dev/netmap")
 * and the calls on its descriptors from one emulator configured by the
 * environment variables named beside each field of nm_emu_config below
 * (numbers in C syntax, flags 0/1); NETMAP_EMU_VERBOSE=1 prints the
 * configuration and the seed to stderr, and every strict-mode violation.
 */
#ifndef NM_EMU_H
#define NM_EMU_H

#include <stddef.h>
#include <stdint.h>

#include <ustack/ustack_netmap.h>

#ifdef __cplusplus
extern "C" {
#endif

/* drivers/netmap/netmap.py mirrors this layout in a cffi cdef (ABI mode):
 * change both together. */
struct nm_emu_config {
	/* NETMAP_EMU_SLOTS: ring size when the register asks 0 (default 250:
	 * not a power of two) */
	uint32_t num_slots;
	/* NETMAP_EMU_MAX_SLOTS: largest ring size granted (1024) */
	uint32_t max_slots;
	/* NETMAP_EMU_BUF_SIZE: bytes per buffer (2048; rounded up to the page
	 * size in paranoid mode) */
	uint32_t buf_size;
	/* NETMAP_EMU_BUFS: buffers in the pool (16384) */
	uint32_t num_bufs;
	/* NETMAP_EMU_MAX_EXTRA: cap on nr_extra_bufs (4096) */
	uint32_t max_extra_bufs;
	/* NETMAP_EMU_STRICT (1): a sync whose head/cur/slots the kernel would
	 * reject records a violation and fails with EINVAL (the kernel
	 * reinitialises the ring silently); a tail the user wrote is recorded
	 * as a violation too (the call goes on, tail restored) */
	uint8_t strict;
	/* NETMAP_EMU_PERMUTE (0): buffers handed out in random order */
	uint8_t permute_bufs;
	/* NETMAP_EMU_LAZY_TX (0): tx tail advances only every k-th txsync of a
	 * ring (0, 1: every sync) */
	uint32_t lazy_tx;
	/* NETMAP_EMU_PARTIAL_TX (0): tx tail advances over a random part of
	 * the completed slots */
	uint8_t partial_tx;
	/* NETMAP_EMU_SWAP_RX (0): rx slots get different buffers than the
	 * ones the user gave back */
	uint8_t swap_rx;
	/* NETMAP_EMU_FRAG (0): received frames are split into NS_MOREFRAG
	 * chains of at most this many bytes per slot (more where a frame
	 * would need over 64 slots) */
	uint32_t frag_size;
	/* NETMAP_EMU_PARANOID (0): buffers the kernel owns are PROT_NONE in
	 * the user's mappings between calls */
	uint8_t paranoid;
	/* NETMAP_EMU_SEED (1): every random choice */
	uint64_t seed;
	/* NETMAP_EMU_PIPE_RINGS (1): ring pairs of a pipe end */
	uint32_t pipe_rings;
	/* NETMAP_EMU_TAP_RINGS (1): TAP queues (IFF_MULTI_QUEUE if > 1) */
	uint32_t tap_rings;
	/* NETMAP_EMU_TAP_UP (1): bring a TAP up when registering it */
	uint8_t tap_up;
	/* NETMAP_EMU_TAP_CREATE (1): create a missing TAP (else ENXIO) */
	uint8_t tap_create;
	/* NETMAP_EMU_DEVICE: the path open() serves ("/dev/netmap") */
	const char *device;
};

struct nm_emu;

/* Defaults above (no environment). */
void nm_emu_config_init(struct nm_emu_config *cfg);
/* Reads the NETMAP_EMU_* variables over cfg; 0, or -1 naming the bad one
 * in err. */
int nm_emu_config_env(struct nm_emu_config *cfg, char *err, size_t errlen);
/* NULL and errno on failure (ENOMEM, EINVAL). */
struct nm_emu *nm_emu_create(const struct nm_emu_config *cfg);
/* Closes what is still open (its mappings stay until munmap). */
void nm_emu_destroy(struct nm_emu *emu);
/* The system-call table to hand to the driver (ust_netmap_config.sys). */
const struct ust_netmap_sys *nm_emu_sys(struct nm_emu *emu);
/* Strict-mode violations so far; the last message (with the seed) into
 * last_msg when it is not NULL. */
unsigned nm_emu_violations(const struct nm_emu *emu, char *last_msg, size_t len);
/* Whether fd is a descriptor of this emulator. */
int nm_emu_owns_fd(const struct nm_emu *emu, int fd);
/* Buffers in the user's hands (extra buffers, swapped-out ones) now. */
unsigned nm_emu_user_bufs(const struct nm_emu *emu);
/* Buffers still in the user's hands (neither in a ring nor on a
 * ni_bufs_head list) each time the last descriptor closed: the kernel
 * frees only those two, so these would be lost (taken back here). */
unsigned nm_emu_leaked_bufs(const struct nm_emu *emu);
/* The emulator's own bookkeeping checked (every buffer free, in exactly
 * one ring slot, or the user's; ring indices in order; the kernel's part
 * of each ring as the kernel left it): 0, or -1 with what is wrong in
 * msg.  For the emulator's tests. */
int nm_emu_check(const struct nm_emu *emu, char *msg, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* NM_EMU_H */
