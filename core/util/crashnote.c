/* See crashnote.h. Only async-signal-safe calls (write, sigaction, raise) run in the handler. */
#include "util/crashnote.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static const int guarded[] = {SIGSEGV, SIGFPE, SIGBUS, SIGILL, SIGABRT};
#define NGUARDED (sizeof guarded / sizeof *guarded)

static struct sigaction previous[NGUARDED];
static int installed;
static char reading_path[4096];
static const char *reading_library;

static void put(const char *s)
{
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, s, n);
        if (w <= 0) return;
        s += w, n -= (size_t)w;
    }
}

static void on_crash(int sig, siginfo_t *info, void *context)
{
    (void)context;
    int saved = errno;
    if (reading_path[0]) {
        put(program_invocation_short_name);
        put(": crashed (");
        put(sigabbrev_np(sig) ? sigabbrev_np(sig) : "signal");
        put(") inside ");
        put(reading_library ? reading_library : "a reader");
        put(" while reading ");
        put(reading_path);
        put(": the file is corrupt in a way pzflow does not yet check; please report it with the file\n");
    }
    for (size_t i = 0; i < NGUARDED; i++)
        if (guarded[i] == sig) sigaction(sig, &previous[i], NULL);
    errno = saved;
    /* A fault (si_code > 0) recurs when the instruction reruns on return; a raised signal
     * (abort(), kill) must be raised again. Either way the previous action now handles it. */
    if (info->si_code <= 0) raise(sig);
}

static void install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_crash;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NGUARDED; i++) sigaction(guarded[i], &sa, &previous[i]);
    installed = 1;
}

void pz_crash_note_reading(const char *path, const char *library)
{
    if (!installed) install();
    size_t n = strlen(path);
    if (n >= sizeof reading_path) n = sizeof reading_path - 1;
    reading_path[0] = '\0'; /* a crash while the name is half copied names nothing, not a mix */
    reading_library = library;
    memcpy(reading_path + 1, path + 1, n ? n - 1 : 0);
    reading_path[n] = '\0';
    reading_path[0] = path[0];
}

void pz_crash_note_done(void)
{
    reading_path[0] = '\0';
}
