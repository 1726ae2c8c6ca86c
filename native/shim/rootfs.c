/*
 * The container's filesystem. Every ctr path is resolved at the moment it is used, with
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) in the rootfs fd, and the kernel is then handed the
 * resulting fd as /proc/self/fd/N: a symlink in the image (or swapped in by a running container)
 * cannot send a mount out of the rootfs (CVE-2021-30465).
 */
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "mountinfo.h"
#include "report.h"

/* "/proc/self/fd/N": how mount(2), which takes paths, is made to act on an fd. */
struct fd_path {
	char s[32];
};

static struct fd_path fd_path(int fd)
{
	struct fd_path p;
	snprintf(p.s, sizeof p.s, "/proc/self/fd/%d", fd);
	return p;
}

/* Opens a ctr path in the rootfs: the fd, or -errno (callers decide whether ENOENT is a failure). */
static int open_in_root(int rootfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	/* EAGAIN: a concurrent rename made the kernel unsure that ".." stayed inside; it asks to retry. */
	for (int tries = 0;; tries++) {
		long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
		if (fd >= 0)
			return (int)fd;
		if ((errno != EAGAIN && errno != EINTR) || tries >= 100)
			return -errno;
	}
}

/* Creates one missing component in its resolved parent: a directory, or an empty file to mount on. */
static int create_entry(int parent, const char *name, bool file, const char *shown)
{
	if (!file) {
		if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST)
			return fail(errno, "mkdirat", shown);
		return 0;
	}
	int fd = openat(parent, name, O_CREAT | O_EXCL | O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 && errno != EEXIST)
		return fail(errno, "openat", shown);
	if (fd >= 0)
		close(fd);
	return 0;
}

/*
 * A missing component that is a dangling symlink: its target and the rest of the path make the path
 * to create (as runc's MkdirAllInRoot). The result is walked again in the rootfs, so ".." or an
 * absolute target still resolve inside it.
 */
static int splice_symlink(int parent, const char *name, const char *prefix, const char *rest, char *path)
{
	char target[PATH_MAX], spliced[PATH_MAX];
	ssize_t n = readlinkat(parent, name, target, sizeof target - 1);
	if (n < 0)
		return -1;
	target[n] = '\0';
	int len;
	if (target[0] == '/')
		len = snprintf(spliced, sizeof spliced, "%s%s", target, rest);
	else {
		const char *slash = strrchr(prefix, '/');
		int dirlen = slash ? (int)(slash - prefix) : 0;
		len = snprintf(spliced, sizeof spliced, "%.*s/%s%s", dirlen, prefix, target, rest);
	}
	if (len >= (int)sizeof spliced) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(path, spliced);
	return 0;
}

/*
 * Walks path one prefix at a time, each resolved afresh in the rootfs; a missing component is made
 * with mkdirat() (or openat(O_CREAT) for the last one of a file) on the fd of its resolved parent,
 * never through a path string.
 */
static int create_path(int rootfd, const char *wanted, enum create_kind kind)
{
	char path[PATH_MAX], prefix[PATH_MAX], name[NAME_MAX + 1];
	if (strlen(wanted) >= sizeof path)
		return fail(ENAMETOOLONG, "openat2", wanted);
	strcpy(path, wanted);
	int links = 0;
restart:;
	int parent = open_in_root(rootfd, "/", O_PATH | O_DIRECTORY);
	if (parent < 0)
		return fail(-parent, "openat2", "/");
	for (const char *p = path + strspn(path, "/"); *p; p += strspn(p, "/")) {
		const char *end = strchrnul(p, '/');
		size_t len = (size_t)(end - p);
		if (len > NAME_MAX) {
			close(parent);
			return fail(ENAMETOOLONG, "mkdirat", wanted);
		}
		memcpy(name, p, len);
		name[len] = '\0';
		memcpy(prefix, path, (size_t)(end - path));
		prefix[end - path] = '\0';
		bool last = end[strspn(end, "/")] == '\0';

		int fd = open_in_root(rootfd, prefix, O_PATH);
		if (fd == -ENOENT && splice_symlink(parent, name, prefix, end, path) == 0) {
			close(parent);
			if (++links > 40) /* the kernel's own limit on symlinks in one lookup */
				return fail(ELOOP, "openat2", wanted);
			goto restart;
		}
		if (fd == -ENOENT) {
			if (create_entry(parent, name, last && kind == CREATE_FILE, prefix) < 0) {
				close(parent);
				return -1;
			}
			fd = open_in_root(rootfd, prefix, O_PATH);
		}
		close(parent);
		if (fd < 0)
			return fail(-fd, "openat2", prefix);
		parent = fd;
		p = end;
	}
	return parent;
}

