#ifndef MODELPACK_CCURL_SHIM_H
#define MODELPACK_CCURL_SHIM_H
#include <curl/curl.h>

/* curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call: one typed wrapper
   per kind of argument. */
static inline CURLcode mp_curl_set_long(CURL *h, CURLoption option, long value) {
    return curl_easy_setopt(h, option, value);
}
static inline CURLcode mp_curl_set_offset(CURL *h, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(h, option, value);
}
static inline CURLcode mp_curl_set_pointer(CURL *h, CURLoption option, const void *value) {
    return curl_easy_setopt(h, option, value);
}
typedef size_t (*mp_curl_data_callback)(char *buffer, size_t size, size_t count, void *context);
static inline CURLcode mp_curl_set_callback(CURL *h, CURLoption option, mp_curl_data_callback callback) {
    return curl_easy_setopt(h, option, callback);
}
static inline CURLcode mp_curl_get_long(CURL *h, CURLINFO info, long *value) {
    return curl_easy_getinfo(h, info, value);
}
#endif
