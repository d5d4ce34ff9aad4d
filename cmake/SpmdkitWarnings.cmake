include_guard(GLOBAL)
# spmd_set_warnings(target): the project's warning set; -Werror when SPMD_WERROR is on (CI).
function(spmd_set_warnings target)
  # -Wno-missing-field-initializers: GCC 12 warns about designated initializers that leave
  # defaulted members out (GCC bug 96868, fixed in 13); spmdkit's option structs rely on them.
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic
                         $<$<CXX_COMPILER_ID:GNU>:-Wno-missing-field-initializers>
                         $<$<BOOL:${SPMD_WERROR}>:-Werror>)
endfunction()
