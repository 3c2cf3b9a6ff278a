# The test suites (PZFLOW_BUILD_TESTS, included from CMakeLists.txt): every tests/test_<name>.c
# is a CUnit ctest; script tests, toy stages and the fault-injection shim they use. CUnit is
# looked for here only, so a build without tests does not need it.
find_library(CUNIT_LIB cunit REQUIRED)

# Per-test limit in seconds; scripts/valgrind.sh raises it, since memcheck runs 20-50x slower.
set(PZ_TEST_TIMEOUT 900 CACHE STRING "ctest timeout per test, seconds")
# Every test's scratch lives under build/testtmp. Made here, not by whichever test runs first:
# the script tests mktemp inside it, and ctest -j may start one of them before any other.
file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/testtmp)
file(GLOB PZ_TEST_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/test_*.c)
file(GLOB PZ_TEST_SUPPORT CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/support/*.c)
add_library(pztestsupport STATIC ${PZ_TEST_SUPPORT})
target_include_directories(pztestsupport PUBLIC ${CMAKE_SOURCE_DIR}/tests)
target_link_libraries(pztestsupport PUBLIC ${PZ_ALL_LIBS} ${CUNIT_LIB})
target_compile_definitions(pztestsupport PUBLIC PZ_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
foreach(src ${PZ_TEST_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_link_libraries(${name} pztestsupport)
  add_test(NAME ${name} COMMAND ${name})
  # Tests find stage executables, fixtures and Python peers through these variables.
  set_tests_properties(${name} PROPERTIES
    ENVIRONMENT "PZ_BIN_DIR=${CMAKE_BINARY_DIR}/bin;PZ_SOURCE_DIR=${CMAKE_SOURCE_DIR};PZ_TEST_TMP=${CMAKE_BINARY_DIR}/testtmp"
    TIMEOUT ${PZ_TEST_TIMEOUT})
endforeach()

# Module boundaries: one probe per (module, other module) pair, built only by the test, which
# checks that exactly the allowed includes compile (tests/test_module_boundaries.cmake).
set(PZ_PROBE_HEADER_util util/err.h)
set(PZ_PROBE_HEADER_engine engine/run.h)
set(PZ_PROBE_HEADER_table table/table.h)
set(PZ_PROBE_HEADER_mock mock/mock_sky.h)
set(PZ_PROBE_HEADER_photoz photoz/xmatch.h)
set(PZ_PROBE_HEADER_nn nn/model.h)
foreach(from util engine table mock photoz nn)
  foreach(to util engine table mock photoz nn)
    add_library(pz_probe_${from}_${to} OBJECT EXCLUDE_FROM_ALL tests/boundaries/probe.c)
    target_compile_definitions(pz_probe_${from}_${to} PRIVATE PZ_PROBE_HEADER="${PZ_PROBE_HEADER_${to}}")
    target_link_libraries(pz_probe_${from}_${to} PRIVATE pz_${from})
  endforeach()
endforeach()
# The tests of the build and the package below check the sources, the compiler's output and the
# installed tree, not the memory safety of what runs: the Release suite runs them, and the
# sanitizer suite (which would only build the same things again, ~6 min) does not.
if(NOT PZ_SANITIZE)
  add_test(NAME test_module_boundaries
           COMMAND ${CMAKE_COMMAND} -DBIN=${CMAKE_BINARY_DIR} -DSRC=${CMAKE_SOURCE_DIR}
                   -P ${CMAKE_SOURCE_DIR}/tests/test_module_boundaries.cmake)
  set_tests_properties(test_module_boundaries PROPERTIES TIMEOUT ${PZ_TEST_TIMEOUT})

  # No file of the repository points outside it (tests/test_self_contained.cmake).
  add_test(NAME test_self_contained COMMAND ${CMAKE_COMMAND} -DSRC=${CMAKE_SOURCE_DIR} -P ${CMAKE_SOURCE_DIR}/tests/test_self_contained.cmake)

  # Two builds of the same sources in different directories give identical stage executables, and a
  # run with one is a no-op for the other (builds pzflow and three stages twice: ~2 min on 2 cores).
  add_test(NAME test_repro_build COMMAND sh ${CMAKE_SOURCE_DIR}/tests/test_repro_build.sh ${CMAKE_SOURCE_DIR})
  set_tests_properties(test_repro_build PROPERTIES TIMEOUT ${PZ_TEST_TIMEOUT}
    ENVIRONMENT "TMPDIR=${CMAKE_BINARY_DIR}/testtmp")

  # The package: a distribution-style build installed into a temporary prefix runs the quick
  # pipeline after the build and source trees are deleted (~1 min build + ~1 min run on 2 cores).
  add_test(NAME test_install COMMAND sh ${CMAKE_SOURCE_DIR}/tests/test_install.sh ${CMAKE_SOURCE_DIR})
  set_tests_properties(test_install PROPERTIES TIMEOUT ${PZ_TEST_TIMEOUT} ENVIRONMENT "TMPDIR=${CMAKE_BINARY_DIR}/testtmp")
endif()

# Shell completion (completions/): bash and zsh offer commands, options, pipeline files, stage
# names and --set paths of pipelines/quick.yaml.
add_test(NAME test_completion COMMAND sh ${CMAKE_SOURCE_DIR}/tests/test_completion.sh ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/bin)

# `pzflow run` in an 80x24 terminal (tmux + script): line widths, a stable [n/N] total, the
# closing list of failed stages, colour, a resize mid-run (tests/test_terminal.sh).
add_test(NAME test_terminal COMMAND sh ${CMAKE_SOURCE_DIR}/tests/test_terminal.sh ${CMAKE_BINARY_DIR}/bin)
set_tests_properties(test_terminal PROPERTIES TIMEOUT 300)

# `pzflow COMMAND --help` (tests/test_cli_help.sh).
add_test(NAME test_cli_help COMMAND sh ${CMAKE_SOURCE_DIR}/tests/test_cli_help.sh ${CMAKE_BINARY_DIR}/bin)
# `pzflow status --json`, `pzflow why --json` (tests/test_json_reports.sh).
add_test(NAME test_json_reports COMMAND sh ${CMAKE_SOURCE_DIR}/tests/test_json_reports.sh ${CMAKE_BINARY_DIR}/bin)
set_tests_properties(test_json_reports PROPERTIES ENVIRONMENT "TMPDIR=${CMAKE_BINARY_DIR}/testtmp")
# `pzflow show --json`; show and log exit 5 before any run (tests/test_show_json.sh).
add_test(NAME test_show_json COMMAND sh ${CMAKE_SOURCE_DIR}/tests/test_show_json.sh ${CMAKE_BINARY_DIR}/bin)
set_tests_properties(test_show_json PROPERTIES ENVIRONMENT "TMPDIR=${CMAKE_BINARY_DIR}/testtmp")

# Every relative link and #anchor of README.md, docs/ and schemas/ resolves, and every manual a
# file names by its path exists (tests/test_doc_links.sh).
add_test(NAME test_doc_links COMMAND sh ${CMAKE_SOURCE_DIR}/tests/test_doc_links.sh ${CMAKE_SOURCE_DIR})

# Toy stages for the engine's tests (tests/toys/<name>.c -> bin/pzflow-toy-<name>).
file(GLOB PZ_TOY_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/toys/*.c)
foreach(src ${PZ_TOY_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  add_executable(pzflow-toy-${name} ${src})
  target_link_libraries(pzflow-toy-${name} pz_util)
endforeach()

# Fault-injection shim for tests/test_faults.c: an LD_PRELOAD library that fails (ENOSPC, EIO)
# or SIGKILLs a process at its Nth write-side call under a directory (tests/faults/pzfault.c).
add_library(pzfault SHARED tests/faults/pzfault.c)
target_link_libraries(pzfault dl)
set_target_properties(pzfault PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib)
if(TARGET test_faults)
  add_dependencies(test_faults pzfault)
endif()

# The Slurm executor against a real one-node Slurm (munged, slurmctld, slurmd started by the test
# with its own slurm.conf, stopped at the end): the quick pipeline byte-identical to a local run,
# and the fault cases (tests/slurm/run.sh, ~3 min, mostly waits). Skipped (exit 77, with the
# reason) only where the daemons cannot start. Release suite only: under ASan it would test the
# same engine paths again, at three times the wait.
if(NOT PZ_SANITIZE)
  add_test(NAME test_slurm COMMAND bash ${CMAKE_SOURCE_DIR}/tests/slurm/run.sh ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(test_slurm PROPERTIES TIMEOUT 600 SKIP_RETURN_CODE 77
    ENVIRONMENT "TMPDIR=${CMAKE_BINARY_DIR}/testtmp")
endif()
