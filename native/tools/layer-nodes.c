/*
 * skiff-layer-nodes: what Node cannot do while a layer is unpacked (mknod, setxattr), performed in one
 * batch for the whole layer. The layer directory is opened once; every path is resolved beneath its fd
 * with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS), so neither `..` nor a
 * symlink planted by the archive can lead outside it. The operation acts on the resolved parent fd
 * (mknodat, fchownat/utimensat with AT_SYMLINK_NOFOLLOW) or on an O_PATH fd of the target itself.
 *
 *   skiff-layer-nodes DIR < RECORDS
 *
 * RECORDS (native/README.md): NUL-terminated fields, one record after another:
 *   mknod    PATH TYPE(c|b|p) MODE(octal, 07777) MAJOR MINOR UID GID MTIME_SEC MTIME_NSEC
 *   setxattr PATH NAME VALUE(hex)
 * PATH is relative to DIR ("" is DIR itself). On the first failure it prints one line naming the
 * record, the operation, the path and the errno, and exits 1; on success it exits 0 silently.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define MAX_FIELDS 10
#define RESOLVE_FLAGS (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

static unsigned long record_index;

static int fail(int err, const char *op, const char *path)
{
	fprintf(stderr, "skiff-layer-nodes: record %lu: %s `%s`: %s (%s)\n", record_index, op, path,
		strerrorname_np(err) ? strerrorname_np(err) : "E?", strerror(err));
	return 1;
}

static int fail_input(const char *why)
{
	fprintf(stderr, "skiff-layer-nodes: record %lu: %s\n", record_index, why);
	return 1;
}

static int open_beneath(int rootfd, const char *path, int flags)
{
	struct open_how how = { .flags = (unsigned long long)(flags | O_CLOEXEC), .resolve = RESOLVE_FLAGS };
	long fd = syscall(SYS_openat2, rootfd, *path ? path : ".", &how, sizeof how);
	return fd < 0 ? -errno : (int)fd;
}

/* Splits PATH into its parent (opened beneath the root) and its last component (returned in *base). */
static int open_parent(int rootfd, char *path, const char **base)
{
	char *slash = strrchr(path, '/');
	if (!slash) {
		*base = path;
		return open_beneath(rootfd, "", O_PATH | O_DIRECTORY);
	}
	*slash = '\0';
	*base = slash + 1;
	int fd = open_beneath(rootfd, path, O_PATH | O_DIRECTORY);
	*slash = '/';
	return fd;
}

static int parse_ulong(const char *s, int base, unsigned long *out)
{
	char *end;
	errno = 0;
	*out = strtoul(s, &end, base);
	return errno || !*s || *end || *s == '-' ? -1 : 0;
}

