# The module layering of core/ is enforced by the build (CMakeLists.txt, pz_module): a file of a
# module that includes a header of a module it may not use fails to compile. For every pair of
# modules (A, B), the probe target pz_probe_A_B (tests/boundaries/probe.c compiled with A's
# include path) includes one header of B. It must compile exactly when B is allowed for A:
#
#   util   -> util                       engine -> engine util
#   table  -> table util                 mock   -> mock table util
#   photoz -> photoz table util          nn     -> nn photoz table util
#
# so core/photoz including engine/run.h fails with "engine/run.h: No such file or directory".
# The allowed list is written here on purpose, apart from target_link_libraries: a new
# dependency between modules must be a decision made in two places, not a one-word edit.
# The sources are also read: an include that climbs out of its directory ("../engine/run.h")
# would get past any include path, so none may exist, and every "<module>/..." include in
# core/<module>/ must name an allowed module (the same table).
# Usage: cmake -DBIN=<build dir> -DSRC=<source dir> -P test_module_boundaries.cmake
set(modules util engine table mock photoz nn)
set(allowed_util util)
set(allowed_engine engine util)
set(allowed_table table util)
set(allowed_mock mock table util)
set(allowed_photoz photoz table util)
set(allowed_nn nn photoz table util)

set(failures 0)
foreach(from ${modules})
  foreach(to ${modules})
    execute_process(COMMAND ${CMAKE_COMMAND} --build ${BIN} --target pz_probe_${from}_${to}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
    list(FIND allowed_${from} ${to} idx)
    if(idx GREATER -1)
      if(rc EQUAL 0)
        message(STATUS "ok: core/${from} may include ${to}/ headers, and does compile")
      else()
        message(STATUS "FAIL: core/${from} including ${to}/ should compile:\n${out}")
        math(EXPR failures "${failures} + 1")
      endif()
    else()
      # The failure must be the missing header, not some other error that would fail anyway.
      if(NOT rc EQUAL 0 AND out MATCHES "${to}/[a-z_]+\\.h: No such file or directory")
        message(STATUS "ok: core/${from} including ${to}/ fails: ${CMAKE_MATCH_0}")
      else()
        message(STATUS "FAIL: core/${from} including ${to}/ must fail to compile (rc ${rc}):\n${out}")
        math(EXPR failures "${failures} + 1")
      endif()
    endif()
  endforeach()
endforeach()
foreach(from ${modules})
  file(GLOB files ${SRC}/core/${from}/*.c ${SRC}/core/${from}/*.h)
  foreach(f ${files})
    file(STRINGS ${f} lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
    foreach(line ${lines})
      if(line MATCHES "\"\\.\\./" OR line MATCHES "\"/")
        message(STATUS "FAIL: ${f}: ${line}: includes by relative or absolute path")
        math(EXPR failures "${failures} + 1")
      elseif(line MATCHES "\"([a-z]+)/")
        list(FIND allowed_${from} ${CMAKE_MATCH_1} idx)
        if(idx EQUAL -1)
          message(STATUS "FAIL: ${f}: ${line}: core/${from} may not use ${CMAKE_MATCH_1}/")
          math(EXPR failures "${failures} + 1")
        endif()
      endif()
    endforeach()
  endforeach()
endforeach()

if(failures GREATER 0)
  message(FATAL_ERROR "${failures} module boundary check(s) failed")
endif()
