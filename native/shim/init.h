/* The container's init: waits for "go", performs the plan's steps in order, and execs. */
#ifndef SKIFF_INIT_H
#define SKIFF_INIT_H

#include <stdnoreturn.h>

#include "plan.h"

struct init_ctx {
	const struct plan *plan;
	int rootfd; /* the rootfs mount, where ctr paths resolve (also after the pivot); -1 before `rootfs` */
	int fifofd; /* the exec fifo, O_RDONLY|O_NONBLOCK */
	char **envp;
	size_t nenv;
};

/* Runs in the child of clone3; `gofd` is the read end of the intermediate's "go" pipe. */
noreturn void init_main(const struct plan *plan, int gofd, int fifofd);

#endif
