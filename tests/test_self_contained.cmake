# Nothing built, run or tested may read outside the repository: a user's clone has no folder
# "shared" beside it (the reference folder this project was written next to). Facts taken from
# there live in the repository with their source named (e.g. schemas/cosmos2020_classic_columns.tsv),
# so no file may point back at it. Usage: cmake -DSRC=<source dir> -P test_self_contained.cmake
# The names are assembled from pieces so that this file, too, passes `git grep` for them.
string(CONCAT up ".." "/" "shared")
string(CONCAT ref "shared" "/" "reference")
string(CONCAT abs "/work" "/" "shared")
set(outside ${up} ${ref} ${abs})
file(GLOB_RECURSE files LIST_DIRECTORIES false RELATIVE ${SRC}
     ${SRC}/*.c ${SRC}/*.h ${SRC}/*.sh ${SRC}/*.py ${SRC}/*.md ${SRC}/*.yaml ${SRC}/*.cmake
     ${SRC}/*.txt ${SRC}/.ci/*)
set(failures 0)
foreach(f ${files})
  if(f MATCHES "^(build|cache|results)")
    continue()
  endif()
  file(READ ${SRC}/${f} text)
  foreach(p ${outside})
    string(FIND "${text}" "${p}" at)
    if(at GREATER -1)
      message(STATUS "FAIL: ${f} refers to ${p}")
      math(EXPR failures "${failures} + 1")
    endif()
  endforeach()
endforeach()
list(LENGTH files n)
if(failures GREATER 0)
  message(FATAL_ERROR "${failures} reference(s) to files outside the repository")
endif()
list(JOIN outside ", " names)
message(STATUS "ok: none of ${n} files refers to ${names}")
