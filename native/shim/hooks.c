/*
 * OCI hooks that run inside the container's namespaces (runtime-spec config.md, "POSIX-platform
 * Hooks"): fork, the state JSON on stdin (a memfd, so a hook that never reads cannot block us),
 * execve(path, args, env), wait with the hook's timeout, SIGKILL on timeout. A non-zero exit, a
 * signal or a timeout fails the step.
 */
#include "hooks.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "report.h"

enum { WHEN_CREATE, WHEN_START, WHEN_COUNT };

static char *states[WHEN_COUNT];
static size_t state_lens[WHEN_COUNT];
/* startContainer hooks, queued in record order until the fifo releases the init. */
static const struct record *start_hooks[64];
static size_t nstart;

const char *hook_check(const struct record *r)
{
	if (r->argc < 4)
		return "takes at least 4 arguments (when, path, timeout, nargs)";
	if (strcmp(r->argv[0], "now") != 0 && strcmp(r->argv[0], "start") != 0)
		return "when must be `now` or `start`";
	if (r->argv[1][0] != '/')
		return "the hook path must be absolute";
	char *end;
	errno = 0;
	unsigned long timeout = strtoul(r->argv[2], &end, 10);
	if (errno || *end || !*r->argv[2] || timeout > 86400)
		return "timeout must be a number of seconds (0: none)";
	unsigned long nargs = strtoul(r->argv[3], &end, 10);
	if (*end || !*r->argv[3] || nargs > (unsigned long)r->argc - 4)
		return "nargs is not a number of the arguments that follow";
	return NULL;
}

/* Reads exactly n bytes from fd, retrying on EINTR; 0, or -1 with errno (EPIPE at EOF). */
static int read_full(int fd, char *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EPIPE;
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

/*
 * One frame from the sync fd, which the engine sends right after its answer to `sync`: the length in
 * decimal, a newline, then the state JSON. Through the socket rather than a file, because the init
 * (maybe in a user namespace, maybe as an unmapped user) need not be able to reach the state directory.
 */
int step_hook_state(struct init_ctx *ctx, const struct record *r)
{
	(void)ctx;
	int when = strcmp(r->argv[0], "start") == 0 ? WHEN_START : WHEN_CREATE;
	char digits[24];
	size_t n = 0;
	for (;;) {
		if (n == sizeof digits - 1)
			return failf(EPROTO, "read", "sync fd", "hook-state: length is too long");
		if (read_full(report_fd(), &digits[n], 1) < 0)
			return fail(errno, "read", "sync fd");
		if (digits[n] == '\n')
			break;
		if (digits[n] < '0' || digits[n] > '9')
			return failf(EPROTO, "read", "sync fd", "hook-state: the frame does not start with a length");
		n++;
	}
	digits[n] = '\0';
	size_t len = (size_t)strtoull(digits, NULL, 10);
	if (!n || len > (1 << 20))
		return failf(EPROTO, "read", "sync fd", "hook-state: bad length `%s`", digits);
	char *buf = malloc(len ? len : 1);
	if (!buf)
		return fail(ENOMEM, "malloc", "hook state");
	if (read_full(report_fd(), buf, len) < 0) {
		int e = errno;
		free(buf);
		return fail(e, "read", "sync fd");
	}
	free(states[when]);
	states[when] = buf;
	state_lens[when] = len;
	return 0;
}

static int state_fd(int when, const char *path)
{
	int fd = memfd_create("oci-state", MFD_CLOEXEC);
	if (fd < 0)
		return fail(errno, "memfd_create", path);
	size_t off = 0;
	while (off < state_lens[when]) {
		ssize_t n = write(fd, states[when] + off, state_lens[when] - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			return fail(e, "write", "hook state");
		}
		off += (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		int e = errno;
		close(fd);
		return fail(e, "lseek", "hook state");
	}
	return fd;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs one hook record to completion; 0 on exit status 0. */
static int run_hook(const struct record *r, int when)
{
	const char *path = r->argv[1];
	unsigned long timeout = strtoul(r->argv[2], NULL, 10);
	int nargs = (int)strtoul(r->argv[3], NULL, 10);
	char **args = r->argv + 4;
	char **env = r->argv + 4 + nargs;
	int nenv = r->argc - 4 - nargs;
	/* argv and envp must be NULL-terminated arrays of their own. */
	char **argv = calloc((size_t)nargs + 2, sizeof *argv);
	char **envp = calloc((size_t)nenv + 1, sizeof *envp);
	if (!argv || !envp) {
		free(argv);
		free(envp);
		return fail(ENOMEM, "calloc", path);
	}
	/* The spec's args include argv[0]; with none, argv[0] is the path (as runc). */
	if (nargs == 0)
		argv[0] = (char *)path;
	for (int i = 0; i < nargs; i++)
		argv[i] = args[i];
	for (int i = 0; i < nenv; i++)
		envp[i] = env[i];
	int in = state_fd(when, path);
	if (in < 0) {
		free(argv);
		free(envp);
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(in);
		free(argv);
		free(envp);
		return fail(e, "fork", path);
	}
	if (pid == 0) {
		if (dup2(in, STDIN_FILENO) < 0)
			_exit(126);
		execve(path, argv, envp);
		dprintf(STDERR_FILENO, "skiff-shim: hook `%s`: execve: %s\n", path, strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	close(in);
	free(argv);
	free(envp);
	long long deadline = timeout ? now_ms() + (long long)timeout * 1000 : 0;
	int status;
	for (;;) {
		pid_t got = waitpid(pid, &status, timeout ? WNOHANG : 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return fail(errno, "waitpid", path);
		if (got == pid)
			break;
		if (now_ms() >= deadline) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return failf(ETIMEDOUT, "hook", path, "%s hook did not finish within its timeout of %lu s",
				     when == WHEN_CREATE ? "createContainer" : "startContainer", timeout);
		}
		struct timespec nap = { .tv_sec = 0, .tv_nsec = 5 * 1000 * 1000 };
		nanosleep(&nap, NULL);
	}
	const char *kind = when == WHEN_CREATE ? "createContainer" : "startContainer";
	if (WIFSIGNALED(status))
		return failf(ECANCELED, "hook", path, "%s hook killed by signal %d", kind, WTERMSIG(status));
	if (WEXITSTATUS(status) != 0)
		return failf(ECANCELED, "hook", path, "%s hook exited with status %d", kind, WEXITSTATUS(status));
	return 0;
}

int step_hook(struct init_ctx *ctx, const struct record *r)
{
	(void)ctx;
	if (strcmp(r->argv[0], "now") == 0)
		return run_hook(r, WHEN_CREATE);
	if (nstart == sizeof start_hooks / sizeof start_hooks[0])
		return failf(E2BIG, "hook", r->argv[1], "more than %zu startContainer hooks", nstart);
	start_hooks[nstart++] = r;
	return 0;
}

int hooks_run_start(void)
{
	for (size_t i = 0; i < nstart; i++) {
		report_step("hook", start_hooks[i]->index);
		if (run_hook(start_hooks[i], WHEN_START) < 0) {
			report_failure();
			return -1;
		}
	}
	return 0;
}
