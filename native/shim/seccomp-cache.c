/*
 * Compiled seccomp filters. libseccomp needs ~18 ms to build Docker's profile (~350 rules on three
 * architectures); the shim pays it once per distinct filter: it compiles each filter of the plan to
 * BPF before the init is cloned and keeps the program in a cache directory (`seccomp-cache`), keyed
 * by the filter's records, the libseccomp version, the native architecture and the kernel. The init,
 * a clone of the shim, loads the program with seccomp(2) as libseccomp would (same flags, no NNP).
 *
 * A cache file: magic, key length (u64), the key, notify (u32), 0 (u32), instruction count (u64),
 * the instructions, and an FNV-1a 64 of everything before it. Its name is the FNV-1a 64 of the key in
 * hex; a hit needs the stored key to equal the current one byte for byte, so a hash collision is a
 * miss. A file that is short, long, of another owner or with a bad checksum is a miss, and replaced.
 */
#include "seccomp-cache.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "report.h"
#include "seccomp.h"

#define MAGIC "skfbpf01"
#define MAX_FILE (64u << 20)
/* The `seccomp` record's flags the kernel takes as they are (LOG, SPEC_ALLOW, WAIT_KILLABLE_RECV). */
#define KERNEL_FLAGS (2 | 4 | 32)

#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif

static struct seccomp_program *programs;
static size_t nprograms;

/* A growable byte buffer; `failed` once an allocation failed (then nothing is cached). */
struct bytes {
	unsigned char *data;
	size_t len, cap;
	bool failed;
};

static void put(struct bytes *b, const void *data, size_t len)
{
	if (b->failed)
		return;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + len)
			cap *= 2;
		unsigned char *grown = realloc(b->data, cap);
		if (!grown) {
			b->failed = true;
			return;
		}
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

static void put_token(struct bytes *b, const char *s)
{
	put(b, s, strlen(s) + 1);
}

static void put_u64(struct bytes *b, uint64_t v)
{
	put(b, &v, sizeof v);
}

static uint64_t fnv1a(const unsigned char *data, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < len; i++) {
		h ^= data[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* What the program depends on: libseccomp, the architecture, the kernel, and the records as encoded. */
static void build_key(struct bytes *key, const struct plan *plan, const struct seccomp_program *p)
{
	const struct scmp_version *v = seccomp_version();
	struct utsname uts;
	char line[512];
	if (uname(&uts) < 0)
		memset(&uts, 0, sizeof uts);
	snprintf(line, sizeof line, "libseccomp %u.%u.%u arch %u api %u kernel %s %s", v ? v->major : 0,
		 v ? v->minor : 0, v ? v->micro : 0, seccomp_arch_native(), seccomp_api_get(), uts.release,
		 uts.machine);
	put_token(key, line);
	for (int i = p->first; i <= p->load; i++) {
		const struct record *r = &plan->records[i];
		if (r->op != OP_SECCOMP && r->op != OP_SECCOMP_ARCH && r->op != OP_SECCOMP_RULE && r->op != OP_SECCOMP_LOAD)
			continue;
		snprintf(line, sizeof line, "%d", r->argc);
		put_token(key, r->name);
		put_token(key, line);
		for (int a = 0; a < r->argc; a++)
			put_token(key, r->argv[a]);
	}
}

static unsigned char *read_all(int fd, size_t *len)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_size <= 0 ||
	    (uint64_t)st.st_size > MAX_FILE)
		return NULL;
	unsigned char *buf = malloc((size_t)st.st_size);
	if (!buf)
		return NULL;
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return NULL;
		}
		got += (size_t)n;
	}
	*len = got;
	return buf;
}

static bool take(const unsigned char **at, const unsigned char *end, void *out, size_t len)
{
	if ((size_t)(end - *at) < len)
		return false;
	memcpy(out, *at, len);
	*at += len;
	return true;
}

/* The file's program when it holds exactly this key, intact. */
static bool parse_entry(const unsigned char *buf, size_t len, const struct bytes *key, struct seccomp_program *p)
{
	if (len < sizeof(MAGIC) - 1 + 8 || memcmp(buf, MAGIC, sizeof(MAGIC) - 1) != 0)
		return false;
	uint64_t sum;
	memcpy(&sum, buf + len - 8, 8);
	if (fnv1a(buf, len - 8) != sum)
		return false;
	const unsigned char *at = buf + sizeof(MAGIC) - 1, *end = buf + len - 8;
	uint64_t keylen, ninsns;
	uint32_t notify, zero;
	if (!take(&at, end, &keylen, 8) || keylen != key->len || (size_t)(end - at) < keylen ||
	    memcmp(at, key->data, key->len) != 0)
		return false;
	at += keylen;
	if (!take(&at, end, &notify, 4) || !take(&at, end, &zero, 4) || !take(&at, end, &ninsns, 8) || notify > 1 ||
	    zero != 0 || ninsns == 0 || ninsns > BPF_MAXINSNS || (size_t)(end - at) != ninsns * sizeof *p->insns)
		return false;
	p->insns = malloc(ninsns * sizeof *p->insns);
	if (!p->insns)
		return false;
	memcpy(p->insns, at, ninsns * sizeof *p->insns);
	p->ninsns = (size_t)ninsns;
	p->notify = notify;
	return true;
}

