/*
 * ust_test_main.c - runs the cases of one test executable.
 *   test_x            all cases
 *   test_x NAME...    the named cases (ctest runs one case per test)
 *   test_x --list     the case names
 */
#include "ust_test.h"

static struct ust_test_case *cases;
int ust_test_failures;
uint64_t ust_test_seed = 1;

void
ust_test_register(struct ust_test_case *tc)
{
	struct ust_test_case **pp = &cases;

	/* Keep source order (constructors run in declaration order). */
	while (*pp != NULL)
		pp = &(*pp)->next;
	*pp = tc;
}

static int
run(struct ust_test_case *tc)
{
	ust_test_failures = 0;
	tc->fn();
	printf("%s %s\n", ust_test_failures ? "FAIL" : "ok  ", tc->name);
	fflush(stdout);
	return (ust_test_failures != 0);
}

int
main(int argc, char **argv)
{
	struct ust_test_case *tc;
	const char *seed = getenv("UST_TEST_SEED");
	int passed = 0, failed = 0, i;

	if (seed != NULL)
		ust_test_seed = strtoull(seed, NULL, 0);
	if (argc > 1 && strcmp(argv[1], "--list") == 0) {
		for (tc = cases; tc != NULL; tc = tc->next)
			printf("%s\n", tc->name);
		return (0);
	}
	for (tc = cases; tc != NULL; tc = tc->next) {
		int selected = (argc == 1);

		for (i = 1; i < argc; i++)
			if (strcmp(argv[i], tc->name) == 0)
				selected = 1;
		if (!selected)
			continue;
		if (run(tc))
			failed++;
		else
			passed++;
	}
	if (passed + failed == 0) {
		fprintf(stderr, "no test case matched\n");
		return (2);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return (failed != 0);
}
