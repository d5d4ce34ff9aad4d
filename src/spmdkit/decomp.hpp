#pragma once
// The decomp room: data decomposition (the book's chapter 2) -- 1-D index maps, N-D Cartesian
// decompositions with ghost layers, split-phase halo exchange, fields that own their storage,
// checkpointed time stepping.
#include "spmdkit/decomp/cart.hpp"
#include "spmdkit/decomp/field.hpp"
#include "spmdkit/decomp/halo.hpp"
#include "spmdkit/decomp/index_map.hpp"
#include "spmdkit/decomp/io_adapter.hpp"
#include "spmdkit/decomp/time_loop.hpp"
