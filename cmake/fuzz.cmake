# Fuzz harnesses (fuzz/fuzz_<target>.c; PZFLOW_BUILD_FUZZ, included from CMakeLists.txt). With -DPZ_FUZZ=ON (clang) they are libFuzzer binaries
# (see fuzz/run.sh); otherwise each is linked with a replay driver and ctest replays the corpus
# tests/fuzz/<target>/, which holds the seeds and every crash found, as regression tests.
file(GLOB PZ_FUZZ_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/fuzz/fuzz_*.c)
# Mutants per corpus file in the sanitizer build: about 30 s per target there on a 2-core machine.
set(PZ_FUZZ_MUTANTS_hdf5 300)
set(PZ_FUZZ_MUTANTS_fits 1000)
set(PZ_FUZZ_MUTANTS_plot 20)   # each input runs gnuplot (~20 ms)
foreach(src ${PZ_FUZZ_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  string(REPLACE "fuzz_" "" target ${name})
  if(PZ_FUZZ)
    add_executable(${name} ${src})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  else()
    add_executable(${name} ${src} ${CMAKE_SOURCE_DIR}/fuzz/driver.c)
  endif()
  target_link_libraries(${name} ${PZ_ALL_LIBS})
  if(PZFLOW_BUILD_TESTS AND NOT PZ_FUZZ)
    add_test(NAME fuzz_replay_${target} COMMAND ${name} ${CMAKE_SOURCE_DIR}/tests/fuzz/${target})
    # Under ASan, the same allocation policy as fuzz/run.sh (which says why): a gigabyte asked
    # of malloc for a corrupt file gets NULL, as on a small machine; pzflow's pz_x* still abort.
    set_property(TEST fuzz_replay_${target} PROPERTY ENVIRONMENT
                 "ASAN_OPTIONS=allocator_may_return_null=1:max_allocation_size_mb=1024:suppressions=${CMAKE_SOURCE_DIR}/fuzz/asan.supp")
    # The sanitizer build (CI's second pass) also runs deterministic mutants of every corpus
    # file (fuzz/driver.c says why not libFuzzer: the same commit must give the same verdict on
    # any machine). A crashing input is left in fuzz-last-<target> in the build directory.
    if(PZ_SANITIZE)
      if(NOT DEFINED PZ_FUZZ_MUTANTS_${target})
        set(PZ_FUZZ_MUTANTS_${target} 2000)
      endif()
      add_test(NAME fuzz_mutate_${target}
               COMMAND ${name} --mutate ${PZ_FUZZ_MUTANTS_${target}} --seed 1
                       --last ${CMAKE_BINARY_DIR}/fuzz-last-${target} ${CMAKE_SOURCE_DIR}/tests/fuzz/${target})
      set_tests_properties(fuzz_mutate_${target} PROPERTIES TIMEOUT 600 ENVIRONMENT
                 "ASAN_OPTIONS=allocator_may_return_null=1:max_allocation_size_mb=1024:suppressions=${CMAKE_SOURCE_DIR}/fuzz/asan.supp")
    endif()
  endif()
endforeach()
