#include "target.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "server.h"
#include "sig.h"

/* The only signal that stops the embedded server. */
#define TARGET_STOP_SIGNAL SIGUSR1

/* libcurl answers "localhost" (RFC 6761) and IP literals itself, without a
 * resolver thread; any other name goes through getaddrinfo on a thread. */
static int goes_through_resolver(const char *host)
{
    struct in6_addr a6;
    struct in_addr a4;
    size_t n = strlen(host);

    if (inet_pton(AF_INET, host, &a4) == 1 || inet_pton(AF_INET6, host, &a6) == 1)
        return 0;
    if (host[0] == '[')
        return 0;
    if (strcasecmp(host, "localhost") == 0)
        return 0;
    return !(n > 10 && strcasecmp(host + n - 10, ".localhost") == 0);
}

/* The machine's own name, when it resolves to a loopback address, makes the
 * client resolve it as a real client would; addr gets that address. */
static int loopback_hostname(char *host, size_t hostlen, char *addr, size_t addrlen)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;

    if (gethostname(host, hostlen) != 0 || host[0] == '\0')
        return -1;
    host[hostlen - 1] = '\0';
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL)
        return -1;
    struct sockaddr_in *sin = (struct sockaddr_in *)res->ai_addr;
    int loopback = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
    if (loopback)
        inet_ntop(AF_INET, &sin->sin_addr, addr, (socklen_t)addrlen);
    freeaddrinfo(res);
    return loopback ? 0 : -1;
}

static void child_main(int fd, uint32_t capacity, const struct fb_faults *faults, pid_t parent)
{
    /* A parent that dies without stopping us takes us along. It may have
     * died between fork and here, before the request could take effect. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
    /* A terminal's ^C and a group's SIGTERM are for the parent: it still
     * needs our counts, then stops us with TARGET_STOP_SIGNAL. */
    sig_child_detach();
    /* The report goes to the parent's stdout; the server says nothing there. */
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) {
        dup2(devnull, STDOUT_FILENO);
        close(devnull);
    }
    _exit(server_run(fd, (int)capacity, faults, TARGET_STOP_SIGNAL) == 0 ? 0 : 1);
}

/* GET url with a short timeout, trusting what t's transfers trust (an
 * HTTPS --backend-stats behind an HTTPS --url); returns the body (caller
 * frees) or NULL. */
static char *http_get(const struct fb_target *t, const char *url, long timeout_ms)
{
    struct buf {
        char *p;
        size_t n;
    } b = {0};
    CURL *e = curl_easy_init();
    if (e == NULL)
        return NULL;
    FILE *mem = open_memstream(&b.p, &b.n);
    if (mem == NULL) {
        curl_easy_cleanup(e);
        return NULL;
    }
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, mem);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_FAILONERROR, 1L);
    if (t->cacert) {
        curl_easy_setopt(e, CURLOPT_CAINFO, t->cacert);
        curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
    }
    if (t->insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    CURLcode rc = curl_easy_perform(e);
    curl_easy_cleanup(e);
    fclose(mem);
    if (rc != CURLE_OK) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

int target_start_embedded(struct fb_target *t, uint32_t delay_ms, uint32_t capacity,
                          const struct fb_faults *faults, char *err, size_t errlen)
{
    char addr[INET_ADDRSTRLEN] = "127.0.0.1";
    int port;

    memset(t, 0, sizeof(*t));
    t->embedded = 1;
    if (loopback_hostname(t->host, sizeof(t->host), addr, sizeof(addr)) == 0) {
        t->host_resolved = 1;
    } else {
        snprintf(t->host, sizeof(t->host), "localhost");
        snprintf(addr, sizeof(addr), "127.0.0.1");
    }

    int fd = server_listen(addr, 0, &port, err, errlen);
    if (fd < 0)
        return -1;
    fflush(NULL); /* nothing buffered may be written twice */
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "cannot start the embedded server: fork: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (pid == 0)
        child_main(fd, capacity, faults, parent);
    close(fd);
    t->child = pid;
    snprintf(t->url, sizeof(t->url), "http://%s:%d/delay/%u/url/{key}", t->host, port, delay_ms);
    snprintf(t->shown_url, sizeof(t->shown_url), "%s", t->url);
    snprintf(t->control_url, sizeof(t->control_url), "http://%s:%d/stats", addr, port);

    /* The socket listens already; wait until the server behind it answers. */
    for (int i = 0; i < 100; i++) {
        char *body = http_get(t, t->control_url, 200);
        if (body) {
            free(body);
            return 0;
        }
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            t->child = 0;
            snprintf(err, errlen, "the embedded server exited at start");
            return -1;
        }
        nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
    }
    target_stop(t);
    snprintf(err, errlen, "the embedded server did not answer within 5 s");
    return -1;
}

