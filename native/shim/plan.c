/* Parses the plan: arity, numbers and closed sets are checked before anything is done. */
#include "plan.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lsm.h"
#include "hooks.h"
#include "report.h"
#include "seccomp.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/*
 * Argument kinds: s string, u unsigned 64-bit, w unsigned 32-bit (ids, modes, device numbers),
 * i signed int; "+" is one or more strings.
 */
struct op_spec {
	const char *name;
	enum op op;
	const char *args;
	bool needs_rootfs; /* acts on ctr paths, so it must follow `rootfs` */
};

static const struct op_spec op_specs[] = {
	{ "version", OP_VERSION, "u", false },
	{ "cgroup", OP_CGROUP, "s", false },
	{ "join", OP_JOIN, "ss", false },
	{ "clone", OP_CLONE, "u", false },
	{ "timens", OP_TIMENS, "s", false },
	{ "uidmap", OP_UIDMAP, "s", false },
	{ "gidmap", OP_GIDMAP, "s", false },
	{ "setgroups", OP_SETGROUPS, "s", false },
	{ "fifo", OP_FIFO, "s", false },
	{ "preserve-fds", OP_PRESERVE_FDS, "w", false },
	{ "console-socket", OP_CONSOLE_SOCKET, "s", false },
	{ "console-relay", OP_CONSOLE_RELAY, "", false },
	{ "seccomp-cache", OP_SECCOMP_CACHE, "s", false },
	{ "host-mount", OP_HOST_MOUNT, "sssuss", false },
	{ "become-root", OP_BECOME_ROOT, "", false },
	{ "oom-score-adj", OP_OOM_SCORE_ADJ, "i", false },
	{ "hostname", OP_HOSTNAME, "s", false },
	{ "domainname", OP_DOMAINNAME, "s", false },
	{ "propagation", OP_PROPAGATION, "u", false },
	{ "rootfs", OP_ROOTFS, "s", false },
	{ "mount", OP_MOUNT, "sssuss", true },
	{ "remount", OP_REMOUNT, "su", true },
	{ "propagate", OP_PROPAGATE, "su", true },
	{ "mknod", OP_MKNOD, "swwwww", true },
	{ "symlink", OP_SYMLINK, "ss", true },
	{ "mask", OP_MASK, "s", true },
	{ "readonly", OP_READONLY, "s", true },
	{ "sysctl", OP_SYSCTL, "ss", true },
	{ "remount-root", OP_REMOUNT_ROOT, "u", true },
	{ "pivot", OP_PIVOT, "s", true },
	{ "rlimit", OP_RLIMIT, "wuu", false },
	{ "user", OP_USER, "wws", false },
	{ "umask", OP_UMASK, "w", false },
	{ "cwd", OP_CWD, "s", false },
	{ "env", OP_ENV, "s", false },
	{ "sync", OP_SYNC, "s", false },
	{ "hook-state", OP_HOOK_STATE, "s", false },
	{ "hook", OP_HOOK, "+", false },
	{ "ioprio", OP_IOPRIO, "ww", false },
	{ "sched", OP_SCHED, "wiwuuuu", false },
	{ "personality", OP_PERSONALITY, "u", false },
	{ "exec", OP_EXEC, "+", false },
	{ "bounding", OP_BOUNDING, "u", false },
	{ "keep-caps", OP_KEEP_CAPS, "", false },
	{ "caps", OP_CAPS, "uuuu", false },
	{ "no-new-privs", OP_NO_NEW_PRIVS, "", false },
	{ "seccomp", OP_SECCOMP, "sww", false },
	{ "seccomp-arch", OP_SECCOMP_ARCH, "s", false },
	{ "seccomp-rule", OP_SECCOMP_RULE, "swss", false },
	{ "seccomp-load", OP_SECCOMP_LOAD, "", false },
	{ "seccomp-listener", OP_SECCOMP_LISTENER, "ssss", false },
	{ "apparmor", OP_APPARMOR, "s", false },
	{ "selinux-label", OP_SELINUX_LABEL, "s", false },
	{ "selinux-mount-label", OP_SELINUX_MOUNT_LABEL, "s", false },
	{ "terminal", OP_TERMINAL, "wwwws", false },
	{ "reaper", OP_REAPER, "", false },
	{ "mkdir-cwd", OP_MKDIR_CWD, "s", true },
};

