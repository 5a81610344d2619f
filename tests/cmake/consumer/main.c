/*
 * main.c - the packaging test's consumer: only the installed public headers
 * and library.  Creates a stack, polls it once, destroys it and prints the
 * version, which install_consumer.cmake compares with the project's.
 */
#include <stdio.h>

#include <ustack/ustack.h>

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
	(void)ust_stack_poll(st);
	ust_stack_destroy(st);
	printf("ustack %s\n", ust_version());
	return (0);
}
