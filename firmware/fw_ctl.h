/*
 * fw_ctl.h - the firmware's control channel: the host drives the stack on
 * the board (socket calls, sysctl, counters, addresses, exit) over a byte
 * stream that is not the network under test (the board's control UART,
 * board.h; a unix socket in tests/board/fw_ctl_host.c).
 *
 * Wire format (every integer big-endian), one request at a time:
 *
 *   request  u16 len | u8 op        | u8 tag | len bytes of arguments
 *   reply    u16 len | u8 op | 0x80 | u8 tag | i32 result | len-4 bytes
 *
 * result >= 0 is success (its meaning depends on op), < 0 is -UST_E*.
 * A request longer than FW_CTL_PAYLOAD_MAX is answered with -UST_EMSGSIZE
 * after its bytes have been skipped, so the stream stays in step; one whose
 * arguments do not fit its op gets -UST_EINVAL.
 *
 * The board never blocks in a request: every socket call is ustack's
 * non-blocking one (-UST_EAGAIN, -UST_EINPROGRESS), and the host blocks
 * and times out by polling (FW_CTL_POLL) while the firmware's main loop
 * keeps running the stack.  Sockets are small integers, slots of a fixed
 * table of FW_CTL_SOCKETS.
 *
 * Argument notation below: fd u8 slot; sa = u32 address, u16 port, both
 * as on the wire (network order); opt = socket option value: TCP_INFO
 * and TCP_CONGESTION as described at the op, every other option an array
 * of i32.  The host side is python_bindings/ustack/board/protocol.py; the
 * op table lives in both files and nowhere else.
 */
#ifndef FW_CTL_H
#define FW_CTL_H

#include <stddef.h>
#include <stdint.h>

#include <ustack/ustack.h>

/* The largest argument block a request may carry (and reply data). */
#ifndef FW_CTL_PAYLOAD_MAX
#define FW_CTL_PAYLOAD_MAX 1536
#endif
/* Sockets the host may hold open at once. */
#ifndef FW_CTL_SOCKETS
#define FW_CTL_SOCKETS 16
#endif

#define FW_CTL_HDR 4
#define FW_CTL_REPLY 0x80

enum fw_ctl_op {
	FW_CTL_HELLO = 0x00,       /* () -> 0, data: "<board> ustack <version>" */
	FW_CTL_EXIT = 0x01,        /* (i32 status) -> 0, then the firmware exits */
	FW_CTL_SOCKET = 0x02,      /* (u8 type, u8 proto) -> fd (AF_INET) */
	FW_CTL_BIND = 0x03,        /* (fd, sa) -> 0 */
	FW_CTL_CONNECT = 0x04,     /* (fd, sa) -> 0 or -EINPROGRESS */
	FW_CTL_LISTEN = 0x05,      /* (fd, u16 backlog) -> 0 */
	FW_CTL_ACCEPT = 0x06,      /* (fd) -> new fd, data: sa of the peer */
	FW_CTL_SEND = 0x07,        /* (fd, u8 flags, bytes) -> bytes taken */
	FW_CTL_SENDTO = 0x08,      /* (fd, u8 flags, sa, bytes) -> bytes taken */
	FW_CTL_RECV = 0x09,        /* (fd, u8 flags, u16 max) -> n, data: n bytes */
	FW_CTL_RECVFROM = 0x0a,    /* (fd, u8 flags, u16 max) -> n, data: sa, n bytes */
	FW_CTL_SHUTDOWN = 0x0b,    /* (fd, u8 how) -> 0 */
	FW_CTL_CLOSE = 0x0c,       /* (fd) -> 0; the slot is free again */
	FW_CTL_SETSOCKOPT = 0x0d,  /* (fd, i32 level, i32 name, opt) -> 0 */
	FW_CTL_GETSOCKOPT = 0x0e,  /* (fd, i32 level, i32 name, u16 size) -> len, data: opt;
				      TCP_INFO: u8[4], u32[17], u64[8] in field order */
	FW_CTL_GETSOCKNAME = 0x0f, /* (fd) -> 0, data: sa */
	FW_CTL_GETPEERNAME = 0x10, /* (fd) -> 0, data: sa */
	FW_CTL_POLL = 0x11,        /* (fd...) -> sockets ready, data: u16 UST_EV_* per fd */
	FW_CTL_SYSCTL_GET = 0x12,  /* (name) -> 0, data: i64; or 1, data: the string */
	FW_CTL_SYSCTL_SET = 0x13,  /* (u8 string, u8 namelen, name, i64 | string) -> 0 */
	FW_CTL_STATS = 0x14,       /* (u8 group, u16 offset) -> struct size, data: u64s from
				      offset; group 0 ust_stack_stats, 1..6 ether arp ip
				      icmp udp tcp */
	FW_CTL_CLOCK = 0x15,       /* () -> 0, data: u64 now_ns, u64 next_deadline_ns */
	FW_CTL_PCBLIST = 0x16,     /* () -> total, data: 24-byte rows (FW_CTL_CONNS at most) */
	FW_CTL_TCPDROP = 0x17,     /* (sa local, sa foreign) -> 0 */
	FW_CTL_IFINFO = 0x18,      /* () -> 0, data: mac[6], u32 mtu, u8 naddr,
				      naddr * (u32 addr, u8 prefixlen), name */
	FW_CTL_ADDR_ADD = 0x19,    /* (u32 addr, u8 prefixlen) -> 0 */
	FW_CTL_ADDR_DEL = 0x1a,    /* (u32 addr) -> 0 */
	FW_CTL_ROUTE_ADD = 0x1b,   /* (u32 dst, u8 prefixlen, u32 gateway) -> 0 */
	FW_CTL_ROUTE_DEL = 0x1c,   /* (u32 dst, u8 prefixlen) -> 0 */
	FW_CTL_ARP_ADD = 0x1d,     /* (u32 addr, mac[6]) -> 0: a static entry */
	FW_CTL_ARP_DEL = 0x1e,     /* (u32 addr) -> 0 */
	FW_CTL_RESET = 0x1f,       /* () -> sockets closed: closes every socket of the
				      table and drops every TCP connection */
	FW_CTL_LIMITS = 0x20,      /* () -> 0, data: u16 FW_CTL_PAYLOAD_MAX, u8 FW_CTL_SOCKETS,
				      u8 FW_CTL_CONNS */
};

