/*
 * process.ioPriority (ioprio_set), process.scheduler (sched_setattr) and linux.personality
 * (personality). The init sets them on itself; execve keeps all three for the program.
 */
#include "sched.h"

#include <errno.h>
#include <linux/sched/types.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "report.h"

#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_CLASS_SHIFT 13

/* `ioprio CLASS LEVEL`: class 1 RT, 2 BE, 3 IDLE (linux/ioprio.h), level 0-7. */
int step_ioprio(struct init_ctx *ctx, const struct record *r)
{
	(void)ctx;
	int value = (int)((r->num[0] << IOPRIO_CLASS_SHIFT) | r->num[1]);
	if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, value) < 0)
		return failf(errno, "ioprio_set", "", "class %llu level %llu", (unsigned long long)r->num[0],
			     (unsigned long long)r->num[1]);
	return 0;
}

/* `sched POLICY NICE PRIORITY FLAGS RUNTIME DEADLINE PERIOD`: one sched_setattr(2) on the init itself. */
int step_sched(struct init_ctx *ctx, const struct record *r)
{
	(void)ctx;
	struct sched_attr attr = {
		.size = sizeof attr,
		.sched_policy = (uint32_t)r->num[0],
		.sched_nice = (int32_t)r->num[1],
		.sched_priority = (uint32_t)r->num[2],
		.sched_flags = r->num[3],
		.sched_runtime = r->num[4],
		.sched_deadline = r->num[5],
		.sched_period = r->num[6],
	};
	if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0)
		return failf(errno, "sched_setattr", "", "policy %u priority %u nice %d", attr.sched_policy,
			     attr.sched_priority, attr.sched_nice);
	return 0;
}

/* `personality PERSONA`: the execution domain (PER_LINUX, PER_LINUX32) with its flags. */
int step_personality(struct init_ctx *ctx, const struct record *r)
{
	(void)ctx;
	if (personality((unsigned long)r->num[0]) < 0)
		return failf(errno, "personality", "", "persona %#llx", (unsigned long long)r->num[0]);
	return 0;
}