static int do_mknod(int rootfd, char **f)
{
	unsigned long perm, major, minor, uid, gid, sec, nsec;
	if (parse_ulong(f[3], 8, &perm) || perm > 07777 || parse_ulong(f[4], 10, &major) ||
	    parse_ulong(f[5], 10, &minor) || parse_ulong(f[6], 10, &uid) || parse_ulong(f[7], 10, &gid) ||
	    parse_ulong(f[8], 10, &sec) || parse_ulong(f[9], 10, &nsec) || nsec >= 1000000000UL)
		return fail_input("mknod: a number field is malformed");
	mode_t type = strcmp(f[2], "c") == 0 ? S_IFCHR : strcmp(f[2], "b") == 0 ? S_IFBLK
					: strcmp(f[2], "p") == 0 ? S_IFIFO : 0;
	if (!type)
		return fail_input("mknod: TYPE must be c, b or p");
	const char *base;
	int dirfd = open_parent(rootfd, f[1], &base);
	if (dirfd < 0)
		return fail(-dirfd, "openat2", f[1]);
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		close(dirfd);
		return fail_input("mknod: PATH must name an entry");
	}
	int rc = 0;
	if (mknodat(dirfd, base, type | (mode_t)perm, makedev(major, minor)) < 0)
		rc = fail(errno, "mknodat", f[1]);
	else if (fchownat(dirfd, base, (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW) < 0)
		rc = fail(errno, "fchownat", f[1]);
	/* chown drops setuid/setgid on non-directories; set the mode again through an O_PATH fd. */
	else if (perm & 07000) {
		struct open_how how = { .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC, .resolve = RESOLVE_FLAGS };
		long fd = syscall(SYS_openat2, dirfd, base, &how, sizeof how);
		char proc[64];
		if (fd < 0)
			rc = fail(errno, "openat2", f[1]);
		else {
			snprintf(proc, sizeof proc, "/proc/self/fd/%ld", fd);
			if (chmod(proc, (mode_t)perm) < 0)
				rc = fail(errno, "chmod", f[1]);
			close((int)fd);
		}
	}
	if (rc == 0) {
		struct timespec ts[2] = { { .tv_sec = (time_t)sec, .tv_nsec = (long)nsec },
					  { .tv_sec = (time_t)sec, .tv_nsec = (long)nsec } };
		if (utimensat(dirfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
			rc = fail(errno, "utimensat", f[1]);
	}
	close(dirfd);
	return rc;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* setxattr on an O_PATH fd goes through its /proc/self/fd link: it reaches the inode (even a symlink or a
 * device) without opening it for I/O and without resolving the path again. */
static int do_setxattr(int rootfd, char **f)
{
	size_t hexlen = strlen(f[3]);
	if (hexlen % 2)
		return fail_input("setxattr: VALUE must be an even number of hex digits");
	unsigned char *value = malloc(hexlen / 2 + 1);
	if (!value)
		return fail(ENOMEM, "malloc", f[1]);
	for (size_t i = 0; i < hexlen / 2; i++) {
		int hi = hex_value(f[3][2 * i]), lo = hex_value(f[3][2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(value);
			return fail_input("setxattr: VALUE must be lower-case hex");
		}
		value[i] = (unsigned char)(hi << 4 | lo);
	}
	int rc = 0;
	int fd = open_beneath(rootfd, f[1], O_PATH | O_NOFOLLOW);
	if (fd < 0)
		rc = fail(-fd, "openat2", f[1]);
	else {
		char proc[64];
		snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
		if (setxattr(proc, f[2], value, hexlen / 2, 0) < 0)
			rc = fail(errno, "setxattr", f[1]);
		close(fd);
	}
	free(value);
	return rc;
}

static char *read_all(FILE *in, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		n += fread(buf + n, 1, cap - n, in);
		if (n < cap)
			break;
		char *bigger = realloc(buf, cap * 2);
		if (!bigger)
			free(buf);
		buf = bigger;
		cap *= 2;
	}
	if (buf && ferror(in)) {
		free(buf);
		buf = NULL;
	}
	*len = n;
	return buf;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: skiff-layer-nodes DIR < RECORDS\n");
		return 2;
	}
	umask(0);
	int rootfd = open(argv[1], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rootfd < 0)
		return fail(errno, "open", argv[1]);
	size_t len;
	char *buf = read_all(stdin, &len);
	if (!buf)
		return fail(errno ? errno : ENOMEM, "read", "stdin");
	if (len && buf[len - 1] != '\0')
		return fail_input("the input does not end with a NUL");
	char *p = buf, *end = buf + len;
	while (p < end) {
		char *f[MAX_FIELDS];
		size_t want = strcmp(p, "mknod") == 0 ? 10 : strcmp(p, "setxattr") == 0 ? 4 : 0;
		if (!want)
			return fail_input("unknown operation (mknod and setxattr are known)");
		for (size_t i = 0; i < want; i++) {
			if (p >= end)
				return fail_input("the record is truncated");
			f[i] = p;
			p += strlen(p) + 1;
		}
		int rc = want == 10 ? do_mknod(rootfd, f) : do_setxattr(rootfd, f);
		if (rc)
			return rc;
		record_index++;
	}
	free(buf);
	close(rootfd);
	return 0;
}
