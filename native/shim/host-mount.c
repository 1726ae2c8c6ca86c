/* Mounts and unmounts in the caller's mount namespace (host-mount.h); used by the shim and skiff-mount. */
#include "host-mount.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <unistd.h>

static int failed(const char **op, const char *what)
{
	*op = what;
	return -1;
}

static int mount_on_fd(const char *target, const char *type, const char *source, unsigned long flags,
		       const char *data, const char **op)
{
	int fd = open(target, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return failed(op, "open");
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	int rc;
	if (!(flags & MS_BIND))
		rc = mount(source, proc, type, flags, *data ? data : NULL);
	else
		rc = mount(source, proc, NULL, MS_BIND | (flags & MS_REC), NULL);
	int err = errno;
	close(fd);
	if (rc < 0) {
		errno = err;
		return failed(op, "mount");
	}
	unsigned long remount = flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
	if (!(flags & MS_BIND) || !remount)
		return 0;
	/* Reopened, the fd is the new mount's root: the remount acts on it, not on a path again. */
	int bound = open(target, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (bound < 0)
		err = errno;
	else {
		snprintf(proc, sizeof proc, "/proc/self/fd/%d", bound);
		rc = mount(NULL, proc, NULL, MS_REMOUNT | MS_BIND | remount, NULL);
		err = errno;
		close(bound);
		if (rc == 0)
			return 0;
	}
	umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW);
	errno = err;
	return failed(op, bound < 0 ? "open" : "remount");
}

int host_mount(const char *target, const char *type, const char *source, unsigned long flags, const char *data,
	       const char *cwd, const char **op)
{
	if (!*cwd)
		return mount_on_fd(target, type, source, flags, data, op);
	int saved = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (saved < 0)
		return failed(op, "open");
	int rc = chdir(cwd) < 0 ? failed(op, "chdir") : mount_on_fd(target, type, source, flags, data, op);
	int err = errno;
	if (fchdir(saved) < 0 && rc == 0) {
		err = errno;
		rc = failed(op, "fchdir");
	}
	close(saved);
	errno = err;
	return rc;
}

int host_unmount(const char *target, int max)
{
	int n = 0;
	while (n < max && umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
		n++;
	/* EINVAL: no (more) mount there, which is the goal. */
	if (n == 0 && errno != EINVAL)
		return -1;
	return n;
}
