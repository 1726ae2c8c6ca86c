/*
 * Joining the container's cgroups: the intermediate enters them before clone3, never the init later.
 *
 * Moving a whole process (a write to cgroup.procs) takes the kernel's global threadgroup rwsem for
 * writing, which waits for an RCU grace period: 10-40 ms on these machines, most of a container's
 * start. Two ways avoid it, both taken here:
 *  - cgroup v1: the intermediate is single-threaded, so moving its one thread moves the process.
 *    Writing "0" (the caller) to `tasks` migrates a single thread, which the kernel does without the
 *    global lock (cgroup_procs_write_start: `threadgroup_locked = pid || threadgroup`).
 *  - cgroup v2: the init is born in its cgroup through clone3(CLONE_INTO_CGROUP); no migration.
 */
#include "cgroups.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "report.h"

static int write_file(int dirfd, const char *dir, const char *file, const char *value)
{
	char shown[4200];
	snprintf(shown, sizeof shown, "%s/%s", dir, file);
	int fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(errno, "open", shown);
	ssize_t n;
	do
		n = write(fd, value, strlen(value));
	while (n < 0 && errno == EINTR);
	int err = n < 0 ? errno : 0;
	close(fd);
	return err ? fail(err, "write", shown) : 0;
}

int cgroups_join_v2_procs(int dirfd)
{
	char pid[24];
	snprintf(pid, sizeof pid, "%d", getpid());
	return write_file(dirfd, "cgroup2", "cgroup.procs", pid);
}

/* One `cgroup` record: the path of a cgroup.procs file, whose directory is the cgroup. */
static int join_one(const char *procs, int *v2fd)
{
	char dir[4096];
	const char *slash = strrchr(procs, '/');
	if (!slash || strcmp(slash, "/cgroup.procs") != 0 || (size_t)(slash - procs) >= sizeof dir)
		return failf(EINVAL, "parse", procs, "a cgroup record names a cgroup.procs file");
	memcpy(dir, procs, (size_t)(slash - procs));
	dir[slash - procs] = '\0';
	int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return fail(errno, "open", dir);
	struct statfs fs;
	if (fstatfs(dirfd, &fs) < 0) {
		int err = errno;
		close(dirfd);
		return fail(err, "statfs", dir);
	}
	if (fs.f_type == CGROUP2_SUPER_MAGIC && *v2fd < 0) {
		*v2fd = dirfd;
		return 0;
	}
	char pid[24];
	snprintf(pid, sizeof pid, "%d", getpid());
	int rc = fs.f_type == CGROUP2_SUPER_MAGIC ? write_file(dirfd, dir, "cgroup.procs", pid)
						  : write_file(dirfd, dir, "tasks", "0");
	close(dirfd);
	return rc;
}

int cgroups_join(const struct plan *plan, int *v2fd)
{
	*v2fd = -1;
	for (size_t i = 0; i < plan->nrecords; i++) {
		const struct record *r = &plan->records[i];
		if (r->op != OP_CGROUP)
			continue;
		report_step(r->name, r->index);
		if (join_one(r->argv[0], v2fd) < 0)
			return -1;
	}
	return 0;
}
