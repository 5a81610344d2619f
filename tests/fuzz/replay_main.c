/*
 * replay_main.c - runs a fuzz harness's LLVMFuzzerTestOneInput without
 * libFuzzer: every file named on the command line, or in a directory named
 * there, is one input.  The ctests use it to replay the seed corpus and
 * tests/fuzz/regressions/ in the normal (gcc, ASan) builds, so that the
 * harness code stays compiled and every crash found stays fixed.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
replay_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		if (fp != NULL)
			fclose(fp);
		return (-1);
	}
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		free(buf);
		fclose(fp);
		return (-1);
	}
	fclose(fp);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return (0);
}

static int
replay_path(const char *path, unsigned *count)
{
	struct stat sb;
	struct dirent *de;
	DIR *dir;
	int error = 0;

	if (stat(path, &sb) != 0) {
		fprintf(stderr, "replay: no such file or directory: %s\n", path);
		return (-1);
	}
	if (!S_ISDIR(sb.st_mode)) {
		(*count)++;
		return (replay_file(path));
	}
	if ((dir = opendir(path)) == NULL)
		return (-1);
	/* readdir ends with NULL on an error too (EOVERFLOW, for one, when
	 * off_t cannot hold the offset): only errno tells it from the end. */
	errno = 0;
	while ((de = readdir(dir)) != NULL) {
		char sub[4096];

		/* README and dot files are notes, not inputs. */
		if (de->d_name[0] == '.' || strcmp(de->d_name, "README.md") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (replay_path(sub, count) != 0)
			error = -1;
		errno = 0;
	}
	if (errno != 0) {
		fprintf(stderr, "replay: cannot read directory %s: %s\n", path, strerror(errno));
		error = -1;
	}
	closedir(dir);
	return (error);
}

int
main(int argc, char **argv)
{
	unsigned count = 0;
	int i, error = 0, min = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--min") == 0 && i + 1 < argc) {
			min = atoi(argv[++i]);
			continue;
		}
		if (replay_path(argv[i], &count) != 0)
			error = 1;
	}
	printf("replay: %u inputs ran clean\n", count);
	if (count < (unsigned)min) {
		fprintf(stderr, "replay: expected at least %d inputs\n", min);
		return (1);
	}
	return (error);
}
