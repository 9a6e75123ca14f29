/* `mailwire report --db URL --report FILE [filters]` and `mailwire query --db URL
 * [filters] [--json]`: the incident report and the matching records, from the store. */
#ifndef MW_STORE_CLI_H
#define MW_STORE_CLI_H

#include <stdbool.h>

/* "report" or "query" as the first argument. */
bool mw_store_cli_is_command(const char *arg);
/* argv[0] is the command; returns the exit status (0, or 1 with a line on stderr). */
int mw_store_cli(int argc, char **argv);


#endif
