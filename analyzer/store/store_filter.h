/* The filters of `mailwire report --db` and `mailwire query`: their options, the times
 * they take (RFC 3339, or relative to now as -2h, -30m, -7d, -1w, -90s, or "now"), and
 * the SQL they become (store_db.h). */
#ifndef MW_STORE_FILTER_H
#define MW_STORE_FILTER_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store_db.h"

/* A time for --since/--until as microseconds since the epoch; now_us is "now". False
 * with *err (one line) when s is neither form. */
bool mw_store_parse_time(const char *s, int64_t now_us, int64_t *out, char **err);

/* The filter options as given (GOptionEntry writes them). */
typedef struct {
    gchar *db, *since, *until, *flag, *user, *client, *server, *sensor;
} mw_filter_args;

/* The GOptionEntry rows for --db and the filters, into entries[] (room for
 * MW_FILTER_ENTRIES). */
#define MW_FILTER_ENTRIES 8
void mw_filter_entries(mw_filter_args *a, GOptionEntry *entries);
/* Check the arguments and make the filter (strings borrowed from a). */
bool mw_filter_from_args(const mw_filter_args *a, int64_t now_us, mw_store_filter *f,
                         char **err);
void mw_filter_args_free(mw_filter_args *a);

#endif
