#include "mode.h"

#include <string.h>

const struct fb_mode *const fb_modes[] = {&mode_lock, &mode_nolock, NULL};

const struct fb_mode *mode_find(const char *name)
{
    for (int i = 0; fb_modes[i]; i++)
        if (strcmp(fb_modes[i]->name, name) == 0)
            return fb_modes[i];
    return NULL;
}

const char *mode_names(void)
{
    static char names[128];
    if (names[0] == '\0') {
        for (int i = 0; fb_modes[i]; i++) {
            if (i)
                strncat(names, "|", sizeof(names) - strlen(names) - 1);
            strncat(names, fb_modes[i]->name, sizeof(names) - strlen(names) - 1);
        }
    }
    return names;
}
