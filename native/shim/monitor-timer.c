/*
 * The monitor's timer (`--timer MS --timer-command PATH …`): runs a command periodically while the
 * container runs, as dockerd's health monitor runs the probe (the engine's health check). The delay is
 * counted from the end of one run to the start of the next, so two runs never overlap; during the
 * first `--timer-start-period` ms the delay is `--timer-start-interval` (docker's --health-start-*),
 * and the period's end is never overshot. A one-shot timerfd in the monitor's poll loop; the command
 * runs detached (own session, stdio /dev/null, no fd of the monitor), is reaped by the monitor's
 * SIGCHLD handling, and no new run starts once the container has exited.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "monitor.h"

static const struct monitor_timer *cfg;
static int timer_fd = -1;
static pid_t running;
static uint64_t started_ms;

static uint64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* dockerd's getInterval(): the start interval inside the start period, never past its end. */
static uint64_t next_delay(void)
{
	uint64_t elapsed = monotonic_ms() - started_ms;
	if (cfg->start_period_ms == 0 || elapsed >= cfg->start_period_ms)
		return cfg->interval_ms;
	uint64_t remaining = cfg->start_period_ms - elapsed;
	if (remaining < cfg->interval_ms)
		return remaining;
	return cfg->start_interval_ms ? cfg->start_interval_ms : cfg->interval_ms;
}

static void arm(uint64_t ms)
{
	if (ms == 0)
		ms = 1; /* 0 would disarm the timer */
	struct itimerspec when = { .it_value = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000 } };
	if (timerfd_settime(timer_fd, 0, &when, NULL) < 0)
		fprintf(stderr, "skiff-shim monitor: timerfd_settime: %s\n", strerror(errno));
}

int monitor_timer_start(const struct monitor_timer *t)
{
	if (!t || !t->command || t->interval_ms == 0)
		return -1;
	cfg = t;
	timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (timer_fd < 0) {
		/* The container runs on without its periodic command: only said on the monitor's stderr. */
		fprintf(stderr, "skiff-shim monitor: timerfd_create: %s\n", strerror(errno));
		return -1;
	}
	started_ms = monotonic_ms();
	arm(next_delay());
	return timer_fd;
}

/* Its own session, stdio on /dev/null, no fd of the monitor, default signals: as the exit command. */
static pid_t spawn(void)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
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
	execv(cfg->command, (char *const *)cfg->args);
	_exit(127);
}

void monitor_timer_fire(void)
{
	uint64_t expirations;
	if (timer_fd < 0 || read(timer_fd, &expirations, sizeof expirations) != (ssize_t)sizeof expirations)
		return;
	if (running > 0)
		return; /* cannot happen (armed again only after the reap), but never two at once */
	running = spawn();
	if (running < 0) {
		fprintf(stderr, "skiff-shim monitor: fork for the timer command: %s\n", strerror(errno));
		running = 0;
		arm(next_delay());
	}
}

bool monitor_timer_reaped(pid_t pid)
{
	if (pid <= 0 || pid != running)
		return false;
	running = 0;
	if (timer_fd >= 0)
		arm(next_delay());
	return true;
}

void monitor_timer_stop(void)
{
	if (timer_fd >= 0)
		close(timer_fd);
	timer_fd = -1;
}
