/* The last line of defence against corrupt input: name the file being read when a third-party
 * reader dies of a signal.
 *
 * pzflow checks the structures of HDF5 and FITS files that it knows make HDF5 1.10.8 or cfitsio
 * crash (core/table/h5types.c, h5heap.c), but a fuzzer keeps finding new ones (the last, a zero
 * chunk dimension, SIGFPE in H5D__chunk_set_info, surfaced only as "killed by signal 8"). While a
 * reader holds a file open, a handler for SIGSEGV, SIGFPE, SIGBUS, SIGILL and SIGABRT writes one
 * line to stderr naming the file and the library, then lets the signal take its previous course
 * (the default action, or ASan's handler), so the process still dies of the same signal and the
 * engine reports it with the stage's log tail, which now holds this line.
 *
 * The file name lives in a static buffer: a signal handler can read nothing else safely. It is
 * the one mutable global, and per process, as a signal is. */
#ifndef PZ_CRASHNOTE_H
#define PZ_CRASHNOTE_H

/* From now until pz_crash_note_done(), a crash is reported as happening while `library` read
 * `path`. Installs the handlers on first use. Nested calls: the innermost file is named. */
void pz_crash_note_reading(const char *path, const char *library);

/* The file is closed: a crash is no longer attributed to it. */
void pz_crash_note_done(void);

#endif
