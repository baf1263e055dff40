/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Progress bars of long client commands (imports and shares of many
 * entities). A bar is drawn on stderr only when stderr is a terminal, so
 * scripts, pipes and logs never receive carriage returns.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

/* Width of the bar itself, in characters. */
#define BAR_WIDTH 30

static void
draw(cardea_cli_progress *bar)
{
    char cells[BAR_WIDTH + 1];
    size_t filled = bar->total > 0 ? bar->done * BAR_WIDTH / bar->total : 0;
    int written;

    if (filled > BAR_WIDTH) {
        filled = BAR_WIDTH;
    }
    memset(cells, '#', filled);
    memset(cells + filled, '.', BAR_WIDTH - filled);
    cells[BAR_WIDTH] = '\0';
    written = fprintf(stderr, "\r%s [%s] %zu/%zu", bar->label, cells,
                      bar->done, bar->total);
    if (written > 0) {
        bar->last_width = (unsigned)written;
    }
    fflush(stderr);
}

/* see cli/cli.h */
void
cardea_cli__progress_begin(cardea_cli_progress *bar, const char *label,
                           size_t total, bool quiet)
{
    bar->label = label;
    bar->total = total;
    bar->done = 0;
    bar->last_width = 0;
    bar->enabled = !quiet && total > 1 && isatty(STDERR_FILENO) == 1;
    if (bar->enabled) {
        draw(bar);
    }
}

/* see cli/cli.h */
void
cardea_cli__progress_step(cardea_cli_progress *bar)
{
    bar->done++;
    if (bar->enabled) {
        draw(bar);
    }
}

/* see cli/cli.h */
void
cardea_cli__progress_end(cardea_cli_progress *bar)
{
    if (bar->enabled && bar->last_width > 0) {
        fprintf(stderr, "\r%*s\r", (int)bar->last_width, "");
        fflush(stderr);
    }
    bar->enabled = false;
}
