/*
 * Capabilities: the bounding set is cut before `user`, PR_SET_KEEPCAPS keeps the permitted set across
 * its setresuid, then capset() sets effective, permitted and inheritable and the ambient set is raised
 * (runc's finalizeNamespace). Capabilities this kernel does not know (above cap_last_cap) and ones this
 * process does not hold (this host's root has no CAP_SYS_RESOURCE) are skipped, as runc skips them:
 * nobody can raise what they do not have, and asking for it must not make the container fail.
 */
#include "caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "report.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

/* The highest capability this kernel knows: PR_CAPBSET_READ says EINVAL past it (no /proc needed). */
static int last_cap(void)
{
	int cap = 0;
	while (cap < 63 && prctl(PR_CAPBSET_READ, cap + 1, 0, 0, 0) >= 0)
		cap++;
	return cap;
}

static uint64_t known_mask(void)
{
	int last = last_cap();
	return last >= 63 ? UINT64_MAX : (UINT64_C(1) << (last + 1)) - 1;
}

static void cap_name(char *out, size_t size, int cap)
{
	snprintf(out, size, "capability %d", cap);
}

int step_bounding(struct init_ctx *ctx, const struct record *r)
{
	(void)ctx;
	uint64_t keep = r->num[0];
	int last = last_cap();
	for (int cap = 0; cap <= last; cap++) {
		if (keep & (UINT64_C(1) << cap))
			continue;
		/* Already out of the bounding set (CAP_SYS_RESOURCE here): nothing to drop. */
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			char name[32];
			cap_name(name, sizeof name, cap);
			return failf(errno, "prctl", name, "PR_CAPBSET_DROP of %s", name);
		}
	}
	return 0;
}

int step_keep_caps(struct init_ctx *ctx, const struct record *r)
{
	(void)ctx;
	(void)r;
	return prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ? fail(errno, "prctl", "PR_SET_KEEPCAPS") : 0;
}

static int get_caps(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	return (int)syscall(SYS_capget, &header, data);
}

static uint64_t join(uint32_t low, uint32_t high)
{
	return (uint64_t)high << 32 | low;
}

static int raise_ambient(uint64_t ambient)
{
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && ambient)
		return fail(errno, "prctl", "PR_CAP_AMBIENT_CLEAR_ALL");
	for (int cap = 0; cap < 64; cap++) {
		if (!(ambient & (UINT64_C(1) << cap)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) {
			char name[32];
			cap_name(name, sizeof name, cap);
			return failf(errno, "prctl", name, "PR_CAP_AMBIENT_RAISE of %s", name);
		}
	}
	return 0;
}

int step_caps(struct init_ctx *ctx, const struct record *r)
{
	(void)ctx;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return fail(errno, "prctl", "PR_SET_KEEPCAPS");
	struct __user_cap_data_struct cur[2];
	if (get_caps(cur) < 0)
		return fail(errno, "capget", "");
	uint64_t held = join(cur[0].permitted, cur[1].permitted) & known_mask();
	uint64_t inheritable_ok = (held | join(cur[0].inheritable, cur[1].inheritable)) & known_mask();
	uint64_t permitted = r->num[1] & held;
	uint64_t effective = r->num[0] & held;
	uint64_t inheritable = r->num[2] & inheritable_ok;
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2] = {
		{ .effective = (uint32_t)effective, .permitted = (uint32_t)permitted, .inheritable = (uint32_t)inheritable },
		{ .effective = (uint32_t)(effective >> 32),
		  .permitted = (uint32_t)(permitted >> 32),
		  .inheritable = (uint32_t)(inheritable >> 32) },
	};
	if (syscall(SYS_capset, &header, data) < 0)
		return failf(errno, "capset", "", "effective %#llx permitted %#llx inheritable %#llx",
			     (unsigned long long)effective, (unsigned long long)permitted,
			     (unsigned long long)inheritable);
	/* An ambient capability must be permitted and inheritable; others cannot be raised (runc skips them). */
	return raise_ambient(r->num[3] & permitted & inheritable);
}

int step_no_new_privs(struct init_ctx *ctx, const struct record *r)
{
	(void)ctx;
	(void)r;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? fail(errno, "prctl", "PR_SET_NO_NEW_PRIVS") : 0;
}
