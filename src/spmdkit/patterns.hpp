#pragma once
// The patterns room: master-worker, reductions, pipelines (arriving with their issues). Now:
// the exact (reproducible) floating-point sum, typed reductions with user operations, keyed
// reductions (map-reduce).
#include "spmdkit/patterns/exact_sum.hpp"
#include "spmdkit/patterns/keyed_reduce.hpp"
#include "spmdkit/patterns/reduce.hpp"
