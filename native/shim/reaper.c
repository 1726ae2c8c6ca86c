/*
 * `reaper`: the init forks; the child goes on with the steps (the `exec`), the init stays PID 1 of the
 * container as tini / docker-init: it reaps every process that ends up its child, forwards the
 * signals a user sends to the program, and exits as the program did (code, or 128 + signal).
 */
#include "reaper.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report.h"

static const int forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH };

static noreturn void reap_until(pid_t program, const sigset_t *waited)
{
	for (;;) {
		siginfo_t info;
		int sig = sigwaitinfo(waited, &info);
		if (sig < 0)
			continue; /* EINTR */
		if (sig != SIGCHLD) {
			kill(program, sig);
			continue;
		}
		int status;
		pid_t pid;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			if (pid == program)
				_exit(WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status));
	}
}

int step_reaper(struct init_ctx *ctx, const struct record *r)
{
	(void)r;
	/*
	 * Blocked, the signals are queued even for a PID 1 without handlers (the kernel drops only
	 * unblocked signals that PID 1 takes by default) and sigwaitinfo takes them one by one.
	 */
	sigset_t waited, old;
	sigemptyset(&waited);
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
		sigaddset(&waited, forwarded[i]);
	sigaddset(&waited, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &waited, &old) < 0)
		return fail(errno, "sigprocmask", "reaper");
	pid_t program = fork();
	if (program < 0)
		return fail(errno, "fork", "reaper");
	if (program == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return 0; /* the program's side: on to `exec` */
	}
	/* The program reports `created` and waits for the start; the reaper holds nothing of that. */
	report_close();
	if (ctx->fifofd >= 0)
		close(ctx->fifofd);
	close_range(3, ~0U, 0);
	reap_until(program, &waited);
}