bool op_is_step(enum op op)
{
	return op >= OP_BECOME_ROOT;
}

static const struct op_spec *find_spec(const char *name)
{
	for (size_t i = 0; i < sizeof op_specs / sizeof op_specs[0]; i++)
		if (strcmp(op_specs[i].name, name) == 0)
			return &op_specs[i];
	return NULL;
}

__attribute__((format(printf, 2, 3))) static int invalid(const struct plan *plan, const char *fmt, ...)
{
	char why[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	return failf(EINVAL, "parse", plan->file, "%s", why);
}

static int read_file(const char *file, char **buf, size_t *len)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(errno, "open", file);
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int err = errno;
		close(fd);
		return fail(err, "fstat", file);
	}
	size_t size = (size_t)st.st_size;
	*buf = malloc(size + 1);
	if (!*buf) {
		close(fd);
		return fail(ENOMEM, "malloc", file);
	}
	size_t got = 0;
	while (got < size) {
		ssize_t n = read(fd, *buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? errno : EIO;
			close(fd);
			return fail(err, "read", file);
		}
		got += (size_t)n;
	}
	close(fd);
	(*buf)[size] = '\0';
	*len = size;
	return 0;
}

/* strtoull accepts "-1" (as ULLONG_MAX) and leading blanks; a plan number is digits only. */
static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	if (!*s || *s == '-' || *s == '+' || *s == ' ' || (*s >= '\t' && *s <= '\r'))
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_int(const char *s, uint64_t *out)
{
	if (!*s || *s == ' ' || (*s >= '\t' && *s <= '\r'))
		return false;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 0);
	if (errno || *end || v < INT_MIN || v > INT_MAX)
		return false;
	*out = (uint64_t)v;
	return true;
}

static int parse_numbers(const struct plan *plan, struct record *r, const char *kinds)
{
	for (int i = 0; i < r->argc && kinds[i]; i++) {
		bool ok = true;
		switch (kinds[i]) {
		case 'u': ok = parse_u64(r->argv[i], UINT64_MAX, &r->num[i]); break;
		case 'w': ok = parse_u64(r->argv[i], UINT32_MAX, &r->num[i]); break;
		case 'i': ok = parse_int(r->argv[i], &r->num[i]); break;
		default: break;
		}
		if (!ok)
			return invalid(plan, "argument `%s` is not a valid number", r->argv[i]);
	}
	return 0;
}

static int ns_flag(const char *type)
{
	static const struct {
		const char *name;
		int flag;
	} types[] = {
		{ "user", CLONE_NEWUSER }, { "mnt", CLONE_NEWNS },      { "pid", CLONE_NEWPID },
		{ "net", CLONE_NEWNET },   { "ipc", CLONE_NEWIPC },     { "uts", CLONE_NEWUTS },
		{ "cgroup", CLONE_NEWCGROUP }, { "time", CLONE_NEWTIME },
	};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcmp(types[i].name, type) == 0)
			return types[i].flag;
	return 0;
}

