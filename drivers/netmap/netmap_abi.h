/*
 * The netmap user ABI (API version 14) the netmap driver and the test
 * emulator speak: the system's <net/netmap_user.h> where there is one
 * (FreeBSD, or Linux with netmap installed), else the minimal declaration
 * below, written from netmap(4) and pinned by _Static_asserts to the layout
 * measured from the real headers on x86_64 (LP64).
 *
 * Not installed and not part of ustack's API: drivers/netmap/ and
 * tests/netmap_emu/ include it by path.
 */
#ifndef USTACK_NETMAP_ABI_H
#define USTACK_NETMAP_ABI_H

#if defined(USTACK_NETMAP_SYSTEM_HEADERS) || \
    (!defined(USTACK_NETMAP_OWN_ABI) && defined(__has_include) && __has_include(<net/netmap_user.h>))
#include <net/if.h>
#include <net/netmap.h>
#include <net/netmap_user.h>
#define UST_NETMAP_ABI_SYSTEM 1
#else
#define UST_NETMAP_ABI_SYSTEM 0

#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <sys/types.h>

#define NETMAP_API 14
#define NETMAP_MIN_API 14
#define NETMAP_MAX_API 15

/* One slot of a ring: which buffer, how many bytes, flags. */
struct netmap_slot {
	uint32_t buf_idx; /* index of the buffer in the buffer pool */
	uint16_t len;     /* bytes in the buffer (of this fragment) */
	uint16_t flags;   /* NS_* */
	uint64_t ptr;     /* NS_INDIRECT only (VALE tx) */
};

#define NS_BUF_CHANGED 0x0001 /* buf_idx was changed by the user */
#define NS_REPORT 0x0002      /* ask for a completion report */
#define NS_FORWARD 0x0004     /* pass to the host/NIC peer ring (NR_FORWARD) */
#define NS_NO_LEARN 0x0008
#define NS_INDIRECT 0x0010
#define NS_MOREFRAG 0x0020 /* more fragments of this frame follow */
#define NETMAP_MAX_FRAGS 64

#define NM_CACHE_ALIGN 128

/*
 * A tx or rx ring.  [head, tail) belongs to the user, the rest to the
 * kernel; head and cur only move forward (modulo num_slots, which need not
 * be a power of two); tail is written by the kernel only.
 */
struct netmap_ring {
	const int64_t buf_ofs; /* buffer pool, from this ring's address */
	const uint32_t num_slots;
	const uint32_t nr_buf_size;
	const uint16_t ringid;
	const uint16_t dir; /* 0 tx, 1 rx */
	uint32_t head;      /* (u) first slot of the user */
	uint32_t cur;       /* (u) wakeup point */
	uint32_t tail;      /* (k) first slot of the kernel */
	uint32_t flags;     /* NR_TIMESTAMP, NR_FORWARD */
	struct timeval ts;  /* (k) time of the last sync */
	uint8_t sem[128] __attribute__((__aligned__(NM_CACHE_ALIGN)));
	struct netmap_slot slot[]; /* num_slots of them */
};

#define NR_TIMESTAMP 0x0002
#define NR_FORWARD 0x0004

/* What a descriptor bound: ring counts and the offsets of its rings. */
struct netmap_if {
	char ni_name[16];
	const uint32_t ni_version;
	const uint32_t ni_flags;
	const uint32_t ni_tx_rings; /* NIC tx rings */
	const uint32_t ni_rx_rings; /* NIC rx rings */
	uint32_t ni_bufs_head;      /* first extra buffer; each holds the next index */
	const uint32_t ni_host_tx_rings;
	const uint32_t ni_host_rx_rings;
	uint32_t ni_spare1[3];
	/* From this struct's address: NIC tx, host tx, NIC rx, host rx rings;
	 * 0 for a ring the descriptor did not bind. */
	const ssize_t ring_ofs[];
};

#define NI_PRIV_MEM 0x1

struct nmreq_option {
	uint64_t nro_next;
	uint32_t nro_reqtype;
	uint32_t nro_status;
	uint64_t nro_size;
};

#define NETMAP_REQ_IFNAMSIZ 64

struct nmreq_header {
	uint16_t nr_version; /* NETMAP_API */
	uint16_t nr_reqtype; /* NETMAP_REQ_* */
	uint32_t nr_reserved;
	char nr_name[NETMAP_REQ_IFNAMSIZ];
	uint64_t nr_options; /* struct nmreq_option *, or 0 */
	uint64_t nr_body;    /* struct nmreq_register * etc. */
};

enum {
	NETMAP_REQ_REGISTER = 1,
	NETMAP_REQ_PORT_INFO_GET = 2,
	NETMAP_REQ_VALE_ATTACH = 3,
	NETMAP_REQ_VALE_DETACH = 4,
	NETMAP_REQ_VALE_LIST = 5,
	NETMAP_REQ_PORT_HDR_SET = 6,
	NETMAP_REQ_PORT_HDR_GET = 7,
	NETMAP_REQ_VALE_NEWIF = 8,
	NETMAP_REQ_VALE_DELIF = 9,
	NETMAP_REQ_VALE_POLLING_ENABLE = 10,
	NETMAP_REQ_VALE_POLLING_DISABLE = 11,
	NETMAP_REQ_POOLS_INFO_GET = 12,
};

