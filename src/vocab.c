#include "vocab.h"

const struct fb_state_def vocab_core_states[STATE_CORE_COUNT] = {
    [STATE_NONE] = {"", 0},
    [STATE_CREATED] = {"created", STATE_WAIT},
    [STATE_QUEUED] = {"queued", STATE_WAIT | STATE_FETCH},
    [STATE_DNS] = {"dns", STATE_FETCH},
    [STATE_CONNECT] = {"connect", STATE_FETCH},
    [STATE_REQUEST] = {"request", STATE_FETCH},
    [STATE_RECEIVE] = {"receive", STATE_FETCH},
    [STATE_CACHE_CHECK] = {"cache_check", 0},
    [STATE_CACHE_HIT] = {"cache_hit", 0},
    [STATE_LOCK_WAIT] = {"lock_wait", STATE_WAIT},
    [STATE_LOCK_HELD] = {"lock_held", STATE_ENCLOSES},
};

const struct fb_outcome_def vocab_core_outcomes[OUTCOME_CORE_COUNT] = {
    [OUTCOME_PENDING] = {"pending", 0},
    [OUTCOME_FETCHED] = {"fetched", 1},
    [OUTCOME_CACHE_HIT] = {"cache_hit", 1},
    [OUTCOME_ERROR] = {"error", 0},
    [OUTCOME_CANCELLED] = {"cancelled", 0},
    [OUTCOME_SHARED] = {"shared", 1},
    [OUTCOME_SHARED_ERROR] = {"shared_error", 0},
    [OUTCOME_STALE] = {"stale", 1},
    [OUTCOME_TIMED_OUT] = {"timed_out", 0},
};

static const char *const stage_names[STAGE_COUNT] = {
    "resolve", "connect", "tls", "timeout", "http_status", "read", "body_too_large", "other",
};

const char *vocab_stage_name(enum fb_stage s)
{
    return stage_names[s];
}

static const char *const link_names[LINK_KIND_COUNT] = {"", "handoff", "result", "value"};

const char *vocab_link_name(enum fb_link_kind k)
{
    return (unsigned)k < LINK_KIND_COUNT ? link_names[k] : "";
}
