/* Namespaces of the init: what the intermediate does before and right after clone3. */
#include "namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroups.h"
#include "report.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* The first version of struct clone_args (CLONE_ARGS_SIZE_VER0); linux/sched.h clashes with sched.h. */
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

struct clone_args_v0 {
	uint64_t flags;
	uint64_t pidfd;
	uint64_t child_tid;
	uint64_t parent_tid;
	uint64_t exit_signal;
	uint64_t stack;
	uint64_t stack_size;
	uint64_t tls;
};

/*
 * Every namespace file is opened before the first setns: once the mount namespace is joined, a path
 * like /proc/<pid>/ns/pid would resolve in the container's /proc (exec joins by such paths).
 */
int namespaces_join(const struct plan *plan)
{
	int fds[plan->nrecords > 0 ? plan->nrecords : 1];
	size_t n = 0;
	int rc = 0;
	for (size_t i = 0; i < plan->nrecords && rc == 0; i++) {
		const struct record *r = &plan->records[i];
		if (r->op != OP_JOIN)
			continue;
		report_step(r->name, r->index);
		fds[n] = open(r->argv[1], O_RDONLY | O_CLOEXEC);
		if (fds[n] < 0)
			rc = fail(errno, "open", r->argv[1]);
		else
			n++;
	}
	size_t k = 0;
	for (size_t i = 0; i < plan->nrecords && rc == 0; i++) {
		const struct record *r = &plan->records[i];
		if (r->op != OP_JOIN)
			continue;
		report_step(r->name, r->index);
		if (setns(fds[k++], r->ns_flag) < 0)
			rc = failf(errno, "setns", r->argv[1], "join %s namespace", r->argv[0]);
	}
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	return rc;
}

/* Writes text to a file under procfd (the host's /proc, opened before any join changed what /proc is). */
static int write_proc(int procfd, const char *name, const char *text)
{
	char shown[80];
	snprintf(shown, sizeof shown, "/proc/%s", name);
	int fd = openat(procfd, name, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(errno, "open", shown);
	size_t len = strlen(text);
	ssize_t n;
	do
		n = write(fd, text, len);
	while (n < 0 && errno == EINTR);
	int err = n < 0 ? errno : 0;
	close(fd);
	if (err)
		return fail(err, "write", shown);
	/* A map or offsets file takes the text in one write; a short one would be a partial map. */
	if ((size_t)n != len)
		return failf(EIO, "write", shown, "short write (%zd of %zu bytes)", n, len);
	return 0;
}

int timens_enter(const struct plan *plan, int procfd)
{
	const struct record *r = plan->timens;
	if (!r)
		return 0;
	report_step(r->name, r->index);
	if (unshare(CLONE_NEWTIME) < 0)
		return failf(errno, "unshare", "", "unshare(CLONE_NEWTIME)");
	/* No offsets: a new time namespace with the host's clocks; there is nothing to write. */
	if (!r->argv[0][0])
		return 0;
	return write_proc(procfd, "self/timens_offsets", r->argv[0]);
}

bool cgroupns_deferred;

/* clone3's arguments up to `cgroup` (CLONE_ARGS_SIZE_VER2). */
struct clone_args_v2 {
	struct clone_args_v0 v0;
	uint64_t set_tid;
	uint64_t set_tid_size;
	uint64_t cgroup;
};

static long clone3(uint64_t flags, int v2fd)
{
	struct clone_args_v2 args = { .v0 = { .flags = flags, .exit_signal = SIGCHLD } };
	if (v2fd < 0)
		return syscall(SYS_clone3, &args.v0, sizeof args.v0);
	args.v0.flags |= CLONE_INTO_CGROUP;
	args.cgroup = (uint64_t)v2fd;
	return syscall(SYS_clone3, &args, sizeof args);
}

pid_t clone_init(const struct plan *plan, int v2fd)
{
	if (plan->clone)
		report_step(plan->clone->name, plan->clone->index);
	else
		report_step("clone", -1);
	uint64_t flags = plan->clone_flags;
	/*
	 * Born into its cgroup v2 (CLONE_INTO_CGROUP), the init must make its own cgroup namespace once
	 * it is there, as runc's init does: one made by this clone3 would be rooted where we stand.
	 */
	if (v2fd >= 0 && (flags & CLONE_NEWCGROUP)) {
		flags &= ~(uint64_t)CLONE_NEWCGROUP;
		cgroupns_deferred = true;
	}
	/* Fork-like (no stack given): the child continues here, on a copy of this stack. */
	long pid = clone3(flags, v2fd);
	if (pid < 0 && v2fd >= 0 && (errno == EINVAL || errno == E2BIG || errno == EOPNOTSUPP)) {
		/* A kernel or cgroup that cannot clone into it: move in the slow way and clone as before. */
		if (cgroups_join_v2_procs(v2fd) < 0)
			return -1;
		flags = plan->clone_flags;
		cgroupns_deferred = false;
		pid = clone3(flags, -1);
	}
	if (pid < 0)
		return failf(errno, "clone3", "", "clone3(flags=%#llx)", (unsigned long long)flags);
	return (pid_t)pid;
}

static int write_map(int procfd, pid_t init, const struct record *r, const char *file)
{
	if (!r)
		return 0;
	report_step(r->name, r->index);
	char name[64];
	snprintf(name, sizeof name, "%d/%s", init, file);
	return write_proc(procfd, name, r->argv[0]);
}

int id_maps_write(const struct plan *plan, int procfd, pid_t init)
{
	/* setgroups must be settled before the gid map, which fixes it for good. */
	if (write_map(procfd, init, plan->setgroups, "setgroups") < 0 ||
	    write_map(procfd, init, plan->gidmap, "gid_map") < 0 ||
	    write_map(procfd, init, plan->uidmap, "uid_map") < 0)
		return -1;
	return 0;
}
