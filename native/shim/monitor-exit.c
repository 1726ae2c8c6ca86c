/* The monitor's end: the exit record (DIR/exit, written atomically) and the engine's exit command. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host-mount.h"
#include "monitor.h"

/* The `oom_kill N` line of cgroup v1 memory.oom_control or v2 memory.events: N > 0 means killed. */
static bool oom_killed(const char *path)
{
	if (!path)
		return false;
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	char line[128];
	bool killed = false;
	unsigned long long n;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "oom_kill %llu", &n) == 1 && n > 0)
			killed = true;
	fclose(f);
	return killed;
}

int monitor_write_exit(const char *dir, int status, const char *oom_file, char *json, size_t size)
{
	int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	int code = sig ? 128 + sig : WEXITSTATUS(status);
	char finished[48];
	jsonlog_time(finished, sizeof finished);
	int len = snprintf(json, size, "{\"exitCode\":%d,\"signal\":%d,\"oomKilled\":%s,\"finishedAt\":\"%s\"}", code, sig,
			   oom_killed(oom_file) ? "true" : "false", finished);
	char tmp[4096], path[4096];
	snprintf(tmp, sizeof tmp, "%s/exit.tmp", dir);
	snprintf(path, sizeof path, "%s/exit", dir);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	bool ok = write(fd, json, (size_t)len) == len && fsync(fd) == 0;
	close(fd);
	if (!ok || rename(tmp, path) < 0) {
		unlink(tmp);
		return -1;
	}
	return len;
}

/* Its own session, stdio on /dev/null, no fd of the monitor: the engine's cleanup outlives us. */
void monitor_exit_command(const char *path, const char **argv)
{
	if (!path)
		return;
	pid_t pid = fork();
	if (pid != 0)
		return;
	setsid();
	int null = open("/dev/null", O_RDWR);
	for (int fd = 0; null >= 0 && fd <= 2; fd++)
		dup2(null, fd);
	close_range(3, ~0U, 0);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	execv(path, (char *const *)argv);
	_exit(127);
}

/* Overlay is one mount; a few more attempts cover a bind stacked on it. MNT_DETACH: never blocks. */
#define UNMOUNT_MAX 4

void monitor_unmount(const char *path)
{
	if (host_unmount(path, UNMOUNT_MAX) < 0)
		fprintf(stderr, "skiff-shim monitor: umount2 `%s`: %s (%s)\n", path,
			strerrorname_np(errno) ? strerrorname_np(errno) : "E?", strerror(errno));
}
