/*
 * main.c - the packaging test's consumer: only the installed public headers
 * and library.  Creates a stack, attaches one end of a pipe (a driver's
 * header, installed from its folder beside ustack.h), polls it once,
 * destroys it all and prints the version, which install_consumer.cmake
 * compares with the project's.
 */
#include <stdio.h>

#include <ustack/ustack.h>
#include <ustack/ustack_pipe.h>

int
main(void)
{
	struct ust_stack_config cfg;
	struct ust_stack *st;
	int error;

	ust_stack_config_init(&cfg);
	error = ust_stack_create(&cfg, &st);
	if (error != 0) {
		fprintf(stderr, "ust_stack_create: %s\n", ust_strerror(error));
		return (1);
	}
	struct ust_pipe_config pc;
	struct ust_pipe *p;
	struct ust_if *ifp;

	ust_pipe_config_init(&pc);
	if ((error = ust_pipe_create(&pc, &p)) != 0 ||
	    (error = ust_if_attach(st, "p0", ust_pipe_ops(), ust_pipe_end(p, UST_PIPE_A), &ifp)) !=
	        0) {
		fprintf(stderr, "pipe: %s\n", ust_strerror(error));
		return (1);
	}
	(void)ust_stack_poll(st);
	ust_stack_destroy(st);
	ust_pipe_destroy(p);
	printf("ustack %s\n", ust_version());
	return (0);
}
