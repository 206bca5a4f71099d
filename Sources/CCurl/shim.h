#ifndef MODELPACK_CCURL_SHIM_H
#define MODELPACK_CCURL_SHIM_H
#include <curl/curl.h>
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

/* libcurl is loaded when the first registry request needs it (dlopen), not linked: with its
   two dozen libraries (TLS, Kerberos, LDAP, IDN...) it added about 5 ms to the start of every
   command, registry or not, and slowed every symbol lookup after. Only these functions are used;
   the headers give their types. */
typedef struct {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *h);
    void (*easy_reset)(CURL *h);
    CURLcode (*easy_perform)(CURL *h);
    const char *(*easy_strerror)(CURLcode code);
    CURLcode (*easy_setopt)(CURL *h, CURLoption option, ...);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *text);
    void (*slist_free_all)(struct curl_slist *list);
} mp_curl_functions;

/* Loads libcurl and runs its global set-up (not thread-safe: call it once, and keep the table for
   the life of the process); NULL on failure, with the reason in `error`. */
static inline const mp_curl_functions *mp_curl_load(char *error, size_t capacity) {
#ifdef __APPLE__
    const char *name = "libcurl.4.dylib";
#else
    const char *name = "libcurl.so.4";
#endif
    void *library = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        const char *why = dlerror();
        snprintf(error, capacity, "%s", why ? why : name);
        return NULL;
    }
    mp_curl_functions *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(error, capacity, "out of memory");
        return NULL;
    }
#define MP_CURL_SYMBOL(field, symbol) \
    if (!(*(void **)&f->field = dlsym(library, symbol))) { \
        snprintf(error, capacity, "%s has no %s", name, symbol); \
        free(f); \
        return NULL; \
    }
    MP_CURL_SYMBOL(global_init, "curl_global_init")
    MP_CURL_SYMBOL(easy_init, "curl_easy_init")
    MP_CURL_SYMBOL(easy_cleanup, "curl_easy_cleanup")
    MP_CURL_SYMBOL(easy_reset, "curl_easy_reset")
    MP_CURL_SYMBOL(easy_perform, "curl_easy_perform")
    MP_CURL_SYMBOL(easy_strerror, "curl_easy_strerror")
    MP_CURL_SYMBOL(easy_setopt, "curl_easy_setopt")
    MP_CURL_SYMBOL(slist_append, "curl_slist_append")
    MP_CURL_SYMBOL(slist_free_all, "curl_slist_free_all")
#undef MP_CURL_SYMBOL
    if (f->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(error, capacity, "curl_global_init failed");
        free(f);
        return NULL;
    }
    return f;
}

/* The functions, called through the table. */
static inline CURL *mp_curl_easy_init(const mp_curl_functions *f) { return f->easy_init(); }
static inline void mp_curl_easy_cleanup(const mp_curl_functions *f, CURL *h) { f->easy_cleanup(h); }
static inline void mp_curl_easy_reset(const mp_curl_functions *f, CURL *h) { f->easy_reset(h); }
static inline CURLcode mp_curl_easy_perform(const mp_curl_functions *f, CURL *h) { return f->easy_perform(h); }
static inline const char *mp_curl_easy_strerror(const mp_curl_functions *f, CURLcode code) {
    return f->easy_strerror(code);
}
static inline struct curl_slist *mp_curl_slist_append(
    const mp_curl_functions *f, struct curl_slist *list, const char *text) {
    return f->slist_append(list, text);
}
static inline void mp_curl_slist_free_all(const mp_curl_functions *f, struct curl_slist *list) {
    f->slist_free_all(list);
}

/* curl_easy_setopt is variadic, which Swift cannot call: one typed wrapper per kind of argument. */
static inline CURLcode mp_curl_set_long(const mp_curl_functions *f, CURL *h, CURLoption option, long value) {
    return f->easy_setopt(h, option, value);
}
static inline CURLcode mp_curl_set_offset(
    const mp_curl_functions *f, CURL *h, CURLoption option, curl_off_t value) {
    return f->easy_setopt(h, option, value);
}
static inline CURLcode mp_curl_set_pointer(
    const mp_curl_functions *f, CURL *h, CURLoption option, const void *value) {
    return f->easy_setopt(h, option, value);
}
typedef size_t (*mp_curl_data_callback)(char *buffer, size_t size, size_t count, void *context);
static inline CURLcode mp_curl_set_callback(
    const mp_curl_functions *f, CURL *h, CURLoption option, mp_curl_data_callback callback) {
    return f->easy_setopt(h, option, callback);
}
#endif
