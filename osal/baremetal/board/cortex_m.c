/*
 * cortex_m.c - the part of every Cortex-M board that does not depend on
 * the board (cortex_m.h): start-up, the 1 kHz SysTick clock, semihosting,
 * the C library's system calls, the idle sleep.
 *
 * Start-up (ARMv7-M B1.5): the core loads SP from word 0 of the vector
 * table and jumps to word 1, Reset_Handler, which copies .data from its
 * load address, clears .bss and calls main(); main's return value goes to
 * board_exit().  Only the 16 system exceptions have vectors: the firmware
 * polls its devices, and a device interrupt that is enabled only to wake
 * WFI (board_idle) is never taken.
 *
 * Time: SysTick interrupts every millisecond and the handler counts; a
 * read adds the part of the current millisecond that the down-counter
 * shows, so ust_board_clock_ns() has the resolution of SysTick's clock.
 *
 * Heap: the OSAL arena (osal_baremetal.c) is the only heap.  _sbrk()
 * refuses, so a C library function that would call malloc gets NULL
 * instead of memory that grows into the stack.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "board.h"
#include "cortex_m.h"
#include "ust_board.h"

/* ARMv7-M system control space (ARM DDI 0403, B3.2 and B3.3). */
#define SYST_CSR (*(volatile uint32_t *)0xe000e010u)
#define SYST_RVR (*(volatile uint32_t *)0xe000e014u)
#define SYST_CVR (*(volatile uint32_t *)0xe000e018u)
#define SYST_CSR_ENABLE 0x1u
#define SYST_CSR_TICKINT 0x2u
#define SYST_CSR_CLKSOURCE 0x4u
#define SCB_ICSR (*(volatile uint32_t *)0xe000ed04u)
#define SCB_ICSR_PENDSTSET 0x04000000u
#define SCB_HFSR (*(volatile uint32_t *)0xe000ed2cu)
#define SCB_HFSR_DEBUGEVT 0x80000000u
#define CM_BKPT_SEMIHOST 0xbeabu /* the Thumb encoding of BKPT 0xAB */

/* Symbols of the board's linker script. */
extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _estack[];

int main(void);
void cm_hardfault(uint32_t *frame);

/* newlib's system calls (libgloss names), defined here so that nothing
 * of nosys.specs, which warns at link time, is pulled in. */
void *_sbrk(ptrdiff_t incr);
int _write(int fd, const char *buf, int len);
int _read(int fd, char *buf, int len);
int _close(int fd);
int _fstat(int fd, struct stat *st);
int _isatty(int fd);
int _lseek(int fd, int off, int whence);
int _kill(int pid, int sig);
int _getpid(void);
_Noreturn void _exit(int status);

/*
 * The clock (machine state, like the OSAL arena: see osal_baremetal.c).
 * cm_ms counts SysTick interrupts; it is 64 bits wide, written by the
 * handler only and read with a retry, since a Cortex-M3 has no 64-bit
 * atomic load.
 */
static struct {
	volatile uint64_t ms;
	uint32_t reload;           /* SysTick counts reload..0 each millisecond */
	uint32_t ns_per_count_q16; /* ns per count, 16.16 fixed point */
} cm_clock;

/* Set by the HardFault handler when it skipped a semihosting call: there
 * is no host (a debugger or QEMU's -semihosting) to answer them. */
static volatile uint32_t cm_semihost_absent;

static void cm_clock_check(void);
static void cm_puts(const char *s);

void
cm_systick_start(uint32_t clk_hz, enum cm_systick_source src)
{
	cm_clock.reload = clk_hz / 1000u - 1u;
	/* 1e9 / clk_hz in 16.16: exact to 2^-16 ns per count, so the error
	 * within one millisecond stays far below a count. */
	cm_clock.ns_per_count_q16 = (uint32_t)((1000000000ull << 16) / clk_hz);
	SYST_CSR = 0;
	SYST_RVR = cm_clock.reload;
	SYST_CVR = 0;
	SYST_CSR =
	    SYST_CSR_ENABLE | SYST_CSR_TICKINT | (src == CM_SYSTICK_CPU ? SYST_CSR_CLKSOURCE : 0u);
	cm_clock_check();
}

/*
 * The clock must not go back across a wrap whose interrupt is not taken
 * yet.  Late in a millisecond, with interrupts masked, read it; wait for
 * the wrap to pend SysTick (the counter reloaded, the count of ms not yet
 * moved) and read again: the second time must not be before the first.
 * It costs at most two milliseconds at start; a clock that fails ends the
 * run (status 1) rather than feed TCP's timers a time that runs back.
 */
static void
cm_clock_check(void)
{
	uint64_t t0, t1, ms = cm_clock.ms;
	uint32_t spin;

	for (spin = 0; spin < 100000000u && cm_clock.ms == ms; spin++)
		;
	for (spin = 0; spin < 100000000u && SYST_CVR > cm_clock.reload / 4; spin++)
		;
	__asm__ volatile("cpsid i" ::: "memory");
	t0 = ust_board_clock_ns();
	for (spin = 0; spin < 100000000u && (SCB_ICSR & SCB_ICSR_PENDSTSET) == 0; spin++)
		;
	t1 = ust_board_clock_ns();
	__asm__ volatile("cpsie i\n\tisb" ::: "memory");
	if (t1 < t0) {
		cm_puts("\nclock: went back across a SysTick wrap\n");
		board_exit(1);
	}
}

