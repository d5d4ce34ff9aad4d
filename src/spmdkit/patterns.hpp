#pragma once
// The patterns room: master-worker (task farm with journal), reductions beyond Comm's typed ones
// (keyed map-reduce, tree reductions of any value, the exact reproducible sum), pipelines.
#include "spmdkit/patterns/counter_random.hpp"
#include "spmdkit/patterns/exact_sum.hpp"
#include "spmdkit/patterns/farm_cli.hpp"
#include "spmdkit/patterns/keyed_reduce.hpp"
#include "spmdkit/patterns/pipeline.hpp"
#include "spmdkit/patterns/task_farm.hpp"
#include "spmdkit/patterns/task_journal.hpp"
#include "spmdkit/patterns/tree_reduce.hpp"
