/*
 * skiff-shim: performs a plan compiled by the engine (native/PLAN.md). This file is the parent: the
 * command line, the exec fifo, the fork of the intermediate, and in --foreground the subreaper that
 * forwards signals to the init and exits with its status.
 */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cloned-binary.h"
#include "intermediate.h"
#include "monitor.h"
#include "plan.h"
#include "report.h"
#include "relay.h"
#include "rootfs-mounts.h"
#include "seccomp-cache.h"
#include "terminal.h"

#define SHIM_VERSION "0.1.0"

struct options {
	const char *plan;
	int sync_fd;
	bool foreground;
	enum plan_mode mode;
	struct monitor_options monitor; /* .dir set: the monitor role (monitor.h) */
};

static const int forwarded_signals[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH };

static noreturn void usage(const char *why)
{
	fprintf(stderr, "skiff-shim: %s\nusage: skiff-shim create|exec --plan FILE --sync-fd N [--foreground]\n"
			"       skiff-shim create --plan FILE --sync-fd N --monitor DIR [--log FILE] [--log-max-size BYTES]\n"
			"              [--log-max-files N] [--stdin] [--oom-file PATH] [--unmount PATH]\n"
			"              [--exit-command PATH [--exit-command-arg ARG]...]\n"
			"              [--timer MS [--timer-start-interval MS --timer-start-period MS]\n"
			"               --timer-command PATH [--timer-command-arg ARG]...]\n"
			"       skiff-shim --version\n",
		why);
	exit(2);
}

static void print_version(void)
{
	const struct scmp_version *v = seccomp_version();
	printf("skiff-shim %s (plan version 1, libseccomp %u.%u.%u)\n", SHIM_VERSION, v ? v->major : 0,
	       v ? v->minor : 0, v ? v->micro : 0);
}

static int parse_fd(const char *s)
{
	char *end;
	errno = 0;
	long fd = strtol(s, &end, 10);
	if (errno || !*s || *end || fd < 0 || fd > 1 << 20)
		usage("--sync-fd takes an fd number");
	return (int)fd;
}

static unsigned long long parse_number(const char *s, const char *option)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);
	if (errno || !*s || *end || *s == '-') {
		fprintf(stderr, "skiff-shim: %s takes a number, not `%s`\n", option, s);
		exit(2);
	}
	return n;
}

/* The monitor's --timer options (monitor-timer.c); false when argv[*i] is none of them. */
static bool parse_timer_arg(struct monitor_options *m, int argc, char **argv, int *i)
{
	static const char **timer_args;
	static size_t ntimer_args = 1;
	const char *a = argv[*i];
	bool has_value = *i + 1 < argc;
	if (!timer_args) {
		timer_args = calloc((size_t)argc + 1, sizeof *timer_args);
		if (!timer_args)
			usage("out of memory");
		m->timer.args = timer_args;
	}
	if (strcmp(a, "--timer") == 0 && has_value)
		m->timer.interval_ms = parse_number(argv[++*i], a);
	else if (strcmp(a, "--timer-start-interval") == 0 && has_value)
		m->timer.start_interval_ms = parse_number(argv[++*i], a);
	else if (strcmp(a, "--timer-start-period") == 0 && has_value)
		m->timer.start_period_ms = parse_number(argv[++*i], a);
	else if (strcmp(a, "--timer-command") == 0 && has_value)
		timer_args[0] = m->timer.command = argv[++*i];
	else if (strcmp(a, "--timer-command-arg") == 0 && has_value)
		timer_args[ntimer_args++] = argv[++*i];
	else
		return false;
	return true;
}

/* The monitor's options (monitor.h); false when argv[*i] is none of them. */
static bool parse_monitor_arg(struct options *o, int argc, char **argv, int *i)
{
	static const char **exit_args;
	static size_t nexit_args;
	struct monitor_options *m = &o->monitor;
	const char *a = argv[*i];
	bool has_value = *i + 1 < argc;
	if (!exit_args) {
		/* At most every argument is an exit-command argument: one array, sized once. */
		exit_args = calloc((size_t)argc + 1, sizeof *exit_args);
		if (!exit_args)
			usage("out of memory");
		m->exit_args = exit_args;
	}
	if (strcmp(a, "--monitor") == 0 && has_value)
		m->dir = argv[++*i];
	else if (strcmp(a, "--log") == 0 && has_value)
		m->log = argv[++*i];
	else if (strcmp(a, "--log-max-size") == 0 && has_value)
		m->log_max_size = parse_number(argv[++*i], a);
	else if (strcmp(a, "--log-max-files") == 0 && has_value)
		m->log_max_files = (unsigned int)parse_number(argv[++*i], a);
	else if (strcmp(a, "--stdin") == 0)
		m->stdin_pipe = true;
	else if (strcmp(a, "--oom-file") == 0 && has_value)
		m->oom_file = argv[++*i];
	else if (strcmp(a, "--unmount") == 0 && has_value)
		m->unmount = argv[++*i];
	else if (strcmp(a, "--exit-command") == 0 && has_value) {
		m->exit_command = argv[++*i];
		exit_args[0] = m->exit_command;
		nexit_args = nexit_args ? nexit_args : 1;
	} else if (strcmp(a, "--exit-command-arg") == 0 && has_value) {
		nexit_args = nexit_args ? nexit_args : 1;
		exit_args[nexit_args++] = argv[++*i];
	} else
		return parse_timer_arg(m, argc, argv, i);
	return true;
}

