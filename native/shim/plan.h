/* The plan file (PLAN.md, "Encoding"): records `op\0argc\0arg…\0`, parsed and checked up front. */
#ifndef SKIFF_PLAN_H
#define SKIFF_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum op {
	/* set-up records */
	OP_VERSION,
	OP_CGROUP,
	OP_JOIN,
	OP_CLONE,
	OP_TIMENS,
	OP_UIDMAP,
	OP_GIDMAP,
	OP_SETGROUPS,
	OP_FIFO,
	OP_PRESERVE_FDS,
	OP_CONSOLE_SOCKET,
	OP_CONSOLE_RELAY,
	OP_SECCOMP_CACHE,
	OP_HOST_MOUNT, /* rootfs-mounts.c */
	/* init steps */
	OP_BECOME_ROOT,
	OP_OOM_SCORE_ADJ,
	OP_HOSTNAME,
	OP_DOMAINNAME,
	OP_PROPAGATION,
	OP_ROOTFS,
	OP_MOUNT,
	OP_REMOUNT,
	OP_PROPAGATE,
	OP_MKNOD,
	OP_SYMLINK,
	OP_MASK,
	OP_READONLY,
	OP_SYSCTL,
	OP_REMOUNT_ROOT,
	OP_PIVOT,
	OP_RLIMIT,
	OP_USER,
	OP_UMASK,
	OP_CWD,
	OP_ENV,
	OP_SYNC,
	OP_HOOK_STATE,
	OP_HOOK,
	OP_IOPRIO,
	OP_SCHED,
	OP_PERSONALITY,
	OP_EXEC,
	/* security steps (caps.c, seccomp.c, lsm.c) */
	OP_BOUNDING,
	OP_KEEP_CAPS,
	OP_CAPS,
	OP_NO_NEW_PRIVS,
	OP_SECCOMP,
	OP_SECCOMP_ARCH,
	OP_SECCOMP_RULE,
	OP_SECCOMP_LOAD,
	OP_SECCOMP_LISTENER,
	OP_APPARMOR,
	OP_SELINUX_LABEL,
	OP_SELINUX_MOUNT_LABEL,
	OP_TERMINAL,
	OP_REAPER,
	OP_MKDIR_CWD, /* rootfs.c */
};

enum create_kind { CREATE_NONE, CREATE_DIR, CREATE_FILE };
enum pivot_mode { PIVOT_ROOT, PIVOT_MOVE };
/* What the shim was asked to do: `create` a container's init, or `exec` a process into one. */
enum plan_mode { PLAN_CREATE, PLAN_EXEC };

#define PLAN_MAX_ARGS 7

struct record {
	enum op op;
	const char *name; /* the op as written in the plan */
	int index;        /* 0-based position in the plan; 0 is `version` */
	int argc;
	char **argv; /* point into the plan buffer */
	/* Numeric arguments, parsed and range-checked, at their argument position. */
	uint64_t num[PLAN_MAX_ARGS];
	/* Arguments that are names of a closed set, checked at parse time. */
	int ns_flag;              /* join: CLONE_NEW* */
	enum create_kind create;  /* mount */
	enum pivot_mode pivot;    /* pivot */
	gid_t *gids;              /* user: additional gids */
	size_t ngids;
};

struct plan {
	const char *file;
	char *buf;
	struct record *records;
	size_t nrecords;
	/* Set-up singletons (NULL when absent). */
	const struct record *clone, *timens, *uidmap, *gidmap, *setgroups, *fifo, *preserve;
	const struct record *console; /* console-socket */
	const struct record *relay;   /* console-relay */
	const struct record *seccomp_cache;
	enum plan_mode mode;
	uint64_t clone_flags;
	unsigned int preserve_fds;
	size_t nenv;
};

/* Reads and checks the whole plan; on error the failure names the record. */
int plan_load(const char *file, struct plan *plan, enum plan_mode mode);
void plan_free(struct plan *plan);
bool op_is_step(enum op op);

#endif
