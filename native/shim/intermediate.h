/* The intermediate process: enters cgroups and namespaces, clones the init, and releases it. */
#ifndef SKIFF_INTERMEDIATE_H
#define SKIFF_INTERMEDIATE_H

#include <signal.h>
#include <sys/types.h>
#include <stdnoreturn.h>

#include "plan.h"

struct intermediate_args {
	const struct plan *plan;
	int fifofd;           /* the exec fifo, for the init */
	int pidfd_w;          /* write end of the pipe that gives the parent the init's pid */
	sigset_t parent_mask; /* the mask the shim was started with, for the init to exec with */
};

noreturn void intermediate_main(const struct intermediate_args *args);

/* The init's pid as the intermediate writes it to pidfd_w (closes fd); 0 when it failed before it could clone. */
pid_t intermediate_read_init_pid(int fd);

#endif