static int parse_gids(const struct plan *plan, struct record *r, const char *list)
{
	if (!*list)
		return 0;
	size_t n = 1;
	for (const char *p = list; *p; p++)
		n += *p == ',';
	r->gids = calloc(n, sizeof *r->gids);
	if (!r->gids)
		return fail(ENOMEM, "calloc", plan->file);
	char *copy = strdup(list), *save = NULL;
	if (!copy)
		return fail(ENOMEM, "strdup", plan->file);
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint64_t gid;
		if (!parse_u64(tok, UINT32_MAX - 1, &gid)) {
			free(copy);
			return invalid(plan, "additional gids `%s` are not a list of numbers", list);
		}
		r->gids[r->ngids++] = (gid_t)gid;
	}
	free(copy);
	/* strtok_r skips empty fields; "1,,2" or "1," is a malformed list, not fewer groups. */
	if (r->ngids != n)
		return invalid(plan, "additional gids `%s` are not a list of numbers", list);
	return 0;
}

static int set_once(const struct plan *plan, const struct record **slot, const struct record *r)
{
	if (*slot)
		return invalid(plan, "`%s` appears more than once", r->name);
	*slot = r;
	return 0;
}

/* After parsing, when `records` no longer moves: the set-up singletons, each at most once. */
static int collect_setup(struct plan *plan)
{
	for (size_t i = 0; i < plan->nrecords; i++) {
		const struct record *r = &plan->records[i];
		const struct record **slot = NULL;
		switch (r->op) {
		case OP_CLONE: slot = &plan->clone; break;
		case OP_TIMENS: slot = &plan->timens; break;
		case OP_UIDMAP: slot = &plan->uidmap; break;
		case OP_GIDMAP: slot = &plan->gidmap; break;
		case OP_SETGROUPS: slot = &plan->setgroups; break;
		case OP_FIFO: slot = &plan->fifo; break;
		case OP_PRESERVE_FDS: slot = &plan->preserve; break;
		case OP_CONSOLE_SOCKET: slot = &plan->console; break;
		case OP_CONSOLE_RELAY: slot = &plan->relay; break;
		case OP_SECCOMP_CACHE: slot = &plan->seccomp_cache; break;
		default: continue;
		}
		report_step(r->name, r->index);
		if (set_once(plan, slot, r) < 0)
			return -1;
	}
	return 0;
}

/* Checks what one record says, beyond arity and numbers. */
static int check_record(struct plan *plan, struct record *r)
{
	switch (r->op) {
	case OP_VERSION:
		if (r->index != 0 || r->num[0] != 1)
			return invalid(plan, "%s: the plan must start with `version 1`", r->argv[0]);
		return 0;
	case OP_JOIN:
		r->ns_flag = ns_flag(r->argv[0]);
		if (!r->ns_flag)
			return invalid(plan, "unknown namespace type `%s`", r->argv[0]);
		return 0;
	case OP_CLONE:
		if (r->num[0] & CLONE_NEWTIME)
			return invalid(plan, "%s: CLONE_NEWTIME is made by `timens`, not by clone3", r->argv[0]);
		plan->clone_flags = r->num[0];
		return 0;
	case OP_SETGROUPS:
		if (strcmp(r->argv[0], "allow") != 0 && strcmp(r->argv[0], "deny") != 0)
			return invalid(plan, "setgroups must be `allow` or `deny`, not `%s`", r->argv[0]);
		return 0;
	case OP_PRESERVE_FDS:
		if (r->num[0] > 65536)
			return invalid(plan, "%s fds is more than a process can hold", r->argv[0]);
		plan->preserve_fds = (unsigned int)r->num[0];
		return 0;
	case OP_MOUNT: {
		static const char *kinds[] = { [CREATE_NONE] = "none", [CREATE_DIR] = "dir", [CREATE_FILE] = "file" };
		for (int k = CREATE_NONE; k <= CREATE_FILE; k++)
			if (strcmp(r->argv[5], kinds[k]) == 0) {
				r->create = (enum create_kind)k;
				return 0;
			}
		return invalid(plan, "create must be `dir`, `file` or `none`, not `%s`", r->argv[5]);
	}
	case OP_PIVOT:
		if (strcmp(r->argv[0], "pivot_root") == 0)
			r->pivot = PIVOT_ROOT;
		else if (strcmp(r->argv[0], "move") == 0)
			r->pivot = PIVOT_MOVE;
		else
			return invalid(plan, "pivot must be `pivot_root` or `move`, not `%s`", r->argv[0]);
		return 0;
	case OP_TERMINAL:
		if (r->num[0] > 65535 || r->num[1] > 65535)
			return invalid(plan, "terminal size %sx%s does not fit a winsize", r->argv[0], r->argv[1]);
		if (strcmp(r->argv[4], "console") != 0 && strcmp(r->argv[4], "none") != 0)
			return invalid(plan, "terminal must end with `console` or `none`, not `%s`", r->argv[4]);
		return 0;
	case OP_USER: return parse_gids(plan, r, r->argv[2]);
	case OP_ENV: plan->nenv++; return 0;
	case OP_SECCOMP:
	case OP_SECCOMP_ARCH:
	case OP_SECCOMP_RULE:
	case OP_SECCOMP_LISTENER: return seccomp_check_record(r);
	case OP_APPARMOR:
	case OP_SELINUX_LABEL:
	case OP_SELINUX_MOUNT_LABEL: return lsm_check_host(r);
	case OP_HOOK: {
		const char *why = hook_check(r);
		return why ? invalid(plan, "%s", why) : 0;
	}
	case OP_HOOK_STATE:
		if (strcmp(r->argv[0], "create") != 0 && strcmp(r->argv[0], "start") != 0)
			return invalid(plan, "hook-state: when must be `create` or `start`, not `%s`", r->argv[0]);
		return 0;
	case OP_IOPRIO:
		if (r->num[0] < 1 || r->num[0] > 3 || r->num[1] > 7)
			return invalid(plan, "%s", "ioprio: class must be 1-3 and level 0-7");
		return 0;
	default: return 0;
	}
}

