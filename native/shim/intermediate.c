/*
 * The intermediate: a process of its own, so that joining cgroups and namespaces (setns of a pid or
 * time namespace only affects children) never touches the shim that the engine waits on.
 */
#include "intermediate.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups.h"
#include "init.h"
#include "namespaces.h"
#include "report.h"

static int write_all(int fd, const void *buf, size_t len)
{
	ssize_t n;
	do
		n = write(fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n != len) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/* The init must not live on half set up: it has not been released, so SIGKILL loses nothing. */
static noreturn void abort_init(pid_t init)
{
	kill(init, SIGKILL);
	while (waitpid(init, NULL, 0) < 0 && errno == EINTR)
		;
	report_failure();
	_exit(1);
}

/* After clone3: id maps, then the pid (to the engine before anything the init may say), then "go". */
static noreturn void release_init(const struct intermediate_args *args, int procfd, pid_t init, int gofd_w)
{
	if (id_maps_write(args->plan, procfd, init) < 0)
		abort_init(init);
	report_step("clone", args->plan->clone ? args->plan->clone->index : -1);
	if (report_pid(init) < 0)
		abort_init(init);
	if (write_all(args->pidfd_w, &init, sizeof init) < 0) {
		fail(errno, "write", "pid pipe");
		abort_init(init);
	}
	if (write_all(gofd_w, "go", 2) < 0) {
		fail(errno, "write", "go pipe");
		abort_init(init);
	}
	_exit(0);
}

noreturn void intermediate_main(const struct intermediate_args *args)
{
	const struct plan *plan = args->plan;
	sigprocmask(SIG_SETMASK, &args->parent_mask, NULL);

	/* The host's /proc, before a joined mount namespace can put another one at /proc. */
	report_step("clone", -1);
	int procfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (procfd < 0) {
		fail(errno, "open", "/proc");
		goto failed;
	}
	int v2fd;
	if (cgroups_join(plan, &v2fd) < 0 || namespaces_join(plan) < 0 || timens_enter(plan, procfd) < 0)
		goto failed;

	int go[2];
	if (pipe2(go, O_CLOEXEC) < 0) {
		fail(errno, "pipe2", "");
		goto failed;
	}
	pid_t init = clone_init(plan, v2fd);
	if (init < 0)
		goto failed;
	if (v2fd >= 0)
		close(v2fd);
	if (init == 0) {
		close(go[1]);
		close(args->pidfd_w);
		close(procfd);
		init_main(plan, go[0], args->fifofd);
	}
	close(go[0]);
	if (args->fifofd >= 0)
		close(args->fifofd);
	release_init(args, procfd, init, go[1]);

failed:
	report_failure();
	_exit(1);
}

pid_t intermediate_read_init_pid(int fd)
{
	pid_t pid;
	ssize_t n;
	do
		n = read(fd, &pid, sizeof pid);
	while (n < 0 && errno == EINTR);
	close(fd);
	return n == (ssize_t)sizeof pid ? pid : 0;
}
