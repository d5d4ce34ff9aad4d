#pragma once
// CLI11 in full, for code that declares options (cli.add_option, CLI::Range, ...). The
// umbrella headers (spmdkit/spmdkit.hpp, spmdkit/runtime.hpp) include it; the library's own
// headers only declare CLI::App, because CLI11's header costs ~10 s of compile time in every
// translation unit that includes it.
#include <CLI/CLI.hpp>

#include "spmdkit/runtime/command_line.hpp"
