/*
 * The monitor role of skiff-shim (`create --monitor DIR`, as conmon or containerd-shim): it holds the
 * container's stdio, writes the json-file log, serves the attach socket and records the exit.
 */
#ifndef SKIFF_MONITOR_H
#define SKIFF_MONITOR_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "plan.h"

/* --timer: a command run periodically while the container runs (monitor-timer.c). */
struct monitor_timer {
	uint64_t interval_ms; /* 0: no timer */
	uint64_t start_interval_ms;
	uint64_t start_period_ms;
	const char *command;
	const char **args; /* NULL-terminated, argv[0] first */
};

struct monitor_options {
	const char *dir;
	const char *log;          /* NULL: no log file */
	uint64_t log_max_size;    /* 0: unlimited */
	unsigned int log_max_files; /* >= 1 */
	bool stdin_pipe;
	const char *oom_file;
	const char *unmount; /* unmounted after the exit, before the exit record (--unmount) */
	const char *exit_command;
	const char **exit_args; /* NULL-terminated, argv[0] first */
	struct monitor_timer timer;
};

/*
 * Before the fork, in the shim: own session, the container's stdio, the log file, DIR/attach bound,
 * DIR/monitor.pid. Blocks SIGCHLD (into `old` the mask the intermediate restores). 0 or -1 (fail()).
 */
int monitor_prepare(const struct monitor_options *o, const struct plan *plan, sigset_t *old);
/* In the forked child, before intermediate_main(): the container's stdio on 0, 1, 2. */
void monitor_child_stdio(void);
/* The parent after the fork: the event loop until the container is gone. Returns the shim's status. */
int monitor_run(pid_t intermediate, int pid_r, struct plan *plan);

/* monitor-log.c: Docker's json-file log. */
int jsonlog_open(const char *path, uint64_t max_size, unsigned int max_files);
/* Data of a stream (1 stdout, 2 stderr), line-split and cut at 16 KiB; flush=true at EOF. */
void jsonlog_write(int stream, const char *data, size_t len);
void jsonlog_flush(int stream);
/* Go's RFC3339Nano, UTC, trailing zeros trimmed; buf holds at least 40 bytes. */
void jsonlog_time(char *buf, size_t size);

/* monitor-exit.c: the exit record and the exit command. */
int monitor_write_exit(const char *dir, int status, const char *oom_file, char *json, size_t size);
void monitor_exit_command(const char *path, const char **argv);
/* --unmount: the container's rootfs, once nothing of the container runs; failures only logged. */
void monitor_unmount(const char *path);

/* monitor-timer.c: the periodic command. start: its timerfd (poll it), or -1 (no timer). */
int monitor_timer_start(const struct monitor_timer *t);
/* The timerfd is readable: run the command (unless a run is still going). */
void monitor_timer_fire(void);
/* A child was reaped: true when it was the timer's command (the next run is then scheduled). */
bool monitor_timer_reaped(pid_t pid);
/* The container exited: no more runs (a run in progress finishes on its own). */
void monitor_timer_stop(void);

#endif
