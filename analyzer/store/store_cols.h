/* The store's columns of a session taken from the session itself, on the writer thread
 * when its record is handed to the store (store.c): the store thread then binds them as
 * they are instead of scanning the record's text for them (store_fields.h, the scan,
 * stays for records read back from the spool). The values are exactly what the scan of
 * the record gives: tests/store.sh compares every column with json_extract. */
#ifndef MW_STORE_COLS_H
#define MW_STORE_COLS_H

#include <glib.h>
#include <stdbool.h>

#include "core/session.h"

/* Appends s's packed columns (mw_store_fields_unpack) to g; json/len: its record. False
 * (g as it was) when a value cannot be taken without the scan: the store thread then
 * scans the record. tmp: scratch. */
bool mw_store_cols(GString *g, GString *tmp, const mw_session *s, const char *json, size_t len);

#endif
