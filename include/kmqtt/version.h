/**
 * @file
 * kmqtt version — the release this header belongs to, and the one linked.
 *
 * The numbers below are the single source of the version: CMake reads them
 * (project version, the .pc and CMake package files), the Debian changelog
 * and CHANGELOG.md must agree (the version.consistent test checks it).
 * docs/versioning.md says what each part promises: before 1.0 a minor
 * release may change the API; the shared library's SONAME (libkmqtt.so.N)
 * changes whenever a release breaks binary compatibility.
 */
#ifndef KMQTT_VERSION_H
#define KMQTT_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif

/** Major version: 0 until the API of the single-engine work (issue 11) settles. */
#define KMQTT_VERSION_MAJOR 0
/** Minor version: before 1.0, a new minor may change or remove API. */
#define KMQTT_VERSION_MINOR 1
/** Patch version: fixes only, never an API or ABI change. */
#define KMQTT_VERSION_PATCH 0
/** The version as a string, "MAJOR.MINOR.PATCH". */
#define KMQTT_VERSION_STRING "0.1.0"
/** The version as one number, MAJOR * 10000 + MINOR * 100 + PATCH, for
 *  compile-time comparisons (`#if KMQTT_VERSION_NUMBER >= 200`). */
#define KMQTT_VERSION_NUMBER                                                                       \
    (KMQTT_VERSION_MAJOR * 10000 + KMQTT_VERSION_MINOR * 100 + KMQTT_VERSION_PATCH)

/** The version of the library the program runs with, "MAJOR.MINOR.PATCH"
 *  (compare with KMQTT_VERSION_STRING, the headers it was compiled with, to
 *  find a mismatched install). A string constant: never NULL, never
 *  allocates, never blocks. */
const char *kmqtt_version(void);

#ifdef __cplusplus
}
#endif
#endif
