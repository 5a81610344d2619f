/*
 * fw.h - the parts of the board firmware (main.c): its configuration from
 * the command line (fw_cmdline.c), its services (fw_echo.c: UDP and TCP
 * echo on port 7; fw_http.c: HTTP/1.1 on port 80) and the sizes that
 * follow from the board's heap.
 *
 * Services poll their sockets (every call of the socket API is
 * non-blocking): each poll function does what can be done now and returns
 * nonzero if it did anything, so that main's loop sleeps only when no
 * service, the stack and the control channel all had nothing to do.
 */
#ifndef FW_H
#define FW_H

#include <stddef.h>
#include <stdint.h>

#include <ustack/ustack.h>

/* The OSAL heap arena of this board (the build passes it); everything
 * the stack allocates comes from there. */
#ifndef UST_BOARD_HEAP_BYTES
#define UST_BOARD_HEAP_BYTES (256u * 1024u)
#endif

/*
 * Two sizes of firmware.  A board with a heap of 512 KiB or more (mps2:
 * 1 MiB) serves 64 concurrent TCP echo connections and 8 HTTP clients;
 * a smaller one (lm3s6965evb: 64 KiB of SRAM in all) 4 and 1, with
 * smaller socket buffers.  Socket buffers are what the memory goes on:
 * per connection TCP may hold up to sendspace + recvspace of data.  The
 * receive window stays below the 10 KiB RX FIFO of the LAN9118, so that a
 * burst from the host is not dropped by the chip before the stack sees it.
 */
#define FW_BIG (UST_BOARD_HEAP_BYTES >= 512u * 1024u)
#if FW_BIG
#define FW_TCP_ECHO_CONNS 64
#define FW_HTTP_CONNS 8
#define FW_TCP_SENDSPACE 16384
#define FW_TCP_RECVSPACE 8192
#define FW_UDP_RECVSPACE 16384
#define FW_IO_BUF 2048  /* bytes copied per recv/send call */
#define FW_UDP_MAX 8192 /* largest UDP datagram echoed */
#else
#define FW_TCP_ECHO_CONNS 4
#define FW_HTTP_CONNS 1
#define FW_TCP_SENDSPACE 2920
#define FW_TCP_RECVSPACE 2920
#define FW_UDP_RECVSPACE 2048
#define FW_IO_BUF 512
#define FW_UDP_MAX 1472
#endif
#define FW_ECHO_PORT 7
#define FW_HTTP_PORT 80

/* Defaults: ip 198.18.0.2/24, no gateway, seed from the board's entropy. */
struct fw_conf {
	uint32_t ip; /* network byte order */
	unsigned prefixlen;
	uint32_t gw; /* 0: none */
	int seed_set;
	uint64_t seed;
};

/* Parses "ip=A.B.C.D[/P] gw=A.B.C.D seed=N" (words separated by spaces,
 * any order; other words, such as the image's name QEMU puts first, are
 * ignored).  0, or -UST_EINVAL for a malformed value (conf then holds the
 * defaults for what was not parsed yet). */
int fw_cmdline_parse(const char *line, struct fw_conf *conf);
/* A dotted quad into buf (16 bytes). */
void fw_ip_str(uint32_t ip, char *buf);
/* v in decimal at p (at most 20 characters, no NUL); returns the end. */
char *fw_u64_str(char *p, uint64_t v);

/*
 * How long a connection may hold a slot without making progress, so that
 * peers that stop (a half-sent request, a client that never reads its
 * echo or response, a host that vanished) cannot pin the slots and their
 * memory forever.  Such a connection is reset (SO_LINGER 0: its buffers
 * are freed at once, not left to drain to a peer that does not read).
 *  - HTTP: a request head must be complete FW_HTTP_HEAD_S after the
 *    connection or the previous response (slowloris: trickling bytes does
 *    not extend it); a response that moves nothing for FW_HTTP_SEND_S.
 *  - TCP echo: nothing received or sent for FW_ECHO_IDLE_S.
 * When all HTTP slots are taken, a new connection takes the slot of the
 * longest-idle persistent one waiting between requests (RFC 9112 9.6: a
 * server may close an idle connection at any time), else it waits in the
 * listen queue.  TCP echo resets connections beyond its slots.
 */
#define FW_HTTP_HEAD_S 5
#define FW_HTTP_SEND_S 30
#define FW_ECHO_IDLE_S 120
#define FW_NS_PER_S 1000000000ull

/* fw_http_parse.c: a request head, parsed. */
#define FW_HTTP_REQ 512                /* longest head taken (else 431) */
#define FW_HTTP_BYTES_MAX (1ull << 40) /* largest N of /bytes/N */
struct fw_http_req {
	size_t head_len;   /* bytes of the head, empty line included */
	int status;        /* 200 (GET /bytes/N), 404 or 400 */
	int close;         /* close the connection after the response */
	uint64_t body_len; /* N, for 200 */
};
/* 1 with *out filled when req[0..len) holds a whole head, else 0 (more
 * bytes needed). */
int fw_http_parse(const char *req, size_t len, struct fw_http_req *out);

struct fw_echo;
struct fw_http;
/* 0 or -UST_E* (the socket, bind or listen that failed). */
int fw_echo_start(struct ust_stack *st, struct fw_echo **out);
int fw_echo_poll(struct fw_echo *e);
/* TCP echo connections open now. */
int fw_echo_conns(const struct fw_echo *e);
int fw_http_start(struct ust_stack *st, struct fw_http **out);
int fw_http_poll(struct fw_http *h);

/* A listening or bound socket of type on port (any address), or NULL
 * with *error set. */
struct ust_socket *fw_listen(struct ust_stack *st, int type, uint16_t port, int backlog,
    int *error);
/* Closes so with a reset (SO_LINGER 0): nothing it holds waits for the
 * peer. */
void fw_abort(struct ust_socket *so);

#endif /* FW_H */
