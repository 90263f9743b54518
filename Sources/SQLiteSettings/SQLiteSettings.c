#include <sqlite3.h>
#include "SQLiteSettings.h"

static int result = -1;

/// Runs as the program loads: `sqlite3_config` works only before SQLite's first use.
__attribute__((constructor)) static void sqlite_settings_configure(void) {
    result = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int sqlite_settings_result(void) {
    return result;
}
