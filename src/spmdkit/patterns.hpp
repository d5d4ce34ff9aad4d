#pragma once
// The patterns room: master-worker, reductions, pipelines (arriving with their issues). Now:
// the exact (reproducible) floating-point sum.
#include "spmdkit/patterns/exact_sum.hpp"
