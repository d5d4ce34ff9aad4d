#pragma once
// The io room: parallel HDF5 through the C API with RAII handles, collective files, atomic
// outputs, attributes, distributed arrays, time series, tables, XDMF sidecars. Knows nothing of
// decomp.
#include "spmdkit/io/array.hpp"
#include "spmdkit/io/atomic_file.hpp"
#include "spmdkit/io/attributes.hpp"
#include "spmdkit/io/file.hpp"
#include "spmdkit/io/handle.hpp"
#include "spmdkit/io/provenance_attributes.hpp"
#include "spmdkit/io/table.hpp"
#include "spmdkit/io/time_series.hpp"
#include "spmdkit/io/transfer_log.hpp"
#include "spmdkit/io/types.hpp"
#include "spmdkit/io/xdmf.hpp"
