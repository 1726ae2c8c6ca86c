/* Joining the container's cgroups: the intermediate enters them before clone3, never the init later. */
#include "cgroups.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "report.h"

static int join_one(const char *procs)
{
	char pid[24];
	int len = snprintf(pid, sizeof pid, "%d", getpid());
	int fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(errno, "open", procs);
	ssize_t n;
	do
		n = write(fd, pid, (size_t)len);
	while (n < 0 && errno == EINTR);
	int err = n < 0 ? errno : 0;
	close(fd);
	if (err)
		return fail(err, "write", procs);
	return 0;
}

int cgroups_join(const struct plan *plan)
{
	for (size_t i = 0; i < plan->nrecords; i++) {
		const struct record *r = &plan->records[i];
		if (r->op != OP_CGROUP)
			continue;
		report_step(r->name, r->index);
		if (join_one(r->argv[0]) < 0)
			return -1;
	}
	return 0;
}