/* The destination of a mount: resolved, or created when missing and the plan says what to create. */
static int open_or_create(int rootfd, const char *path, enum create_kind kind)
{
	int fd = open_in_root(rootfd, path, O_PATH);
	if (fd >= 0)
		return fd;
	if (fd != -ENOENT || kind == CREATE_NONE)
		return fail(-fd, "openat2", path);
	return create_path(rootfd, path, kind);
}

/* The resolved parent directory of a ctr path (made when missing) and its last component. */
static int open_parent(int rootfd, const char *path, char base[NAME_MAX + 1])
{
	char dir[PATH_MAX];
	size_t len = strlen(path);
	while (len > 1 && path[len - 1] == '/')
		len--;
	if (len >= sizeof dir)
		return fail(ENAMETOOLONG, "openat2", path);
	memcpy(dir, path, len);
	dir[len] = '\0';
	char *slash = strrchr(dir, '/');
	const char *last = slash ? slash + 1 : dir;
	if (!*last || strcmp(last, ".") == 0 || strcmp(last, "..") == 0 || strlen(last) > NAME_MAX)
		return failf(EINVAL, "openat2", path, "`%s` is not a name to create", last);
	strcpy(base, last);
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
		strcpy(dir, "/");
	return open_or_create(rootfd, dir, CREATE_DIR);
}

/*
 * The flags a bind remount must repeat: in a user namespace the kernel locks nosuid, nodev, noexec
 * and the atime mode of mounts inherited from a more privileged namespace, and a remount that would
 * clear them fails with EPERM. Atime flags are kept only when the plan asks for no atime mode itself.
 */
static unsigned long locked_flags(const struct statvfs *sv, unsigned long wanted)
{
	unsigned long flags = 0;
	if (sv->f_flag & ST_NOSUID)
		flags |= MS_NOSUID;
	if (sv->f_flag & ST_NODEV)
		flags |= MS_NODEV;
	if (sv->f_flag & ST_NOEXEC)
		flags |= MS_NOEXEC;
	if (!(wanted & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME | MS_NODIRATIME))) {
		if (sv->f_flag & ST_NOATIME)
			flags |= MS_NOATIME;
		else if (sv->f_flag & ST_RELATIME)
			flags |= MS_RELATIME;
		else
			flags |= MS_STRICTATIME;
		if (sv->f_flag & ST_NODIRATIME)
			flags |= MS_NODIRATIME;
	}
	return flags;
}

static int remount_fd(int fd, const char *shown, unsigned long flags)
{
	struct statvfs sv;
	if (fstatvfs(fd, &sv) < 0)
		return fail(errno, "fstatvfs", shown);
	flags |= locked_flags(&sv, flags);
	if (mount(NULL, fd_path(fd).s, NULL, MS_REMOUNT | MS_BIND | flags, NULL) < 0)
		return failf(errno, "mount", shown, "remount with flags %#lx", flags);
	return 0;
}

int step_propagation(struct init_ctx *ctx, const struct record *r)
{
	(void)ctx;
	if (mount(NULL, "/", NULL, r->num[0], NULL) < 0)
		return fail(errno, "mount", "/");
	return 0;
}

int step_rootfs(struct init_ctx *ctx, const struct record *r)
{
	const char *path = r->argv[0];
	if (make_parent_mount_private(path) < 0)
		return -1;
	/* A mount point of its own, so that pivot_root (or MS_MOVE) can take it. */
	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return fail(errno, "mount", path);
	ctx->rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ctx->rootfd < 0)
		return fail(errno, "open", path);
	return 0;
}

int step_mount(struct init_ctx *ctx, const struct record *r)
{
	const char *source = r->argv[0], *dest = r->argv[1], *fstype = r->argv[2], *data = r->argv[4];
	unsigned long flags = r->num[3];
	int fd = open_or_create(ctx->rootfd, dest, r->create);
	if (fd < 0)
		return -1;
	int rc = mount(source, fd_path(fd).s, *fstype ? fstype : NULL, flags, *data ? data : NULL);
	int err = errno;
	close(fd);
	if (rc == 0)
		return 0;
	/* For a bind, ENOENT is about the host source: the destination was just resolved. */
	if (err == ENOENT && (flags & MS_BIND))
		return failf(err, "mount", dest, "bind source `%s`", source);
	return fail(err, "mount", dest);
}

