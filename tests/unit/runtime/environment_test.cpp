// The environment: MPI initialised with the requested thread level, and a world that is a
// duplicate of MPI_COMM_WORLD returning errors instead of aborting.
#include <mpi.h>

#include <gtest/gtest.h>

#include "spmdkit/runtime/environment.hpp"
#include "test_support.hpp"

namespace {

TEST(Environment, WorldIsACongruentDuplicate) {
  const auto& world = spmd::test::world();
  int relation = MPI_UNEQUAL;
  MPI_Comm_compare(world, MPI_COMM_WORLD, &relation);
  EXPECT_EQ(relation, MPI_CONGRUENT);
  int world_size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  EXPECT_EQ(world.size(), world_size);
}

TEST(Environment, ControlIsSeparateFromWorld) {
  const auto& env = spmd::test::environment();
  int relation = MPI_UNEQUAL;
  MPI_Comm_compare(env.world(), env.control(), &relation);
  EXPECT_EQ(relation, MPI_CONGRUENT);  // same group, different context: messages never mix
}

TEST(Environment, WorldReturnsErrors) {
  MPI_Errhandler handler = MPI_ERRHANDLER_NULL;
  MPI_Comm_get_errhandler(spmd::test::world(), &handler);
  EXPECT_EQ(handler, MPI_ERRORS_RETURN);
  MPI_Errhandler_free(&handler);
}

TEST(Environment, ProvidesRequestedThreadLevel) {
  EXPECT_GE(spmd::test::environment().threading(), spmd::Threading::funneled);
  EXPECT_EQ(spmd::to_string(spmd::Threading::multiple), "multiple");
}

TEST(Environment, CurrentPointsAtTheLiveEnvironment) {
  EXPECT_EQ(spmd::Environment::current(), &spmd::test::environment());
}

TEST(Environment, DuplicateWithErrorsReturnIsIndependent) {
  const auto dup = spmd::duplicate_with_errors_return(spmd::test::world());
  int relation = MPI_UNEQUAL;
  MPI_Comm_compare(dup, spmd::test::world(), &relation);
  EXPECT_EQ(relation, MPI_CONGRUENT);
  EXPECT_EQ(dup.rank(), spmd::test::world().rank());
}

}  // namespace