struct nmreq_register {
	uint64_t nr_offset;  /* (out) netmap_if's offset in the region */
	uint64_t nr_memsize; /* (out) size of the region to mmap */
	uint32_t nr_tx_slots;
	uint32_t nr_rx_slots;
	uint16_t nr_tx_rings;
	uint16_t nr_rx_rings;
	uint16_t nr_host_tx_rings;
	uint16_t nr_host_rx_rings;
	uint16_t nr_mem_id;
	uint16_t nr_ringid;     /* NR_REG_ONE_NIC: which ring pair */
	uint32_t nr_mode;       /* NR_REG_* */
	uint32_t nr_extra_bufs; /* (in/out) extra buffers on ni_bufs_head */
	uint64_t nr_flags;      /* NR_* below */
};

/* NETMAP_REQ_PORT_INFO_GET's body: a port's rings and memory, unbound. */
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

#define NR_MONITOR_TX 0x100
#define NR_MONITOR_RX 0x200
#define NR_ZCOPY_MON 0x400
#define NR_EXCLUSIVE 0x800
#define NR_RX_RINGS_ONLY 0x2000
#define NR_TX_RINGS_ONLY 0x4000
#define NR_ACCEPT_VNET_HDR 0x8000
#define NR_DO_RX_POLL 0x10000
#define NR_NO_TX_POLL 0x20000

enum {
	NR_REG_DEFAULT = 0,
	NR_REG_ALL_NIC = 1,
	NR_REG_SW = 2,
	NR_REG_NIC_SW = 3,
	NR_REG_ONE_NIC = 4,
	NR_REG_PIPE_MASTER = 5,
	NR_REG_PIPE_SLAVE = 6,
	NR_REG_NULL = 7,
	NR_REG_ONE_SW = 8,
};

#define NIOCCTRL _IOWR('i', 151, struct nmreq_header)
#define NIOCTXSYNC _IO('i', 148)
#define NIOCRXSYNC _IO('i', 149)
/* The legacy register call (struct nmreq, 60 bytes): only its number. */
#define NIOCREGIF 0xc03c6992UL

#define NETMAP_IF(base, ofs) ((struct netmap_if *)(void *)((char *)(base) + (ofs)))
#define NETMAP_TXRING(nifp, index) \
	((struct netmap_ring *)(void *)((char *)(nifp) + (nifp)->ring_ofs[index]))
#define NETMAP_RXRING(nifp, index)                       \
	((struct netmap_ring *)(void *)((char *)(nifp) + \
	    (nifp)->ring_ofs[(index) + (nifp)->ni_tx_rings + (nifp)->ni_host_tx_rings]))
#define NETMAP_BUF(ring, index) \
	((char *)(ring) + (ring)->buf_ofs + ((size_t)(index) * (ring)->nr_buf_size))
#define NETMAP_BUF_IDX(ring, buf) \
	((uint32_t)(((char *)(buf) - ((char *)(ring) + (ring)->buf_ofs)) / (ring)->nr_buf_size))

static inline uint32_t
nm_ring_next(const struct netmap_ring *r, uint32_t i)
{
	return i + 1 == r->num_slots ? 0 : i + 1;
}

static inline uint32_t
nm_ring_space(const struct netmap_ring *r)
{
	int64_t n = (int64_t)r->tail - (int64_t)r->head;
	return (uint32_t)(n < 0 ? n + r->num_slots : n);
}

static inline int
nm_ring_empty(const struct netmap_ring *r)
{
	return r->head == r->tail;
}
#endif /* own ABI */

/* The layout measured from the real headers on x86_64; the same on every
 * LP64 target, checked there only. */
#if defined(__LP64__) || defined(_LP64)
_Static_assert(sizeof(struct netmap_slot) == 16, "netmap_slot");
_Static_assert(offsetof(struct netmap_ring, head) == 20, "netmap_ring.head");
_Static_assert(offsetof(struct netmap_ring, cur) == 24, "netmap_ring.cur");
_Static_assert(offsetof(struct netmap_ring, tail) == 28, "netmap_ring.tail");
_Static_assert(offsetof(struct netmap_ring, slot) == 256, "netmap_ring.slot");
_Static_assert(offsetof(struct netmap_if, ring_ofs) == 56, "netmap_if.ring_ofs");
_Static_assert(sizeof(struct nmreq_header) == 88, "nmreq_header");
_Static_assert(sizeof(struct nmreq_register) == 56, "nmreq_register");
_Static_assert(sizeof(struct nmreq_port_info_get) == 32, "nmreq_port_info_get");
_Static_assert(NIOCCTRL == 0xc0586997UL, "NIOCCTRL");
_Static_assert(NIOCTXSYNC == 0x6994UL, "NIOCTXSYNC");
_Static_assert(NIOCRXSYNC == 0x6995UL, "NIOCRXSYNC");
#endif

#endif /* USTACK_NETMAP_ABI_H */
