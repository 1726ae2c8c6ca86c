/* Reading /proc/self/mountinfo: which mount holds a path, and how it propagates. */
#include "mountinfo.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "report.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo octal. */
static void unescape(char *s)
{
	char *out = s;
	for (char *in = s; *in; in++) {
		if (in[0] == '\\' && in[1] >= '0' && in[1] <= '7' && in[2] >= '0' && in[2] <= '7' && in[3] >= '0' &&
		    in[3] <= '7') {
			*out++ = (char)((in[1] - '0') * 64 + (in[2] - '0') * 8 + (in[3] - '0'));
			in += 3;
		} else {
			*out++ = *in;
		}
	}
	*out = '\0';
}

/* Whether mount point `mp` contains `path` (equal, or a parent on a component boundary). */
static bool contains(const char *mp, const char *path)
{
	size_t n = strlen(mp);
	if (strncmp(mp, path, n) != 0)
		return false;
	return n == 1 || path[n] == '\0' || path[n] == '/';
}

int make_parent_mount_private(const char *path)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return fail(errno, "open", "/proc/self/mountinfo");
	char best[PATH_MAX] = "";
	bool best_shared = false;
	char *line = NULL;
	size_t cap = 0;
	/* The last match of the longest mount point is the one on top, the one path resolves through. */
	while (getline(&line, &cap, f) > 0) {
		/* id parent major:minor root mountpoint options [optional fields...] - fstype source super */
		char *save = NULL, *field = strtok_r(line, " ", &save);
		for (int i = 0; field && i < 4; i++)
			field = strtok_r(NULL, " ", &save);
		if (!field)
			continue;
		char mp[PATH_MAX];
		snprintf(mp, sizeof mp, "%s", field);
		unescape(mp);
		if (!contains(mp, path) || strlen(mp) < strlen(best))
			continue;
		bool shared = false;
		strtok_r(NULL, " ", &save); /* per-mount options */
		for (char *opt = strtok_r(NULL, " ", &save); opt && strcmp(opt, "-") != 0;
		     opt = strtok_r(NULL, " ", &save))
			shared = shared || strncmp(opt, "shared:", 7) == 0;
		snprintf(best, sizeof best, "%s", mp);
		best_shared = shared;
	}
	free(line);
	fclose(f);
	if (!best_shared)
		return 0;
	if (mount(NULL, best, NULL, MS_PRIVATE, NULL) < 0)
		return fail(errno, "mount", best);
	return 0;
}
