/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Declarations every part of libcardea shares: the error codes, the
 * allocator hook and the log hook. The library never prints. It reports
 * through return codes and, when the application sets one, a log callback.
 */
#ifndef CARDEA_COMMON_H
#define CARDEA_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(CARDEA_BUILDING)
#define CARDEA_API __attribute__((visibility("default")))
#else
#define CARDEA_API
#endif

/* Results that callers must check (compiler warning when ignored). */
#define CARDEA_MUST_CHECK __attribute__((warn_unused_result))

/*
 * Error codes. CARDEA_OK is zero and every failure is negative, so
 * `if (err < 0)` and `if (err != CARDEA_OK)` mean the same thing.
 */
typedef enum cardea_err {
    CARDEA_OK = 0,
    CARDEA_EINVAL = -1,      /* invalid argument or malformed input */
    CARDEA_ENOMEM = -2,      /* an allocation failed */
    CARDEA_ETOOBIG = -3,     /* input or output over a size limit */
    CARDEA_EVERIFY = -4,     /* decryption or signature check failed */
    CARDEA_EFORMAT = -5,     /* bad encoding: hex, base64, base32, JSON */
    CARDEA_ENOTFOUND = -6,   /* the requested item does not exist */
    CARDEA_EIO = -7,         /* file or storage I/O failed */
    CARDEA_ECRYPTO = -8,     /* the crypto library failed unexpectedly */
    CARDEA_EOVERFLOW = -9,   /* size arithmetic would overflow */
    CARDEA_EUNSUPPORTED = -10, /* valid input that Cardea does not handle */
    CARDEA_EACCESS = -11,    /* access denied */
    CARDEA_ECONFLICT = -12,  /* revision conflict or duplicate */
    CARDEA_ENETWORK = -13,   /* transport failure: connect, timeout */
    CARDEA_EHTTP = -14,      /* the server responded with an error status */
    CARDEA_EDENIED = -15,    /* the crypto strategies rejected the action */
    CARDEA_ENOKEY = -16,     /* no usable key for this operation */
    CARDEA_ESTATE = -17,     /* call not valid in the current state */
    CARDEA_EEXPIRED = -18,   /* the item exists but has expired */
    CARDEA_EAUTH = -19,      /* authentication failed */
} cardea_err;

/*
 * Returns a short English description of `err`. The string is static and
 * never NULL, and an unknown value gives "unknown error". Thread-safe.
 */
CARDEA_API const char *cardea_strerror(cardea_err err);

/*
 * Memory functions used for every allocation libcardea makes, including
 * the JSON values it builds through jansson. `user` is passed back to each
 * call. `realloc_fn` follows realloc(3), and `free_fn(NULL, user)` must
 * be a no-op.
 */
typedef struct cardea_allocator {
    void *(*malloc_fn)(size_t size, void *user);
    void *(*realloc_fn)(void *ptr, size_t size, void *user);
    void (*free_fn)(void *ptr, void *user);
    void *user;
} cardea_allocator;

/*
 * Installs `allocator` (copied) for all later allocations, or restores the
 * C library's functions when `allocator` is NULL. Call it once, before any
 * other libcardea call and before any other thread uses the library,
 * because memory allocated with one allocator must not be freed with
 * another.
 */
CARDEA_API void cardea_set_allocator(const cardea_allocator *allocator);

typedef enum cardea_log_level {
    CARDEA_LOG_ERROR = 0,
    CARDEA_LOG_WARN = 1,
    CARDEA_LOG_INFO = 2,
    CARDEA_LOG_DEBUG = 3,
} cardea_log_level;

/*
 * Log callback. `message` is a NUL-terminated line without a trailing
 * newline, valid only during the call. Messages never contain keys,
 * tokens, passwords or decrypted data. The callback may be called from
 * any thread that calls into the library.
 */
typedef void (*cardea_log_fn)(cardea_log_level level, const char *message,
                              void *user);

/*
 * Sets the process-wide log callback and the most verbose level passed to
 * it. A NULL `fn` turns logging off (the default). Thread-safe.
 */
CARDEA_API void cardea_set_log(cardea_log_fn fn, cardea_log_level max_level,
                               void *user);

/* Overwrites `len` bytes at `ptr` with zeros in a way the compiler keeps. */
CARDEA_API void cardea_wipe(void *ptr, size_t len);

/*
 * Returns 1 when the `len` bytes at `a` and `b` are equal, else 0. The time
 * taken depends only on `len`, never on the contents.
 */
CARDEA_API int cardea_ct_equal(const void *a, const void *b, size_t len);

/* Frees memory that a libcardea function returned to the caller. */
CARDEA_API void cardea_free(void *ptr);

#ifdef __cplusplus
}
#endif

#endif