static struct options parse_args(int argc, char **argv)
{
	struct options o = { .sync_fd = -1 };
	if (argc >= 2 && strcmp(argv[1], "exec") == 0)
		o.mode = PLAN_EXEC;
	else if (argc < 2 || strcmp(argv[1], "create") != 0)
		usage("the commands are `create` and `exec`");
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--plan") == 0 && i + 1 < argc)
			o.plan = argv[++i];
		else if (strcmp(argv[i], "--sync-fd") == 0 && i + 1 < argc)
			o.sync_fd = parse_fd(argv[++i]);
		else if (strcmp(argv[i], "--foreground") == 0)
			o.foreground = true;
		else if (!parse_monitor_arg(&o, argc, argv, &i))
			usage("unknown or incomplete option");
	}
	if (o.monitor.exit_command == NULL && o.monitor.exit_args)
		o.monitor.exit_args[0] = NULL;
	if ((o.monitor.log || o.monitor.stdin_pipe || o.monitor.oom_file || o.monitor.exit_command ||
	     o.monitor.log_max_size || o.monitor.log_max_files || o.monitor.unmount) &&
	    !o.monitor.dir)
		usage("--log, --stdin, --oom-file, --unmount and --exit-command need --monitor");
	if (o.monitor.dir && (o.foreground || o.mode != PLAN_CREATE))
		usage("--monitor is for `create` and excludes --foreground (it stays in the foreground itself)");
	if (o.monitor.exit_args && o.monitor.exit_args[1] && !o.monitor.exit_command)
		usage("--exit-command-arg needs --exit-command");
	if ((o.monitor.timer.interval_ms || o.monitor.timer.command) && !o.monitor.dir)
		usage("--timer and --timer-command need --monitor");
	if (!o.monitor.timer.interval_ms != !o.monitor.timer.command)
		usage("--timer and --timer-command go together (--timer takes milliseconds > 0)");
	if (o.monitor.timer.args && o.monitor.timer.args[1] && !o.monitor.timer.command)
		usage("--timer-command-arg needs --timer-command");
	if (!o.plan || o.sync_fd < 0)
		usage("--plan and --sync-fd are required");
	if (o.sync_fd <= STDERR_FILENO)
		usage("--sync-fd must not be a standard stream");
	/* The container must not inherit the engine's end of the protocol. */
	if (fcntl(o.sync_fd, F_SETFD, FD_CLOEXEC) < 0) {
		fprintf(stderr, "skiff-shim: --sync-fd %d: %s\n", o.sync_fd, strerror(errno));
		exit(1);
	}
	return o;
}

/* Preserved fds must exist now: otherwise an fd the shim opens could take the number and leak in. */
static int check_preserved_fds(const struct plan *plan)
{
	if (plan->preserve)
		report_step(plan->preserve->name, plan->preserve->index);
	for (unsigned int fd = 3; fd < 3 + plan->preserve_fds; fd++) {
		if (fcntl((int)fd, F_GETFD) < 0) {
			char shown[32];
			snprintf(shown, sizeof shown, "fd %u", fd);
			return fail(errno, "fcntl", shown);
		}
	}
	return 0;
}

/* Made by the shim, opened before the init exists, so that `start` can never write into nothing. */
static int open_fifo(const struct plan *plan)
{
	const char *path = plan->fifo->argv[0];
	report_step(plan->fifo->name, plan->fifo->index);
	if (mkfifo(path, 0600) < 0 && errno != EEXIST)
		return fail(errno, "mkfifo", path);
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return fail(errno, "open", path);
	struct stat st;
	int rc = fd;
	if (fstat(fd, &st) < 0)
		rc = fail(errno, "fstat", path);
	else if (!S_ISFIFO(st.st_mode))
		rc = failf(EEXIST, "mkfifo", path, "exists and is not a fifo");
	if (rc < 0)
		close(fd);
	return rc;
}

/* The intermediate reports its own failures; one killed by a signal (a crash) could not. */
static int intermediate_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status) == 0 ? 0 : 1;
	report_step("intermediate", -1);
	failf(EINTR, "waitpid", "", "the intermediate process was killed by signal %d (%s)", WTERMSIG(status),
	      strsignal(WTERMSIG(status)));
	report_failure();
	return 1;
}

static int wait_intermediate(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	return intermediate_status(status);
}


