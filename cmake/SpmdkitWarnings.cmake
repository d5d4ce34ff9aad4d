include_guard(GLOBAL)
# spmd_set_warnings(target): the project's warning set; -Werror when SPMD_WERROR is on (CI).
function(spmd_set_warnings target)
  # -Wno-missing-field-initializers: GCC 12 warns about designated initializers that leave
  # defaulted members out (GCC bug 96868, fixed in 13); spmdkit's option structs rely on them.
  # -Wshadow and -Wconversion: a name that hides another, and a conversion that can change a
  # value (a size into an int, a double into an integer), are bugs often enough to be spelled out
  # (static_cast) where meant.
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                         $<$<CXX_COMPILER_ID:GNU>:-Wno-missing-field-initializers>
                         $<$<BOOL:${SPMD_WERROR}>:-Werror>)
endfunction()
