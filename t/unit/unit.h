/*
 * unit.h -- the shared main() of the CUnit suites in t/unit.
 *
 * Each test_<file>.c defines `static CU_TestInfo tests[]` and
 * `#define SUITE_NAME "<file>"`, then includes this header at the end.
 * The program exits non-zero when any assertion fails, so automake's TESTS
 * harness reports it.
 */
#ifndef GW_UNIT_H
#define GW_UNIT_H

#include <CUnit/Basic.h>
#include <stdlib.h>

static CU_SuiteInfo unit_suites[] = {
    { SUITE_NAME, NULL, NULL, NULL, NULL, tests },
    CU_SUITE_INFO_NULL,
};

int main(void)
{
    unsigned failed;

    if (CU_initialize_registry() != CUE_SUCCESS) {
        return 2;
    }
    if (CU_register_suites(unit_suites) != CUE_SUCCESS) {
        CU_cleanup_registry();
        return 2;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_tests_failed() + CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}

#endif /* GW_UNIT_H */