static int exit_code(int status)
{
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

/*
 * --foreground: the shim stays the init's parent (a subreaper gets it when the intermediate exits),
 * forwards signals to it, reaps whatever is reparented here, and exits as the container did.
 */
static int foreground(pid_t intermediate, int pid_r, const sigset_t *waited)
{
	pid_t init = intermediate_read_init_pid(pid_r);
	if (init == 0) {
		int rc = wait_intermediate(intermediate);
		return rc ? rc : 1;
	}
	for (;;) {
		int sig = relay_active() ? relay_next_signal(waited) : sigwaitinfo(waited, NULL);
		if (sig < 0)
			continue; /* EINTR only: every signal we take is in `waited` */
		if (sig != SIGCHLD) {
			kill(init, sig);
			continue;
		}
		int status;
		pid_t pid;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid == intermediate) {
				if (intermediate_status(status) != 0)
					return 1;
				/* Its work is done: the engine must see EOF on the sync socket once the init has. */
				report_close();
			} else if (pid == init) {
				relay_finish();
				return exit_code(status);
			}
		}
	}
}

static void block_signals(sigset_t *waited, sigset_t *old)
{
	sigemptyset(waited);
	for (size_t i = 0; i < sizeof forwarded_signals / sizeof forwarded_signals[0]; i++)
		sigaddset(waited, forwarded_signals[i]);
	sigaddset(waited, SIGCHLD);
	sigprocmask(SIG_BLOCK, waited, old);
}

static int launch(const struct options *o, struct plan *plan, int fifofd);

static int create(const struct options *o, struct plan *plan)
{
	if (plan_load(o->plan, plan, o->mode) < 0 || check_preserved_fds(plan) < 0)
		return report_failure(), 1;
	/* exec: the process runs at once, there is no fifo (plan_load made sure of it). */
	int fifofd = plan->fifo ? open_fifo(plan) : -1;
	if (plan->fifo && fifofd < 0)
		return report_failure(), 1;
	if (terminal_connect(plan) < 0)
		return report_failure(), 1;
	if (plan->relay && !o->foreground && !o->monitor.dir) {
		report_step(plan->relay->name, plan->relay->index);
		return failf(EINVAL, "parse", o->plan, "`console-relay` needs --foreground: the shim relays the terminal"),
		       report_failure(), 1;
	}
	if (relay_prepare(plan) < 0)
		return report_failure(), 1;
	/* Before the fork: the init, a clone, finds the compiled filters in its memory. */
	seccomp_prepare(plan);
	if (host_mounts_planned(plan) && !o->monitor.dir) {
		report_step("host-mount", -1);
		return failf(EINVAL, "parse", o->plan, "`host-mount` needs --monitor: it unmounts them when the create fails"),
		       report_failure(), 1;
	}
	/* In the host's mount namespace, before the init exists; a create that fails leaves none. */
	if (host_mounts_perform(plan) < 0)
		return host_mounts_undo(), report_failure(), 1;
	int rc = launch(o, plan, fifofd);
	if (rc != 0)
		host_mounts_undo();
	else
		host_mounts_forget();
	return rc;
}

/* The fork of the intermediate and what the parent is then: monitor, foreground, or nothing. */
static int launch(const struct options *o, struct plan *plan, int fifofd)
{
	report_step("shim", -1);
	sigset_t waited, old;
	sigprocmask(SIG_SETMASK, NULL, &old);
	if (o->monitor.dir && monitor_prepare(&o->monitor, plan, &old) < 0)
		return report_failure(), 1;
	if (o->foreground) {
		/* Blocked before the fork, so that no signal or child exit slips by before sigwaitinfo. */
		block_signals(&waited, &old);
		if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
			return fail(errno, "prctl", "PR_SET_CHILD_SUBREAPER"), report_failure(), 1;
	}
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return fail(errno, "pipe2", ""), report_failure(), 1;
	pid_t child = fork();
	if (child < 0)
		return fail(errno, "fork", ""), report_failure(), 1;
	if (child == 0) {
		close(pipefd[0]);
		if (o->monitor.dir)
			monitor_child_stdio();
		struct intermediate_args args = { .plan = plan, .fifofd = fifofd, .pidfd_w = pipefd[1], .parent_mask = old };
		intermediate_main(&args);
	}
	close(pipefd[1]);
	terminal_forget(); /* the init sends the master; the caller must see EOF when it is done */
	if (fifofd >= 0)
		close(fifofd); /* only the init may hold the read end, so that `start` fails when it is gone */
	if (o->monitor.dir)
		return monitor_run(child, pipefd[0], plan);
	if (o->foreground)
		return foreground(child, pipefd[0], &waited);
	/* Open until the intermediate is gone: its pid write must not die of SIGPIPE. */
	int rc = wait_intermediate(child);
	close(pipefd[0]);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		print_version();
		return 0;
	}
	/* Before anything else, and before parse_args() makes the sync fd close-on-exec. */
	if (ensure_cloned_binary(argv) < 0)
		return 1;
	struct options o = parse_args(argc, argv);
	report_set_fd(o.sync_fd);
	struct plan plan;
	int rc = create(&o, &plan);
	plan_free(&plan); /* the parent returns from main: LeakSanitizer checks it */
	seccomp_programs_free();
	return rc;
}
