#pragma once
// The patterns room: master-worker, reductions, pipelines (arriving with their issues). Now:
// the exact (reproducible) floating-point sum and typed reductions with user operations.
#include "spmdkit/patterns/exact_sum.hpp"
#include "spmdkit/patterns/reduce.hpp"