/* The index of the first byte that breaks UTF-8 (overlong forms, surrogates
 * and code points past U+10FFFF included), or -1 when s is valid. */
static long utf8_invalid_at(const unsigned char *s)
{
    const unsigned char *p = s;

    while (*p) {
        unsigned c = *p, n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2
                                     : (c & 0xf8) == 0xf0 ? 3 : 4;
        if (n == 4 || c == 0xc0 || c == 0xc1 || c > 0xf4)
            return p - s;
        unsigned cp = n ? c & (0x3f >> n) : c;
        for (unsigned i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return p - s;
            cp = cp << 6 | (p[i] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff
            || (cp >= 0xd800 && cp <= 0xdfff))
            return p - s;
        p += n + 1;
    }
    return -1;
}

/* s with every byte that is not printable ASCII as \xNN, for one-line
 * messages: a hostile URL must not write escape sequences to a terminal. */
static void printable(char *out, size_t outlen, const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && n + 5 < outlen; p++) {
        if (*p >= 0x20 && *p < 0x7f)
            out[n++] = (char)*p;
        else
            n += (size_t)snprintf(out + n, outlen - n, "\\x%02X", *p);
    }
    out[n] = '\0';
}

/* url with its credentials replaced by "***": what every output shows. */
static int redact(CURLU *u, const char *url, char *out, size_t outlen)
{
    char *user = NULL, *password = NULL, *shown = NULL;
    int secret = curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK
              || curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK;
    curl_free(user);
    curl_free(password);
    if (!secret) {
        snprintf(out, outlen, "%s", url);
        return 0;
    }
    CURLU *copy = curl_url_dup(u);
    int rc = -1;
    if (copy && curl_url_set(copy, CURLUPART_USER, "***", 0) == CURLUE_OK
        && curl_url_set(copy, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK
        && curl_url_set(copy, CURLUPART_OPTIONS, NULL, 0) == CURLUE_OK
        && curl_url_get(copy, CURLUPART_URL, &shown, 0) == CURLUE_OK) {
        snprintf(out, outlen, "%s", shown);
        rc = 0;
    }
    curl_free(shown);
    curl_url_cleanup(copy);
    return rc;
}

/* "{key}" is not a URL's character: it is checked as a plain word, and put
 * back in what is shown. */
#define KEY_PLACEHOLDER "{key}"
#define KEY_STANDIN     "fbKEYstandin"

/* s with every `from` replaced by `to` into out; -1 when it does not fit. */
static int replace_all(char *out, size_t outlen, const char *s, const char *from, const char *to)
{
    size_t n = 0, lf = strlen(from), lt = strlen(to);
    while (*s) {
        const char *at = strncmp(s, from, lf) == 0 ? s : NULL;
        size_t add = at ? lt : 1;
        if (n + add >= outlen)
            return -1;
        memcpy(out + n, at ? to : s, add);
        n += add;
        s += at ? lf : 1;
    }
    out[n] = '\0';
    return 0;
}

int target_from_url(struct fb_target *t, const char *given, char *err, size_t errlen)
{
    char *scheme = NULL, *host = NULL, shown[256], url[sizeof(t->url)], redacted[sizeof(t->shown_url)];
    long bad;
    int rc = -1;

    memset(t, 0, sizeof(*t));
    printable(shown, sizeof(shown), given);
    CURLU *u = curl_url();
    if (u == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (strlen(given) >= sizeof(t->url) || replace_all(url, sizeof(url), given, KEY_PLACEHOLDER, KEY_STANDIN) < 0) {
        snprintf(err, errlen, "--url: longer than %zu bytes", sizeof(t->url) - 1);
    } else if ((bad = utf8_invalid_at((const unsigned char *)url)) >= 0) {
        /* The report is UTF-8 JSON; a URL's bytes are written as they are. */
        snprintf(err, errlen, "--url: byte %ld is not UTF-8 (percent-encode it, e.g. %%%02X): '%s'",
                 bad, (unsigned char)url[bad], shown);
    } else if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK
               || curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK
               || curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        snprintf(err, errlen, "--url: not a valid URL: '%s'", shown);
    } else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        snprintf(err, errlen, "--url: unsupported scheme '%s' (use http or https)", scheme);
    } else if (redact(u, url, redacted, sizeof(redacted)) < 0
               || replace_all(t->shown_url, sizeof(t->shown_url), redacted, KEY_STANDIN, KEY_PLACEHOLDER) < 0) {
        snprintf(err, errlen, "out of memory");
    } else {
        snprintf(t->url, sizeof(t->url), "%s", given);
        snprintf(t->host, sizeof(t->host), "%s", host);
        t->host_resolved = goes_through_resolver(host);
        rc = 0;
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

int target_use_backend_stats(struct fb_target *t, const char *given, char *err, size_t errlen)
{
    char *scheme = NULL, shown[256];
    int rc = -1;
    CURLU *u = curl_url();

    printable(shown, sizeof(shown), given);
    if (u == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (strlen(given) >= sizeof(t->control_url) - 32)
        snprintf(err, errlen, "--backend-stats: longer than %zu bytes", sizeof(t->control_url) - 33);
    else if (curl_url_set(u, CURLUPART_URL, given, 0) != CURLUE_OK
             || curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
        snprintf(err, errlen, "--backend-stats: not a valid URL: '%s'", shown);
    else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
        snprintf(err, errlen, "--backend-stats: unsupported scheme '%s' (use http or https)", scheme);
    else if (redact(u, given, t->shown_stats, sizeof(t->shown_stats)) < 0)
        snprintf(err, errlen, "out of memory");
    else {
        snprintf(t->control_url, sizeof(t->control_url), "%s", given);
        rc = 0;
    }
    curl_free(scheme);
    curl_url_cleanup(u);
    return rc;
}

static uint64_t number(const cJSON *obj, const char *key, int *ok)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0) {
        *ok = 0;
        return 0;
    }
    return (uint64_t)v->valuedouble;
}

/* A count a server of an older build does not send: 0 when absent. */
static uint64_t optional_number(const cJSON *obj, const char *key)
{
    int ok = 1;
    uint64_t n = number(obj, key, &ok);

    return ok ? n : 0;
}

int target_stats_baseline(struct fb_target *t, char *err, size_t errlen)
{
    char *body = http_get(t, t->control_url, 2000);
    cJSON *doc = body ? cJSON_Parse(body) : NULL;
    int ok = doc != NULL;

    free(body);
    if (ok) {
        t->base_requests = number(doc, "requests", &ok);
        (void)number(doc, "in_service", &ok);
        (void)number(doc, "max_in_service", &ok);
        t->base_failed = optional_number(doc, "failed");
        t->base_reset = optional_number(doc, "reset");
        t->base_hung = optional_number(doc, "hung");
    }
    cJSON_Delete(doc);
    t->remote_stats = ok;
    if (!ok)
        snprintf(err, errlen, "--backend-stats %s: no fetchbench serve /stats answered there (the run has no "
                 "server counts)", t->shown_stats);
    return ok ? 0 : -1;
}

/* A counter's growth since the baseline (a server restarted meanwhile: 0). */
static uint64_t since_base(uint64_t now, uint64_t base)
{
    return now >= base ? now - base : 0;
}

void target_server_stats(const struct fb_target *t, uint64_t since_us, struct fb_server_stats *s)
{
    char url[sizeof(t->control_url) + 64];

    memset(s, 0, sizeof(*s));
    if (!(t->embedded && t->child != 0) && !t->remote_stats)
        return;
    /* Only this run's part of the server's (bounded) log. */
    snprintf(url, sizeof(url), "%s%slog=1&since=%" PRIu64, t->control_url, strchr(t->control_url, '?') ? "&" : "?",
             since_us);
    char *body = http_get(t, url, 2000);
    cJSON *doc = body ? cJSON_Parse(body) : NULL;
    free(body);
    if (doc == NULL)
        return;
    int ok = 1;
    s->requests = number(doc, "requests", &ok);
    s->in_service = number(doc, "in_service", &ok);
    s->max_in_service = number(doc, "max_in_service", &ok);
    s->queued = number(doc, "queued", &ok);
    s->max_queued = number(doc, "max_queued", &ok);
    s->failed = optional_number(doc, "failed");
    s->reset = optional_number(doc, "reset");
    s->hung = optional_number(doc, "hung");
    const cJSON *log = cJSON_GetObjectItemCaseSensitive(doc, "in_service_log");
    const cJSON *column = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "in_service_log_columns"), 2);
    /* Named, so that an empty log still says whether the queue is in it. */
    s->log_queued = cJSON_IsString(column) && strcmp(column->valuestring, "queued") == 0;
    int n = cJSON_GetArraySize(log);
    if (n > 0 && (s->log = calloc((size_t)n, sizeof(*s->log))) != NULL) {
        const cJSON *pair;
        cJSON_ArrayForEach(pair, log) {
            const cJSON *a = cJSON_GetArrayItem(pair, 0), *b = cJSON_GetArrayItem(pair, 1);
            const cJSON *q = cJSON_GetArrayItem(pair, 2);
            if (cJSON_IsNumber(a) && cJSON_IsNumber(b)) {
                s->log[s->nlog][0] = (int64_t)a->valuedouble;
                s->log[s->nlog][1] = (int64_t)b->valuedouble;
                s->log[s->nlog][2] = cJSON_IsNumber(q) ? (int64_t)q->valuedouble : 0;
                s->log_queued &= cJSON_IsNumber(q);
                s->nlog++;
            }
        }
    }
    s->log_truncated = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "in_service_log_truncated"));
    if (t->remote_stats) {
        /* A server that served before this run: its counts since the
         * baseline, its peaks from this run's log (a server of an older
         * build logs no queue: max_queued stays its own since it started). */
        s->requests = since_base(s->requests, t->base_requests);
        s->failed = since_base(s->failed, t->base_failed);
        s->reset = since_base(s->reset, t->base_reset);
        s->hung = since_base(s->hung, t->base_hung);
        s->max_in_service = s->in_service;
        for (size_t i = 0; i < s->nlog; i++)
            if (s->log[i][1] > 0 && (uint64_t)s->log[i][1] > s->max_in_service)
                s->max_in_service = (uint64_t)s->log[i][1];
        if (s->log_queued) {
            s->max_queued = s->queued;
            for (size_t i = 0; i < s->nlog; i++)
                if (s->log[i][2] > 0 && (uint64_t)s->log[i][2] > s->max_queued)
                    s->max_queued = (uint64_t)s->log[i][2];
        }
    }
    s->valid = ok;
    cJSON_Delete(doc);
}

void target_stop(struct fb_target *t)
{
    int status;

    if (t->child <= 0)
        return;
    kill(t->child, TARGET_STOP_SIGNAL);
    for (int i = 0; i < 200; i++) {
        if (waitpid(t->child, &status, WNOHANG) != 0) {
            t->child = 0;
            return;
        }
        nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL);
    }
    kill(t->child, SIGKILL);
    waitpid(t->child, &status, 0);
    t->child = 0;
}