void
SysTick_Handler(void)
{
	cm_clock.ms++;
}

uint64_t
ust_board_clock_ns(void)
{
	uint64_t ms, again;
	uint32_t cvr, sub, pend0, pend1;

	/*
	 * A tick between the two reads of ms moves the count: read again.
	 * The counter may also have wrapped without the handler having run
	 * (interrupts masked, or the cycles before the exception is taken):
	 * SysTick is then pending and ms one behind the count.  Pending
	 * before the count was read: the count is of the next millisecond.
	 * Pending only after: the count may be of either; read again.
	 */
	do {
		ms = cm_clock.ms;
		pend0 = SCB_ICSR & SCB_ICSR_PENDSTSET;
		cvr = SYST_CVR;
		pend1 = SCB_ICSR & SCB_ICSR_PENDSTSET;
		again = cm_clock.ms;
	} while (ms != again || (pend0 == 0 && pend1 != 0));
	if (pend0 != 0)
		ms++;
	if (cvr > cm_clock.reload)
		cvr = cm_clock.reload;
	sub = (uint32_t)(((uint64_t)(cm_clock.reload - cvr) * cm_clock.ns_per_count_q16) >> 16);
	if (sub > 999999u)
		sub = 999999u;
	return (ms * 1000000u + sub);
}

intptr_t
cm_semihost(uint32_t op, void *arg)
{
	register uint32_t r0 __asm__("r0") = op;
	register void *r1 __asm__("r1") = arg;

	__asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
	return ((intptr_t)r0);
}

size_t
board_cmdline(char *buf, size_t len)
{
	struct {
		char *buf;
		int len;
	} blk;
	size_t n;

	if (len == 0)
		return (0);
	buf[0] = '\0';
	blk.buf = buf;
	blk.len = (int)(len > 0x7fffffff ? 0x7fffffff : len);
	/* A host gives the whole line or, when it does not fit, nothing. */
	if (cm_semihost(CM_SYS_GET_CMDLINE, &blk) != 0 || blk.len < 0)
		return (cm_semihost_absent ? 0 : len);
	n = (size_t)blk.len;
	if (n >= len)
		n = len - 1;
	buf[n] = '\0';
	return (n);
}

static void cm_putu(uint32_t v);
static uint32_t cm_stack_used(void);

_Noreturn void
board_exit(int status)
{
	struct {
		uint32_t reason;
		uint32_t subcode;
	} blk = { CM_ADP_STOPPED_APPLICATION_EXIT, (uint32_t)status };

	cm_puts("board: main stack high-water ");
	cm_putu(cm_stack_used());
	cm_puts(" of ");
	cm_putu((uint32_t)((uintptr_t)_estack - (uintptr_t)_ebss));
	cm_puts(" bytes\n");
	(void)cm_semihost(CM_SYS_EXIT_EXTENDED, &blk);
	/* No host to exit to: stop here, interrupts off. */
	__asm__ volatile("cpsid i" ::: "memory");
	for (;;)
		__asm__ volatile("wfi" ::: "memory");
}

void
cm_idle(int irq)
{
	cm_idle_mask(irq < 0 ? 0 : 1ull << irq);
}

void
cm_idle_mask(uint64_t irqs)
{
	volatile uint32_t *iser = (volatile uint32_t *)0xe000e100u;
	volatile uint32_t *icer = (volatile uint32_t *)0xe000e180u;
	volatile uint32_t *icpr = (volatile uint32_t *)0xe000e280u;
	uint32_t lo = (uint32_t)irqs, hi = (uint32_t)(irqs >> 32);

	/* No clearing of pending bits before the WFI: one set since the
	 * caller last polled is a frame or byte that came in after it looked,
	 * and must end the sleep at once, not at the next SysTick. */
	__asm__ volatile("cpsid i" ::: "memory");
	iser[0] = lo;
	iser[1] = hi;
	__asm__ volatile("dsb\n\twfi" ::: "memory");
	icer[0] = lo;
	icer[1] = hi;
	icpr[0] = lo;
	icpr[1] = hi;
	__asm__ volatile("cpsie i\n\tisb" ::: "memory");
}

/* UST_DEBUG's broken invariant: the message is out on the log UART; end
 * the run with a failure status so that a test under QEMU sees it. */
void
ust_board_panic(const char *msg)
{
	(void)msg;
	board_exit(1);
}

static void
cm_puts(const char *s)
{
	while (*s != '\0')
		ust_board_putc((unsigned char)*s++);
}

