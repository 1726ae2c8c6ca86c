/* Messages to the engine: one JSON object per line on the sync fd (PLAN.md, "Messages"). */
#ifndef SKIFF_REPORT_H
#define SKIFF_REPORT_H

#include <sys/types.h>

/* Messages go to this fd; before it is known (bad command line) errors go to stderr. */
void report_set_fd(int fd);
int report_fd(void);
/* Closes the sync fd: after `created` only the engine may hold it. */
void report_close(void);

/*
 * The step being performed, named in a failure: the record's op and its 0-based index in the plan
 * (-1 when the failure belongs to no record, e.g. the command line).
 */
void report_step(const char *step, int index);

/*
 * Records the failure of this process, where it happens: the errno, the failing call and the object
 * (a path, usually). Returns -1 so that callers can `return fail(...)`. The first failure wins; it is
 * printed once, at the top, by report_failure().
 */
int fail(int err, const char *syscall, const char *path);
/* As fail(), with a sentence that explains more than the errno can. */
int failf(int err, const char *syscall, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Drops a recorded, unreported failure: for work whose failure has a fallback (seccomp-cache.c). */
void report_forget_failure(void);
/* Writes the recorded failure as an `error` message (once). */
void report_failure(void);

int report_pid(pid_t pid);
int report_created(void);
/*
 * The monitor (monitor.c) learns of `created` too: report_created() writes a byte to this fd (inherited
 * by the init) and closes it, so that an init that fails before it is created is no exit to record.
 */
void report_set_created_fd(int fd);
int report_sync(const char *name);

#endif
