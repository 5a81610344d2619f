/*
 * kern_assert.c - the report of a broken invariant (kassert.h): one line,
 * "file:line: KASSERT(expr) failed: message", handed to the port's
 * ust_osal_panic() (posix: stderr and abort(); bare metal: the board's
 * panic hook, then a spin for the debugger or the watchdog).
 *
 * Formatting goes through the OSAL's ust_vlog() into a buffer, so that
 * netstack/ needs no stdio.  Compiled to nothing without UST_DEBUG.
 */
#include <stdarg.h>
#include <string.h>

#include "kern/kassert.h"

#if UST_DEBUG

#define KASSERT_MSG_MAX 320

struct kassert_buf {
	char kb_text[KASSERT_MSG_MAX];
	size_t kb_len;
};

/* A ust_logger sink that appends the formatted line to the buffer. */
static void
kassert_append(void *arg, int level, const char *line)
{
	struct kassert_buf *kb = arg;
	size_t n = strlen(line);

	(void)level;
	if (n > sizeof(kb->kb_text) - 1 - kb->kb_len)
		n = sizeof(kb->kb_text) - 1 - kb->kb_len;
	memcpy(kb->kb_text + kb->kb_len, line, n);
	kb->kb_len += n;
	kb->kb_text[kb->kb_len] = '\0';
}

/* The path from netstack/ on (or the file name alone), so that a report
 * names netstack/kern/uipc_sockbuf.c, not the build machine's tree. */
static const char *
kassert_file(const char *file)
{
	const char *p = strstr(file, "netstack/"), *slash;

	if (p != NULL)
		return (p);
	slash = strrchr(file, '/');
	return (slash != NULL ? slash + 1 : file);
}

void
kassert_panic(const char *file, int line, const char *expr, const char *fmt, ...)
{
	struct kassert_buf kb = { .kb_len = 0 };
	struct ust_logger lg = { .fn = kassert_append, .arg = &kb, .level = UST_LOG_DEBUG };
	struct kassert_buf msg = { .kb_len = 0 };
	struct ust_logger lgmsg = { .fn = kassert_append, .arg = &msg, .level = UST_LOG_DEBUG };
	va_list ap;

	kb.kb_text[0] = '\0';
	msg.kb_text[0] = '\0';
	va_start(ap, fmt);
	ust_vlog(&lgmsg, UST_LOG_ERR, fmt, ap);
	va_end(ap);
	ust_log(&lg, UST_LOG_ERR, "%s:%d: KASSERT(%s) failed%s%s", kassert_file(file), line, expr,
	    msg.kb_len != 0 ? ": " : "", msg.kb_text);
	ust_osal_panic(kb.kb_text);
}

#endif /* UST_DEBUG */
