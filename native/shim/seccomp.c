/*
 * The container's seccomp filter, through libseccomp. `seccomp` starts a filter, `seccomp-arch` and
 * `seccomp-rule` add to it, `seccomp-load` loads it; the compiler puts `seccomp-load` where runc loads
 * its filter. A syscall this libseccomp does not know is skipped, as runc skips it.
 *
 * The shim compiles each filter beforehand (seccomp_compile(), for seccomp-cache.c); when the init
 * finds the compiled program, `seccomp-arch` and `seccomp-rule` do nothing and `seccomp-load` loads
 * the program itself. The steps below build the filter only when the shim could not.
 */
#include "seccomp.h"

#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "report.h"
#include "seccomp-cache.h"

#define MAX_CONDITIONS 6

#define FLAG_LOG 2
#define FLAG_SPEC_ALLOW 4
#define FLAG_WAIT_KILLABLE_RECV 32

static scmp_filter_ctx filter;
static bool notify_used; /* the filter has a `notify` action: it needs the agent */
static const struct seccomp_program *program; /* compiled by the shim: `seccomp-load` loads it */

/* The seccomp agent (`seccomp-listener`): its connected socket and what it is told about the container. */
static struct {
	int fd;
	const struct record *record;
	pid_t pid; /* the init's pid on the host, read before the pivot */
} listener = { -1, NULL, 0 };

/* The plan's action names; errno/trace take the record's return value. */
static bool action_of(const char *name, uint32_t ret, uint32_t *out)
{
	if (strcmp(name, "allow") == 0)
		*out = SCMP_ACT_ALLOW;
	else if (strcmp(name, "errno") == 0)
		*out = SCMP_ACT_ERRNO(ret);
	else if (strcmp(name, "kill-thread") == 0)
		*out = SCMP_ACT_KILL_THREAD;
	else if (strcmp(name, "kill-process") == 0)
		*out = SCMP_ACT_KILL_PROCESS;
	else if (strcmp(name, "trap") == 0)
		*out = SCMP_ACT_TRAP;
	else if (strcmp(name, "trace") == 0)
		*out = SCMP_ACT_TRACE(ret);
	else if (strcmp(name, "log") == 0)
		*out = SCMP_ACT_LOG;
	else if (strcmp(name, "notify") == 0)
		*out = SCMP_ACT_NOTIFY;
	else
		return false;
	return true;
}

static bool operator_of(const char *name, enum scmp_compare *out)
{
	static const struct {
		const char *name;
		enum scmp_compare op;
	} ops[] = {
		{ "ne", SCMP_CMP_NE }, { "lt", SCMP_CMP_LT }, { "le", SCMP_CMP_LE },
		{ "eq", SCMP_CMP_EQ }, { "ge", SCMP_CMP_GE }, { "gt", SCMP_CMP_GT },
		{ "masked-eq", SCMP_CMP_MASKED_EQ },
	};
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (strcmp(ops[i].name, name) == 0) {
			*out = ops[i].op;
			return true;
		}
	return false;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	if (!*s || *s == '-')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

/* `index:op:value:valueTwo`, space separated. Returns the count, or -1 when malformed. */
static int parse_conditions(const char *text, struct scmp_arg_cmp conds[MAX_CONDITIONS])
{
	char copy[1024];
	if (snprintf(copy, sizeof copy, "%s", text) >= (int)sizeof copy)
		return -1;
	int n = 0;
	char *save = NULL;
	for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (n == MAX_CONDITIONS)
			return -1;
		char *fields[4], *fsave = NULL;
		int nf = 0;
		for (char *f = strtok_r(tok, ":", &fsave); f && nf < 4; f = strtok_r(NULL, ":", &fsave))
			fields[nf++] = f;
		uint64_t index, a, b;
		enum scmp_compare op;
		if (nf != 4 || strtok_r(NULL, ":", &fsave) || !parse_u64(fields[0], &index) || index > 5 ||
		    !operator_of(fields[1], &op) || !parse_u64(fields[2], &a) || !parse_u64(fields[3], &b))
			return -1;
		conds[n++] = (struct scmp_arg_cmp){ .arg = (unsigned int)index, .op = op, .datum_a = a, .datum_b = b };
	}
	return n;
}

