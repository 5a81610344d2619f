/*
 * osal_log.c - formats a log line and hands it to the stack's sink (or the
 * port's default).  Formatting happens here, in osal/, so that netstack/
 * needs no stdio; a line above the logger's level is never formatted.
 */
#include <stdio.h>

#include <ustack/ustack_osal.h>

#define LOG_LINE_MAX 256

void
ust_vlog(const struct ust_logger *lg, int level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];

	if (lg != NULL && level > lg->level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (lg != NULL && lg->fn != NULL)
		lg->fn(lg->arg, level, line);
	else
		ust_osal_log_write(level, line);
}

void
ust_log(const struct ust_logger *lg, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ust_vlog(lg, level, fmt, ap);
	va_end(ap);
}
