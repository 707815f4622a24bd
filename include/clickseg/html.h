/* html.h — report.html: one self-contained page (inline CSS and SVG; no
 * scripts, fonts or network) rendered from a loaded report.h5 (see
 * report_doc.h): headline totals; segment shares; shares and conversion
 * over the report periods; a funnel per segment; revenue by segment and by
 * tier; the tier and RFM-segment distributions; the top targets and
 * prospects (first rows, full lists linked as CSV); profile cross-tabs; and
 * the run's metadata. Optional sections appear only when report.h5 holds
 * their tables. The page depends on report.h5 alone, so re-rendering it
 * later gives the same bytes.
 * Called by report_write_summary (the run, rank 0) and `clickseg report`. */
#ifndef CLICKSEG_HTML_H
#define CLICKSEG_HTML_H

#include "clickseg/error.h"
#include "clickseg/report_doc.h"

/* Rows of the targets / prospects tables shown on the page. */
#define CS_HTML_TOP_ROWS 50

/* Writes the page for d to html_path (through a temporary file renamed
 * into place, so a reader never sees half a page). Links to CSV files
 * beside report.h5 are relative when the page sits beside them, absolute
 * otherwise. CS_EIO on a write error. */
int report_html_write(const cs_report_doc *d, const char *html_path, cs_err *err);

/* dir/report.h5 → dir/report.html. */
int report_html_render_dir(const char *dir, cs_err *err);

#endif
