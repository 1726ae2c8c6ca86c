/* The container's process: identity, limits, environment; then `created`, the fifo, and execve. */
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hooks.h"
#include "report.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static const char DEFAULT_PATH[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

int step_become_root(struct init_ctx *ctx, const struct record *r)
{
	(void)ctx;
	(void)r;
	if (setresgid(0, 0, 0) < 0)
		return fail(errno, "setresgid", "0");
	if (setresuid(0, 0, 0) < 0)
		return fail(errno, "setresuid", "0");
	return 0;
}

int step_oom_score_adj(struct init_ctx *ctx, const struct record *r)
{
	(void)ctx;
	const char *path = "/proc/self/oom_score_adj";
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(errno, "open", path);
	int rc = dprintf(fd, "%d", (int)r->num[0]) < 0 ? fail(errno, "write", path) : 0;
	close(fd);
	return rc;
}

int step_hostname(struct init_ctx *ctx, const struct record *r)
{
	(void)ctx;
	const char *name = r->argv[0];
	return sethostname(name, strlen(name)) < 0 ? fail(errno, "sethostname", name) : 0;
}

int step_domainname(struct init_ctx *ctx, const struct record *r)
{
	(void)ctx;
	const char *name = r->argv[0];
	return setdomainname(name, strlen(name)) < 0 ? fail(errno, "setdomainname", name) : 0;
}

int step_rlimit(struct init_ctx *ctx, const struct record *r)
{
	(void)ctx;
	/* rlim_t is 64 bits and RLIM_INFINITY is all ones: the plan's 18446744073709551615 as it is. */
	struct rlimit limit = { .rlim_cur = r->num[1], .rlim_max = r->num[2] };
	if (prlimit(0, (int)r->num[0], &limit, NULL) < 0)
		return failf(errno, "prlimit", r->argv[0], "resource %s soft %s hard %s", r->argv[0], r->argv[1],
			     r->argv[2]);
	return 0;
}

/* Whether this user namespace forbids setgroups(2) (/proc/self/setgroups says "deny"). */
static bool setgroups_denied(void)
{
	char buf[16] = "";
	int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	return n > 0 && strncmp(buf, "deny", 4) == 0;
}

int step_user(struct init_ctx *ctx, const struct record *r)
{
	(void)ctx;
	uid_t uid = (uid_t)r->num[0];
	gid_t gid = (gid_t)r->num[1];
	/*
	 * Always, even with no additional gids: the groups the shim inherited must not reach the container.
	 * Except in a user namespace whose setgroups is "deny" (rootless): there the inherited groups are
	 * unmapped and harmless, and setgroups(2) cannot succeed, so only asked-for groups are an error.
	 */
	if (setgroups(r->ngids, r->gids) < 0) {
		int err = errno;
		if (err != EPERM || r->ngids > 0 || !setgroups_denied())
			return failf(err, "setgroups", r->argv[2], "additional gids `%s`%s", r->argv[2],
				     setgroups_denied() ? " (setgroups is denied in this user namespace)" : "");
	}
	if (setresgid(gid, gid, gid) < 0)
		return fail(errno, "setresgid", r->argv[1]);
	if (setresuid(uid, uid, uid) < 0)
		return fail(errno, "setresuid", r->argv[0]);
	return 0;
}

int step_umask(struct init_ctx *ctx, const struct record *r)
{
	(void)ctx;
	umask((mode_t)(r->num[0] & 07777));
	return 0;
}

int step_cwd(struct init_ctx *ctx, const struct record *r)
{
	(void)ctx;
	if (chdir(r->argv[0]) < 0)
		return fail(errno, "chdir", r->argv[0]);
	/*
	 * CVE-2024-21626: a cwd that is not below the container's root (reached through a leaked fd, or a
	 * path the pivot left behind) makes getcwd() fail or answer "(unreachable)…".
	 */
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof cwd))
		return failf(errno, "getcwd", r->argv[0], "the working directory is outside the container");
	if (cwd[0] != '/')
		return failf(EXDEV, "getcwd", r->argv[0], "the working directory is outside the container (%s)", cwd);
	return 0;
}

int step_env(struct init_ctx *ctx, const struct record *r)
{
	ctx->envp[ctx->nenv++] = r->argv[0];
	ctx->envp[ctx->nenv] = NULL;
	return 0;
}