/* Byte stream of the channel: read returns what has arrived (at most len,
 * never blocks); write sends everything. */
typedef size_t (*fw_ctl_read_fn)(void *buf, size_t len);
typedef void (*fw_ctl_write_fn)(const void *buf, size_t len);
/* Called for FW_CTL_EXIT after the reply went out. */
typedef void (*fw_ctl_exit_fn)(int status);

/* Rows FW_CTL_PCBLIST returns at most. */
#define FW_CTL_CONNS ((FW_CTL_HDR + FW_CTL_PAYLOAD_MAX) / sizeof(struct ust_tcp_conn))

/* What some ops read from the stack before encoding it into the reply; it
 * shares memory with the request, whose arguments are read by then. */
union fw_ctl_scratch {
	struct ust_stack_stats stack;
	struct ust_etherstat ether;
	struct ust_arpstat arp;
	struct ust_ipstat ip;
	struct ust_icmpstat icmp;
	struct ust_udpstat udp;
	struct ust_tcpstat tcp;
	struct ust_tcp_info ti;
	struct ust_tcp_conn conn[FW_CTL_CONNS];
};

struct fw_ctl {
	struct ust_stack *st;
	struct ust_if *ifp; /* the interface the address ops act on */
	const char *board;
	fw_ctl_read_fn read;
	fw_ctl_write_fn write;
	fw_ctl_exit_fn exit;
	struct ust_evq *evq; /* every socket of the table: FW_CTL_POLL */
	struct ust_socket *so[FW_CTL_SOCKETS];
	size_t have; /* bytes of the current request in buf */
	size_t skip; /* bytes of an oversized request still to discard */
	union {
		uint8_t buf[FW_CTL_HDR + FW_CTL_PAYLOAD_MAX];
		union fw_ctl_scratch s;
	} in;
	uint8_t out[FW_CTL_HDR + 4 + FW_CTL_PAYLOAD_MAX];
};

void fw_ctl_init(struct fw_ctl *c, struct ust_stack *st, const char *board, fw_ctl_read_fn rd,
    fw_ctl_write_fn wr, fw_ctl_exit_fn ex);
/* The interface of FW_CTL_IFINFO and the address, route and ARP ops
 * (without one they answer -UST_ENODEV). */
void fw_ctl_set_if(struct fw_ctl *c, struct ust_if *ifp);
/* Closes every socket of the table and frees the poll queue. */
void fw_ctl_fini(struct fw_ctl *c);
/* Reads what the channel has and runs every complete request.  Returns 1
 * when it handled a request, else 0. */
int fw_ctl_poll(struct fw_ctl *c);

#endif /* FW_CTL_H */