static void
cm_putu(uint32_t v)
{
	char buf[10];
	int n = 0;

	do
		buf[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		ust_board_putc((unsigned char)buf[--n]);
}

static void
cm_puthex(uint32_t v)
{
	int i;

	for (i = 28; i >= 0; i -= 4)
		ust_board_putc("0123456789abcdef"[(v >> i) & 0xfu]);
}

/*
 * A semihosting BKPT without a debugger escalates to HardFault: skip the
 * instruction and return -1 in r0, as a host that refused the call would.
 * Any other fault is fatal: its pc goes to the log and the run ends with
 * status 1.  frame is the exception frame (r0-r3, r12, lr, pc, xpsr).
 */
void
cm_hardfault(uint32_t *frame)
{
	uint32_t pc = frame[6];

	if ((pc & 1u) == 0 && pc >= 2u &&
	    *(const volatile uint16_t *)(uintptr_t)pc == CM_BKPT_SEMIHOST) {
		SCB_HFSR = SCB_HFSR_DEBUGEVT;
		cm_semihost_absent = 1;
		frame[0] = (uint32_t)-1;
		frame[6] = pc + 2u;
		return;
	}
	cm_puts("\nhardfault pc=0x");
	cm_puthex(pc);
	cm_puts(" lr=0x");
	cm_puthex(frame[5]);
	cm_puts(" hfsr=0x");
	cm_puthex(SCB_HFSR);
	cm_puts("\n");
	board_exit(1);
}

/* The stacked frame is on MSP or PSP, as EXC_RETURN bit 2 says. */
__attribute__((naked)) void
HardFault_Handler(void)
{
	__asm__ volatile("tst lr, #4\n\t"
	                 "ite eq\n\t"
	                 "mrseq r0, msp\n\t"
	                 "mrsne r0, psp\n\t"
	                 "b cm_hardfault\n\t");
}

void
Default_Handler(void)
{
	cm_puts("\nunexpected exception\n");
	board_exit(1);
}

/* Free stack below the deepest point reached is painted with this, so
 * that board_exit() can log the main stack's high-water mark (the figure
 * that says whether a board's BOARD_MIN_STACK is enough). */
#define CM_STACK_PAINT 0x5afe57acu
#define CM_STACK_SLACK 64u /* bytes below Reset_Handler's sp left unpainted */

void
Reset_Handler(void)
{
	uint32_t *src, *dst, *sp;

	for (src = _sidata, dst = _sdata; dst < _edata;)
		*dst++ = *src++;
	for (dst = _sbss; dst < _ebss;)
		*dst++ = 0;
	__asm__ volatile("mov %0, sp" : "=r"(sp));
	for (dst = _ebss; dst + CM_STACK_SLACK / 4 < sp;)
		*dst++ = CM_STACK_PAINT;
	board_exit(main());
}

/* Bytes of the main stack used at the deepest so far. */
static uint32_t
cm_stack_used(void)
{
	const uint32_t *p = _ebss;

	while (p < _estack && *p == CM_STACK_PAINT)
		p++;
	return ((uint32_t)((uintptr_t)_estack - (uintptr_t)p));
}

/* The vector table (ARMv7-M B1.5.3): the initial stack pointer, then the
 * system handlers.  A union keeps the stack address a data pointer. */
union cm_vector {
	uint32_t *sp;
	void (*fn)(void);
};

static const union cm_vector cm_vectors[16] __attribute__((section(".isr_vector"), used)) = {
	[0] = { .sp = _estack },
	[1] = { .fn = Reset_Handler },
	[2] = { .fn = Default_Handler }, /* NMI */
	[3] = { .fn = HardFault_Handler },
	[4] = { .fn = Default_Handler },  /* MemManage */
	[5] = { .fn = Default_Handler },  /* BusFault */
	[6] = { .fn = Default_Handler },  /* UsageFault */
	[11] = { .fn = Default_Handler }, /* SVCall */
	[12] = { .fn = Default_Handler }, /* DebugMonitor */
	[14] = { .fn = Default_Handler }, /* PendSV */
	[15] = { .fn = SysTick_Handler },
};

/* --- newlib system calls -------------------------------------------------- */

void *
_sbrk(ptrdiff_t incr)
{
	(void)incr;
	errno = ENOMEM;
	return ((void *)-1);
}

/* stdout and stderr go to the log UART. */
int
_write(int fd, const char *buf, int len)
{
	int i;

	if (fd != 1 && fd != 2) {
		errno = EBADF;
		return (-1);
	}
	for (i = 0; i < len; i++)
		ust_board_putc((unsigned char)buf[i]);
	return (len);
}

int
_read(int fd, char *buf, int len)
{
	(void)fd;
	(void)buf;
	(void)len;
	return (0);
}

int
_close(int fd)
{
	(void)fd;
	errno = EBADF;
	return (-1);
}

int
_fstat(int fd, struct stat *st)
{
	(void)fd;
	st->st_mode = S_IFCHR;
	return (0);
}

int
_isatty(int fd)
{
	return (fd >= 0 && fd <= 2);
}

int
_lseek(int fd, int off, int whence)
{
	(void)fd;
	(void)off;
	(void)whence;
	errno = ESPIPE;
	return (-1);
}

int
_kill(int pid, int sig)
{
	(void)pid;
	(void)sig;
	errno = EINVAL;
	return (-1);
}

int
_getpid(void)
{
	return (1);
}

_Noreturn void
_exit(int status)
{
	board_exit(status);
}
