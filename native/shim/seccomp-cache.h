/*
 * Compiled seccomp filters (PLAN.md, "Security records", `seccomp-cache`): the shim compiles each
 * filter of the plan to BPF before the init is cloned (the init, a clone, finds the program in its
 * memory), through a cache of compiled filters when the plan names one.
 */
#ifndef SKIFF_SECCOMP_CACHE_H
#define SKIFF_SECCOMP_CACHE_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan.h"

/* One filter of the plan, from its `seccomp` record (`first`) to its `seccomp-load` (`load`). */
struct seccomp_program {
	int first, load;      /* record indexes */
	uint64_t flags;       /* the `seccomp` record's SECCOMP_FILTER_FLAG_* bits */
	bool notify;          /* a `notify` action is in it: the load asks for a listener fd */
	struct sock_filter *insns;
	size_t ninsns;
};

/*
 * In the shim, before the fork: compiles every filter of the plan (reading and writing the cache).
 * Never fails: a filter that cannot be compiled here is built by the init's steps, as without cache.
 */
void seccomp_prepare(const struct plan *plan);
/* The compiled filter whose `seccomp` record has this index, or NULL. */
const struct seccomp_program *seccomp_program_at(int first);
/* Loads it into this thread; returns the listener fd (notify), 0, or -1 after fail(). */
int seccomp_program_load(const struct seccomp_program *p);
void seccomp_programs_free(void);

#endif