int step_sync(struct init_ctx *ctx, const struct record *r)
{
	(void)ctx;
	if (report_sync(r->argv[0]) < 0)
		return -1;
	char answer;
	ssize_t n;
	do
		n = read(report_fd(), &answer, 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return fail(errno, "read", "sync fd");
	if (n == 0)
		return failf(ECANCELED, "read", r->argv[0], "the engine closed the sync fd");
	if (answer != '1')
		return failf(ECANCELED, "read", r->argv[0], "the engine aborted the create");
	return 0;
}

/* 0 when path is a regular file this process may execute, else the errno execve would give. */
static int executable(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return errno;
	if (!S_ISREG(st.st_mode))
		return EACCES;
	if (faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) < 0)
		return errno;
	return 0;
}

static const char *env_path(const struct init_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nenv; i++)
		if (strncmp(ctx->envp[i], "PATH=", 5) == 0)
			return ctx->envp[i] + 5;
	return DEFAULT_PATH;
}

/*
 * argv[0] as execvpe() would find it, but in the container (after the pivot, as the container's user)
 * and before `created`, so that a missing program fails the create instead of the start.
 */
static int resolve_program(const struct init_ctx *ctx, const char *name, char out[PATH_MAX])
{
	if (!*name)
		return fail(ENOENT, "execve", name);
	if (strchr(name, '/')) {
		int err = executable(name);
		if (err)
			return fail(err, "execve", name);
		snprintf(out, PATH_MAX, "%s", name);
		return 0;
	}
	const char *path = env_path(ctx);
	bool denied = false;
	for (const char *dir = path;; dir++) {
		const char *end = strchrnul(dir, ':');
		int len = (int)(end - dir);
		/* An empty PATH entry is the current directory, as for execvp. */
		if (snprintf(out, PATH_MAX, "%.*s%s%s", len, dir, len ? "/" : "", name) < PATH_MAX) {
			int err = executable(out);
			if (!err)
				return 0;
			denied |= err == EACCES;
		}
		dir = end;
		if (!*end)
			break;
	}
	return failf(denied ? EACCES : ENOENT, "execve", name, "searched PATH=%s", path);
}

/* fds 3 … 3+n-1 go to the container as they are; every other fd is closed by execve. */
static int prepare_fds(unsigned int preserve)
{
	for (unsigned int fd = 3; fd < 3 + preserve; fd++) {
		int flags = fcntl((int)fd, F_GETFD);
		if (flags < 0 || fcntl((int)fd, F_SETFD, flags & ~FD_CLOEXEC) < 0) {
			char shown[32];
			snprintf(shown, sizeof shown, "fd %u", fd);
			return fail(errno, "fcntl", shown);
		}
	}
	if (close_range(3 + preserve, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return fail(errno, "close_range", "");
	return 0;
}

/* Waits for `start`: one byte in the fifo. A writer that leaves without writing is no start. */
static bool wait_for_start(int fifofd)
{
	struct pollfd pfd = { .fd = fifofd, .events = POLLIN };
	for (;;) {
		int n = poll(&pfd, 1, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || !(pfd.revents & POLLIN))
			return false;
		char byte;
		ssize_t got = read(fifofd, &byte, 1);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		return got == 1;
	}
}

int step_exec(struct init_ctx *ctx, const struct record *r)
{
	char program[PATH_MAX];
	if (resolve_program(ctx, r->argv[0], program) < 0)
		return -1;
	if (prepare_fds(ctx->plan->preserve_fds) < 0)
		return -1;
	if (report_created() < 0)
		return -1;
	/* From here only the engine holds the sync socket: it sees EOF, and the create is over. */
	report_close();
	/* An exec'd process (no fifo) runs at once. */
	if (ctx->fifofd >= 0 && !wait_for_start(ctx->fifofd))
		_exit(1);
	/* startContainer hooks: after start, in the container, before the program (runtime.md step 7). */
	if (hooks_run_start() < 0)
		_exit(1);
	execve(program, r->argv, ctx->envp);
	/* Too late for the sync fd: the container's stderr is the one place left to say why. */
	int err = errno;
	dprintf(STDERR_FILENO, "skiff-shim: exec `%s`: %s\n", r->argv[0], strerror(err));
	_exit(err == ENOENT ? 127 : 126);
}
