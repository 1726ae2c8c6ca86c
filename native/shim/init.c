/* The container's init: released by the intermediate, it performs the steps in record order. */
#include "init.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caps.h"
#include "hooks.h"
#include "lsm.h"
#include "namespaces.h"
#include "process.h"
#include "reaper.h"
#include "report.h"
#include "rootfs.h"
#include "sched.h"
#include "seccomp.h"
#include "terminal.h"

typedef int (*step_fn)(struct init_ctx *ctx, const struct record *r);

static const step_fn steps[] = {
	[OP_BECOME_ROOT] = step_become_root,
	[OP_OOM_SCORE_ADJ] = step_oom_score_adj,
	[OP_HOSTNAME] = step_hostname,
	[OP_DOMAINNAME] = step_domainname,
	[OP_PROPAGATION] = step_propagation,
	[OP_ROOTFS] = step_rootfs,
	[OP_MOUNT] = step_mount,
	[OP_REMOUNT] = step_remount,
	[OP_PROPAGATE] = step_propagate,
	[OP_MKNOD] = step_mknod,
	[OP_SYMLINK] = step_symlink,
	[OP_MASK] = step_mask,
	[OP_READONLY] = step_readonly,
	[OP_SYSCTL] = step_sysctl,
	[OP_REMOUNT_ROOT] = step_remount_root,
	[OP_PIVOT] = step_pivot,
	[OP_RLIMIT] = step_rlimit,
	[OP_USER] = step_user,
	[OP_UMASK] = step_umask,
	[OP_CWD] = step_cwd,
	[OP_ENV] = step_env,
	[OP_SYNC] = step_sync,
	[OP_HOOK_STATE] = step_hook_state,
	[OP_HOOK] = step_hook,
	[OP_IOPRIO] = step_ioprio,
	[OP_SCHED] = step_sched,
	[OP_PERSONALITY] = step_personality,
	[OP_EXEC] = step_exec,
	[OP_BOUNDING] = step_bounding,
	[OP_KEEP_CAPS] = step_keep_caps,
	[OP_CAPS] = step_caps,
	[OP_NO_NEW_PRIVS] = step_no_new_privs,
	[OP_SECCOMP] = step_seccomp,
	[OP_SECCOMP_ARCH] = step_seccomp_arch,
	[OP_SECCOMP_RULE] = step_seccomp_rule,
	[OP_SECCOMP_LOAD] = step_seccomp_load,
	[OP_SECCOMP_LISTENER] = step_seccomp_listener,
	[OP_APPARMOR] = step_apparmor,
	[OP_SELINUX_LABEL] = step_selinux_label,
	[OP_SELINUX_MOUNT_LABEL] = step_selinux_mount_label,
	[OP_TERMINAL] = step_terminal,
	[OP_REAPER] = step_reaper,
	[OP_MKDIR_CWD] = step_mkdir_cwd,
};

/*
 * Nothing may happen before the intermediate has written the id maps (a new user namespace has no
 * uid 0 until then). EOF means the intermediate failed, and has said why.
 */
static void wait_for_go(int gofd)
{
	char go[2];
	ssize_t n;
	do
		n = read(gofd, go, sizeof go);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof go || go[0] != 'g' || go[1] != 'o')
		_exit(1);
	close(gofd);
}

noreturn void init_main(const struct plan *plan, int gofd, int fifofd)
{
	wait_for_go(gofd);
	if (cgroupns_deferred && unshare(CLONE_NEWCGROUP) < 0) {
		report_step("clone", plan->clone ? plan->clone->index : -1);
		fail(errno, "unshare", "cgroup namespace");
		report_failure();
		_exit(1);
	}
	struct init_ctx ctx = { .plan = plan, .rootfd = -1, .fifofd = fifofd };
	ctx.envp = calloc(plan->nenv + 1, sizeof *ctx.envp);
	if (!ctx.envp) {
		report_step("env", -1);
		fail(ENOMEM, "calloc", "");
		report_failure();
		_exit(1);
	}
	/* Modes in the plan (mknod, created directories) are meant exactly; `umask` sets the container's. */
	umask(0);
	for (size_t i = 0; i < plan->nrecords; i++) {
		const struct record *r = &plan->records[i];
		if (!op_is_step(r->op))
			continue;
		report_step(r->name, r->index);
		if (steps[r->op](&ctx, r) < 0) {
			report_failure();
			_exit(1);
		}
	}
	/* check_order() guarantees an `exec`, and step_exec returns only on failure. */
	_exit(1);
}