static bool cache_read(int dirfd, const char *name, const struct bytes *key, struct seccomp_program *p)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	size_t len = 0;
	unsigned char *buf = read_all(fd, &len);
	close(fd);
	bool hit = buf && parse_entry(buf, len, key, p);
	free(buf);
	return hit;
}

/* tmp + rename: a reader sees the old file or the new one, never half of one. Failures are ignored. */
static void cache_write(int dirfd, const char *name, const struct bytes *key, const struct seccomp_program *p)
{
	struct bytes out = { 0 };
	put(&out, MAGIC, sizeof(MAGIC) - 1);
	put_u64(&out, key->len);
	put(&out, key->data, key->len);
	uint32_t notify = p->notify, zero = 0;
	put(&out, &notify, 4);
	put(&out, &zero, 4);
	put_u64(&out, p->ninsns);
	put(&out, p->insns, p->ninsns * sizeof *p->insns);
	if (!out.failed)
		put_u64(&out, fnv1a(out.data, out.len));
	char tmp[64];
	snprintf(tmp, sizeof tmp, "%s.%d.tmp", name, (int)getpid());
	int fd = out.failed ? -1 : openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0) {
		size_t done = 0;
		while (done < out.len) {
			ssize_t n = write(fd, out.data + done, out.len - done);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			done += (size_t)n;
		}
		bool ok = close(fd) == 0 && done == out.len;
		if (!ok || renameat(dirfd, tmp, dirfd, name) < 0)
			unlinkat(dirfd, tmp, 0);
	}
	free(out.data);
}

/* The program of one filter: from the cache, else compiled (and cached). */
static bool prepare_one(const struct plan *plan, int dirfd, struct seccomp_program *p)
{
	struct bytes key = { 0 };
	char name[32] = "";
	if (dirfd >= 0) {
		build_key(&key, plan, p);
		snprintf(name, sizeof name, "%016llx", (unsigned long long)fnv1a(key.data, key.len));
	}
	bool cacheable = dirfd >= 0 && !key.failed;
	if (cacheable && cache_read(dirfd, name, &key, p)) {
		p->flags = plan->records[p->first].num[2];
		free(key.data);
		return true;
	}
	bool ok = seccomp_compile(plan, p) == 0;
	if (ok && p->ninsns > BPF_MAXINSNS) {
		/* Too long for the kernel (and for sock_fprog.len): libseccomp's load reports it. */
		free(p->insns);
		ok = false;
	}
	if (ok && cacheable)
		cache_write(dirfd, name, &key, p);
	free(key.data);
	return ok;
}

static int open_cache_dir(const struct plan *plan)
{
	return plan->seccomp_cache ? open(plan->seccomp_cache->argv[0], O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
}

void seccomp_prepare(const struct plan *plan)
{
	int dirfd = -1;
	bool opened = false;
	for (size_t i = 0; i < plan->nrecords; i++) {
		if (plan->records[i].op != OP_SECCOMP)
			continue;
		size_t load = i + 1;
		while (load < plan->nrecords && plan->records[load].op != OP_SECCOMP_LOAD &&
		       plan->records[load].op != OP_SECCOMP)
			load++;
		/* No `seccomp-load` of its own: the steps report it. */
		if (load == plan->nrecords || plan->records[load].op != OP_SECCOMP_LOAD)
			continue;
		if (!opened) {
			dirfd = open_cache_dir(plan);
			opened = true;
		}
		struct seccomp_program p = { .first = (int)i, .load = (int)load };
		struct seccomp_program *grown = realloc(programs, (nprograms + 1) * sizeof *programs);
		if (!grown)
			break;
		programs = grown;
		if (prepare_one(plan, dirfd, &p))
			programs[nprograms++] = p;
		i = load;
	}
	if (dirfd >= 0)
		close(dirfd);
}

const struct seccomp_program *seccomp_program_at(int first)
{
	for (size_t i = 0; i < nprograms; i++)
		if (programs[i].first == first)
			return &programs[i];
	return NULL;
}

/*
 * libseccomp's seccomp_load() (2.5): seccomp(SECCOMP_SET_MODE_FILTER) with LOG and SPEC_ALLOW as
 * asked, NEW_LISTENER when a notify action is in the filter (the return value is the listener fd);
 * no TSYNC, no no_new_privs. A refusal is ECANCELED, as libseccomp reports it; the kernel's errno
 * is in the message.
 */
int seccomp_program_load(const struct seccomp_program *p)
{
	struct sock_fprog prog = { .len = (unsigned short)p->ninsns, .filter = p->insns };
	unsigned long flags = p->flags & KERNEL_FLAGS;
	if (p->notify)
		flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
	long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (rc < 0) {
		int err = errno;
		return failf(err == ESRCH ? ESRCH : ECANCELED, "seccomp_load", "", "the kernel refused the filter: %s",
			     strerror(err));
	}
	return p->notify ? (int)rc : 0;
}

void seccomp_programs_free(void)
{
	for (size_t i = 0; i < nprograms; i++)
		free(programs[i].insns);
	free(programs);
	programs = NULL;
	nprograms = 0;
}
