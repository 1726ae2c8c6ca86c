/*
 * skiff-mount: performs one mount spec that image/snapshot computed (Node cannot mount), or unmounts.
 * TypeScript has already turned the spec's options into MS_* flags and the file system's data string.
 *
 *   skiff-mount mount TARGET TYPE SOURCE FLAGS DATA CWD
 *   skiff-mount umount TARGET
 *
 * FLAGS is the decimal MS_* mask; DATA and CWD may be empty. CWD is where relative lowerdirs are
 * resolved (overlay's short links). The mount is ../shim/host-mount.c, which the shim's `host-mount`
 * record performs too. TARGET is opened O_PATH|O_NOFOLLOW first and the mount goes onto
 * /proc/self/fd/N, so a symlink swapped in at TARGET cannot redirect it. A read-only bind is a bind
 * followed by a read-only remount (the kernel ignores MS_RDONLY on the first call). On failure: one
 * line naming the operation, the path and the errno, exit status 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "../shim/host-mount.h"

static int fail(const char *op, const char *path)
{
	int err = errno;
	fprintf(stderr, "skiff-mount: %s `%s`: %s (%s)\n", op, path, strerrorname_np(err) ? strerrorname_np(err) : "E?",
		strerror(err));
	return 1;
}

static int do_mount(char **argv)
{
	const char *target = argv[2], *type = argv[3], *source = argv[4], *data = argv[6], *cwd = argv[7];
	char *end;
	errno = 0;
	unsigned long flags = strtoul(argv[5], &end, 10);
	if (errno || !*argv[5] || *end) {
		fprintf(stderr, "skiff-mount: FLAGS `%s` is not a number\n", argv[5]);
		return 2;
	}
	const char *op = "mount";
	if (host_mount(target, type, source, flags, data, cwd, &op) < 0)
		return fail(op, strcmp(op, "chdir") == 0 ? cwd : target);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 8 && strcmp(argv[1], "mount") == 0)
		return do_mount(argv);
	if (argc == 3 && strcmp(argv[1], "umount") == 0)
		return umount2(argv[2], UMOUNT_NOFOLLOW) < 0 ? fail("umount", argv[2]) : 0;
	fprintf(stderr, "usage: skiff-mount mount TARGET TYPE SOURCE FLAGS DATA CWD\n"
			"       skiff-mount umount TARGET\n");
	return 2;
}
