#include "taskwalk.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

struct walk {
    const char *p, *end, *base;
    int (*fn)(void *ctx, size_t run, cJSON *task);
    void *ctx;
    char *err;
    size_t errlen;
};

static void skip_ws(struct walk *w)
{
    while (w->p < w->end && (*w->p == ' ' || *w->p == '\t' || *w->p == '\n' || *w->p == '\r'))
        w->p++;
}

/* 1 and past c when the next non-blank byte is c, else 0 (nothing eaten). */
static int eat(struct walk *w, char c)
{
    skip_ws(w);
    if (w->p < w->end && *w->p == c) {
        w->p++;
        return 1;
    }
    return 0;
}

static int fail(struct walk *w, const char *what)
{
    snprintf(w->err, w->errlen, "tasks: %s at byte %zu", what, (size_t)(w->p - w->base));
    return -1;
}

/* The value at w->p parsed by cJSON (caller deletes), w->p past it. */
static cJSON *value(struct walk *w)
{
    const char *after = NULL;
    skip_ws(w);
    cJSON *v = cJSON_ParseWithLengthOpts(w->p, (size_t)(w->end - w->p), &after, 0);
    if (v == NULL || after == NULL) {
        cJSON_Delete(v);
        return NULL;
    }
    w->p = after;
    return v;
}

/* The elements of the array at w->p, each handed to fn as a task of run. */
static int tasks(struct walk *w, size_t run)
{
    if (!eat(w, '['))
        return fail(w, "expected an array");
    if (eat(w, ']'))
        return 0;
    do {
        cJSON *t = value(w);
        if (t == NULL)
            return fail(w, "not JSON");
        int rc = w->fn(w->ctx, run, t);
        cJSON_Delete(t);
        if (rc != 0)
            return rc;
    } while (eat(w, ','));
    return eat(w, ']') ? 0 : fail(w, "expected ',' or ']'");
}

/* The members of the object at w->p: "tasks" is walked as run's tasks,
 * "runs" (at the top, in_runs 0) element by element, anything else is
 * parsed and dropped. */
static int members(struct walk *w, int top, size_t run)
{
    if (!eat(w, '{'))
        return fail(w, "expected an object");
    if (eat(w, '}'))
        return 0;
    do {
        cJSON *key = value(w);
        if (!cJSON_IsString(key)) {
            cJSON_Delete(key);
            return fail(w, "expected a member name");
        }
        int is_tasks = strcmp(key->valuestring, "tasks") == 0;
        int is_runs = top && strcmp(key->valuestring, "runs") == 0;
        cJSON_Delete(key);
        if (!eat(w, ':'))
            return fail(w, "expected ':'");
        skip_ws(w);
        int rc = 0;
        if (is_tasks && w->p < w->end && *w->p == '[') {
            rc = tasks(w, run);
        } else if (is_runs && w->p < w->end && *w->p == '[') {
            w->p++;
            size_t r = 0;
            if (!eat(w, ']')) {
                do
                    rc = members(w, 0, r++);
                while (rc == 0 && eat(w, ','));
                if (rc == 0 && !eat(w, ']'))
                    rc = fail(w, "expected ',' or ']'");
            }
        } else {
            /* A run's keys, load and server samples: one member at a time. */
            cJSON *v = value(w);
            if (v == NULL)
                return fail(w, "not JSON");
            cJSON_Delete(v);
        }
        if (rc != 0)
            return rc;
    } while (eat(w, ','));
    return eat(w, '}') ? 0 : fail(w, "expected ',' or '}'");
}

int taskwalk_report(const char *text, size_t len, int (*fn)(void *ctx, size_t run, cJSON *task), void *ctx,
                    char *err, size_t errlen)
{
    struct walk w = {text, text + len, text, fn, ctx, err, errlen};
    return members(&w, 1, 0);
}
