#pragma once
// The runtime room: MPI environment, the one MPI layer (Comm: typed collectives, messages,
// owned MPI objects), error checking, the app entry point, command line, provenance, child
// processes. Everything else in spmdkit builds on it.
#include "spmdkit/runtime/app.hpp"
#include "spmdkit/runtime/check.hpp"
#include "spmdkit/runtime/child_process.hpp"
#include "spmdkit/runtime/comm.hpp"
#include "spmdkit/runtime/command_line.hpp"
#include "spmdkit/runtime/environment.hpp"
#include "spmdkit/runtime/error.hpp"
#include "spmdkit/runtime/exit_codes.hpp"
#include "spmdkit/runtime/failure_agreement.hpp"
#include "spmdkit/runtime/mpi_handles.hpp"
#include "spmdkit/runtime/progress.hpp"
#include "spmdkit/runtime/provenance.hpp"
#include "spmdkit/runtime/run_report.hpp"
#include "spmdkit/runtime/stop_request.hpp"
#include "spmdkit/runtime/summary.hpp"
#include "spmdkit/runtime/text.hpp"
#include "spmdkit/runtime/wire.hpp"
