/* A one-line translation unit that tests/test_module_boundaries.cmake compiles as if it were a
 * file of one module (it links that module's library, so it sees exactly the include path a
 * file in core/<module>/ sees) including one header of another module (PZ_PROBE_HEADER). */
#include PZ_PROBE_HEADER

int pz_probe_compiled;
