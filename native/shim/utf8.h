/* UTF-8 validity, for the JSON the shim writes (reports, the json-file log). */
#ifndef SKIFF_UTF8_H
#define SKIFF_UTF8_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (at most len bytes), or 0 when it is not one. */
size_t utf8_len(const unsigned char *s, size_t len);

#endif