/* The next NUL-terminated token, or NULL at the end; a token without its NUL is a truncated plan. */
static char *next_token(const struct plan *plan, size_t len, size_t *pos)
{
	if (*pos >= len)
		return NULL;
	char *tok = plan->buf + *pos;
	char *nul = memchr(tok, '\0', len - *pos);
	if (!nul) {
		invalid(plan, "%s", "the last token does not end with a NUL byte (truncated plan?)");
		return NULL;
	}
	*pos = (size_t)(nul - plan->buf) + 1;
	return tok;
}

static int parse_record(struct plan *plan, size_t len, size_t *pos, struct record *r)
{
	char *op = next_token(plan, len, pos);
	if (!op)
		return -1;
	r->name = op;
	report_step(op, r->index);
	const struct op_spec *spec = find_spec(op);
	if (!spec)
		return invalid(plan, "unknown operation `%s`", op);
	r->op = spec->op;
	r->name = spec->name;

	char *count = next_token(plan, len, pos);
	uint64_t argc;
	if (!count)
		return invalid(plan, "%s", "the record has no argument count");
	if (!parse_u64(count, 1 << 20, &argc))
		return invalid(plan, "argument count `%s` is not a number", count);
	bool variadic = strcmp(spec->args, "+") == 0;
	if (variadic ? argc < 1 : argc != strlen(spec->args)) {
		return invalid(plan, "takes %s%zu argument(s), not %llu", variadic ? "at least " : "",
			       variadic ? (size_t)1 : strlen(spec->args), (unsigned long long)argc);
	}
	r->argc = (int)argc;
	r->argv = calloc(argc + 1, sizeof *r->argv);
	if (!r->argv)
		return fail(ENOMEM, "calloc", plan->file);
	for (uint64_t i = 0; i < argc; i++) {
		r->argv[i] = next_token(plan, len, pos);
		if (!r->argv[i])
			return invalid(plan, "the plan ends inside the record (argument %llu)", (unsigned long long)i + 1);
	}
	if (!variadic && parse_numbers(plan, r, spec->args) < 0)
		return -1;
	return check_record(plan, r);
}

