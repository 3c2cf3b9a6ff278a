# Installation (GNUInstallDirs; included from CMakeLists.txt). `cmake --install build --prefix P`:
#   P/bin/pzflow                       the command
#   P/libexec/pzflow/pzflow-<stage>    the stage executables: pzflow finds them relative to itself
#                                      (PZ_STAGE_DIR_FROM_BIN), so the tree can be moved whole
#   P/share/pzflow/pipelines, schemas  the example pipelines (copy them to work in: a pipeline's
#                                      cache and results go beside its folder) and the dataset
#                                      schemas, which are also compiled in
#   P/share/man/man1/pzflow.1          generated from `pzflow --help` (cmake/man_page.cmake)
#   P/share/bash-completion/completions/pzflow, P/share/zsh/site-functions/_pzflow
#   P/share/doc/pzflow                 README.md, docs/ and schemas/*.md at the same relative
#                                      paths as in the checkout, so the README's links work
install(TARGETS pzflow RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS ${PZ_STAGES} RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/pzflow)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/pipelines/ DESTINATION ${CMAKE_INSTALL_DATADIR}/pzflow/pipelines)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/schemas/ DESTINATION ${CMAKE_INSTALL_DATADIR}/pzflow/schemas)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs)
file(GLOB PZ_SCHEMA_MANUALS ${CMAKE_SOURCE_DIR}/schemas/*.md)
install(FILES ${PZ_SCHEMA_MANUALS} DESTINATION ${CMAKE_INSTALL_DOCDIR}/schemas)

# The man page is the --help text itself, turned into roff at build time by running the pzflow
# just built, so the two cannot disagree.
set(PZ_MAN_PAGE ${CMAKE_BINARY_DIR}/man/pzflow.1)
add_custom_command(OUTPUT ${PZ_MAN_PAGE}
  COMMAND ${CMAKE_COMMAND} -DEXE=$<TARGET_FILE:pzflow> -DOUT=${PZ_MAN_PAGE}
          "-DSUMMARY=${PROJECT_DESCRIPTION}" -DVERSION=${PROJECT_VERSION}
          -P ${CMAKE_SOURCE_DIR}/cmake/man_page.cmake
  DEPENDS pzflow pzflow-predict ${CMAKE_SOURCE_DIR}/cmake/man_page.cmake ${CMAKE_SOURCE_DIR}/cmake/man_page.awk
  COMMENT "Generating man/pzflow.1 from pzflow --help")
add_custom_target(pzflow_man ALL DEPENDS ${PZ_MAN_PAGE})
install(FILES ${PZ_MAN_PAGE} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

install(FILES ${CMAKE_SOURCE_DIR}/completions/pzflow.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME pzflow)
install(FILES ${CMAKE_SOURCE_DIR}/completions/_pzflow DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/site-functions)
