/*
 * AppArmor profiles and SELinux labels take effect at execve: the init writes them to its
 * /proc/self/attr/…/exec. A host without the LSM refuses a config that asks for it (as runc does):
 * a profile is never dropped silently.
 */
#include "lsm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "report.h"

#ifndef SELINUX_MAGIC
#define SELINUX_MAGIC 0xf97cff8c
#endif

static const char APPARMOR_ENABLED[] = "/sys/module/apparmor/parameters/enabled";
static const char SELINUXFS[] = "/sys/fs/selinux";

static bool apparmor_enabled(void)
{
	char c = 'N';
	int fd = open(APPARMOR_ENABLED, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool ok = read(fd, &c, 1) == 1 && c == 'Y';
	close(fd);
	return ok;
}

static bool selinux_enabled(void)
{
	struct statfs st;
	return statfs(SELINUXFS, &st) == 0 && st.f_type == SELINUX_MAGIC;
}

int lsm_check_host(const struct record *r)
{
	if (r->op == OP_APPARMOR && !apparmor_enabled())
		return failf(EOPNOTSUPP, "apparmor", r->argv[0],
			     "AppArmor profile `%s` requested (process.apparmorProfile), but AppArmor is not enabled on "
			     "this host (%s)",
			     r->argv[0], APPARMOR_ENABLED);
	if ((r->op == OP_SELINUX_LABEL || r->op == OP_SELINUX_MOUNT_LABEL) && !selinux_enabled())
		return failf(EOPNOTSUPP, "selinux", r->argv[0],
			     "SELinux label `%s` requested (%s), but SELinux is not enabled on this host (no selinuxfs at %s)",
			     r->argv[0], r->op == OP_SELINUX_LABEL ? "process.selinuxLabel" : "linux.mountLabel",
			     SELINUXFS);
	return 0;
}

/*
 * Opens an attr file of the container's /proc and checks that it is procfs: a /proc the image or a
 * volume controls must not swallow the label (CVE-2019-16884).
 */
static int open_attr(const char *const paths[], size_t n, const char **used)
{
	int err = ENOENT;
	for (size_t i = 0; i < n; i++) {
		int fd = open(paths[i], O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			err = errno;
			continue;
		}
		*used = paths[i];
		struct statfs st;
		if (fstatfs(fd, &st) < 0 || st.f_type != PROC_SUPER_MAGIC) {
			close(fd);
			return failf(EXDEV, "open", paths[i], "is not on procfs");
		}
		return fd;
	}
	*used = paths[n - 1];
	return fail(err, "open", paths[0]);
}

static int write_attr(const char *const paths[], size_t n, const char *text)
{
	const char *path;
	int fd = open_attr(paths, n, &path);
	if (fd < 0)
		return -1;
	ssize_t len = (ssize_t)strlen(text);
	int rc = write(fd, text, (size_t)len) == len ? 0 : fail(errno, "write", path);
	close(fd);
	return rc;
}

int step_apparmor(struct init_ctx *ctx, const struct record *r)
{
	(void)ctx;
	static const char *const paths[] = { "/proc/self/attr/apparmor/exec", "/proc/self/attr/exec" };
	char text[4096];
	if (snprintf(text, sizeof text, "exec %s", r->argv[0]) >= (int)sizeof text)
		return fail(ENAMETOOLONG, "apparmor", r->argv[0]);
	return write_attr(paths, 2, text);
}

int step_selinux_label(struct init_ctx *ctx, const struct record *r)
{
	(void)ctx;
	static const char *const paths[] = { "/proc/self/attr/exec" };
	return write_attr(paths, 1, r->argv[0]);
}

/* The label itself is in the mounts' data (`context=`); the host was checked at parse time. */
int step_selinux_mount_label(struct init_ctx *ctx, const struct record *r)
{
	(void)ctx;
	(void)r;
	return 0;
}
