/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Standalone driver for the fuzz targets when the compiler has no
 * libFuzzer (gcc): runs every file given, or every file in every
 * directory given, through LLVMFuzzerTestOneInput once. Lets the corpus
 * and the regression inputs run in the normal (and sanitizer) build.
 */

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
	uint8_t *buf;
	FILE *f;
	long n;

	f = fopen(path, "rb");
	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		if (f != NULL)
			fclose(f);
		return -1;
	}
	rewind(f);
	/* Exact-size copy, so ASan sees reads past the input's end. */
	buf = malloc(n > 0 ? n : 1);
	if (buf == NULL || fread(buf, 1, n, f) != (size_t)n) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

static int
run_dir(const char *dir, unsigned int *count)
{
	struct dirent **ents;
	char path[4096];
	int n, i, err = 0;

	/* Sorted, so a failing input is reported in a stable order. */
	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "replay: cannot list %s\n", dir);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir,
				 ents[i]->d_name);
			if (run_file(path) != 0)
				err = -1;
			else
				(*count)++;
		}
		free(ents[i]);
	}
	free(ents);
	return err;
}

int
main(int argc, char **argv)
{
	unsigned int count = 0;
	struct stat st;
	int i, err = 0;

	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: no such input %s\n", argv[i]);
			err = 1;
		} else if (S_ISDIR(st.st_mode)) {
			if (run_dir(argv[i], &count) != 0)
				err = 1;
		} else if (run_file(argv[i]) != 0) {
			err = 1;
		} else {
			count++;
		}
	}
	printf("replay: %u inputs, %s\n", count, err ? "errors" : "ok");
	return err;
}