int seccomp_check_record(const struct record *r)
{
	uint32_t action;
	struct scmp_arg_cmp conds[MAX_CONDITIONS];
	switch (r->op) {
	case OP_SECCOMP:
		if (!action_of(r->argv[0], (uint32_t)r->num[1], &action))
			return failf(EINVAL, "parse", r->argv[0], "unknown seccomp action `%s`", r->argv[0]);
		if (r->num[2] & ~(uint64_t)(FLAG_LOG | FLAG_SPEC_ALLOW | FLAG_WAIT_KILLABLE_RECV))
			return failf(EINVAL, "parse", r->argv[2], "unknown seccomp filter flags %s", r->argv[2]);
		return 0;
	case OP_SECCOMP_ARCH:
		if (seccomp_arch_resolve_name(r->argv[0]) == 0)
			return failf(EINVAL, "parse", r->argv[0], "architecture `%s` is unknown to libseccomp",
				     r->argv[0]);
		return 0;
	case OP_SECCOMP_RULE:
		if (!action_of(r->argv[0], (uint32_t)r->num[1], &action))
			return failf(EINVAL, "parse", r->argv[0], "unknown seccomp action `%s`", r->argv[0]);
		if (parse_conditions(r->argv[3], conds) < 0)
			return failf(EINVAL, "parse", r->argv[3], "malformed seccomp conditions `%s`", r->argv[3]);
		return 0;
	case OP_SECCOMP_LISTENER: {
		size_t len = strlen(r->argv[3]);
		if (len < 3 || r->argv[3][0] != '{' || r->argv[3][len - 1] != '}')
			return failf(EINVAL, "parse", r->argv[3], "the state must be a non-empty JSON object");
		if (strlen(r->argv[0]) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return failf(ENAMETOOLONG, "parse", r->argv[0], "listenerPath is too long for a unix socket");
		return 0;
	}
	default: return 0;
	}
}

static int set_attr(enum scmp_filter_attr attr, uint32_t value, const char *what)
{
	int rc = seccomp_attr_set(filter, attr, value);
	return rc < 0 ? failf(-rc, "seccomp_attr_set", what, "libseccomp %u.%u cannot set %s",
			      seccomp_version()->major, seccomp_version()->minor, what)
		      : 0;
}

int step_seccomp(struct init_ctx *ctx, const struct record *r)
{
	(void)ctx;
	uint32_t action;
	action_of(r->argv[0], (uint32_t)r->num[1], &action);
	if (filter || program)
		return failf(EINVAL, "seccomp_init", "", "a second `seccomp` before `seccomp-load`");
	program = seccomp_program_at(r->index);
	if (program) {
		notify_used = program->notify;
		return 0;
	}
	filter = seccomp_init(action);
	notify_used = action == SCMP_ACT_NOTIFY;
	if (!filter)
		return failf(EINVAL, "seccomp_init", r->argv[0], "default action %s", r->argv[0]);
	/* libseccomp would set no_new_privs itself; it is the config's choice (`no-new-privs`), as in runc. */
	if (set_attr(SCMP_FLTATR_CTL_NNP, 0, "no_new_privs off") < 0)
		return -1;
	uint64_t flags = r->num[2];
	if ((flags & FLAG_LOG) && set_attr(SCMP_FLTATR_CTL_LOG, 1, "SECCOMP_FILTER_FLAG_LOG") < 0)
		return -1;
	if ((flags & FLAG_SPEC_ALLOW) && set_attr(SCMP_FLTATR_CTL_SSB, 1, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") < 0)
		return -1;
	if (flags & FLAG_WAIT_KILLABLE_RECV) {
#ifdef SCMP_FLTATR_CTL_WAITKILL
		if (set_attr(SCMP_FLTATR_CTL_WAITKILL, 1, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") < 0)
			return -1;
#else
		return failf(ENOTSUP, "seccomp_attr_set", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
			     "libseccomp %u.%u.%u has no SCMP_FLTATR_CTL_WAITKILL (2.6 or newer needed)",
			     seccomp_version()->major, seccomp_version()->minor, seccomp_version()->micro);
#endif
	}
	return 0;
}

static int need_filter(const struct record *r)
{
	return filter || program ? 0 : failf(EINVAL, r->name, "", "`%s` without a preceding `seccomp`", r->name);
}

int step_seccomp_arch(struct init_ctx *ctx, const struct record *r)
{
	(void)ctx;
	if (need_filter(r) < 0)
		return -1;
	if (program)
		return 0;
	int rc = seccomp_arch_add(filter, seccomp_arch_resolve_name(r->argv[0]));
	/* The native architecture is in every new filter already. */
	return rc < 0 && rc != -EEXIST ? fail(-rc, "seccomp_arch_add", r->argv[0]) : 0;
}

int step_seccomp_rule(struct init_ctx *ctx, const struct record *r)
{
	(void)ctx;
	if (need_filter(r) < 0)
		return -1;
	if (program)
		return 0;
	int nr = seccomp_syscall_resolve_name(r->argv[2]);
	if (nr == __NR_SCMP_ERROR)
		return 0; /* unknown to this libseccomp (a newer syscall): skipped, as runc does */
	uint32_t action;
	action_of(r->argv[0], (uint32_t)r->num[1], &action);
	struct scmp_arg_cmp conds[MAX_CONDITIONS];
	int n = parse_conditions(r->argv[3], conds);
	notify_used |= action == SCMP_ACT_NOTIFY;
	int rc = seccomp_rule_add_array(filter, action, nr, (unsigned int)n, conds);
	if (rc < 0)
		return failf(-rc, "seccomp_rule_add", r->argv[2], "%s %s %s", r->argv[0], r->argv[2], r->argv[3]);
	return 0;
}

int step_seccomp_listener(struct init_ctx *ctx, const struct record *r)
{
	(void)ctx;
	/* Before the pivot /proc is the host's: /proc/self names this process's pid there. */
	char self[32] = "";
	ssize_t n = readlink("/proc/self", self, sizeof self - 1);
	if (n <= 0)
		return fail(errno, "readlink", "/proc/self");
	self[n] = '\0';
	listener.pid = (pid_t)atoi(self);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	snprintf(addr.sun_path, sizeof addr.sun_path, "%s", r->argv[0]);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(errno, "socket", r->argv[0]);
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		int err = errno;
		close(fd);
		return failf(err, "connect", r->argv[0], "the seccomp agent at listenerPath");
	}
	listener.fd = fd;
	listener.record = r;
	return 0;
}

/*
 * runc's message (libcontainer/seccomp): the container process state as JSON, with the listener fd
 * in SCM_RIGHTS; `fds` names it.
 */
static int send_listener_fd(int notify_fd)
{
	const struct record *r = listener.record;
	const char *state = r->argv[3];
	char json[16384];
	int len = snprintf(json, sizeof json,
			   "{\"ociVersion\":\"%s\",\"fds\":[\"seccompFd\"],\"pid\":%d,\"metadata\":%s,"
			   "\"state\":%.*s,\"pid\":%d}}",
			   r->argv[1], listener.pid, r->argv[2], (int)strlen(state) - 1, state, listener.pid);
	if (len < 0 || len >= (int)sizeof json)
		return fail(EMSGSIZE, "sendmsg", r->argv[0]);
	char control[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = json, .iov_len = (size_t)len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &notify_fd, sizeof(int));
	ssize_t sent;
	do
		sent = sendmsg(listener.fd, &msg, MSG_NOSIGNAL);
	while (sent < 0 && errno == EINTR);
	int rc = sent == len ? 0 : fail(sent < 0 ? errno : EIO, "sendmsg", r->argv[0]);
	close(listener.fd);
	listener.fd = -1;
	return rc;
}

int step_seccomp_load(struct init_ctx *ctx, const struct record *r)
{
	(void)ctx;
	if (need_filter(r) < 0)
		return -1;
	if (notify_used && listener.fd < 0)
		return failf(EINVAL, "seccomp_load", "", "SCMP_ACT_NOTIFY without a `seccomp-listener` to send the fd to");
	if (program) {
		int fd = seccomp_program_load(program);
		program = NULL;
		if (fd < 0)
			return -1;
		if (!notify_used)
			return 0;
		int rc = send_listener_fd(fd);
		close(fd);
		return rc;
	}
	int rc = seccomp_load(filter);
	int notify_fd = rc == 0 && notify_used ? seccomp_notify_fd(filter) : -1;
	seccomp_release(filter);
	filter = NULL;
	if (rc < 0)
		return fail(-rc, "seccomp_load", "");
	if (!notify_used)
		return 0;
	if (notify_fd < 0)
		return fail(notify_fd == -1 ? EINVAL : -notify_fd, "seccomp_notify_fd", "");
	rc = send_listener_fd(notify_fd);
	close(notify_fd);
	return rc;
}

/* libseccomp writes the program to an fd: a memfd, read back into memory. */
static int export_bpf(struct sock_filter **insns, size_t *ninsns)
{
	int fd = memfd_create("skiff-seccomp-bpf", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	int rc = seccomp_export_bpf(filter, fd);
	if (rc < 0 || fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size % (off_t)sizeof **insns) {
		close(fd);
		return -1;
	}
	*insns = malloc((size_t)st.st_size);
	ssize_t got = *insns ? pread(fd, *insns, (size_t)st.st_size, 0) : -1;
	close(fd);
	if (got != st.st_size) {
		free(*insns);
		*insns = NULL;
		return -1;
	}
	*ninsns = (size_t)st.st_size / sizeof **insns;
	return 0;
}

int seccomp_compile(const struct plan *plan, struct seccomp_program *p)
{
	int rc = 0;
	for (int i = p->first; i < p->load && rc == 0; i++) {
		const struct record *r = &plan->records[i];
		switch (r->op) {
		case OP_SECCOMP:
			rc = step_seccomp(NULL, r);
			p->flags = r->num[2];
			break;
		case OP_SECCOMP_ARCH: rc = step_seccomp_arch(NULL, r); break;
		case OP_SECCOMP_RULE: rc = step_seccomp_rule(NULL, r); break;
		default: break;
		}
	}
	if (rc == 0)
		rc = export_bpf(&p->insns, &p->ninsns);
	p->notify = notify_used;
	if (filter)
		seccomp_release(filter);
	filter = NULL;
	notify_used = false;
	/* The init builds the filter again and reports what failed here, at its record. */
	report_forget_failure();
	return rc;
}