int step_remount(struct init_ctx *ctx, const struct record *r)
{
	const char *dest = r->argv[0];
	int fd = open_in_root(ctx->rootfd, dest, O_PATH);
	if (fd < 0)
		return fail(-fd, "openat2", dest);
	int rc = remount_fd(fd, dest, r->num[1]);
	close(fd);
	return rc;
}

int step_propagate(struct init_ctx *ctx, const struct record *r)
{
	const char *dest = r->argv[0];
	int fd = open_in_root(ctx->rootfd, dest, O_PATH);
	if (fd < 0)
		return fail(-fd, "openat2", dest);
	int rc = mount(NULL, fd_path(fd).s, NULL, r->num[1], NULL);
	int err = errno;
	close(fd);
	return rc < 0 ? fail(err, "mount", dest) : 0;
}

int step_mknod(struct init_ctx *ctx, const struct record *r)
{
	const char *path = r->argv[0];
	char base[NAME_MAX + 1];
	int parent = open_parent(ctx->rootfd, path, base);
	if (parent < 0)
		return -1;
	int rc = 0;
	dev_t dev = makedev((unsigned int)r->num[2], (unsigned int)r->num[3]);
	if (mknodat(parent, base, (mode_t)r->num[1], dev) < 0) {
		if (errno != EEXIST) /* an existing node is the image's or the engine's choice */
			rc = fail(errno, "mknodat", path);
	} else if (fchownat(parent, base, (uid_t)r->num[4], (gid_t)r->num[5], AT_SYMLINK_NOFOLLOW) < 0) {
		rc = fail(errno, "fchownat", path);
	}
	close(parent);
	return rc;
}

int step_symlink(struct init_ctx *ctx, const struct record *r)
{
	const char *target = r->argv[0], *path = r->argv[1];
	char base[NAME_MAX + 1];
	int parent = open_parent(ctx->rootfd, path, base);
	if (parent < 0)
		return -1;
	int rc = 0;
	if (symlinkat(target, parent, base) < 0 && errno != EEXIST)
		rc = fail(errno, "symlinkat", path);
	close(parent);
	return rc;
}

int step_mask(struct init_ctx *ctx, const struct record *r)
{
	const char *path = r->argv[0];
	int fd = open_in_root(ctx->rootfd, path, O_PATH);
	if (fd == -ENOENT)
		return 0; /* nothing to hide */
	if (fd < 0)
		return fail(-fd, "openat2", path);
	struct stat st;
	int rc;
	if (fstat(fd, &st) < 0)
		rc = fail(errno, "fstat", path);
	else if (S_ISDIR(st.st_mode))
		rc = mount("tmpfs", fd_path(fd).s, "tmpfs", MS_RDONLY, NULL) < 0 ? fail(errno, "mount", path) : 0;
	else
		rc = mount("/dev/null", fd_path(fd).s, NULL, MS_BIND, NULL) < 0 ? fail(errno, "mount", path) : 0;
	close(fd);
	return rc;
}

int step_readonly(struct init_ctx *ctx, const struct record *r)
{
	const char *path = r->argv[0];
	int fd = open_in_root(ctx->rootfd, path, O_PATH);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fail(-fd, "openat2", path);
	struct fd_path self = fd_path(fd);
	int rc = mount(self.s, self.s, NULL, MS_BIND | MS_REC, NULL);
	int err = errno;
	close(fd);
	if (rc < 0)
		return fail(err, "mount", path);
	/* The fd is the mount underneath; the remount must reach the bind just made on top of it. */
	fd = open_in_root(ctx->rootfd, path, O_PATH);
	if (fd < 0)
		return fail(-fd, "openat2", path);
	rc = remount_fd(fd, path, MS_RDONLY);
	close(fd);
	return rc;
}

