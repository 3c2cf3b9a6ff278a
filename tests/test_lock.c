/* The run lock: a second taker is refused (or waits), and the lock of a process killed with
 * SIGKILL is free at once. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/lock.h"
#include "support/pztest.h"

static void test_busy_then_recovered_after_kill9(void)
{
    char *dir = pzt_mkdtemp("lock");
    int ready[2];
    CU_ASSERT_EQUAL_FATAL(pipe(ready), 0);
    pid_t child = fork();
    if (child == 0) {
        pz_lock lk;
        pz_err err;
        if (pz_lock_acquire(&lk, dir, 0, NULL, NULL, &err) < 0) _exit(1);
        if (write(ready[1], "x", 1) != 1) _exit(1);
        pause(); /* hold it until killed */
        _exit(0);
    }
    char c;
    CU_ASSERT_EQUAL_FATAL(read(ready[0], &c, 1), 1);
    pz_lock lk;
    pz_err err;
    int busy = 0;
    CU_ASSERT_EQUAL(pz_lock_acquire(&lk, dir, 0, NULL, &busy, &err), -1);
    CU_ASSERT_TRUE(busy);
    char *msg = pz_xasprintf("is in use by another pzflow run (pid %ld)", (long)child);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, msg));
    free(msg);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    CU_ASSERT_EQUAL(pz_lock_acquire(&lk, dir, 0, NULL, &busy, &err), 0);
    CU_ASSERT_FALSE(busy);
    pz_lock_release(&lk);
    /* Released: can be taken again. */
    CU_ASSERT_EQUAL(pz_lock_acquire(&lk, dir, 0, NULL, &busy, &err), 0);
    pz_lock_release(&lk);
    close(ready[0]);
    close(ready[1]);
    pzt_rmtree(dir);
    free(dir);
}

int main(void)
{
    pzt_suite("lock", (pzt_case[]){{"busy, then recovered after kill -9", test_busy_then_recovered_after_kill9}, {0}});
    return pzt_main();
}
