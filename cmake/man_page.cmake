# Writes OUT, the man page pzflow(1), from the output of `EXE --help` (cmake/man_page.awk says how
# each line maps), so the manual and --help are one text. Run at build time by cmake/install.cmake.
get_filename_component(outdir ${OUT} DIRECTORY)
file(MAKE_DIRECTORY ${outdir})
execute_process(COMMAND ${EXE} --help OUTPUT_FILE ${OUT}.help RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${EXE} --help failed (${rc})")
endif()
get_filename_component(here ${CMAKE_CURRENT_LIST_FILE} DIRECTORY)
execute_process(COMMAND awk -v "summary=${SUMMARY}" -v "version=${VERSION}" -f ${here}/man_page.awk
                INPUT_FILE ${OUT}.help OUTPUT_FILE ${OUT}.tmp RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake/man_page.awk failed (${rc})")
endif()
file(RENAME ${OUT}.tmp ${OUT})
file(REMOVE ${OUT}.help)
