#ifndef SQLITE_SETTINGS_H
#define SQLITE_SETTINGS_H

/// SQLite's process-wide options, set as the program loads, before any connection opens
/// (`sqlite3_config`, a variadic function Swift cannot call): SQLite keeps no count of the memory
/// it allocates, a count that takes a lock shared by every connection at each allocation and free.
/// Returns what setting them returned: SQLITE_OK.
int sqlite_settings_result(void);

#endif
