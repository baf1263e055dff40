/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The log hook. The library never writes to stdout or stderr; it formats
 * a line and hands it to the callback the application set, if any.
 */
#include <pthread.h>
#include <stdio.h>

#include "base/base.h"

/* Longest line handed to the callback; longer ones are cut. */
#define LOG_LINE_MAX 1024

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static cardea_log_fn log_fn;
static cardea_log_level log_max = CARDEA_LOG_ERROR;
static void *log_user;

/* see cardea/common.h */
void
cardea_set_log(cardea_log_fn fn, cardea_log_level max_level, void *user)
{
    pthread_mutex_lock(&log_lock);
    log_fn = fn;
    log_max = max_level;
    log_user = user;
    pthread_mutex_unlock(&log_lock);
}

bool
cardea_log__enabled(cardea_log_level level)
{
    bool enabled;

    pthread_mutex_lock(&log_lock);
    enabled = log_fn != NULL && level <= log_max;
    pthread_mutex_unlock(&log_lock);
    return enabled;
}

void
cardea_log__write(cardea_log_level level, const char *fmt, ...)
{
    char line[LOG_LINE_MAX];
    cardea_log_fn fn;
    void *user;
    va_list ap;

    pthread_mutex_lock(&log_lock);
    fn = level <= log_max ? log_fn : NULL;
    user = log_user;
    pthread_mutex_unlock(&log_lock);
    if (fn == NULL) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fn(level, line, user);
}
