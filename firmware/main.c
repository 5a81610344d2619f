/*
 * main.c - ustack's board firmware: one image per board (board.h), the
 * same services on each, reachable from the host over the board's
 * Ethernet and driven over its control UART.
 *
 *   network  ping (the stack answers ICMP echo itself, reassembling and
 *            fragmenting large ones), UDP and TCP echo on 7 (fw_echo.c),
 *            HTTP/1.1 on 80 with GET /bytes/N (fw_http.c)
 *   control  fw_ctl.c's protocol on UART1 (HELLO, EXIT, socket calls)
 *   log      UART0: "ustack-fw: ready <board> <ip>" once serving
 *
 * Configuration from the command line (QEMU -append, fw.h):
 * "ip=198.18.0.2/24 gw=198.18.0.1 seed=N".  The firmware ends only on the
 * control channel's EXIT (with its status) or a fatal error (status 1).
 *
 * Call order: Reset_Handler() -> main() -> board_init() -> fw_cmdline_parse()
 *   -> ust_stack_create() -> board_nic_attach() -> ust_if_addr_add()
 *   -> fw_echo_start(), fw_http_start(), fw_ctl_init() -> loop:
 *      ust_stack_poll(), fw_echo_poll(), fw_http_poll(), fw_ctl_poll(),
 *      board_idle() when none of them had work and no timer is due.
 */
#include <stdint.h>
#include <string.h>

#include <ustack/ustack.h>

#include "board.h"
#include "fw.h"
#include "fw_ctl.h"
#include "ust_board.h"

static uint64_t
fw_now(void *ctx)
{
	(void)ctx;
	return (ust_board_clock_ns());
}

static void
fw_puts(const char *s)
{
	while (*s != '\0')
		ust_board_putc((unsigned char)*s++);
}

static void
fw_putu(uint64_t v)
{
	char buf[21];

	*fw_u64_str(buf, v) = '\0';
	fw_puts(buf);
}

/* At start, at a new high of concurrent TCP echo connections, and when
 * all of them are closed again: the stack's memory then (the footprint figure "RAM for 64
 * connections" and the peak of the transfers since). */
static void
fw_log_conns(struct ust_stack *st, int conns)
{
	struct ust_mem mem;

	ust_stack_get_mem(st, &mem);
	fw_puts("ustack-fw: tcp echo connections ");
	fw_putu((uint64_t)conns);
	fw_puts(", stack memory in use ");
	fw_putu(mem.in_use);
	fw_puts(" peak ");
	fw_putu(mem.peak);
	fw_puts(" of ");
	fw_putu(UST_BOARD_HEAP_BYTES);
	fw_puts("\n");
}

_Noreturn static void
fw_fatal(const char *what, int error)
{
	fw_puts("ustack-fw: ");
	fw_puts(what);
	fw_puts(": ");
	fw_puts(ust_strerror(error));
	fw_puts("\n");
	board_exit(1);
}

/* Knobs that size the stack for the board (fw.h); a knob compiled out of
 * a minimal build is simply not there. */
static void
fw_tune(struct ust_stack *st)
{
	static const struct {
		const char *name;
		int64_t value;
	} knobs[] = {
		{ "net.inet.tcp.sendspace", FW_TCP_SENDSPACE },
		{ "net.inet.tcp.recvspace", FW_TCP_RECVSPACE },
		{ "net.inet.tcp.sendbuf_auto", 0 },
		{ "net.inet.tcp.recvbuf_auto", 0 },
		{ "net.inet.udp.recvspace", FW_UDP_RECVSPACE },
		{ "kern.ipc.maxsockets", FW_TCP_ECHO_CONNS + FW_HTTP_CONNS * 3 + 8 },
	};
	size_t i;

	for (i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++)
		(void)ust_sysctl_set(st, knobs[i].name, knobs[i].value);
}

static struct ust_stack *
fw_stack(const struct fw_conf *conf)
{
	struct ust_stack_config cfg;
	struct ust_stack *st;
	int error;

	ust_stack_config_init(&cfg);
	cfg.clock.now_ns = fw_now;
	cfg.clock.ctx = NULL;
	if (conf->seed_set) {
		cfg.seed_set = 1;
		cfg.seed = conf->seed;
	}
	/* The heap less what the NIC driver takes; clusters for at most
	 * half of it, the rest for mbufs, PCBs and tables. */
	cfg.mem_limit = UST_BOARD_HEAP_BYTES - UST_BOARD_HEAP_BYTES / 32;
	cfg.nmbclusters = UST_BOARD_HEAP_BYTES / 2 / 2048;
	cfg.nmbufs = cfg.nmbclusters * 4;
	cfg.nmbjumbo9 = 0;
	cfg.ifq_maxlen = 64;
	error = ust_stack_create(&cfg, &st);
	if (error != 0)
		fw_fatal("ust_stack_create", error);
	fw_tune(st);
	return (st);
}

int main(void);

int
main(void)
{
	static struct fw_ctl ctl; /* its buffers are large for a stack */
	static char line[256];
	struct fw_conf conf;
	struct fw_echo *echo;
	struct fw_http *http;
	struct ust_stack *st;
	struct ust_if *ifp;
	char ip[16];
	int error, did, conns, conns_max = 0;

	board_init();
	/* Not the defaults instead of a configuration that was given. */
	if (board_cmdline(line, sizeof(line)) >= sizeof(line))
		fw_fatal("command line longer than 255 bytes (QEMU's -kernel path counts)",
		    UST_EINVAL);
	if (fw_cmdline_parse(line, &conf) != 0)
		fw_fatal("bad command line (ip=A.B.C.D/P gw=A.B.C.D seed=N)", UST_EINVAL);
	st = fw_stack(&conf);
	if ((error = board_nic_attach(st, "eth0", &ifp)) != 0)
		fw_fatal("board_nic_attach", error);
	if ((error = ust_if_addr_add(ifp, conf.ip, conf.prefixlen)) != 0)
		fw_fatal("ust_if_addr_add", error);
	if (conf.gw != 0 && (error = ust_route_add(st, 0, 0, conf.gw, NULL)) != 0)
		fw_fatal("ust_route_add", error);
	if ((error = fw_echo_start(st, &echo)) != 0)
		fw_fatal("echo service", error);
	if ((error = fw_http_start(st, &http)) != 0)
		fw_fatal("http service", error);
	fw_ctl_init(&ctl, st, board_info.name, board_ctl_read, board_ctl_write, board_exit);
	fw_ctl_set_if(&ctl, ifp);

	fw_ip_str(conf.ip, ip);
	fw_puts("ustack-fw: ready ");
	fw_puts(board_info.name);
	fw_puts(" ");
	fw_puts(ip);
	fw_puts("\n");
	fw_log_conns(st, 0);
	for (;;) {
		did = ust_stack_poll(st) > 0;
		did |= fw_echo_poll(echo);
		conns = fw_echo_conns(echo);
		if (conns > conns_max || (conns == 0 && conns_max > 0)) {
			conns_max = conns;
			fw_log_conns(st, conns);
		}
		did |= fw_http_poll(http);
		did |= fw_ctl_poll(&ctl);
		if (!did && ust_stack_next_deadline(st) > ust_stack_now(st))
			board_idle();
	}
}
