#include "strategy.h"

#include <stdlib.h>
#include <string.h>

/* The linker gathers every FB_STRATEGY entry into one section and names its
 * bounds. */
extern const struct fb_strategy *const __start_fb_strategies[];
extern const struct fb_strategy *const __stop_fb_strategies[];

static const struct fb_strategy *sorted[64];
static size_t nsorted;

static int by_name(const void *a, const void *b)
{
    const struct fb_strategy *x = *(const struct fb_strategy *const *)a;
    const struct fb_strategy *y = *(const struct fb_strategy *const *)b;
    return strcmp(x->name, y->name);
}

static void gather(void)
{
    if (nsorted)
        return;
    for (const struct fb_strategy *const *p = __start_fb_strategies; p < __stop_fb_strategies; p++)
        if (nsorted < sizeof(sorted) / sizeof(sorted[0]))
            sorted[nsorted++] = *p;
    qsort(sorted, nsorted, sizeof(sorted[0]), by_name);
}

size_t strategy_count(void)
{
    gather();
    return nsorted;
}

const struct fb_strategy *strategy_at(size_t i)
{
    gather();
    return i < nsorted ? sorted[i] : NULL;
}

const struct fb_strategy *strategy_find(const char *name)
{
    gather();
    for (size_t i = 0; i < nsorted; i++)
        if (strcmp(sorted[i]->name, name) == 0)
            return sorted[i];
    return NULL;
}

const char *strategy_names(void)
{
    static char names[512];
    if (names[0] == '\0') {
        gather();
        for (size_t i = 0; i < nsorted; i++) {
            if (i)
                strncat(names, "|", sizeof(names) - strlen(names) - 1);
            strncat(names, sorted[i]->name, sizeof(names) - strlen(names) - 1);
        }
    }
    return names;
}

static const struct fb_state_def unknown_state = {"", 0};
static const struct fb_outcome_def unknown_outcome = {"", 0};

const struct fb_state_def *strategy_state(const struct fb_strategy *s, unsigned state)
{
    if (state < STATE_CORE_COUNT)
        return &vocab_core_states[state];
    if (s && state >= STATE_OWN_BASE && state - STATE_OWN_BASE < s->nstates)
        return &s->states[state - STATE_OWN_BASE];
    return &unknown_state;
}

const struct fb_outcome_def *strategy_outcome(const struct fb_strategy *s, unsigned outcome)
{
    if (outcome < OUTCOME_CORE_COUNT)
        return &vocab_core_outcomes[outcome];
    if (s && outcome >= OUTCOME_OWN_BASE && outcome - OUTCOME_OWN_BASE < s->noutcomes)
        return &s->outcomes[outcome - OUTCOME_OWN_BASE];
    return &unknown_outcome;
}