/* Order rules: ctr-path steps need the rootfs; `exec` is the one last step; a fifo is required. */
static int check_order(struct plan *plan)
{
	bool rootfs = false;
	const struct record *exec = NULL;
	if (plan->records[0].op != OP_VERSION) {
		report_step(plan->records[0].name, 0);
		return invalid(plan, "%s", "the plan must start with `version 1`");
	}
	for (size_t i = 0; i < plan->nrecords; i++) {
		const struct record *r = &plan->records[i];
		report_step(r->name, r->index);
		const struct op_spec *spec = find_spec(r->name);
		if (exec && op_is_step(r->op))
			return invalid(plan, "`%s` comes after `exec`", r->name);
		if (spec->needs_rootfs && !rootfs)
			return invalid(plan, "`%s` acts in the rootfs, but no `rootfs` record precedes it", r->name);
		if (r->op == OP_ROOTFS && rootfs)
			return invalid(plan, "%s", "a second `rootfs`");
		rootfs |= r->op == OP_ROOTFS;
		if (r->op == OP_EXEC)
			exec = r;
	}
	report_step("plan", -1);
	if (!exec)
		return invalid(plan, "%s", "the plan has no `exec` record");
	if (plan->mode == PLAN_CREATE && !plan->fifo)
		return invalid(plan, "%s", "the plan has no `fifo` record");
	/* An exec'd process joins a container that runs already: there is no start to wait for. */
	if (plan->mode == PLAN_EXEC && (plan->fifo || plan->clone_flags || plan->uidmap || plan->gidmap || plan->timens))
		return invalid(plan, "%s", "an exec plan joins namespaces: no `fifo`, new namespaces or id maps");
	for (size_t i = 0; plan->mode == PLAN_EXEC && i < plan->nrecords; i++)
		if (plan->records[i].op == OP_HOST_MOUNT)
			return invalid(plan, "%s", "an exec plan mounts nothing on the host: no `host-mount`");
	bool terminal = false;
	for (size_t i = 0; i < plan->nrecords; i++)
		terminal |= plan->records[i].op == OP_TERMINAL;
	if (plan->console && plan->relay)
		return invalid(plan, "%s", "`console-socket` and `console-relay` exclude each other");
	if (terminal != (plan->console || plan->relay))
		return invalid(plan, "%s", "a `terminal` needs a `console-socket` or `console-relay`, and they need it");
	return 0;
}

int plan_load(const char *file, struct plan *plan, enum plan_mode mode)
{
	memset(plan, 0, sizeof *plan);
	plan->mode = mode;
	plan->file = file;
	report_step("plan", -1);
	size_t len = 0, pos = 0, cap = 0;
	if (read_file(file, &plan->buf, &len) < 0)
		return -1;
	while (pos < len) {
		if (plan->nrecords == cap) {
			cap = cap ? cap * 2 : 64;
			struct record *grown = realloc(plan->records, cap * sizeof *grown);
			if (!grown)
				return fail(ENOMEM, "realloc", file);
			plan->records = grown;
		}
		struct record *r = &plan->records[plan->nrecords];
		memset(r, 0, sizeof *r);
		r->index = (int)plan->nrecords;
		plan->nrecords++; /* counted even when it fails, so that plan_free() frees what it holds */
		if (parse_record(plan, len, &pos, r) < 0)
			return -1;
	}
	if (plan->nrecords == 0) {
		report_step("plan", -1);
		return invalid(plan, "%s", "the plan is empty");
	}
	if (collect_setup(plan) < 0)
		return -1;
	return check_order(plan);
}

void plan_free(struct plan *plan)
{
	for (size_t i = 0; i < plan->nrecords; i++) {
		free(plan->records[i].argv);
		free(plan->records[i].gids);
	}
	free(plan->records);
	free(plan->buf);
	memset(plan, 0, sizeof *plan);
}