int step_sysctl(struct init_ctx *ctx, const struct record *r)
{
	char path[PATH_MAX];
	const char *value = r->argv[1];
	if (snprintf(path, sizeof path, "/proc/sys/%s", r->argv[0]) >= (int)sizeof path)
		return fail(ENAMETOOLONG, "openat2", r->argv[0]);
	int fd = open_in_root(ctx->rootfd, path, O_WRONLY);
	if (fd < 0)
		return fail(-fd, "openat2", path);
	/* Without proc mounted there, the image's own files would take the value and hide the mistake. */
	struct statfs sfs;
	int rc = 0;
	if (fstatfs(fd, &sfs) < 0)
		rc = fail(errno, "fstatfs", path);
	else if (sfs.f_type != PROC_SUPER_MAGIC)
		rc = failf(EXDEV, "fstatfs", path, "not on the container's proc filesystem");
	else if (write(fd, value, strlen(value)) < 0)
		rc = fail(errno, "write", path);
	close(fd);
	return rc;
}

int step_remount_root(struct init_ctx *ctx, const struct record *r)
{
	return remount_fd(ctx->rootfd, "/", r->num[0]);
}

/*
 * As runc: pivot_root(".", ".") stacks the old root on the new one; it is made rslave, so that
 * detaching it does not propagate unmounts to the host, and then detached.
 */
static int pivot_root_into(int rootfd)
{
	int oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (oldroot < 0)
		return fail(errno, "open", "/");
	int rc = -1;
	if (fchdir(rootfd) < 0)
		fail(errno, "fchdir", "rootfs");
	else if (syscall(SYS_pivot_root, ".", ".") < 0)
		fail(errno, "pivot_root", ".");
	/* The kernel promises nothing of the cwd after pivot_root: go to the old root by its fd. */
	else if (fchdir(oldroot) < 0)
		fail(errno, "fchdir", "old root");
	else if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		fail(errno, "mount", "old root");
	else if (umount2(".", MNT_DETACH) < 0)
		fail(errno, "umount2", "old root");
	else if (chdir("/") < 0)
		fail(errno, "chdir", "/");
	else
		rc = 0;
	close(oldroot);
	return rc;
}

/* --no-pivot: for a root pivot_root refuses (an initramfs); the host's mounts stay underneath. */
static int move_into(int rootfd)
{
	if (fchdir(rootfd) < 0)
		return fail(errno, "fchdir", "rootfs");
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		return fail(errno, "mount", "/");
	if (chroot(".") < 0)
		return fail(errno, "chroot", ".");
	if (chdir("/") < 0)
		return fail(errno, "chdir", "/");
	return 0;
}

int step_pivot(struct init_ctx *ctx, const struct record *r)
{
	return r->pivot == PIVOT_ROOT ? pivot_root_into(ctx->rootfd) : move_into(ctx->rootfd);
}

/* The first component of path that exists and is not a directory (in `shown`); false when none. */
static bool find_non_directory(int rootfd, const char *path, char shown[PATH_MAX])
{
	size_t len = strlen(path);
	for (size_t end = 1; end <= len; end++) {
		if (end < len && path[end] != '/')
			continue;
		memcpy(shown, path, end);
		shown[end] = '\0';
		int fd = open_in_root(rootfd, shown, O_PATH);
		if (fd == -ENOENT)
			return false; /* the rest is to be made */
		if (fd < 0)
			continue;
		struct stat st;
		bool dir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
		close(fd);
		if (!dir)
			return true;
	}
	return false;
}

/*
 * dockerd's SetupWorkingDirectory, in the container: the working directory the image lacks is made
 * (mode 0755, as root) inside the rootfs, after the mounts, so that it is made where the process
 * will see it (in a volume mounted there, say).
 */
int step_mkdir_cwd(struct init_ctx *ctx, const struct record *r)
{
	const char *path = r->argv[0];
	char shown[PATH_MAX];
	if (strlen(path) >= sizeof shown)
		return fail(ENAMETOOLONG, "mkdirat", path);
	if (find_non_directory(ctx->rootfd, path, shown))
		return failf(ENOTDIR, "mkdirat", shown, "cannot create the working directory `%s`: `%s` is not a directory",
			     path, shown);
	int fd = open_or_create(ctx->rootfd, path, CREATE_DIR);
	if (fd < 0)
		return -1;
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) < 0)
		rc = fail(errno, "fstat", path);
	else if (!S_ISDIR(st.st_mode)) /* a symlink to a file, or a race */
		rc = failf(ENOTDIR, "mkdirat", path, "the working directory `%s` is not a directory", path);
	close(fd);
	return rc;
}
