/*
 * skiff-opaque-dirs DIR: prints, NUL-terminated, the path (relative to DIR) of every directory below
 * DIR that is an overlay opaque directory (xattr trusted.overlay.opaque = "y"), for the copy
 * snapshotter (src/image/snapshot/native.ts), since Node has no getxattr(2). Symlinks are not followed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>

static size_t root_len;

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	char value[2];
	ssize_t n;

	(void)st;
	(void)ftw;
	if (type != FTW_D)
		return 0;
	n = lgetxattr(path, "trusted.overlay.opaque", value, sizeof(value));
	if (n < 0) {
		if (errno == ENODATA || errno == ENOTSUP)
			return 0;
		fprintf(stderr, "skiff-opaque-dirs: lgetxattr %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (n == 1 && value[0] == 'y') {
		const char *rel = path[root_len] == '/' ? path + root_len + 1 : path + root_len;

		fputs(*rel ? rel : ".", stdout);
		fputc('\0', stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: skiff-opaque-dirs DIR\n");
		return 2;
	}
	root_len = strlen(argv[1]);
	if (nftw(argv[1], visit, 64, FTW_PHYS) != 0) {
		if (errno)
			fprintf(stderr, "skiff-opaque-dirs: walk %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
