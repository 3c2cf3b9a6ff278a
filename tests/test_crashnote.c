/* A reader that dies of a signal while a file is open names the file (util/crashnote.h): the
 * last line of defence when HDF5 or cfitsio crash on a corruption pzflow does not yet check. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/pztest.h"
#include "util/crashnote.h"

enum { RAISED, FAULT };

/* A real SIGFPE fault: integer division by zero. Not instrumented, or UBSan (CI's sanitizer
 * build) would report the division itself and exit before the CPU ever faults. */
__attribute__((no_sanitize("undefined"))) static int divide(int a, int b) { return a / b; }

/* Runs `how` in a child with stderr captured; returns what it wrote, *status its wait status. */
static char *crash_in_child(int note, int how, int *status)
{
    int fds[2];
    CU_ASSERT_FATAL(pipe(fds) == 0);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        if (note) pz_crash_note_reading("/data/survey/catalogue.h5", "HDF5");
        else {
            pz_crash_note_reading("/data/closed.h5", "HDF5");
            pz_crash_note_done();
        }
        volatile int zero = 0, seven = 7;
        if (how == RAISED) abort();
        else _exit(divide(seven, zero));
    }
    close(fds[1]);
    static char buf[2048];
    size_t n = 0;
    ssize_t got;
    while (n < sizeof buf - 1 && (got = read(fds[0], buf + n, sizeof buf - 1 - n)) > 0) n += (size_t)got;
    buf[n] = '\0';
    close(fds[0]);
    waitpid(pid, status, 0);
    return buf;
}

/* Under ASan its own handler takes the signal next and exits 1 after its report; a plain build
 * dies of the signal itself. Either way the process fails, and never silently. */
static void assert_died_of(int status, int sig)
{
    if (WIFSIGNALED(status)) {
        CU_ASSERT_EQUAL(WTERMSIG(status), sig);
    } else {
        CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0);
    }
}

static void test_a_fault_while_reading_names_the_file(void)
{
    int status;
    char *err = crash_in_child(1, FAULT, &status);
    assert_died_of(status, SIGFPE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, ": crashed (FPE) inside HDF5 while reading /data/survey/catalogue.h5: the file "
                                       "is corrupt in a way pzflow does not yet check"));
}

static void test_an_abort_while_reading_names_the_file(void)
{
    int status;
    char *err = crash_in_child(1, RAISED, &status);
    assert_died_of(status, SIGABRT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "crashed (ABRT) inside HDF5 while reading /data/survey/catalogue.h5"));
}

static void test_a_crash_after_the_file_is_closed_names_nothing(void)
{
    int status;
    char *err = crash_in_child(0, FAULT, &status);
    assert_died_of(status, SIGFPE);
    CU_ASSERT_PTR_NULL(strstr(err, "closed.h5"));
    CU_ASSERT_PTR_NULL(strstr(err, "crashed ("));
}

int main(void)
{
    pzt_suite("crashnote", (pzt_case[]){{"a fault while reading names the file", test_a_fault_while_reading_names_the_file},
                                        {"an abort while reading names the file", test_an_abort_while_reading_names_the_file},
                                        {"a crash after the file is closed names nothing",
                                         test_a_crash_after_the_file_is_closed_names_nothing},
                                        {0}});
    return pzt_main();
}
