/* archive_attrs.h — the attributes on an event file's /events group that
 * change what its values mean (docs/archive-format.md): the format
 * version, the time unit and the currency. All are optional; one that is
 * present and says the values are not what format v1 reads (a newer
 * version, times in milliseconds, a currency that is no ISO 4217 code) is
 * refused rather than read as v1. Called by archive_scan at plan time. */
#ifndef CLICKSEG_ARCHIVE_ATTRS_H
#define CLICKSEG_ARCHIVE_ATTRS_H

#include <hdf5.h>
#include <stddef.h>

#include "clickseg/error.h"

/* Checks the attributes of the open /events group g of file `path`, and
 * fills currency (n bytes) with its ISO 4217 code, "" when none is given
 * or it is "unknown". CS_EINPUT naming the file, attribute and value. */
int archive_check_attrs(hid_t g, const char *path, char *currency, size_t n, cs_err *err);

#endif
