/* pz_parfor, the parallel for of `pzflow predict --threads`: every item exactly once, whatever
 * the number of workers against items, with worker numbers in range for per-worker buffers. */
#include <stdlib.h>

#include "support/pztest.h"
#include "util/parfor.h"

typedef struct {
    int *done; /* per item: times done (items are distinct, so no two threads write one) */
    int *by;   /* per item: the worker that did it */
} tally;

static void mark(void *ctx, int worker, size_t item)
{
    tally *t = ctx;
    t->done[item]++;
    t->by[item] = worker;
}

/* pz_parfor over n items on w workers: 1 if each was done once by a worker numbered < w. */
static int each_once(int w, size_t n)
{
    tally t = {calloc(n + 1, sizeof(int)), calloc(n + 1, sizeof(int))};
    pz_err err;
    int ok = pz_parfor(w, n, mark, &t, &err) == 0;
    for (size_t i = 0; i < n; i++) ok &= t.done[i] == 1 && t.by[i] >= 0 && t.by[i] < (w < 1 ? 1 : w);
    free(t.done), free(t.by);
    return ok;
}

static void test_every_item_once(void)
{
    CU_ASSERT_TRUE(each_once(1, 100));
    CU_ASSERT_TRUE(each_once(2, 17));
    CU_ASSERT_TRUE(each_once(4, 10000));
}

static void test_more_workers_than_items(void)
{
    CU_ASSERT_TRUE(each_once(8, 3));
    CU_ASSERT_TRUE(each_once(3, 1));
    CU_ASSERT_TRUE(each_once(3, 0)); /* nothing to do: returns at once */
    CU_ASSERT_TRUE(each_once(0, 5)); /* fewer than one worker is the caller alone */
}

int main(void)
{
    pzt_suite("parfor", (pzt_case[]){{"every item exactly once, by a worker in range", test_every_item_once},
                                     {"more workers than items, no items, no workers", test_more_workers_than_items},
                                     {0}});
    return pzt_main();
}
